package sqlguard

import (
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

func TestClassify(t *testing.T) {
	keys := []string{"user_id", "respondent_id"}
	tests := []struct {
		sql  string
		want Class
	}{
		{"SELECT * FROM users", Raw},
		{"SELECT count(*) FROM users", Aggregated},
		{"SELECT gender, count(*) FROM users GROUP BY gender", Aggregated},
		{"SELECT gender FROM users GROUP BY gender", Aggregated},
		{"SELECT user_id, count(*) FROM app_usage GROUP BY user_id", Raw},
		{"SELECT a.user_id, count(*) FROM app_usage a GROUP BY a.user_id", Raw},
		{"SELECT \"USER_ID\", count(*) FROM app_usage GROUP BY \"USER_ID\"", Raw},
		{"SELECT respondent_id, sum(x) FROM t GROUP BY 1", Raw},
		{"SELECT gender, user_id, count(*) FROM t GROUP BY 1, 2", Raw},
		{"SELECT user_id AS who, count(*) FROM t GROUP BY who", Raw},
		{"SELECT user_id::text AS u, count(*) FROM t GROUP BY 1", Raw},
		{"SELECT count(*) FROM t GROUP BY user_id::text", Raw},
		// Any expression that reads the key is treated as the key: the guard
		// cannot tell user_id + 0 (one group per panelist) from a bucketing.
		{"SELECT user_id % 10 AS bucket, count(*) FROM t GROUP BY 1", Raw},
		{"SELECT user_id + 0 AS uid, gender, count(*) FROM t GROUP BY 1, 2", Raw},
		{"SELECT gender, count(*) FROM t GROUP BY gender, user_id::text || ''", Raw},
		{"SELECT gender, count(*) FROM t GROUP BY gender, CASE WHEN age > 30 THEN user_id END", Raw},
		{"SELECT gender, count(*) FROM t GROUP BY gender, (SELECT max(user_id) FROM t)", Aggregated},
		{"SELECT gender, count(*) FROM t GROUP BY ROLLUP (gender, user_id)", Raw},
		{"SELECT gender, count(*) FROM t GROUP BY GROUPING SETS ((gender), (user_id))", Raw},
		{"SELECT gender, count(*) FROM t GROUP BY CUBE (gender, nccs)", Aggregated},
		{"SELECT count(*) FROM t GROUP BY ()", Aggregated},
		{"SELECT 1 FROM t HAVING count(*) > 1", Aggregated},
		{"SELECT DISTINCT city FROM users", Raw},
		{"SELECT DISTINCT count(*) FROM users", Aggregated},
		{"SELECT user_id, sum(x) OVER (PARTITION BY user_id) FROM t", Raw},
		{"SELECT row_number() OVER () FROM t", Raw},
		{"SELECT 100.0 * count(*) / sum(count(*)) OVER () FROM t", Aggregated},
		{"SELECT rank() OVER (ORDER BY count(*)) FROM t", Aggregated},
		{"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY age) FROM users", Aggregated},
		{"SELECT my_udf(x) FILTER (WHERE x > 0) FROM t", Aggregated},
		{"SELECT median(age) FROM users", Aggregated},
		{"SELECT upper(city) FROM users", Raw},
		{"SELECT (SELECT count(*) FROM t) AS n, city FROM users", Raw},
		{"SELECT * FROM (SELECT count(*) FROM t) s", Raw},
		{"WITH s AS (SELECT user_id, count(*) AS n FROM t GROUP BY user_id) SELECT avg(n) FROM s", Aggregated},
		{"WITH s AS (SELECT count(*) FROM t) SELECT * FROM s", Raw},
		{"VALUES (1), (2)", Raw},
		{"SELECT count(*) FROM a UNION ALL SELECT count(*) FROM b", Aggregated},
		{"SELECT count(*) FROM a UNION ALL SELECT 1 FROM b", Raw},
		{"SELECT count(*) FROM a UNION SELECT count(*) FROM b EXCEPT SELECT user_id FROM c", Raw},
		{"SELECT gender, GROUPING(gender) FROM t GROUP BY ROLLUP (gender)", Aggregated},
		{"SELECT 1", Raw},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			tree, err := pg_query.Parse(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			if got := Classify(tree, keys); got != tt.want {
				t.Errorf("Classify = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestClassify_NoKeys(t *testing.T) {
	tree, err := pg_query.Parse("SELECT user_id, count(*) FROM t GROUP BY user_id")
	if err != nil {
		t.Fatal(err)
	}
	if got := Classify(tree, nil); got != Aggregated {
		t.Errorf("without respondent keys Classify = %s, want aggregated", got)
	}
	if got := Classify(nil, nil); got != Raw {
		t.Errorf("Classify(nil) = %s, want raw", got)
	}
}
