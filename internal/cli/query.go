package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
)

func runQuery(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("query", env)
	var common commonFlags
	common.register(fs)
	var cat catalogFlags
	cat.register(fs)
	id := fs.Int64("dataset", 0, "dataset id (see 'mcp-analytics datasets list')")
	noWeights := fs.Bool("no-weights", false, "do not add weighted figures (apply_weights=false)")
	noMerge := fs.Bool("no-merge-nccs", false, "do not merge NCCS classes")
	showSQL := fs.Bool("show-sql", false, "print the SQL that actually ran")
	stdErrors := fs.Bool("standard-errors", false, "add standard errors of weighted counts, shares and reach")
	noTotals := fs.Bool("no-totals", false, "no Total rows in grouped weighted answers (totals=false)")
	compareBy := fs.String("compare-by", "", "grouping column whose groups are compared with significance tests (compare_by)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *id == 0 {
		return &UsageError{Message: "--dataset is required", Hint: `mcp-analytics query --dataset 1 "SELECT gender, COUNT(*) FROM users GROUP BY gender"`}
	}
	sql := strings.Join(fs.Args(), " ")
	if sql == "-" {
		b, err := io.ReadAll(env.Stdin)
		if err != nil {
			return fmt.Errorf("read query from stdin: %w", err)
		}
		sql = string(b)
	}
	if strings.TrimSpace(sql) == "" {
		return &UsageError{Message: "no query given", Hint: `pass the SQL as the last argument, or "-" to read it from stdin`}
	}
	cfg, err := common.load(env)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.Stderr)
	a, err := openApp(ctx, cfg, log, env.Stderr, cat.resolve(env.Environ))
	if err != nil {
		return err
	}
	defer a.Close()
	r := a.svc.Query(ctx, analysis.Request{DatasetID: *id, Query: sql, ApplyWeights: !*noWeights, MergeNCCS: !*noMerge, ShowSQL: *showSQL, StandardErrors: *stdErrors,
		Totals: !*noTotals, CompareBy: *compareBy})
	fmt.Fprintln(env.Stdout, render.Single(r, a.renderOptions()))
	if !r.OK {
		return fmt.Errorf("query failed")
	}
	return nil
}
