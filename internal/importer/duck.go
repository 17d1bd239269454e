package importer

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// loadWithDuckDB reads a CSV or Parquet file with DuckDB's own reader into
// a new table.
func loadWithDuckDB(ctx context.Context, conn *sql.Conn, f File, opts Options) (TableResult, catalog.TableCodebook, error) {
	base := filepath.Base(f.Path)
	fm := format(f.Path)
	tr := TableResult{Name: f.Table, Source: base, Format: fm}
	tc := catalog.TableCodebook{Name: f.Table, Source: base, Format: fm}
	create := func(reader string) error {
		_, err := conn.ExecContext(ctx, "CREATE OR REPLACE TABLE "+source.QuoteIdent(f.Table)+" AS SELECT * FROM "+reader)
		return err
	}
	var err error
	if fm == "csv" {
		delim, err := csvDelimiter(f.Path, opts)
		if err != nil {
			return tr, tc, err
		}
		opts.Delimiter = string(delim)
		// A UTF-16 file is left to DuckDB's reader alone.
		if enc := strings.ToLower(opts.Encoding); !strings.HasPrefix(enc, "utf-16") && !strings.HasPrefix(enc, "utf16") {
			if err := checkCSV(ctx, f.Path, base, delim, enc == "" || enc == "utf-8" || enc == "utf8"); err != nil {
				return tr, tc, err
			}
		}
	}
	if fm == "parquet" {
		err = create("read_parquet(" + source.QuoteLiteral(f.Path) + ")")
	} else {
		err = create(csvReader(f.Path, opts, false))
		if err != nil && isConversion(err) {
			// Types were guessed from the first rows and a later value did
			// not fit: guess again from every row.
			err = create(csvReader(f.Path, opts, true))
		}
	}
	if err != nil {
		return tr, tc, readError(base, fm, opts, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+source.QuoteIdent(f.Table)).Scan(&tr.Rows); err != nil {
		return tr, tc, fmt.Errorf("count rows of %s: %w", f.Table, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM duckdb_columns() WHERE table_name = ?", f.Table).Scan(&tr.Columns); err != nil {
		return tr, tc, fmt.Errorf("count columns of %s: %w", f.Table, err)
	}
	tc.Rows = tr.Rows
	return tr, tc, nil
}

// csvDelimiter is the delimiter: --delimiter, a tab for .tsv, else the
// most frequent of , ; tab | in the header line (DuckDB's sniffer can be
// misled by the very ragged rows the check is there to find).
func csvDelimiter(path string, opts Options) (rune, error) {
	delim := opts.Delimiter
	if delim == `\t` || strings.EqualFold(delim, "tab") {
		delim = "\t"
	}
	if delim != "" {
		r, size := utf8.DecodeRuneInString(delim)
		if size != len(delim) || r == utf8.RuneError {
			return 0, &Error{Message: fmt.Sprintf("--delimiter must be one character, not %q", delim)}
		}
		return r, nil
	}
	if strings.EqualFold(filepath.Ext(path), ".tsv") {
		return '\t', nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, _ := bufio.NewReaderSize(f, 64<<10).ReadString('\n')
	best, bestN := ',', 0
	for _, c := range []rune{',', ';', '\t', '|'} {
		if n := strings.Count(line, string(c)); n > bestN {
			best, bestN = c, n
		}
	}
	return best, nil
}

// csvReader is the read_csv call for a file: a header row, types detected
// (from every row when all is set), ragged rows an error.
func csvReader(path string, opts Options, all bool) string {
	args := []string{source.QuoteLiteral(path), "header = true", "auto_detect = true", "strict_mode = true", "null_padding = false"}
	if opts.Delimiter != "" {
		args = append(args, "delim = "+source.QuoteLiteral(opts.Delimiter))
	}
	if opts.Encoding != "" {
		args = append(args, "encoding = "+source.QuoteLiteral(strings.ToLower(opts.Encoding)))
	}
	if all {
		args = append(args, "sample_size = -1")
	}
	return "read_csv(" + strings.Join(args, ", ") + ")"
}

func isConversion(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Could not convert") || strings.Contains(msg, "Conversion Error")
}

var lineRE = regexp.MustCompile(`(?i)\bline:?\s*(\d+)`)
var columnsRE = regexp.MustCompile(`Expected Number of Columns: (\d+) Found: (\d+)`)

// readError turns DuckDB's reader errors into messages that name the file
// and the line.
func readError(file, fm string, opts Options, err error) error {
	msg := err.Error()
	line := ""
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line = m[1]
	}
	at := ""
	if line != "" {
		at = " at line " + line
	}
	switch {
	case strings.Contains(msg, "Invalid unicode") || strings.Contains(msg, "invalid unicode") || strings.Contains(msg, "UTF-8"):
		if opts.Encoding == "" {
			return &Error{Message: fmt.Sprintf("%s is not UTF-8 text (first bad byte%s)", file, at),
				Hint: "give the file's encoding with --encoding latin-1 (or utf-16)"}
		}
	case columnsRE.MatchString(msg):
		m := columnsRE.FindStringSubmatch(msg)
		return &Error{Message: fmt.Sprintf("%s: a ragged row%s: %s values where the header has %s columns", file, at, m[2], m[1]),
			Hint: "fix the row, or give the right --delimiter"}
	case strings.Contains(msg, "column") && (strings.Contains(msg, "Too many") || strings.Contains(msg, "too many") || strings.Contains(msg, "Too few") || strings.Contains(msg, "too few")):
		return &Error{Message: fmt.Sprintf("%s: a ragged row%s", file, at), Hint: "fix the row, or give the right --delimiter"}
	}
	first, _, _ := strings.Cut(msg, "\n")
	what := "read"
	if fm == "csv" {
		what = "read CSV"
	}
	return &Error{Message: fmt.Sprintf("%s: cannot %s%s: %s", file, what, at, strings.TrimSpace(first))}
}

// checkDuplicates fails when the respondent key repeats in the user-level
// table: each panelist must be one row, or weights count twice.
func checkDuplicates(ctx context.Context, src source.Source, table, key string) error {
	t, k := source.QuoteIdent(table), source.QuoteIdent(key)
	res, err := src.Query(ctx, fmt.Sprintf(`SELECT CAST(%s AS VARCHAR) AS id, COUNT(*) AS n, COUNT(*) OVER () AS ids
		FROM %s GROUP BY %s HAVING COUNT(*) > 1 ORDER BY n DESC, id LIMIT 5`, k, t, k), 5)
	if err != nil {
		return fmt.Errorf("check %s.%s for duplicates: %w", table, key, err)
	}
	if len(res.Rows) == 0 {
		return nil
	}
	var examples []string
	var ids int64
	for _, r := range res.Rows {
		examples = append(examples, fmt.Sprintf("%v (%v rows)", r[0], r[1]))
		ids = toInt(r[2])
	}
	return &Error{Message: fmt.Sprintf("%s.%s must identify one panelist per row, but %s ids repeat, e.g. %s",
		table, key, render.Number(ids), strings.Join(examples, ", ")),
		Hint: "remove the duplicate rows, or name the right column with --respondent-key"}
}

// checkWeights counts NULL, zero and negative weights: the first two are
// warnings (those panelists drop out of weighted figures), negative ones
// an error unless allowed.
func checkWeights(ctx context.Context, src source.Source, table, column string, allowNegative bool) ([]string, error) {
	t, c := source.QuoteIdent(table), source.QuoteIdent(column)
	res, err := src.Query(ctx, fmt.Sprintf(`SELECT COUNT(*), COUNT(*) FILTER (WHERE %s IS NULL), COUNT(*) FILTER (WHERE %s = 0),
		COUNT(*) FILTER (WHERE %s < 0), MIN(%s) FROM %s`, c, c, c, c, t), 1)
	if err != nil {
		return nil, fmt.Errorf("check weights %s.%s: %w", table, column, err)
	}
	if len(res.Rows) != 1 {
		return nil, nil
	}
	r := res.Rows[0]
	total, nulls, zeros, negs := toInt(r[0]), toInt(r[1]), toInt(r[2]), toInt(r[3])
	var warnings []string
	where := table + "." + column
	if nulls > 0 {
		warnings = append(warnings, fmt.Sprintf("weight %s is NULL for %s of %s rows: those panelists are left out of weighted figures", where, render.Number(nulls), render.Number(total)))
	}
	if zeros > 0 {
		warnings = append(warnings, fmt.Sprintf("weight %s is 0 for %s of %s rows: those panelists are left out of weighted figures", where, render.Number(zeros), render.Number(total)))
	}
	if negs > 0 {
		msg := fmt.Sprintf("weight %s is negative for %s of %s rows (lowest %v)", where, render.Number(negs), render.Number(total), r[4])
		if !allowNegative {
			return warnings, &Error{Message: msg, Hint: "fix the weights, or pass --allow-bad-weights to import them as they are"}
		}
		warnings = append(warnings, msg+"; imported anyway (--allow-bad-weights)")
	}
	return warnings, nil
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	case float64:
		return int64(n)
	case string:
		i, _ := strconv.ParseInt(n, 10, 64)
		return i
	}
	return 0
}
