// Package importer turns survey files — SPSS .sav (through surveyfile),
// CSV and Parquet (through DuckDB's own readers) — into a managed DuckDB
// dataset and registers it in the catalog (mcp-analytics datasets import).
//
// The contract: a file is built under <data_dir>/imports under a
// ".partial" name on a writable connection of its own (the serving
// connections stay read-only and locked down), checked as the server
// would open it (roles detected, respondent ids unique, weights sane),
// renamed into place, and only then registered, with its codebook and
// data dictionary, in one catalog transaction. Any failure before that
// removes the file: a failed import leaves no dataset, no partial file and
// no catalog row. A re-import (Options.Replace) builds the new file beside
// the old one and swaps the catalog entry; running servers finish their
// queries on the old file and close it (the dataset registry does that).
//
// Rows are streamed: .sav batches go to DuckDB's appender, CSV and Parquet
// are read by DuckDB itself, and DuckDB's memory_limit bounds the rest, so
// memory does not grow with the files.
package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	duckdbdrv "github.com/duckdb/duckdb-go/v2"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/source/duckdb"
)

// Store is the part of the catalog an import writes to.
type Store interface {
	Get(ctx context.Context, id int64) (catalog.Dataset, error)
	Codebook(ctx context.Context, datasetID int64) (catalog.Codebook, error)
	SaveImport(ctx context.Context, d catalog.Dataset, cb catalog.Codebook, ds []catalog.Description) (catalog.Dataset, error)
}

// File is one file to import and the table it becomes.
type File struct {
	Path string
	// Table names the table; "" derives it from the file name.
	Table string
}

// Options describe an import.
type Options struct {
	// Name and Description of the dataset. On a replace, "" keeps the
	// dataset's own.
	Name        string
	Description string
	Files       []File
	// DataDir is the data directory; files go to DataDir/imports.
	DataDir string
	// Replace is the id of an imported dataset to re-import (a new wave);
	// 0 adds a new dataset.
	Replace int64
	// Roles override detection (weight column, respondent key, weight
	// scale, ...), as with datasets add.
	Roles catalog.Roles
	// KeepCodes keeps the original codes of labelled .sav variables in a
	// sibling column <name>_code.
	KeepCodes bool
	// AllowBadWeights lets an import with negative weights go on.
	AllowBadWeights bool
	// Delimiter and Encoding override CSV detection; Encoding also
	// overrides the encoding a .sav file declares.
	Delimiter string
	Encoding  string
	// MemoryLimit is DuckDB's memory_limit while importing (default
	// DefaultMemoryLimit); Threads its threads (default: DuckDB's).
	MemoryLimit string
	Threads     int
	// Progress receives a line per file; nil means none.
	Progress io.Writer
}

// DefaultMemoryLimit bounds DuckDB's memory while importing; beyond it
// DuckDB spills to a temporary directory beside the new file.
const DefaultMemoryLimit = "1GB"

// Result is a finished import.
type Result struct {
	Dataset  catalog.Dataset
	Tables   []TableResult
	Roles    dataset.Roles
	Warnings []string
	// Replaced is the file the dataset used before (on a replace).
	Replaced string
}

// TableResult is one imported table.
type TableResult struct {
	Name    string
	Source  string
	Format  string
	Rows    int64
	Columns int
	Took    time.Duration
}

// Error is an import that could not be done for a reason the user can
// fix: a bad file, bad weights, duplicate ids, a wrong flag.
type Error struct {
	Message string
	Hint    string
}

func (e *Error) Error() string { return e.Message }

func userErr(hint, format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...), Hint: hint}
}

// Import builds the dataset and registers it; see the package comment.
func Import(ctx context.Context, store Store, opts Options) (res Result, err error) {
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.MemoryLimit == "" {
		opts.MemoryLimit = DefaultMemoryLimit
	}
	files, err := plan(opts.Files)
	if err != nil {
		return res, err
	}
	d, prevCodebook, err := target(ctx, store, opts)
	if err != nil {
		return res, err
	}
	dir := filepath.Join(opts.DataDir, "imports")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, fmt.Errorf("create %s: %w", dir, err)
	}
	removeStalePartials(dir)
	final := filepath.Join(dir, fmt.Sprintf("%s-%s.duckdb", slug(d.Name), time.Now().UTC().Format("20060102T150405.000000000")))
	partial := filepath.Join(dir, "."+filepath.Base(final)+".partial")
	registered := false
	defer func() {
		if !registered {
			removeDB(partial)
			removeDB(final)
		}
	}()

	cb := catalog.Codebook{ImportedAt: time.Now().UTC()}
	var descs []catalog.Description
	if err := build(ctx, partial, files, opts, &res, &cb, &descs); err != nil {
		return res, err
	}
	roles, warnings, err := check(ctx, partial, d.Settings.Roles, opts.AllowBadWeights)
	if err != nil {
		return res, err
	}
	res.Roles, res.Warnings = roles, append(res.Warnings, warnings...)
	if err := os.Rename(partial, final); err != nil {
		return res, fmt.Errorf("move the new file into place: %w", err)
	}
	res.Replaced = ""
	if opts.Replace != 0 {
		res.Replaced = d.DSN
		cb.PreviousFile = d.DSN
	}
	d.DSN = final
	if d.Description == "" {
		d.Description = "Imported from " + sources(files)
	}
	saved, err := store.SaveImport(ctx, d, cb, descs)
	if err != nil {
		return res, err
	}
	registered = true
	res.Dataset = saved
	// The file before the one just replaced is no longer served by
	// anyone who has seen the previous import: remove it. The one just
	// replaced stays until the next import, for servers that have not
	// yet noticed this one.
	if prev := prevCodebook.PreviousFile; prev != "" && managed(opts.DataDir, prev) && prev != final {
		removeDB(prev)
	}
	return res, nil
}

// plan checks the files and names their tables.
func plan(in []File) ([]File, error) {
	if len(in) == 0 {
		return nil, userErr("mcp-analytics datasets import --name \"Wave 3\" users.sav app_usage.parquet", "no files to import")
	}
	seen := map[string]string{}
	out := make([]File, len(in))
	for i, f := range in {
		st, err := os.Stat(f.Path)
		if err != nil {
			return nil, userErr("", "%s: %v", f.Path, errors.Unwrap(err))
		}
		if st.IsDir() {
			return nil, userErr("", "%s is a directory, not a file", f.Path)
		}
		if format(f.Path) == "" {
			return nil, userErr("the formats are .sav (SPSS), .csv/.tsv/.txt and .parquet", "%s: unknown file type %q", f.Path, filepath.Ext(f.Path))
		}
		if f.Table == "" {
			f.Table = tableName(f.Path)
		}
		if !identRE.MatchString(f.Table) {
			return nil, userErr("name it with --table TABLE=FILE", "table name %q (from %s) must be letters, digits and _ and start with a letter", f.Table, f.Path)
		}
		if other, dup := seen[strings.ToLower(f.Table)]; dup {
			return nil, userErr("name one of them with --table TABLE=FILE", "%s and %s would both become table %s", other, f.Path, f.Table)
		}
		seen[strings.ToLower(f.Table)] = f.Path
		out[i] = f
	}
	return out, nil
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// format is a file's format from its extension: sav, csv or parquet.
func format(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".sav", ".zsav":
		return "sav"
	case ".csv", ".tsv", ".txt":
		return "csv"
	case ".parquet", ".pq":
		return "parquet"
	}
	return ""
}

// tableName derives a table name from a file name: "App Usage 2026.parquet"
// → app_usage_2026.
func tableName(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	s := strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(base), "_"), "_")
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "t_" + s
	}
	return s
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

func slug(name string) string {
	s := strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 40 {
		s = s[:40]
	}
	if s == "" {
		s = "dataset"
	}
	return s
}

func sources(files []File) string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f.Path)
	}
	return strings.Join(names, ", ")
}

// target is the dataset the import writes: a new one, or the one it
// replaces with the options' overrides applied, and its codebook.
func target(ctx context.Context, store Store, opts Options) (catalog.Dataset, catalog.Codebook, error) {
	if opts.Replace == 0 {
		if opts.Name == "" {
			return catalog.Dataset{}, catalog.Codebook{}, userErr(`mcp-analytics datasets import --name "Wave 3" users.sav`, "--name is required")
		}
		d := catalog.Dataset{Name: opts.Name, Description: opts.Description, Driver: catalog.DriverDuckDB, DSN: "pending",
			Settings: catalog.Settings{Roles: opts.Roles}}
		if err := d.Validate(); err != nil {
			return d, catalog.Codebook{}, &Error{Message: err.Error()}
		}
		return d, catalog.Codebook{}, nil
	}
	d, err := store.Get(ctx, opts.Replace)
	if err != nil {
		return d, catalog.Codebook{}, err
	}
	prev, err := store.Codebook(ctx, d.ID)
	if err != nil || d.Driver != catalog.DriverDuckDB || !managed(opts.DataDir, d.DSN) {
		return d, catalog.Codebook{}, userErr("import it anew with --name, or change it with datasets update",
			"dataset %d (%s) was not made by datasets import in this data directory, so --replace cannot re-import it", d.ID, d.Name)
	}
	if opts.Name != "" {
		d.Name = opts.Name
	}
	if opts.Description != "" {
		d.Description = opts.Description
	}
	r := &d.Settings.Roles
	o := opts.Roles
	if o.WeightColumn != "" {
		r.WeightColumn = o.WeightColumn
	}
	if o.WeightsTable != "" {
		r.WeightsTable = o.WeightsTable
	}
	if o.RespondentKey != "" {
		r.RespondentKey = o.RespondentKey
	}
	if o.WeightScale != 0 {
		r.WeightScale = o.WeightScale
	}
	if o.NCCSColumn != "" {
		r.NCCSColumn = o.NCCSColumn
	}
	return d, prev, nil
}

// managed reports whether path is a file an import made in dataDir.
func managed(dataDir, path string) bool {
	dir, err := filepath.Abs(filepath.Join(dataDir, "imports"))
	if err != nil {
		return false
	}
	p, err := filepath.Abs(path)
	return err == nil && filepath.Dir(p) == dir
}

// removeDB removes a DuckDB file with its write-ahead log and spill
// directory.
func removeDB(path string) {
	os.Remove(path)
	os.Remove(path + ".wal")
	os.RemoveAll(path + ".tmp")
}

// removeStalePartials removes what imports killed mid-way left behind
// (a day old: a concurrent import's file is younger).
func removeStalePartials(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".partial") && !strings.HasSuffix(e.Name(), ".partial.wal") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
			removeDB(filepath.Join(dir, e.Name()))
		}
	}
}

// build writes every file into a new DuckDB database at path.
func build(ctx context.Context, path string, files []File, opts Options, res *Result, cb *catalog.Codebook, descs *[]catalog.Description) error {
	settings := []string{"memory_limit=" + opts.MemoryLimit, "preserve_insertion_order=false"}
	if opts.Threads > 0 {
		settings = append(settings, fmt.Sprintf("threads=%d", opts.Threads))
	}
	connector, err := duckdbdrv.NewConnector(path+"?"+strings.Join(settings, "&"), nil)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer conn.Close()
	// No transaction around the build: the appender then commits as it
	// flushes, and DuckDB writes row groups out instead of holding a whole
	// file's rows for one commit (a failed build deletes the file anyway).
	for _, f := range files {
		start := time.Now()
		var tr TableResult
		var tc catalog.TableCodebook
		var err error
		switch format(f.Path) {
		case "sav":
			tr, tc, err = loadSAV(ctx, conn, f, opts)
		default:
			tr, tc, err = loadWithDuckDB(ctx, conn, f, opts)
		}
		if err != nil {
			return err
		}
		tr.Took = time.Since(start)
		res.Tables = append(res.Tables, tr)
		cb.Tables = append(cb.Tables, tc)
		*descs = append(*descs, dictionary(tc)...)
		fmt.Fprintf(opts.Progress, "%s → table %s: %d rows, %d columns in %s\n", filepath.Base(f.Path), tr.Name, tr.Rows, tr.Columns, tr.Took.Round(time.Millisecond))
	}
	if _, err := conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// dictionary is the data dictionary of an imported table: the table's
// source, each variable's label and what became of its codes.
func dictionary(t catalog.TableCodebook) []catalog.Description {
	out := []catalog.Description{{Table: t.Name, Description: fmt.Sprintf("Imported from %s (%s), %d rows.", t.Source, formatName(t.Format), t.Rows)}}
	for _, v := range t.Variables {
		if text := v.Describe(); text != "" {
			out = append(out, catalog.Description{Table: t.Name, Column: v.Column, Description: text})
		}
		if v.CodeColumn != "" {
			text := fmt.Sprintf("Original codes of %s (user-missing codes kept).", v.Column)
			if v.Label != "" {
				text = fmt.Sprintf("Original codes of %s, %s (user-missing codes kept).", v.Column, strings.TrimSuffix(v.Label, "."))
			}
			out = append(out, catalog.Description{Table: t.Name, Column: v.CodeColumn, Description: text})
		}
	}
	return out
}

func formatName(f string) string {
	switch f {
	case "sav":
		return "SPSS"
	case "csv":
		return "CSV"
	case "parquet":
		return "Parquet"
	}
	return f
}

// check opens the new file as a server would (read-only, locked down),
// detects its roles and checks the respondent ids and weights.
func check(ctx context.Context, path string, set catalog.Roles, allowBadWeights bool) (dataset.Roles, []string, error) {
	src, err := duckdb.Open(ctx, path, duckdb.Options{MaxConns: 2})
	if err != nil {
		return dataset.Roles{}, nil, fmt.Errorf("open the new file: %w", err)
	}
	defer src.Close()
	tables, err := src.Tables(ctx)
	if err != nil {
		return dataset.Roles{}, nil, fmt.Errorf("read the new file's tables: %w", err)
	}
	roles := dataset.DetectRoles(tables, set)
	var warnings []string
	if set.WeightColumn != "" && (roles.WeightsTable == "" || !hasColumn(tables, roles.WeightsTable, set.WeightColumn)) {
		return roles, nil, userErr("see the columns with: mcp-analytics datasets import ... then datasets test", "--weight %s: no imported table has that column", set.WeightColumn)
	}
	if set.RespondentKey != "" && !anyHasColumn(tables, set.RespondentKey) {
		return roles, nil, userErr("", "--respondent-key %s: no imported table has that column", set.RespondentKey)
	}
	if roles.WeightColumn == "" {
		warnings = append(warnings, "no weight column found (looked for weight, wt, sample_weight, ...): queries will run unweighted; name it with --weight")
		return roles, warnings, nil
	}
	if roles.RespondentKey != "" && hasColumn(tables, roles.WeightsTable, roles.RespondentKey) {
		if err := checkDuplicates(ctx, src, roles.WeightsTable, roles.RespondentKey); err != nil {
			return roles, nil, err
		}
	}
	w, err := checkWeights(ctx, src, roles.WeightsTable, roles.WeightColumn, allowBadWeights)
	return roles, append(warnings, w...), err
}

func hasColumn(tables []source.Table, table, column string) bool {
	for _, t := range tables {
		if t.Name != table {
			continue
		}
		for _, c := range t.Columns {
			if c.Name == column {
				return true
			}
		}
	}
	return false
}

func anyHasColumn(tables []source.Table, column string) bool {
	for _, t := range tables {
		if hasColumn(tables, t.Name, column) {
			return true
		}
	}
	return false
}
