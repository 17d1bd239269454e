package cli

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

func runDatasets(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return &UsageError{Message: "missing subcommand", Hint: "mcp-analytics datasets add|list|remove"}
	}
	switch args[0] {
	case "add":
		return datasetsAdd(ctx, env, args[1:])
	case "list":
		return datasetsList(ctx, env, args[1:])
	case "remove":
		return datasetsRemove(ctx, env, args[1:])
	}
	return &UsageError{Message: "unknown subcommand " + strconv.Quote(args[0]), Hint: "mcp-analytics datasets add|list|remove"}
}

func datasetsAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("datasets add", env)
	var common commonFlags
	common.register(fs)
	var d catalog.Dataset
	var timeout time.Duration
	fs.StringVar(&d.Name, "name", "", "dataset name (required)")
	fs.StringVar(&d.Driver, "driver", catalog.DriverPostgres, "postgres or duckdb")
	fs.StringVar(&d.DSN, "dsn", "", "connection string: postgres://user:pass@host/db (use ?search_path=schema for a schema), or a DuckDB file path (required)")
	fs.StringVar(&d.Description, "description", "", "what the dataset holds")
	r := &d.Settings.Roles
	fs.StringVar(&r.WeightColumn, "weight-column", "", "weight column (default: detected by name: weight, wt, sample_weight, ...)")
	fs.StringVar(&r.WeightsTable, "weights-table", "", "user-level table holding the weight (default: detected)")
	fs.StringVar(&r.RespondentKey, "respondent-key", "", "column identifying a panelist (default: detected: user_id, respondent_id, panelist_id)")
	fs.StringVar(&r.NCCSColumn, "nccs-column", "", "NCCS column (default: detected: nccs, sec, socio_economic_class)")
	fs.StringVar(&r.NCCSPreset, "nccs-preset", "", `NCCS merge map: "default" (A1->A, C/D/E) or "12-grade" (A1..A3->A, ...)`)
	fs.Float64Var(&r.WeightScale, "weight-scale", 0, "multiply weighted counts by this to get people (e.g. 1000 when weights are in thousands)")
	fs.IntVar(&r.MinBase, "min-base", 0, "unweighted base below which a group is flagged low base (default 30)")
	fs.IntVar(&d.Settings.Limits.RawRows, "raw-rows", 0, "rows returned by raw queries (default: server setting)")
	fs.IntVar(&d.Settings.Limits.AggregatedRows, "aggregated-rows", 0, "rows returned by aggregated queries (default: server setting)")
	fs.DurationVar(&timeout, "query-timeout", 0, "per-query timeout (default: server setting)")
	if err := parse(fs, args); err != nil {
		return err
	}
	d.Settings.Limits.QueryTimeout = timeout
	if d.Name == "" || d.DSN == "" {
		return &UsageError{Message: "--name and --dsn are required", Hint: `mcp-analytics datasets add --name "Panel 2026" --driver postgres --dsn postgres://reader@db/panel`}
	}
	cfg, err := common.load(env)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	d, err = store.Add(ctx, d)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, d.ID)
	fmt.Fprintf(env.Stderr, "added dataset %d %q (%s, %s); a running server picks it up within %s\n",
		d.ID, d.Name, d.Driver, catalog.RedactDSN(d.DSN), cfg.CatalogPoll)
	return nil
}

func datasetsList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("datasets list", env)
	var common commonFlags
	common.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := common.load(env)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	list, err := store.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tDRIVER\tCONNECTION\tDESCRIPTION")
	for _, d := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", d.ID, d.Name, d.Driver, catalog.RedactDSN(d.DSN), d.Description)
	}
	return tw.Flush()
}

func datasetsRemove(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("datasets remove", env)
	var common commonFlags
	common.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &UsageError{Message: "give exactly one dataset id", Hint: "mcp-analytics datasets remove 3"}
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return &UsageError{Message: "not a dataset id: " + strconv.Quote(fs.Arg(0)), Hint: "see 'mcp-analytics datasets list'"}
	}
	cfg, err := common.load(env)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Remove(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "removed dataset %d\n", id)
	return nil
}
