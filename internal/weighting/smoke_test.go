package weighting

import (
	"fmt"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
)

func TestSmoke(t *testing.T) {
	for _, q := range []string{
		"SELECT gender, COUNT(*) FROM users GROUP BY gender",
		"SELECT nccs, COUNT(*) FROM users GROUP BY nccs",
		"SELECT town_class, 100.0 * AVG(CASE WHEN subscription_type = 'premium' THEN 1 ELSE 0 END) AS pct_premium FROM users GROUP BY town_class",
		"SELECT app_name, COUNT(DISTINCT user_id) FROM app_usage GROUP BY app_name",
	} {
		tree, err := pg.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Rewrite(tree, Options{Roles: panelRoles(), Schema: panelSchema(), Aggregated: true, Weights: true, MergeNCCS: true})
		if err != nil {
			t.Fatal(err)
		}
		s, err := pg.Deparse(res.Tree)
		fmt.Println(s, err, res.Reason, res.Notes)
	}
}

func panelRoles() Roles {
	return Roles{WeightColumn: "weight", WeightsTable: "users", RespondentKey: "user_id", NCCSColumn: "nccs", WeightScale: 1000}
}

func panelSchema() Schema {
	return Schema{
		"users":     {"user_id", "gender", "age", "age_group", "nccs", "city", "state", "town_class", "device_type", "platform", "subscription_type", "total_spend", "spend_quartile", "last_active_date", "weight"},
		"app_usage": {"user_id", "app_name", "usage_minutes", "event_date"},
		"orders":    {"order_id", "user_id", "amount", "order_date"},
	}
}
