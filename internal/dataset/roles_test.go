package dataset

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/weighting"
)

func TestDetectRoles(t *testing.T) {
	panel := []source.Table{
		{Name: "users", Columns: []source.Column{{Name: "respondent_id", Type: "integer"}, {Name: "wt", Type: "double"}, {Name: "sec", Type: "varchar"}, {Name: "joined", Type: "date"}}},
		{Name: "orders", Columns: []source.Column{{Name: "respondent_id", Type: "integer"}, {Name: "amount", Type: "double"}}},
	}
	twelve, _ := catalog.NCCSPreset("12-grade")
	tests := []struct {
		name     string
		tables   []source.Table
		set      catalog.Roles
		want     weighting.Roles
		wantKeys []string
	}{
		{
			name:     "detected from whole names",
			tables:   panel,
			want:     weighting.Roles{WeightColumn: "wt", WeightsTable: "users", RespondentKey: "respondent_id", NCCSColumn: "sec"},
			wantKeys: []string{"respondent_id"},
		},
		{
			name:     "settings win, the preset becomes its map",
			tables:   panel,
			set:      catalog.Roles{NCCSColumn: "grade", NCCSPreset: "12-grade", WeightScale: 1000, MinBase: 50},
			want:     weighting.Roles{WeightColumn: "wt", WeightsTable: "users", RespondentKey: "respondent_id", NCCSColumn: "grade", NCCSMap: twelve, WeightScale: 1000, MinBase: 50},
			wantKeys: []string{"respondent_id"},
		},
		{
			name:     "a map given by hand wins over the preset",
			tables:   panel,
			set:      catalog.Roles{NCCSPreset: "12-grade", NCCSMap: map[string]string{"A1": "Top"}},
			want:     weighting.Roles{WeightColumn: "wt", WeightsTable: "users", RespondentKey: "respondent_id", NCCSColumn: "sec", NCCSMap: map[string]string{"A1": "Top"}},
			wantKeys: []string{"respondent_id"},
		},
		{
			name:     "the default preset is the rewrite's own rule",
			tables:   panel,
			set:      catalog.Roles{NCCSPreset: "default"},
			want:     weighting.Roles{WeightColumn: "wt", WeightsTable: "users", RespondentKey: "respondent_id", NCCSColumn: "sec"},
			wantKeys: []string{"respondent_id"},
		},
		{
			name:     "no respondent key: every name one could have guards raw rows",
			tables:   []source.Table{{Name: "t", Columns: []source.Column{{Name: "x", Type: "integer"}}}},
			wantKeys: []string{"user_id", "respondent_id", "panelist_id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DetectRoles(tt.tables, tt.set)
			if d := cmp.Diff(tt.want, got.Roles); d != "" {
				t.Errorf("roles (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantKeys, got.Keys()); d != "" {
				t.Errorf("keys (-want +got):\n%s", d)
			}
		})
	}
}

func TestNCCSPreset_NamesAreKnown(t *testing.T) {
	for _, name := range catalog.NCCSPresetNames() {
		if _, ok := catalog.NCCSPreset(name); !ok {
			t.Errorf("preset %q is listed but unknown", name)
		}
	}
	if _, ok := catalog.NCCSPreset("13-grade"); ok {
		t.Error("an unknown preset was accepted")
	}
	err := catalog.Dataset{Name: "x", Driver: catalog.DriverDuckDB, DSN: "x.duckdb", Settings: catalog.Settings{Roles: catalog.Roles{NCCSPreset: "13-grade"}}}.Validate()
	if err == nil || err.Error() != `nccs preset must be "default" or "12-grade", not "13-grade"` {
		t.Errorf("validate: %v", err)
	}
}
