package dataset

import (
	"slices"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/weighting"
)

// Whole column names that carry survey roles (SPEC §5). Detection compares
// whole names, never substrings: session_seconds is not an NCCS column.
var (
	weightNames     = []string{"weight", "wt", "sample_weight", "user_weight", "respondent_weight", "panel_weight", "projection_weight"}
	respondentNames = []string{"user_id", "respondent_id", "panelist_id"}
	nccsNames       = []string{"nccs", "sec", "socio_economic_class", "nccs_class", "nccs_grade"}
	dateTypes       = []string{"date", "timestamp", "timestamp without time zone", "timestamp with time zone", "timestamptz"}
)

// Roles are a dataset's survey roles, resolved once when it is opened: the
// settings (catalog.Roles) win, the rest is detected from whole column
// names, and the NCCS preset is turned into its merge map. The embedded
// weighting.Roles is what the rewrite takes, as is; the guard takes Keys.
type Roles struct {
	weighting.Roles
	// DateColumns lists table.column of every date or timestamp column.
	DateColumns []string
}

// Keys are the columns that identify a panelist: the respondent key, or,
// when none was found, every name one could have.
func (r Roles) Keys() []string {
	if r.RespondentKey != "" {
		return []string{r.RespondentKey}
	}
	return slices.Clone(respondentNames)
}

// DetectRoles finds the survey roles in tables. Settings that are already
// set (overrides) win over detection.
func DetectRoles(tables []source.Table, set catalog.Roles) Roles {
	r := Roles{Roles: weighting.Roles{WeightColumn: set.WeightColumn, WeightsTable: set.WeightsTable, RespondentKey: set.RespondentKey,
		NCCSColumn: set.NCCSColumn, NCCSMap: set.NCCSMap, WeightScale: set.WeightScale, MinBase: set.MinBase}}
	if r.NCCSMap == nil && set.NCCSPreset != "" {
		r.NCCSMap, _ = catalog.NCCSPreset(set.NCCSPreset) // the name was validated when the dataset was saved
	}
	if r.WeightColumn == "" || r.WeightsTable == "" {
		// The weights table is the table holding a weight column; when
		// several do, prefer the one that also holds a respondent key.
		bestScore := 0
		for _, t := range tables {
			for _, c := range t.Columns {
				if r.WeightColumn != "" && c.Name != r.WeightColumn || r.WeightColumn == "" && !slices.Contains(weightNames, c.Name) {
					continue
				}
				score := 1
				if hasAny(t, respondentNames) {
					score = 2
				}
				if score > bestScore {
					bestScore = score
					if set.WeightColumn == "" {
						r.WeightColumn = c.Name
					}
					if set.WeightsTable == "" {
						r.WeightsTable = t.Name
					}
				}
			}
		}
	}
	if r.RespondentKey == "" {
		for _, name := range respondentNames {
			if tableHas(tables, r.WeightsTable, name) || r.WeightsTable == "" && anyTableHas(tables, name) {
				r.RespondentKey = name
				break
			}
		}
	}
	if r.NCCSColumn == "" {
		for _, name := range nccsNames {
			if anyTableHas(tables, name) {
				r.NCCSColumn = name
				break
			}
		}
	}
	for _, t := range tables {
		for _, c := range t.Columns {
			if slices.Contains(dateTypes, c.Type) {
				r.DateColumns = append(r.DateColumns, t.Name+"."+c.Name)
			}
		}
	}
	return r
}

// ColumnRole names the role of one column, for schema listings: "weight",
// "respondent key", "NCCS", "date" or "".
func (r Roles) ColumnRole(table string, c source.Column) string {
	switch {
	case r.WeightColumn != "" && c.Name == r.WeightColumn && table == r.WeightsTable:
		return "weight"
	case r.RespondentKey != "" && c.Name == r.RespondentKey:
		return "respondent key"
	case r.NCCSColumn != "" && c.Name == r.NCCSColumn:
		return "NCCS"
	case slices.Contains(dateTypes, c.Type):
		return "date"
	}
	return ""
}

// Grain says whether a table is user level (it holds the weight), event
// level (it holds the respondent key only) or neither.
func (r Roles) Grain(t source.Table) string {
	switch {
	case r.WeightsTable != "" && t.Name == r.WeightsTable:
		return "user level"
	case r.RespondentKey != "" && hasAny(t, []string{r.RespondentKey}):
		return "event level"
	}
	return "reference"
}

func hasAny(t source.Table, names []string) bool {
	for _, c := range t.Columns {
		if slices.Contains(names, c.Name) {
			return true
		}
	}
	return false
}

func tableHas(tables []source.Table, table, col string) bool {
	for _, t := range tables {
		if t.Name == table && hasAny(t, []string{col}) {
			return true
		}
	}
	return false
}

func anyTableHas(tables []source.Table, col string) bool {
	for _, t := range tables {
		if hasAny(t, []string{col}) {
			return true
		}
	}
	return false
}
