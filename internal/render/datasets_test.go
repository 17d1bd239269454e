package render

import (
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// A listing with one ready dataset and one that cannot be opened, the
// first with two event tables of different periods.
var testDatasets = result.DatasetList{Datasets: []result.DatasetInfo{
	{ID: 1, Name: "Sample Dataset", Description: "Synthetic smartphone panel.", Driver: "duckdb",
		Tables: []string{"app_usage", "orders", "users"}, Rows: 2000, DateFrom: "2025-12-01", DateTo: "2026-12-02",
		WeightColumn: "users.weight", RespondentKey: "user_id", NCCSColumn: "nccs",
		DateRanges: []result.DateRangeInfo{
			{Table: "app_usage", Column: "event_date", Grain: "event level", From: "2026-09-01", To: "2026-12-02"},
			{Table: "orders", Column: "order_date", Grain: "event level", From: "2025-12-01", To: "2026-12-02"},
			{Table: "users", Column: "joined", Grain: "user level", From: "2020-01-01", To: "2026-11-30"},
		},
		Profile: "profiled 2026-12-01 10:00 UTC (statistics)", Status: "ready"},
	{ID: 7, Name: "Warehouse <panel>", Driver: "postgres", Tables: []string{}, Rows: -1, Profile: "not profiled",
		Status: "unreachable: connection refused"},
}}

var testSchema = result.Schema{DatasetID: 1, Dataset: "Sample Dataset", Description: "Synthetic smartphone panel.",
	WeightColumn: "users.weight", RespondentKey: "user_id", NCCSColumn: "nccs", WeightScale: 1000,
	DateFrom: "2025-12-01", DateTo: "2026-12-02", Profile: "not profiled",
	Tables: []result.TableInfo{
		{Name: "users", Grain: "user level", RowEstimate: 2000, Description: "One row per panelist.", Columns: []result.ColumnInfo{
			{Name: "user_id", Type: "integer", Role: "respondent key"},
			{Name: "weight", Type: "double", Role: "weight", Description: "Projection weight (thousands)."},
			{Name: "nccs", Type: "varchar", Nullable: true, Role: "NCCS"},
			{Name: "total_spend", Type: "double", Nullable: true, Description: "Spend to date.", Unit: "₹"},
		}},
		{Name: "app_usage", Grain: "event level", RowEstimate: -1, DateFrom: "2026-09-01", DateTo: "2026-12-02", Columns: []result.ColumnInfo{
			{Name: "user_id", Type: "integer", Role: "respondent key"},
			{Name: "event_date", Type: "date", Role: "date", DateFrom: "2026-09-01", DateTo: "2026-12-02"},
		}},
		{Name: "survey", Grain: "reference", RowEstimate: 120, Source: "wave1.sav", Columns: []result.ColumnInfo{
			{Name: "q1", Type: "varchar", Nullable: true, Measure: "nominal", Description: "Gender",
				Values: []result.ValueLabel{{Code: "1", Label: "Male"}, {Code: "2", Label: "Female"}}, Codes: "q1_code"},
		}},
	},
}

func TestDatasets_Golden(t *testing.T) {
	golden(t, "datasets", Datasets(testDatasets, Options{}))
	golden(t, "datasets_none", Datasets(result.DatasetList{}, Options{}))
}

func TestSchema_Golden(t *testing.T) {
	golden(t, "schema", Schema(testSchema, Options{}))
}

func TestContext_Golden(t *testing.T) {
	sample := result.Result{OK: true, Columns: []result.Column{{Name: "user_id"}, {Name: "nccs"}}, Rows: [][]any{{int64(1), "A"}, {int64(2), "C/D/E"}}}
	detail := result.ContextDetail{DatasetID: 1, Profiled: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Method: "statistics",
		Tables: []result.ContextTable{{Name: "users", Grain: "user level", Rows: 2000, Sample: &sample, Columns: []result.ColumnProfile{
			{Name: "nccs", Type: "varchar", NullShare: 0.01, Distinct: 7, Top: []result.ValueShare{{Value: "A", Share: 0.3}, {Value: "B", Share: 0.25}}},
			{Name: "age", Type: "integer", Distinct: -1, Min: "15", Max: "70"},
		}}}}
	rules := result.ContextRules{RawRows: 5, AggregatedRows: 1000, MaxQueries: 30}
	tests := []struct {
		name string
		doc  result.Context
	}{
		{"context_level0", result.Context{Level: 0, Rules: rules}},
		{"context_level2_without_dataset", result.Context{Level: 2, Rules: rules, Datasets: &testDatasets, NeedsDataset: true}},
		{"context_level3", result.Context{Level: 3, Rules: rules, Datasets: &testDatasets, Schema: &testSchema, Detail: &detail,
			Examples: []result.ContextExample{{Question: "Population by NCCS class", SQL: "SELECT nccs, COUNT(*) FROM users GROUP BY nccs"}}}},
		{"context_level3_unavailable", result.Context{Level: 3, Rules: rules, Datasets: &testDatasets, Schema: &testSchema,
			Detail: &result.ContextDetail{DatasetID: 1, Unavailable: "dataset 1 cannot be reached"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc
			Context(&doc)
			if doc.Truncated {
				t.Errorf("truncated at level %d", doc.Level)
			}
			if want := (len(doc.Markdown) + 3) / 4; doc.Tokens != want {
				t.Errorf("tokens = %d, want %d", doc.Tokens, want)
			}
			golden(t, tt.name, doc.Markdown)
		})
	}
}

// A level longer than its budget is cut at a line and says how to ask for
// less.
func TestContext_Budget(t *testing.T) {
	many := result.DatasetList{}
	for i := range 200 {
		d := testDatasets.Datasets[0]
		d.ID = int64(i + 1)
		many.Datasets = append(many.Datasets, d)
	}
	doc := result.Context{Level: 1, Rules: result.ContextRules{RawRows: 5, AggregatedRows: 1000, MaxQueries: 30}, Datasets: &many}
	Context(&doc)
	if !doc.Truncated || !strings.Contains(doc.Markdown, "_Level 1 cut at about 2000 tokens: call list_available_datasets") {
		t.Errorf("level 1 not cut: truncated=%v, %d tokens", doc.Truncated, doc.Tokens)
	}
	if doc.Tokens > 500+2000+50 {
		t.Errorf("%d tokens for levels 0-1, over their budgets", doc.Tokens)
	}
}
