package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/importer"
)

const importHint = `mcp-analytics datasets import --name "Wave 3" users.sav app_usage.parquet [--weight COL] [--respondent-key COL] [--replace ID]`

// tableFlags collects repeated --table TABLE=FILE flags.
type tableFlags map[string]string

func (t tableFlags) String() string { return "" }

func (t tableFlags) Set(s string) error {
	table, file, ok := strings.Cut(s, "=")
	if !ok || table == "" || file == "" {
		return fmt.Errorf("want TABLE=FILE, e.g. users=wave3.sav, not %q", s)
	}
	t[file] = table
	return nil
}

// datasetsImport turns survey files into a managed DuckDB dataset and
// registers it (or, with --replace, swaps a new wave into one).
func datasetsImport(ctx context.Context, env Env, args []string) error {
	c := newCatalogCommand("datasets import", env)
	var o importer.Options
	tables := tableFlags{}
	fs := c.fs
	fs.StringVar(&o.Name, "name", "", "dataset name (required unless --replace)")
	fs.StringVar(&o.Description, "description", "", `what the dataset holds (default "Imported from <files>")`)
	fs.Var(tables, "table", "name the table a file becomes, TABLE=FILE (repeatable; default: from the file name)")
	fs.StringVar(&o.Roles.WeightColumn, "weight", "", "weight column (default: detected by name: weight, wt, sample_weight, ...)")
	fs.StringVar(&o.Roles.WeightsTable, "weights-table", "", "user-level table holding the weight (default: detected)")
	fs.StringVar(&o.Roles.RespondentKey, "respondent-key", "", "column identifying a panelist (default: detected: user_id, respondent_id, panelist_id)")
	fs.StringVar(&o.Roles.NCCSColumn, "nccs-column", "", "NCCS column (default: detected)")
	fs.Float64Var(&o.Roles.WeightScale, "weight-scale", 0, "multiply weighted counts by this to get people (e.g. 1000 when weights are in thousands)")
	fs.Int64Var(&o.Replace, "replace", 0, "re-import into this dataset id (a new wave): built beside the old file, then swapped in")
	fs.BoolVar(&o.KeepCodes, "keep-codes", false, "keep the original codes of labelled .sav variables in a sibling column <name>_code")
	fs.BoolVar(&o.AllowBadWeights, "allow-bad-weights", false, "import even when weights are negative")
	fs.StringVar(&o.Delimiter, "delimiter", "", `CSV delimiter, one character or "tab" (default: from the header line)`)
	fs.StringVar(&o.Encoding, "encoding", "", "character encoding of files that are not UTF-8: for CSV latin-1 or utf-16; for .sav an iconv name (e.g. WINDOWS-1252) overriding the file's own")
	fs.StringVar(&o.MemoryLimit, "memory-limit", importer.DefaultMemoryLimit, "DuckDB's memory limit while importing; beyond it DuckDB spills to disk")
	fs.IntVar(&o.Threads, "threads", 0, "DuckDB threads while importing (default: all cores)")
	files, err := parseFiles(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return &UsageError{Message: "give the files to import", Hint: importHint}
	}
	if o.Name == "" && o.Replace == 0 {
		return &UsageError{Message: "--name is required", Hint: importHint}
	}
	for _, f := range files {
		o.Files = append(o.Files, importer.File{Path: f, Table: tables[f]})
	}
	for f := range tables {
		if !contains(files, f) {
			return &UsageError{Message: fmt.Sprintf("--table names %s, which is not among the files", f), Hint: importHint}
		}
	}
	cfg, store, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	o.DataDir, o.Progress = cfg.DataDir, env.Stderr
	res, err := importer.Import(ctx, store, o)
	var ie *importer.Error
	if errors.As(err, &ie) {
		if ie.Hint != "" {
			return fmt.Errorf("%s\nhint: %s\nnothing was imported", ie.Message, ie.Hint)
		}
		return fmt.Errorf("%s\nnothing was imported", ie.Message)
	}
	if errors.Is(err, catalog.ErrNotFound) {
		return fmt.Errorf("--replace %d: %w", o.Replace, err)
	}
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(env.Stderr, "warning: "+w)
	}
	r := res.Roles
	fmt.Fprintf(env.Stderr, "roles: weight %s, respondent key %s, NCCS %s\n",
		orDash(qualify(r.WeightsTable, r.WeightColumn)), orDash(r.RespondentKey), orDash(r.NCCSColumn))
	d := res.Dataset
	fmt.Fprintln(env.Stdout, d.ID)
	if res.Replaced != "" {
		fmt.Fprintf(env.Stderr, "replaced dataset %d %q with %s; running servers switch within %s (queries already running finish on the old file)\n",
			d.ID, d.Name, d.DSN, cfg.CatalogPoll)
		return nil
	}
	fmt.Fprintf(env.Stderr, "imported dataset %d %q into %s; running servers pick it up within %s\n", d.ID, d.Name, d.DSN, cfg.CatalogPoll)
	return nil
}

// parseFiles parses flags that may come before, between or after the
// file arguments, and returns the files.
func parseFiles(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		i := 0
		for i < len(rest) && !strings.HasPrefix(rest[i], "-") {
			files = append(files, rest[i])
			i++
		}
		if i == len(rest) {
			return files, nil
		}
		args = rest[i:]
	}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }
