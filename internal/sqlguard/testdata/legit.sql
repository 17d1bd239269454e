-- Legitimate, tricky analytics that Check must accept for both dialects and
-- that must run on both PostgreSQL and DuckDB after Deparse(tree, 1001), over
-- users(user_id, gender, age, nccs, city, weight) and
-- app_usage(user_id, app_name, usage_minutes, event_date).
-- Headers: "-- class:" (raw or aggregated, as Classify must say with
-- respondent key user_id); "-- skip: ENGINE: reason" when an engine genuinely
-- lacks the syntax. The body runs to the next "-- name:" line.

-- name: window_rank
-- class: raw
SELECT user_id, age, rank() OVER (PARTITION BY gender ORDER BY age DESC) AS r FROM users

-- name: window_share_of_aggregate
-- class: aggregated
SELECT gender, count(*) AS n, 100.0 * count(*) / sum(count(*)) OVER () AS pct FROM users GROUP BY gender

-- name: percentile_cont_within_group
-- class: aggregated
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY age) AS median_age FROM users

-- name: aggregate_filter
-- class: aggregated
SELECT count(*) FILTER (WHERE age < 25) AS young, count(*) AS total FROM users

-- name: grouping_sets
-- class: aggregated
SELECT gender, nccs, count(*) AS n FROM users GROUP BY GROUPING SETS ((gender), (nccs), ())

-- name: rollup
-- class: aggregated
SELECT gender, city, sum(weight) AS w FROM users GROUP BY ROLLUP (gender, city)

-- name: cube
-- class: aggregated
SELECT gender, nccs, avg(age) AS a FROM users GROUP BY CUBE (gender, nccs)

-- name: lateral_subquery
-- class: raw
SELECT u.user_id, t.total FROM users u CROSS JOIN LATERAL (SELECT sum(a.usage_minutes) AS total FROM app_usage a WHERE a.user_id = u.user_id) t

-- name: recursive_cte
-- class: aggregated
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT sum(i) AS s FROM n

-- name: literal_with_semicolon_and_keywords
-- class: aggregated
SELECT count(*) AS n FROM users WHERE city = 'DROP TABLE x; --'

-- name: comments_and_keyword_literals
-- class: raw
/* DELETE FROM users; */ SELECT city -- ; DROP TABLE users
FROM users WHERE city <> 'INSERT INTO x VALUES (1)'

-- name: dollar_quoted_literal
-- class: aggregated
SELECT count(*) AS n FROM users WHERE city <> $$x; DROP TABLE users$$

-- name: case_age_groups
-- class: aggregated
SELECT CASE WHEN age < 25 THEN '18-24' WHEN age < 35 THEN '25-34' ELSE '35+' END AS age_group, count(*) AS n FROM users GROUP BY 1

-- name: interval_arithmetic
-- class: aggregated
SELECT count(*) AS n FROM app_usage WHERE event_date >= CURRENT_DATE - INTERVAL '30 days'

-- name: date_trunc
-- class: aggregated
SELECT date_trunc('month', event_date) AS month, sum(usage_minutes) AS mins FROM app_usage GROUP BY 1 ORDER BY 1

-- name: extract_year
-- class: aggregated
SELECT EXTRACT(year FROM event_date) AS y, count(*) AS n FROM app_usage GROUP BY 1

-- name: coalesce_nullif
-- class: aggregated
SELECT coalesce(nccs, 'unknown') AS nccs_label, avg(nullif(age, 0)) AS a FROM users GROUP BY 1

-- name: generate_series_in_from
-- class: raw
SELECT n FROM generate_series(1, 5) AS g(n)

-- name: regexp_replace
-- class: aggregated
SELECT regexp_replace(city, '[aeiou]', '', 'g') AS c, count(*) AS n FROM users GROUP BY 1

-- name: union_all_of_aggregates
-- class: aggregated
SELECT 'users' AS t, count(*) AS n FROM users UNION ALL SELECT 'events', count(*) FROM app_usage

-- name: union_raw_arm
-- class: raw
SELECT 'total' AS city, count(*) AS n FROM users UNION ALL SELECT city, user_id FROM users

-- name: values_list
-- class: raw
VALUES (1, 'a'), (2, 'b')

-- name: distinct_without_aggregates
-- class: raw
SELECT DISTINCT city FROM users

-- name: group_by_respondent_key
-- class: raw
SELECT user_id, sum(usage_minutes) AS mins FROM app_usage GROUP BY user_id

-- name: group_by_qualified_key_ordinal
-- class: raw
SELECT a.user_id, count(*) AS n FROM app_usage a GROUP BY 1

-- name: two_stage_mean
-- class: aggregated
WITH per_user AS (SELECT user_id, sum(usage_minutes) AS mins FROM app_usage GROUP BY user_id) SELECT avg(mins) AS mean_mins FROM per_user

-- name: casts
-- class: raw
SELECT CAST(age AS text) AS a, age::numeric / 10 AS decade FROM users

-- name: json_agg_of_a_column
-- class: aggregated
-- skip: duckdb: json_agg lives in DuckDB's json extension, which this build does not load (autoloading stays off)
SELECT json_agg(city) AS cities FROM users

-- name: string_agg_distinct
-- class: aggregated
SELECT gender, string_agg(DISTINCT city, ', ') AS cities FROM users GROUP BY gender

-- name: array_agg_ordered
-- class: aggregated
SELECT array_agg(city ORDER BY city) AS cities FROM users

-- name: exists_subquery
-- class: aggregated
SELECT count(*) AS n FROM users u WHERE EXISTS (SELECT 1 FROM app_usage a WHERE a.user_id = u.user_id)

-- name: having_without_aggregate_in_select
-- class: aggregated
SELECT city FROM users GROUP BY city HAVING sum(weight) > 1

-- name: lag_window
-- class: raw
SELECT user_id, lag(age) OVER (ORDER BY user_id) AS prev_age FROM users

-- name: fetch_first
-- class: raw
SELECT user_id FROM users ORDER BY user_id FETCH FIRST 3 ROWS ONLY

-- name: fetch_first_with_ties
-- class: raw
-- skip: duckdb: DuckDB has no FETCH FIRST ... WITH TIES
SELECT user_id, age FROM users ORDER BY age FETCH FIRST 2 ROWS WITH TIES

-- name: select_star_limit
-- class: raw
SELECT * FROM users LIMIT 5

-- name: star_in_subquery
-- class: aggregated
SELECT count(*) AS n FROM (SELECT * FROM users WHERE age > 30) s

-- name: alias_star_join
-- class: raw
SELECT u.*, a.app_name FROM users u JOIN app_usage a USING (user_id)

-- name: reach_count_distinct
-- class: aggregated
SELECT count(DISTINCT user_id) AS reach FROM app_usage

-- name: column_named_like_its_cte
-- class: raw
WITH total AS (SELECT count(*) AS total FROM users) SELECT total FROM total

-- name: string_functions
-- class: raw
SELECT upper(substring(city FROM 1 FOR 3)) AS c3, trim(BOTH ' ' FROM gender) AS g, length(city) AS len FROM users

-- name: round_greatest
-- class: aggregated
SELECT round(avg(weight)::numeric, 2) AS w, greatest(max(age), 0) AS oldest FROM users

-- name: ilike_between_in
-- class: aggregated
SELECT count(*) AS n FROM users WHERE city ILIKE 'm%' AND age BETWEEN 18 AND 35 AND nccs IN ('A', 'A1')

-- name: order_by_nulls_last
-- class: raw
SELECT user_id, nccs FROM users ORDER BY nccs DESC NULLS LAST, user_id

-- name: scalar_subquery_share
-- class: aggregated
SELECT gender, count(*) * 1.0 / (SELECT count(*) FROM users) AS share FROM users GROUP BY gender

-- name: left_join_coalesce
-- class: aggregated
SELECT u.gender, coalesce(sum(a.usage_minutes), 0) AS mins FROM users u LEFT JOIN app_usage a ON a.user_id = u.user_id GROUP BY u.gender

-- name: aggregate_in_order_by_only
-- class: aggregated
SELECT 1 AS one FROM users ORDER BY count(*)

-- name: current_date_and_now
-- class: raw
SELECT CURRENT_DATE AS today, now() IS NOT NULL AS has_now

-- name: grouping_function
-- class: aggregated
SELECT gender, GROUPING(gender) AS is_total, count(*) AS n FROM users GROUP BY ROLLUP (gender)

-- name: cte_chain
-- class: aggregated
WITH a AS (SELECT user_id, app_name FROM app_usage), b AS (SELECT app_name, count(DISTINCT user_id) AS reach FROM a GROUP BY app_name) SELECT max(reach) AS top_reach FROM b
