// Package weighting rewrites the parse tree of an aggregated query over a survey
// panel so that it reports weighted, population figures beside the unweighted ones
// the analyst wrote, and merges NCCS classes. It is pure: it takes a pg_query parse
// tree and the dataset's survey roles ([Roles]) and returns a new tree ([Rewrite]);
// the caller deparses and runs it. Nothing is computed from fetched rows: every
// extra figure is an extra aggregate or window column of the same statement, in SQL
// that PostgreSQL and DuckDB both run.
//
// # Weight exactly once, users not events
//
// Every weighted query reads from a derived table, mcpa_base, that keeps the
// query's FROM and WHERE and adds two columns: mcpa_w, the row's weight (scaled by
// weight_scale, NULL when the weight is NULL, zero or negative, so such panelists
// drop out of every weighted figure), and mcpa_p, which marks the first row of each
// panelist within a group. When the query reads an event table (one that has the
// respondent key but no weight), the weights table is LEFT JOINed in on the key, so
// every event carries its panelist's weight and events of unknown panelists still
// count in the unweighted figures.
//
// A query whose GROUP BY contains the respondent key works within one panelist and
// is never weighted; the query above it that aggregates panelists away is the one
// that gets weighted (two-stage queries). Sub-queries and CTEs are left as written.
//
// # What each aggregate becomes
//
// The select list keeps what the SQL asked for; the weighted twin of each entry is
// appended, with every aggregate inside it replaced (so ratios, percentages and
// window shares such as 100.0 * COUNT(*) / SUM(COUNT(*)) OVER () stay in one unit):
//
//	COUNT(*)                  weighted_count = Σw; grouped: weighted_pct (of the result's Σw)
//	                          and moe_pct
//	COUNT(col)                Σw over rows where col is not NULL
//	COUNT(DISTINCT key)       weighted_reach = Σw over distinct panelists of the group,
//	                          reach_pct of the weighted universe (the weights table after the
//	                          query's user-level filters; within each group when grouped by
//	                          panelist attributes such as gender) and moe_reach_pct
//	SUM(x)                    Σ(x·w)
//	AVG(x)                    Σ(x·w) / Σ(w where x is not NULL), with se_… (R's svymean/svyby
//	                          standard error: SQRT(N/(N−1)·Σw²(x−m)²)/Σw, N the full sample) and,
//	                          for a 0/1 indicator, moe_… of the share within the group
//	MIN, MAX, other           left as written, with a note saying why
//
// With [Options.StandardErrors], counts, shares and reach also get their standard
// errors as R's svytotal and svymean give them: se_weighted_count, se_weighted_pct,
// se_weighted_reach, se_reach_pct.
//
// Over an event table COUNT(*) becomes projected event volume and AVG a per-event
// mean (no standard error); over the outer stage of a two-stage query AVG is a mean
// per panelist. A scalar sub-query total over the weights table inside an expression
// (COUNT(*) * 100.0 / (SELECT COUNT(*) FROM users)) is weighted too.
//
// The standard errors of counts, shares and reach are R's svytotal and svymean of the
// group's 0/1 indicator for svydesign(ids=~1, weights=~w): SQRT((n·Σ_g w² − t²)/(n−1))
// for a total t, and SQRT(n/(n−1)·((1−p)²·Σ_g w² + p²·(W2 − Σ_g w²)))/W for a share
// p = t/W, with n the whole sample (panelists with a positive weight, whatever the
// query's filters: a filtered group is a domain) and W, W2 the Σw, Σw² of the share's
// denominator. They are given for user-level counts only; projected event volume
// has none.
//
// Every weighted query also gets, per group, n (unweighted base of panelists),
// n_eff = (Σw)²/Σw² (Kish effective base), low_base (n below min_base, default 30)
// and n_zero_weight (panelists whose NULL or zero weight kept them out). Margins of
// error are 1.96·√(p(1−p)/n_eff) with n_eff of the share's denominator.
//
// The design's constants that do not depend on the query (n, and Σw, Σw² of a
// reach universe without user-level filters) are sub-queries over the whole
// weights table unless the caller passes them in [Options.Panel], computed once
// per dataset with [PanelSQL]: then they are literals and a query reads only the
// rows it asks for. A universe after user-level filters is always computed in
// the query.
// ORDER BY, LIMIT and HAVING on aggregates act on their weighted twins
// (ranking.go): "the top 10 cities by order value" are the ten largest by
// projected value; in HAVING the base column (n) still names the unweighted
// base, so a sample-size filter stays one. The notes say what was ranked.
//
// # When weights are not applied
//
// Raw queries, apply_weights=false, datasets without a weight, and queries that
// already use the weight column (weighted by hand) are left alone. Shapes that
// cannot be weighted safely run unweighted and the Result says why: set operations,
// outer joins, GROUPING SETS, a star that cannot be expanded, SELECT DISTINCT over aggregates, several event tables
// joined without the weights table, correlated sub-queries, and queries that read
// neither the weights table nor a table with the respondent key.
//
// # GROUP BY an output alias
//
// PostgreSQL and DuckDB resolve a bare GROUP BY name to an input column before a
// select-list alias, so SELECT CASE ... END AS age_group ... FROM users GROUP BY
// age_group groups by users.age_group and then rejects the CASE. The analyst means
// the output column: whatever the options, such an entry is replaced by the
// ordinal of its select-list entry and a note says so. This is all Rewrite does
// when weights and NCCS merging are both off.
//
// # NCCS merging
//
// Where the NCCS column is selected, grouped, used in HAVING or ordered by, it is
// replaced by a CASE through the merge map, so merged classes are re-aggregated (one
// A row, never two). WHERE keeps raw labels, so WHERE nccs = 'A1' still works; raw
// queries show merged labels too. A SELECT * or t.* that covers the NCCS column is
// expanded through [Schema] (in the relations' column order) so the column can be
// replaced and keep its name; a star over a JOIN ... USING or a relation the schema
// does not describe is left as written, unmerged, with a note.
package weighting
