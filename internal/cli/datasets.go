package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/profile"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

const datasetsHint = "mcp-analytics datasets add|import|update|list|remove|test|profile|describe"

func runDatasets(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return &UsageError{Message: "missing subcommand", Hint: datasetsHint}
	}
	sub := map[string]func(context.Context, Env, []string) error{
		"add": datasetsAdd, "import": datasetsImport, "update": datasetsUpdate, "list": datasetsList, "remove": datasetsRemove,
		"test": datasetsTest, "profile": datasetsProfile, "describe": datasetsDescribe,
	}
	if run, ok := sub[args[0]]; ok {
		return run(ctx, env, args[1:])
	}
	return &UsageError{Message: "unknown subcommand " + strconv.Quote(args[0]), Hint: datasetsHint}
}

// catalogCommand is the flag handling every datasets subcommand shares.
type catalogCommand struct {
	fs      *flag.FlagSet
	common  commonFlags
	catalog catalogFlags
	env     Env
}

func newCatalogCommand(name string, env Env) *catalogCommand {
	c := &catalogCommand{fs: newFlagSet(name, env), env: env}
	c.common.register(c.fs)
	c.catalog.register(c.fs)
	return c
}

// open loads the configuration and opens the catalog.
func (c *catalogCommand) open(ctx context.Context) (config.Config, catalog.Store, error) {
	cfg, err := c.common.load(c.env)
	if err != nil {
		return cfg, nil, err
	}
	store, err := openCatalog(ctx, cfg, c.catalog.resolve(c.env.Environ))
	return cfg, store, err
}

// datasetFlags binds a dataset's fields to flags.
func datasetFlags(fs *flag.FlagSet, d *catalog.Dataset, timeout *time.Duration, dictionary *string) {
	fs.StringVar(&d.Name, "name", "", "dataset name (required)")
	fs.StringVar(&d.Driver, "driver", catalog.DriverPostgres, "postgres or duckdb")
	fs.StringVar(&d.DSN, "dsn", "", "connection string: postgres://user:pass@host/db (use ?search_path=schema for a schema), or a DuckDB file path (required); stored encrypted")
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
	fs.DurationVar(timeout, "query-timeout", 0, "per-query timeout (default: server setting)")
	fs.Var(optionalInt{&d.Settings.Limits.MinCell}, "min-cell", "minimum cell size of disclosure control: rows of an aggregated answer behind fewer distinct panelists lose their figures (default: server setting, 3; 0 switches it off)")
	fs.StringVar(&d.Settings.Limits.WorkMem, "work-mem", "", "PostgreSQL work_mem for the server's connections to the dataset, e.g. 64MB: memory per sort or hash before it spills to disk, per plan node and worker (default: the database's; '' resets; see README, Database settings)")
	fs.Var(optionalInt{&d.Settings.Limits.MaxParallelWorkersPerGather}, "max-parallel-workers", "PostgreSQL max_parallel_workers_per_gather for the server's connections to the dataset: workers one query may start, 0 for none (default: the database's; '' resets)")
	fs.StringVar(dictionary, "dictionary", "", "data dictionary to import: CSV (table,column,description[,unit]) or YAML")
	rp := &d.Settings.Replicas
	fs.Var((*replicaList)(&rp.DSNs), "replica", "connection string of a read replica (postgres only; repeat for several; stored encrypted); queries go to healthy replicas. With update, the replicas given replace the old ones; --replica '' removes them")
	fs.StringVar(&rp.Fallback, "replica-fallback", "", `where queries go while no replica is healthy: "primary" (default) or "none" (they fail)`)
	fs.DurationVar(&rp.MaxLag, "max-replica-lag", 0, "skip a replica whose replay is further behind the primary than this, e.g. 30s (default: no check)")
}

// optionalInt is an integer flag whose absence leaves nil: a dataset's 0
// (off) differs from "the server's setting".
type optionalInt struct{ p **int }

func (o optionalInt) String() string {
	if o.p == nil || *o.p == nil {
		return ""
	}
	return strconv.Itoa(**o.p)
}

func (o optionalInt) Set(v string) error {
	if strings.TrimSpace(v) == "" { // back to the server's setting
		*o.p = nil
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return fmt.Errorf("must be a whole number of 0 or more, not %q", v)
	}
	*o.p = &n
	return nil
}

// replicaList is a repeatable --replica flag; an empty value clears it.
type replicaList []string

func (l *replicaList) String() string { return fmt.Sprint(len(*l)) + " replicas" }

func (l *replicaList) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		*l = nil
		return nil
	}
	*l = append(*l, v)
	return nil
}

func datasetsAdd(ctx context.Context, env Env, args []string) error {
	c := newCatalogCommand("datasets add", env)
	var d catalog.Dataset
	var timeout time.Duration
	var dictionary string
	datasetFlags(c.fs, &d, &timeout, &dictionary)
	if err := parse(c.fs, args); err != nil {
		return err
	}
	d.Settings.Limits.QueryTimeout = timeout
	if d.Name == "" || d.DSN == "" {
		return &UsageError{Message: "--name and --dsn are required", Hint: `mcp-analytics datasets add --name "Panel 2026" --driver postgres --dsn postgres://reader@db/panel`}
	}
	cfg, store, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	d, err = store.Add(ctx, d)
	if err != nil {
		return err
	}
	if err := importDictionary(ctx, store, d.ID, dictionary); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, d.ID)
	fmt.Fprintf(env.Stderr, "added dataset %d %q (%s, %s); running servers pick it up within %s\n",
		d.ID, d.Name, d.Driver, catalog.RedactDSN(d.DSN), cfg.CatalogPoll)
	warnIfUnreachable(ctx, env, d, cfg.Limits)
	return nil
}

// warnIfUnreachable tries the new dataset once, briefly: a typo in the
// connection string should be seen now, not by the first analyst. The
// dataset stays registered either way (the database may come up later).
func warnIfUnreachable(ctx context.Context, env Env, d catalog.Dataset, limits config.Limits) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	limits.ConnectTimeout = min(limits.ConnectTimeout, 5*time.Second)
	limits.PoolMinConns = 0
	src, err := dataset.SourceOpener(slog.New(slog.DiscardHandler))(ctx, d, limits)
	if err == nil {
		defer src.Close()
		_, err = src.Tables(ctx)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "warning: dataset %d cannot be reached right now (%s); check with 'mcp-analytics datasets test %d'\n",
			d.ID, redactedCause(err), d.ID)
	}
}

// redactedCause is err's text with any connection string's password hidden.
func redactedCause(err error) string {
	var unavailable *source.UnavailableError
	if errors.As(err, &unavailable) && unavailable.Err != nil {
		err = unavailable.Err
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return catalog.RedactDSN(msg)
}

// datasetsUpdate changes only the fields whose flags are given.
func datasetsUpdate(ctx context.Context, env Env, args []string) error {
	c := newCatalogCommand("datasets update", env)
	var in catalog.Dataset
	var timeout time.Duration
	var dictionary string
	datasetFlags(c.fs, &in, &timeout, &dictionary)
	id, err := parseID(c.fs, args, "mcp-analytics datasets update 3 --description \"...\"")
	if err != nil {
		return err
	}
	cfg, store, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	d, err := store.Get(ctx, id)
	if err != nil {
		return err
	}
	in.Settings.Limits.QueryTimeout = timeout
	r, l := &d.Settings.Roles, &d.Settings.Limits
	set := map[string]func(){
		"name": func() { d.Name = in.Name }, "driver": func() { d.Driver = in.Driver }, "dsn": func() { d.DSN = in.DSN },
		"description":    func() { d.Description = in.Description },
		"weight-column":  func() { r.WeightColumn = in.Settings.Roles.WeightColumn },
		"weights-table":  func() { r.WeightsTable = in.Settings.Roles.WeightsTable },
		"respondent-key": func() { r.RespondentKey = in.Settings.Roles.RespondentKey },
		"nccs-column":    func() { r.NCCSColumn = in.Settings.Roles.NCCSColumn },
		"nccs-preset":    func() { r.NCCSPreset = in.Settings.Roles.NCCSPreset },
		"weight-scale":   func() { r.WeightScale = in.Settings.Roles.WeightScale },
		"min-base":       func() { r.MinBase = in.Settings.Roles.MinBase },
		"raw-rows":       func() { l.RawRows = in.Settings.Limits.RawRows },
		"aggregated-rows": func() {
			l.AggregatedRows = in.Settings.Limits.AggregatedRows
		},
		"query-timeout": func() { l.QueryTimeout = in.Settings.Limits.QueryTimeout },
		"min-cell":      func() { l.MinCell = in.Settings.Limits.MinCell },
		"work-mem":      func() { l.WorkMem = in.Settings.Limits.WorkMem },
		"max-parallel-workers": func() {
			l.MaxParallelWorkersPerGather = in.Settings.Limits.MaxParallelWorkersPerGather
		},
		"replica":          func() { d.Settings.Replicas.DSNs = in.Settings.Replicas.DSNs },
		"replica-fallback": func() { d.Settings.Replicas.Fallback = in.Settings.Replicas.Fallback },
		"max-replica-lag":  func() { d.Settings.Replicas.MaxLag = in.Settings.Replicas.MaxLag },
	}
	changed := 0
	c.fs.Visit(func(f *flag.Flag) {
		if apply, ok := set[f.Name]; ok {
			apply()
			changed++
		}
	})
	if changed == 0 && dictionary == "" {
		return &UsageError{Message: "nothing to change", Hint: "give the flags to change, e.g. --description or --dsn"}
	}
	if changed > 0 {
		if err := store.Update(ctx, d); err != nil {
			return err
		}
	}
	if err := importDictionary(ctx, store, id, dictionary); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "updated dataset %d %q; running servers pick it up within %s (in-flight queries finish on the old settings)\n",
		d.ID, d.Name, cfg.CatalogPoll)
	return nil
}

func datasetsList(ctx context.Context, env Env, args []string) error {
	c := newCatalogCommand("datasets list", env)
	if err := parse(c.fs, args); err != nil {
		return err
	}
	_, store, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	list, err := store.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tDRIVER\tCONNECTION\tPROFILED\tDESCRIPTION")
	for _, d := range list {
		profiled := "never"
		if p, err := store.Profile(ctx, d.ID); err == nil {
			profiled = p.ProfiledAt.UTC().Format("2006-01-02 15:04")
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		dsn := catalog.RedactDSN(d.DSN)
		if n := len(d.Settings.Replicas.DSNs); n > 0 {
			dsn += fmt.Sprintf(" (+%d read replicas)", n)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, d.Driver, dsn, profiled, firstLine(d.Description, 60))
	}
	return tw.Flush()
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func datasetsRemove(ctx context.Context, env Env, args []string) error {
	c := newCatalogCommand("datasets remove", env)
	id, err := parseID(c.fs, args, "mcp-analytics datasets remove 3")
	if err != nil {
		return err
	}
	_, store, err := c.open(ctx)
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

// datasetsTest connects to a dataset and reports what the server would
// see: tables, row estimates, detected roles, and whether its database
// role could write (it should not).
func datasetsTest(ctx context.Context, env Env, args []string) error {
	c := newCatalogCommand("datasets test", env)
	id, err := parseID(c.fs, args, "mcp-analytics datasets test 3")
	if err != nil {
		return err
	}
	cfg, store, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	reg := dataset.New(store, dataset.SourceOpener(slog.New(slog.DiscardHandler)), cfg.Limits, slog.New(slog.DiscardHandler), dataset.WithProfileEvery(0))
	defer reg.Close()
	if err := reg.Refresh(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Limits.ConnectTimeout+10*time.Second)
	defer cancel()
	start := time.Now()
	h, err := reg.Open(ctx, id)
	if err != nil {
		return fmt.Errorf("dataset %d cannot be used: %w", id, err)
	}
	defer h.Release()
	fmt.Fprintf(env.Stdout, "dataset %d %q: connected to %s in %s\n", id, h.Dataset.Name, catalog.RedactDSN(h.Dataset.DSN), time.Since(start).Round(time.Millisecond))
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tGRAIN\tROWS (est.)\tCOLUMNS")
	for _, t := range h.Tables {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", t.Name, h.Roles.Grain(t), render.Number(t.RowEstimate), len(t.Columns))
	}
	tw.Flush()
	r := h.Roles
	fmt.Fprintf(env.Stdout, "roles: weight %s, respondent key %s, NCCS %s, dates %s\n",
		orDash(qualify(r.WeightsTable, r.WeightColumn)), orDash(r.RespondentKey), orDash(r.NCCSColumn), orDash(strings.Join(r.DateColumns, ", ")))
	if r.WeightColumn == "" {
		fmt.Fprintln(env.Stdout, "warning: no weight column found; queries will run unweighted (set --weight-column)")
	}
	if w, ok := h.Source.(interface {
		CanWrite(context.Context) (bool, error)
	}); ok {
		can, err := w.CanWrite(ctx)
		switch {
		case err != nil:
			fmt.Fprintf(env.Stdout, "warning: could not check the role's privileges: %v\n", err)
		case can:
			fmt.Fprintln(env.Stdout, "warning: this role can write (INSERT/UPDATE/DELETE/TRUNCATE or CREATE). Sessions are read-only, but use a read-only role: GRANT SELECT only.")
		default:
			fmt.Fprintln(env.Stdout, "role: read-only (good)")
		}
	}
	return nil
}

func qualify(table, col string) string {
	if col == "" {
		return ""
	}
	return table + "." + col
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// datasetsProfile profiles datasets now and stores the profiles.
func datasetsProfile(ctx context.Context, env Env, args []string) error {
	c := newCatalogCommand("datasets profile", env)
	all := c.fs.Bool("all", false, "profile every dataset")
	if err := parse(c.fs, args); err != nil {
		return err
	}
	var ids []int64
	if !*all {
		id, err := parseID(c.fs, nil, "mcp-analytics datasets profile 3 (or --all)")
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	cfg, store, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	reg := dataset.New(store, dataset.SourceOpener(slog.New(slog.DiscardHandler)), cfg.Limits, slog.New(slog.DiscardHandler), dataset.WithProfileEvery(0))
	defer reg.Close()
	if err := reg.Refresh(ctx); err != nil {
		return err
	}
	if *all {
		for _, d := range reg.List(ctx) {
			ids = append(ids, d.ID)
		}
	}
	var failed []error
	for _, id := range ids {
		start := time.Now()
		p, err := reg.Reprofile(ctx, id)
		if err != nil {
			failed = append(failed, err)
			fmt.Fprintf(env.Stderr, "dataset %d: %v\n", id, err)
			continue
		}
		cols := 0
		for _, t := range p.Tables {
			cols += len(t.Columns)
		}
		fmt.Fprintf(env.Stdout, "dataset %d: %d tables, %d columns profiled from %s in %s", id, len(p.Tables), cols, p.Method, time.Since(start).Round(time.Millisecond))
		if p.DateFrom != "" {
			fmt.Fprintf(env.Stdout, "; dates %s to %s", p.DateFrom, p.DateTo)
		}
		fmt.Fprintln(env.Stdout)
		for _, t := range p.Tables {
			var cats []string
			for _, c := range t.Columns {
				if profile.IsCategorical(c) {
					cats = append(cats, c.Name)
				}
			}
			fmt.Fprintf(env.Stdout, "  %s: %s, ~%s rows; categorical: %s\n", t.Name, t.Grain, render.Number(t.RowEstimate), orDash(strings.Join(cats, ", ")))
		}
	}
	return errors.Join(failed...)
}

// datasetsDescribe imports a data dictionary or sets one description or
// unit.
func datasetsDescribe(ctx context.Context, env Env, args []string) error {
	c := newCatalogCommand("datasets describe", env)
	file := c.fs.String("file", "", "data dictionary: CSV with columns table,column,description and optionally unit, or YAML (a list of {table, column, description, unit})")
	table := c.fs.String("table", "", "table to describe (with --text or --unit)")
	column := c.fs.String("column", "", "column to describe (with --table; omit to describe the table)")
	text := c.fs.String("text", "", "the description; empty deletes it")
	unit := c.fs.String("unit", "", `unit of the column's values, e.g. "₹", INR or min: answers show money with its currency; empty removes it`)
	hint := `mcp-analytics datasets describe 3 --file dictionary.csv, or: datasets describe 3 --table users --column nccs --text "Socio-economic class", or: datasets describe 3 --table orders --column amount --unit ₹`
	id, err := parseID(c.fs, args, hint)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case (*file == "") == (*table == ""):
		return &UsageError{Message: "give either --file or --table (with --text or --unit)", Hint: hint}
	case *table != "" && !set["text"] && !set["unit"]:
		return &UsageError{Message: "give --text, --unit or both with --table", Hint: hint}
	case set["unit"] && *column == "":
		return &UsageError{Message: "a unit belongs to a column: give --column", Hint: hint}
	}
	_, store, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if *file != "" {
		return importDictionary(ctx, store, id, *file)
	}
	// The flag not given keeps what is stored: --unit alone does not
	// delete the description, --text alone does not drop the unit.
	d := catalog.Description{Table: *table, Column: *column, Description: strings.TrimSpace(*text), Unit: strings.TrimSpace(*unit)}
	if !set["text"] || !set["unit"] {
		stored, err := store.Descriptions(ctx, id)
		if err != nil {
			return err
		}
		for _, s := range stored {
			if s.Table != d.Table || s.Column != d.Column {
				continue
			}
			if !set["text"] {
				d.Description = s.Description
			}
			if !set["unit"] {
				d.Unit = s.Unit
			}
		}
	}
	if err := store.SetDescriptions(ctx, id, []catalog.Description{d}); err != nil {
		return err
	}
	what := strings.TrimSuffix(*table+"."+*column, ".")
	if d.Unit != "" {
		what += " (unit " + d.Unit + ")"
	}
	fmt.Fprintf(env.Stderr, "described %s of dataset %d\n", what, id)
	return nil
}

// importDictionary imports a dictionary file. A file that gives no units
// keeps the units stored (see [catalog.KeepUnits]).
func importDictionary(ctx context.Context, store catalog.Store, id int64, path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read dictionary: %w", err)
	}
	defer f.Close()
	ds, err := catalog.ParseDictionary(f, strings.TrimPrefix(filepath.Ext(path), "."))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	stored, err := store.Descriptions(ctx, id)
	if err != nil {
		return err
	}
	return store.SetDescriptions(ctx, id, catalog.KeepUnits(ds, stored))
}

// parseID parses the flags and the one dataset id argument. With args nil,
// the flags are already parsed.
func parseID(fs *flag.FlagSet, args []string, hint string) (int64, error) {
	if args != nil {
		if err := parse(fs, args); err != nil {
			return 0, err
		}
	}
	// Flags may also follow the id: "datasets update 3 --description x".
	rest := fs.Args()
	if len(rest) > 1 {
		if err := parse(fs, rest[1:]); err != nil {
			return 0, err
		}
		rest = append(rest[:1], fs.Args()...)
	}
	if len(rest) != 1 {
		return 0, &UsageError{Message: "give exactly one dataset id", Hint: hint}
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, &UsageError{Message: "not a dataset id: " + strconv.Quote(rest[0]), Hint: "see 'mcp-analytics datasets list'"}
	}
	return id, nil
}
