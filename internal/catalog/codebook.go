package catalog

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Codebook is what imported survey files said about their variables beyond
// the values (mcp-analytics datasets import): variable labels, value
// labels, user-missing codes and measurement levels. The values in the
// dataset already carry the labels (codes were replaced), so the codebook
// tells the model what a column meant in the file and what became NULL.
type Codebook struct {
	DatasetID  int64           `json:"dataset_id"`
	ImportedAt time.Time       `json:"imported_at"`
	Tables     []TableCodebook `json:"tables"`
	// PreviousFile is the file the dataset used before this import (a
	// re-import keeps it one generation for servers still reading it).
	PreviousFile string `json:"previous_file,omitempty"`
}

// Table returns the codebook of the named table.
func (c Codebook) Table(name string) (TableCodebook, bool) {
	for _, t := range c.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return TableCodebook{}, false
}

// TableCodebook is the codebook of one imported file.
type TableCodebook struct {
	Name string `json:"name"`
	// Source is the file's name; Format is "sav", "csv" or "parquet".
	Source    string     `json:"source"`
	Format    string     `json:"format"`
	Rows      int64      `json:"rows"`
	Variables []Variable `json:"variables,omitempty"`
}

// Variable returns the codebook entry of a column.
func (t TableCodebook) Variable(column string) (Variable, bool) {
	for _, v := range t.Variables {
		if v.Column == column {
			return v, true
		}
	}
	return Variable{}, false
}

// Variable is one variable of a survey file.
type Variable struct {
	Column string `json:"column"`
	// Label is the variable label ("Gender of respondent").
	Label string `json:"label,omitempty"`
	// Measure is the measurement level: nominal, ordinal or scale.
	Measure string `json:"measure,omitempty"`
	// Values are the value labels, applied to the column's values.
	Values []ValueLabel `json:"values,omitempty"`
	// Missing are the user-missing codes ("99", "997 thru 999"), NULL in
	// the column; MissingRows counts the rows that had one.
	Missing     []string `json:"missing,omitempty"`
	MissingRows int64    `json:"missing_rows,omitempty"`
	// CodeColumn is the sibling column keeping the original codes
	// (--keep-codes), "" when there is none.
	CodeColumn string `json:"code_column,omitempty"`
}

// ValueLabel is one code and its label.
type ValueLabel struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Describe is the column's data-dictionary text: its label, then what
// became of its codes ("Gender of respondent. Values: 1 = Male, 2 =
// Female. User-missing codes 99 (Refused) are NULL.").
func (v Variable) Describe() string {
	var parts []string
	if v.Label != "" {
		parts = append(parts, strings.TrimSuffix(v.Label, ".")+".")
	}
	if len(v.Values) > 0 {
		parts = append(parts, "Values are labels (codes replaced): "+v.valueList(8)+".")
	}
	if len(v.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("User-missing codes %s are NULL.", v.missingList()))
	}
	if v.CodeColumn != "" {
		parts = append(parts, fmt.Sprintf("Original codes in %s.", v.CodeColumn))
	}
	return strings.Join(parts, " ")
}

// valueList lists up to n labels, with their codes.
func (v Variable) valueList(n int) string {
	var out []string
	for i, l := range v.Values {
		if i == n {
			out = append(out, fmt.Sprintf("… (%d in all)", len(v.Values)))
			break
		}
		out = append(out, l.Code+" = "+l.Label)
	}
	return strings.Join(out, ", ")
}

// missingList lists the user-missing codes, each with its label when it
// has one: "99 (Refused)".
func (v Variable) missingList() string {
	labels := map[string]string{}
	for _, l := range v.Values {
		labels[l.Code] = l.Label
	}
	var out []string
	for _, m := range v.Missing {
		if l, ok := labels[m]; ok {
			m += " (" + l + ")"
		}
		out = append(out, m)
	}
	return strings.Join(out, ", ")
}

// DecodeCodebook decodes the stored codebook of dataset id.
func DecodeCodebook(id int64, data string) (Codebook, error) {
	var c Codebook
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return Codebook{}, fmt.Errorf("decode codebook of dataset %d: %w", id, err)
	}
	return c, nil
}
