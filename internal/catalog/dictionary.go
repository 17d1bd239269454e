package catalog

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseDictionary reads a data dictionary: CSV with a header naming the
// columns table, column and description (in any order) and, optionally,
// unit, or YAML, a list of {table, column, description, unit}. format is
// "csv" or "yaml"; "" guesses from the content. A row with an empty column
// describes the table; a unit is what the column's values are counted in
// (₹, INR, min).
func ParseDictionary(r io.Reader, format string) ([]Description, error) {
	data, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read dictionary: %w", err)
	}
	if format == "" {
		format = "csv"
		if t := bytes.TrimSpace(data); bytes.HasPrefix(t, []byte("-")) || bytes.HasPrefix(t, []byte("#")) {
			format = "yaml"
		}
	}
	var out []Description
	switch strings.ToLower(format) {
	case "yaml", "yml":
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&out); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("decode dictionary yaml: %w", err)
		}
	case "csv":
		out, err = parseCSV(data)
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("dictionary format must be csv or yaml, not %q", format)
	}
	for i, d := range out {
		if strings.TrimSpace(d.Table) == "" {
			return nil, fmt.Errorf("dictionary entry %d: table is empty", i+1)
		}
		out[i].Table, out[i].Column = strings.TrimSpace(d.Table), strings.TrimSpace(d.Column)
		out[i].Description = strings.TrimSpace(d.Description)
		out[i].Unit = strings.TrimSpace(d.Unit)
	}
	return out, nil
}

// KeepUnits fills in, for the entries of a dictionary that give no unit
// at all, the units stored: a dictionary file written before units existed
// (or a description changed alone) must not wipe the units set with
// `datasets describe --unit`. When some entry gives a unit, the file is the
// whole truth about units and updates is returned as it is.
func KeepUnits(updates, stored []Description) []Description {
	for _, d := range updates {
		if d.Unit != "" {
			return updates
		}
	}
	units := make(map[[2]string]string, len(stored))
	for _, d := range stored {
		units[[2]string{d.Table, d.Column}] = d.Unit
	}
	out := make([]Description, len(updates))
	for i, d := range updates {
		d.Unit = units[[2]string{d.Table, d.Column}]
		out[i] = d
	}
	return out
}

func parseCSV(data []byte) ([]Description, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read dictionary csv header: %w", err)
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"table", "column", "description"} {
		if _, ok := idx[need]; !ok {
			return nil, fmt.Errorf("dictionary csv header must name the columns table, column and description; %q is missing", need)
		}
	}
	var out []Description
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("dictionary csv: %w", err)
		}
		d := Description{Table: rec[idx["table"]], Column: rec[idx["column"]], Description: rec[idx["description"]]}
		if i, ok := idx["unit"]; ok {
			d.Unit = rec[i]
		}
		out = append(out, d)
	}
}
