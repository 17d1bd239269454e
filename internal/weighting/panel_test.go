package weighting

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

// panelDir returns the folder of the public reference panel, kept in
// testdata/panel (see its README): a fresh clone runs these tests.
func panelDir(t testing.TB) string {
	t.Helper()
	return filepath.Join("testdata", "panel")
}

func panelRoles() Roles {
	return Roles{WeightColumn: "weight", WeightsTable: "users", RespondentKey: "user_id", NCCSColumn: "nccs", WeightScale: 1000}
}

func panelSchema() Schema {
	return Schema{
		"users": {"user_id", "gender", "age", "age_group", "nccs", "city", "state", "town_class", "device_type",
			"platform", "subscription_type", "total_spend", "spend_quartile", "last_active_date", "weight"},
		"app_usage": {"user_id", "app_name", "usage_minutes", "event_date"},
		"orders":    {"order_id", "user_id", "amount", "order_date"},
	}
}

// row is one result row by column name, numbers as float64.
type row map[string]any

// runner runs SQL on one engine.
type runner func(t *testing.T, query string) []row

// rewriteSQL parses, rewrites with the panel's roles and deparses.
func rewriteSQL(t *testing.T, query string) string {
	t.Helper()
	return rewriteWith(t, query, nil)
}

// rewriteWith is rewriteSQL with the design's constants given as literals
// (nil: computed by sub-queries in the SQL).
func rewriteWith(t *testing.T, query string, panel *Panel) string {
	t.Helper()
	tree, err := pg.Parse(query)
	if err != nil {
		t.Fatalf("parse %q: %v", query, err)
	}
	res, err := Rewrite(tree, Options{Roles: panelRoles(), Schema: panelSchema(), Aggregated: true, Weights: true, MergeNCCS: true, Panel: panel, StandardErrors: true})
	if err != nil {
		t.Fatalf("rewrite %q: %v", query, err)
	}
	if !res.Applied {
		t.Fatalf("rewrite %q: weights not applied: %s", query, res.Reason)
	}
	out, err := pg.Deparse(res.Tree)
	if err != nil {
		t.Fatalf("deparse %q: %v", query, err)
	}
	return out
}

// postgresPanel loads the reference panel into a fresh PostgreSQL database.
func postgresPanel(t *testing.T) runner {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn := pgtest.Connect(ctx, t, pgtest.NewDatabase(t))
	schema, err := os.ReadFile(filepath.Join(panelDir(t), "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, string(schema)); err != nil {
		t.Fatalf("create panel tables: %v", err)
	}
	for _, table := range []string{"users", "app_usage", "orders"} {
		f, err := os.Open(filepath.Join(panelDir(t), table+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.PgConn().CopyFrom(ctx, f, "COPY "+table+" FROM STDIN WITH (FORMAT csv, HEADER true)")
		f.Close()
		if err != nil {
			t.Fatalf("load %s: %v", table, err)
		}
	}
	return func(t *testing.T, query string) []row {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rows, err := conn.Query(ctx, query)
		if err != nil {
			t.Fatalf("postgres: %v\n%s", err, query)
		}
		out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			vals, err := r.Values()
			if err != nil {
				return nil, err
			}
			m := row{}
			for i, fd := range r.FieldDescriptions() {
				m[fd.Name] = normalise(vals[i])
			}
			return m, nil
		})
		if err != nil {
			t.Fatalf("postgres: %v\n%s", err, query)
		}
		return out
	}
}

// duckdbPanel loads the reference panel into an in-memory DuckDB database.
func duckdbPanel(t *testing.T) runner {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	schema, err := os.ReadFile(filepath.Join(panelDir(t), "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(schema)); err != nil {
		t.Fatalf("create panel tables: %v", err)
	}
	for _, table := range []string{"users", "app_usage", "orders"} {
		path, err := filepath.Abs(filepath.Join(panelDir(t), table+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		q := fmt.Sprintf("INSERT INTO %s SELECT * FROM read_csv('%s', header = true)", table, path)
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("load %s: %v", table, err)
		}
	}
	return func(t *testing.T, query string) []row {
		t.Helper()
		rows, err := db.Query(query)
		if err != nil {
			t.Fatalf("duckdb: %v\n%s", err, query)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		var out []row
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			m := row{}
			for i, c := range cols {
				m[c] = normalise(vals[i])
			}
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("duckdb: %v\n%s", err, query)
		}
		return out
	}
}

// normalise turns driver values into float64, bool, string or nil.
func normalise(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case int:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case pgtype.Numeric:
		f, err := x.Float64Value()
		if err != nil || !f.Valid {
			return nil
		}
		return f.Float64
	case interface{ Float64() float64 }:
		return x.Float64()
	case fmt.Stringer:
		return x.String()
	}
	return v
}

// refCase ties a case of expected.json to the columns our rewrite adds.
type refCase struct {
	keyField  string            // expected.json key; "" for a one-row answer
	keyColumn string            // our column holding the key
	allSQL    string            // the ungrouped query that answers the "ALL" row
	columns   map[string]string // expected field -> our column
	scale     map[string]float64
}

var refCases = map[string]refCase{
	"gender_count_share": {keyField: "gender", keyColumn: "gender",
		columns: map[string]string{"n": "n", "people_estimate": "weighted_count", "weighted_pct": "weighted_pct",
			"n_eff": "n_eff", "moe_kish_pct": "moe_pct", "low_base": "low_base",
			"se_weighted_count": "se_weighted_count", "se_pct": "se_weighted_pct"},
		scale: map[string]float64{"se_weighted_count": 1000}},
	"nccs_merged_count_share": {keyField: "nccs_merged", keyColumn: "nccs",
		columns: map[string]string{"n": "n", "people_estimate": "weighted_count", "weighted_pct": "weighted_pct",
			"n_eff": "n_eff", "moe_kish_pct": "moe_pct", "low_base": "low_base",
			"se_weighted_count": "se_weighted_count", "se_pct": "se_weighted_pct"},
		scale: map[string]float64{"se_weighted_count": 1000}},
	"mean_spend_by_age_group": {keyField: "age_group", keyColumn: "age_group",
		allSQL:  "SELECT AVG(total_spend) FROM users",
		columns: map[string]string{"n": "n", "weighted_mean": "weighted_avg_total_spend", "se": "se_weighted_avg_total_spend", "n_eff": "n_eff"}},
	"premium_pct_by_town_class": {keyField: "town_class", keyColumn: "town_class",
		allSQL: "SELECT 100.0 * AVG(CASE WHEN subscription_type = 'premium' THEN 1 ELSE 0 END) AS pct_premium FROM users",
		columns: map[string]string{"n": "n", "weighted_pct": "weighted_pct_premium", "se_pct": "se_weighted_pct_premium",
			"unweighted_pct": "pct_premium", "n_eff": "n_eff", "moe_kish_pct": "moe_weighted_pct_premium"}},
	"kish_effective_base": {keyField: "group", keyColumn: "gender",
		allSQL:  "SELECT COUNT(*) FROM users",
		columns: map[string]string{"n": "n", "sum_w": "weighted_count", "n_eff": "n_eff"},
		scale:   map[string]float64{"sum_w": 1000}},
	"reach_by_app": {keyField: "app_name", keyColumn: "app_name",
		columns: map[string]string{"n_users": "n", "people_reach": "weighted_reach", "reach_pct": "reach_pct",
			"se_weighted_reach": "se_weighted_reach", "se_reach_pct": "se_reach_pct"},
		scale: map[string]float64{"se_weighted_reach": 1000}},
	"event_volume_by_app": {keyField: "app_name", keyColumn: "app_name",
		allSQL:  "SELECT COUNT(*), SUM(usage_minutes) FROM app_usage",
		columns: map[string]string{"projected_events": "weighted_count", "weighted_minutes": "weighted_sum_usage_minutes"},
		scale:   map[string]float64{"weighted_minutes": 1000}},
	"population_weight_scale": {
		columns: map[string]string{"n": "n", "people_estimate": "weighted_count"}},
}

type expectedCase struct {
	ID            string           `json:"id"`
	SQLUnweighted string           `json:"sql_unweighted"`
	Expected      []map[string]any `json:"expected"`
}

func loadExpected(t *testing.T) []expectedCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(panelDir(t), "expected.json"))
	if err != nil {
		t.Fatalf("read reference panel (expected beside the checkout): %v", err)
	}
	var cases []expectedCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// panelConstants runs PanelSQL on an engine, as the dataset registry does once
// per dataset version.
func panelConstants(t *testing.T, run runner) *Panel {
	t.Helper()
	rows := run(t, PanelSQL(panelRoles()))
	if len(rows) != 1 {
		t.Fatalf("PanelSQL returned %d rows, want 1", len(rows))
	}
	n, _ := rows[0]["n"].(float64)
	sw, _ := rows[0]["sum_w"].(float64)
	sw2, _ := rows[0]["sum_w2"].(float64)
	if n < 1 || sw <= 0 || sw2 <= 0 {
		t.Fatalf("PanelSQL returned %v", rows[0])
	}
	return &Panel{N: int64(n), SumW: sw, SumW2: sw2}
}

// TestRewrite_ReferencePanel runs every case of the reference panel through Rewrite on
// PostgreSQL and DuckDB and compares with the answers computed by R's survey package,
// once with the design's constants computed inside each query ("subqueries") and once
// with them given as literals from PanelSQL ("constants"), as the server runs them.
func TestRewrite_ReferencePanel(t *testing.T) {
	cases := loadExpected(t)
	engines := []struct {
		name string
		open func(*testing.T) runner
	}{{"postgres", postgresPanel}, {"duckdb", duckdbPanel}}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			run := eng.open(t)
			constants := panelConstants(t, run)
			for _, mode := range []struct {
				name  string
				panel *Panel
			}{{"subqueries", nil}, {"constants", constants}} {
				t.Run(mode.name, func(t *testing.T) { checkReferenceCases(t, run, cases, mode.panel) })
			}
		})
	}
}

// checkReferenceCases compares every reference case with what run returns for
// the rewritten SQL.
func checkReferenceCases(t *testing.T, run runner, cases []expectedCase, panel *Panel) {
	t.Helper()
	for _, c := range cases {
		rc, ok := refCases[c.ID]
		if !ok {
			t.Errorf("case %s has no mapping in refCases", c.ID)
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			got := run(t, rewriteWith(t, c.SQLUnweighted, panel))
			var all []row
			if rc.allSQL != "" {
				all = run(t, rewriteWith(t, rc.allSQL, panel))
			}
			matched := 0
			for _, want := range c.Expected {
				var have row
				switch key := want[rc.keyField]; {
				case rc.keyField == "":
					have = got[0]
				case key == "ALL":
					have = all[0]
				default:
					for _, g := range got {
						if g[rc.keyColumn] == key {
							have = g
						}
					}
				}
				if have == nil {
					t.Errorf("no row for %v = %v", rc.keyField, want[rc.keyField])
					continue
				}
				matched++
				for field, col := range rc.columns {
					compare(t, fmt.Sprintf("%v %s", want[rc.keyField], col), have[col], want[field], rc.scale[field])
				}
			}
			if rc.keyField != "" && matched != len(c.Expected) {
				t.Errorf("matched %d of %d expected rows", matched, len(c.Expected))
			}
			if rc.keyField != "" && rc.allSQL == "" && len(got) != len(c.Expected) {
				t.Errorf("got %d rows, want %d", len(got), len(c.Expected))
			}
		})
	}
}

// compare checks one value: floats to a relative 1e-6, booleans exactly.
func compare(t *testing.T, what string, got, want any, scale float64) {
	t.Helper()
	if scale == 0 {
		scale = 1
	}
	switch w := want.(type) {
	case bool:
		if got != w {
			t.Errorf("%s = %v, want %v", what, got, w)
		}
	case float64:
		g, ok := got.(float64)
		if !ok {
			t.Errorf("%s = %v (%T), want %v", what, got, got, w*scale)
			return
		}
		if !closeTo(g, w*scale, 1e-6) {
			t.Errorf("%s = %.12g, want %.12g", what, g, w*scale)
		}
	default:
		t.Errorf("%s: unexpected expected value %v (%T)", what, want, want)
	}
}

func closeTo(got, want, rel float64) bool {
	if want == 0 {
		return math.Abs(got) < rel
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// TestRewrite_EventVolumeStandardError checks the standard error of projected
// event volume (COUNT(*) over an event table, standard_errors on) against R:
// svytotal of each panelist's event count (testdata/panel/event_volume_se.R),
// per app and over all apps, on both engines.
func TestRewrite_EventVolumeStandardError(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(panelDir(t), "event_volume_se.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		ByApp []struct {
			App   string  `json:"app_name"`
			Count float64 `json:"weighted_count"`
			SE    float64 `json:"se_weighted_count"`
		} `json:"by_app"`
		All struct {
			Count float64 `json:"weighted_count"`
			SE    float64 `json:"se_weighted_count"`
		} `json:"all"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, eng := range []struct {
		name string
		open func(*testing.T) runner
	}{{"postgres", postgresPanel}, {"duckdb", duckdbPanel}} {
		t.Run(eng.name, func(t *testing.T) {
			run := eng.open(t)
			rows := run(t, rewriteSQL(t, "SELECT app_name, COUNT(*) FROM app_usage GROUP BY app_name"))
			if len(rows) != len(ref.ByApp) {
				t.Fatalf("%d apps, want %d", len(rows), len(ref.ByApp))
			}
			for _, want := range ref.ByApp {
				for _, r := range rows {
					if r["app_name"] == want.App {
						compare(t, want.App+" weighted_count", r["weighted_count"], want.Count, 1000)
						compare(t, want.App+" se_weighted_count", r["se_weighted_count"], want.SE, 1000)
					}
				}
			}
			all := run(t, rewriteSQL(t, "SELECT COUNT(*) FROM app_usage"))
			compare(t, "all weighted_count", all[0]["weighted_count"], ref.All.Count, 1000)
			compare(t, "all se_weighted_count", all[0]["se_weighted_count"], ref.All.SE, 1000)
		})
	}
}
