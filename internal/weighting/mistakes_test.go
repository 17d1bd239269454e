package weighting

import (
	"testing"
)

// TestRewrite_ClassicMistakes checks, on the reference panel in DuckDB, that the
// rewrite avoids the three classic weighting mistakes. Expected values come from
// plain SQL written independently in the test.
func TestRewrite_ClassicMistakes(t *testing.T) {
	run := duckdbPanel(t)
	one := func(t *testing.T, q string) float64 {
		t.Helper()
		rows := run(t, q)
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows", q, len(rows))
		}
		for _, v := range rows[0] {
			return v.(float64)
		}
		return 0
	}

	t.Run("NCCS relabelled without re-aggregating", func(t *testing.T) {
		got := run(t, rewriteSQL(t, "SELECT nccs, COUNT(*) FROM users GROUP BY nccs"))
		var aRows []row
		for _, r := range got {
			if r["nccs"] == "A" {
				aRows = append(aRows, r)
			}
		}
		if len(aRows) != 1 {
			t.Fatalf("got %d rows labelled A, want 1 (A and A1 merged)", len(aRows))
		}
		wantN := one(t, "SELECT COUNT(*) FROM users WHERE nccs IN ('A', 'A1')")
		wantW := one(t, "SELECT 1000 * SUM(weight) FROM users WHERE nccs IN ('A', 'A1')")
		compare(t, "A n", aRows[0]["n"], wantN, 1)
		compare(t, "A weighted_count", aRows[0]["weighted_count"], wantW, 1)
	})

	t.Run("reach summing event rows' weights", func(t *testing.T) {
		got := run(t, rewriteSQL(t, "SELECT app_name, COUNT(DISTINCT user_id) FROM app_usage WHERE app_name = 'WhatsApp' GROUP BY app_name"))
		want := one(t, "SELECT 1000 * SUM(weight) FROM users WHERE user_id IN (SELECT user_id FROM app_usage WHERE app_name = 'WhatsApp')")
		wrong := one(t, "SELECT 1000 * SUM(u.weight) FROM app_usage a JOIN users u ON u.user_id = a.user_id WHERE a.app_name = 'WhatsApp'")
		compare(t, "weighted_reach", got[0]["weighted_reach"], want, 1)
		if closeTo(got[0]["weighted_reach"].(float64), wrong, 1e-6) {
			t.Errorf("weighted_reach equals the sum of event rows' weights %v", wrong)
		}
		universe := one(t, "SELECT 1000 * SUM(weight) FROM users")
		compare(t, "reach_pct", got[0]["reach_pct"], 100*want/universe, 1)
	})

	t.Run("percentages of unweighted counts", func(t *testing.T) {
		got := run(t, rewriteSQL(t, "SELECT gender, 100.0 * COUNT(*) / SUM(COUNT(*)) OVER () AS pct FROM users GROUP BY gender"))
		for _, r := range got {
			g := r["gender"].(string)
			want := one(t, "SELECT 100 * SUM(CASE WHEN gender = '"+g+"' THEN weight END) / SUM(weight) FROM users")
			compare(t, g+" weighted_pct", r["weighted_pct"], want, 1)
			if closeTo(r["weighted_pct"].(float64), r["pct"].(float64), 1e-6) {
				t.Errorf("%s: weighted_pct equals the unweighted pct %v", g, r["pct"])
			}
		}
	})

	t.Run("two-stage mean per panelist", func(t *testing.T) {
		got := run(t, rewriteSQL(t, "SELECT app_name, AVG(minutes) AS m FROM (SELECT app_name, user_id, SUM(usage_minutes) AS minutes FROM app_usage GROUP BY app_name, user_id) t WHERE app_name = 'YouTube' GROUP BY app_name"))
		want := one(t, `SELECT SUM(u.weight * p.minutes) / SUM(u.weight) FROM
			(SELECT user_id, SUM(usage_minutes) AS minutes FROM app_usage WHERE app_name = 'YouTube' GROUP BY user_id) p
			JOIN users u ON u.user_id = p.user_id`)
		compare(t, "weighted_avg_minutes", got[0]["weighted_avg_minutes"], want, 1)
	})
}
