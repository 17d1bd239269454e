package importer

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	duckdbdrv "github.com/duckdb/duckdb-go/v2"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/surveyfile"
)

// savColumn is how one .sav variable becomes one or two columns.
type savColumn struct {
	v        surveyfile.Variable
	name     string
	typ      string
	kind     surveyfile.Kind
	numLabel map[float64]string
	strLabel map[string]string
	// code is the sibling column of original codes (--keep-codes), "".
	code    string
	codeTyp string
	// fractional is set once a value of an integer-formatted variable
	// turns out not to be a whole number (it then stays DOUBLE).
	fractional bool
	missing    int64
}

// spssEpoch is 1582-10-14, where SPSS dates count seconds from, in Unix
// seconds.
const spssEpoch = -12219379200

// loadSAV streams a .sav file into a new table: value labels applied,
// user-missing codes NULL, dates as DATE/TIMESTAMP, the codebook kept.
func loadSAV(ctx context.Context, conn *sql.Conn, f File, opts Options) (TableResult, catalog.TableCodebook, error) {
	base := filepath.Base(f.Path)
	tr := TableResult{Name: f.Table, Source: base, Format: "sav"}
	tc := catalog.TableCodebook{Name: f.Table, Source: base, Format: "sav"}
	var cols []*savColumn
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("connection is %T, not a duckdb connection", dc)
		}
		var app *duckdbdrv.Appender
		var row []driver.Value
		onHeader := func(h *surveyfile.Header) error {
			var err error
			cols, err = savColumns(base, h, opts.KeepCodes)
			if err != nil {
				return err
			}
			if _, err := c.(driver.ExecerContext).ExecContext(ctx, createSQL(f.Table, cols), nil); err != nil {
				return fmt.Errorf("create table %s: %w", f.Table, err)
			}
			if app, err = duckdbdrv.NewAppenderFromConn(c, "", f.Table); err != nil {
				return fmt.Errorf("append to %s: %w", f.Table, err)
			}
			for _, col := range cols {
				row = append(row, nil)
				if col.code != "" {
					row = append(row, nil)
				}
			}
			return nil
		}
		onRows := func(b *surveyfile.Batch) error {
			for r := range b.Rows {
				j := 0
				for i, col := range cols {
					main, code, err := col.value(b, r, i)
					if err != nil {
						return fmt.Errorf("%s: variable %s, row %d: %w", base, col.v.Name, b.First+int64(r)+1, err)
					}
					row[j] = main
					j++
					if col.code != "" {
						row[j] = code
						j++
					}
				}
				if err := app.AppendRow(row...); err != nil {
					return fmt.Errorf("%s: row %d: %w", base, b.First+int64(r)+1, err)
				}
			}
			tr.Rows += int64(b.Rows)
			return nil
		}
		err := surveyfile.Read(ctx, f.Path, surveyfile.Options{Encoding: opts.Encoding}, onHeader, onRows)
		if app != nil {
			err = errors.Join(err, app.Close())
		}
		return err
	})
	if err != nil {
		var fe *surveyfile.Error
		if errors.As(err, &fe) {
			return tr, tc, &Error{Message: err.Error(), Hint: "export the file again from SPSS (or check the copy is complete)"}
		}
		if errors.Is(err, surveyfile.ErrNoReadStat) {
			return tr, tc, &Error{Message: err.Error()}
		}
		return tr, tc, err
	}
	// Integer-formatted variables whose values were all whole numbers
	// become BIGINT (respondent ids, ages), the rest stay DOUBLE.
	for _, col := range cols {
		for _, c := range []struct{ name, typ string }{{col.name, col.typ}, {col.code, col.codeTyp}} {
			if c.name == "" || c.typ != "DOUBLE" || col.kind != surveyfile.KindInteger || col.fractional {
				continue
			}
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET DATA TYPE BIGINT", source.QuoteIdent(f.Table), source.QuoteIdent(c.name))); err != nil {
				return tr, tc, fmt.Errorf("make %s.%s an integer column: %w", f.Table, c.name, err)
			}
		}
	}
	tc.Rows = tr.Rows
	for _, col := range cols {
		tr.Columns++
		if col.code != "" {
			tr.Columns++
		}
		tc.Variables = append(tc.Variables, col.codebook())
	}
	return tr, tc, nil
}

// savColumns decides the columns of a .sav file's variables.
func savColumns(file string, h *surveyfile.Header, keepCodes bool) ([]*savColumn, error) {
	taken := map[string]bool{}
	cols := make([]*savColumn, len(h.Variables))
	for i, v := range h.Variables {
		for _, s := range append([]string{v.Name, v.Label}, labelTexts(v)...) {
			if !utf8.ValidString(s) {
				return nil, &Error{Message: fmt.Sprintf("%s: variable %s has text that is not UTF-8 (the file says its encoding is %q)", file, v.Name, h.Encoding),
					Hint: "give the file's encoding with --encoding, e.g. --encoding WINDOWS-1252"}
			}
		}
		c := &savColumn{v: v, name: strings.ToLower(v.Name), kind: v.Kind()}
		taken[c.name] = true
		switch c.kind {
		case surveyfile.KindString:
			c.typ = "VARCHAR"
		case surveyfile.KindDate:
			c.typ = "DATE"
		case surveyfile.KindDateTime:
			c.typ = "TIMESTAMP"
		default:
			c.typ = "DOUBLE"
		}
		if len(v.ValueLabels) > 0 {
			c.typ = "VARCHAR"
			if v.String {
				c.strLabel = map[string]string{}
			} else {
				c.numLabel = map[float64]string{}
			}
			for _, l := range v.ValueLabels {
				if v.String {
					c.strLabel[strings.TrimRight(l.Value.Str, " ")] = l.Label
				} else {
					c.numLabel[l.Value.Num] = l.Label
				}
			}
		}
		cols[i] = c
	}
	if keepCodes {
		for _, c := range cols {
			if len(c.v.ValueLabels) == 0 && len(c.v.Missing) == 0 {
				continue
			}
			c.code = c.name + "_code"
			if taken[c.code] {
				return nil, &Error{Message: fmt.Sprintf("%s: --keep-codes would add column %s, but the file already has one", file, c.code),
					Hint: "rename the variable in the file, or import without --keep-codes"}
			}
			taken[c.code] = true
			c.codeTyp = "DOUBLE"
			if c.v.String {
				c.codeTyp = "VARCHAR"
			}
		}
	}
	return cols, nil
}

func labelTexts(v surveyfile.Variable) []string {
	out := make([]string, 0, len(v.ValueLabels))
	for _, l := range v.ValueLabels {
		out = append(out, l.Label, l.Value.Str)
	}
	return out
}

func createSQL(table string, cols []*savColumn) string {
	var defs []string
	for _, c := range cols {
		defs = append(defs, source.QuoteIdent(c.name)+" "+c.typ)
		if c.code != "" {
			defs = append(defs, source.QuoteIdent(c.code)+" "+c.codeTyp)
		}
	}
	return "CREATE TABLE " + source.QuoteIdent(table) + " (" + strings.Join(defs, ", ") + ")"
}

// value converts variable i of row r: the column's value and the original
// code (for the sibling column).
func (c *savColumn) value(b *surveyfile.Batch, r, i int) (main, code driver.Value, err error) {
	if c.v.String {
		s := strings.TrimRight(b.Str(r, i), " ")
		if !utf8.ValidString(s) {
			return nil, nil, &Error{Message: fmt.Sprintf("text that is not UTF-8: %q", s),
				Hint: "give the file's encoding with --encoding, e.g. --encoding WINDOWS-1252"}
		}
		code = s
		if c.v.IsMissingStr(s) {
			c.missing++
			return nil, code, nil
		}
		if c.strLabel != nil {
			if l, ok := c.strLabel[s]; ok {
				return l, code, nil
			}
		}
		return s, code, nil
	}
	x := b.Num(r, i)
	if math.IsNaN(x) {
		return nil, nil, nil
	}
	code = x
	if c.kind == surveyfile.KindInteger && (x != math.Trunc(x) || math.Abs(x) > 1<<53) {
		c.fractional = true
	}
	if c.v.IsMissingNum(x) {
		c.missing++
		return nil, code, nil
	}
	switch {
	case c.numLabel != nil:
		if l, ok := c.numLabel[x]; ok {
			return l, code, nil
		}
		return surveyfile.Value{Num: x}.String(), code, nil
	case c.kind == surveyfile.KindDate:
		return time.Unix(int64(x)+spssEpoch, 0).UTC(), code, nil
	case c.kind == surveyfile.KindDateTime:
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec)+spssEpoch, int64(frac*1e9)).UTC(), code, nil
	}
	return x, code, nil
}

// codebook is the variable's catalog entry.
func (c *savColumn) codebook() catalog.Variable {
	v := catalog.Variable{Column: c.name, Label: c.v.Label, Measure: string(c.v.Measure), MissingRows: c.missing, CodeColumn: c.code}
	for _, l := range c.v.ValueLabels {
		v.Values = append(v.Values, catalog.ValueLabel{Code: l.Value.String(), Label: l.Label})
	}
	for _, m := range c.v.Missing {
		v.Missing = append(v.Missing, m.String())
	}
	return v
}
