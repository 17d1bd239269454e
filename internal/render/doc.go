// Package render turns query results into the Markdown the MCP tools return
// to the model. It is pure: values in, strings out, no I/O. The layout is the
// seed system's (SPEC §4), because prompts and clients written for it parse
// it; the golden files in testdata/ are its specification and are rewritten
// with `go test ./internal/render -update`.
//
// # Answers
//
// [Single] renders one query (query_dataset, get_dataset_sample):
//
//	**Rows**: 2 | **Time**: 145 ms | **Dataset**: Sample Dataset
//
//	| gender | count | weighted_count | weighted_pct |
//	|--------|-------|----------------|--------------|
//	| Female | 1,234 | 246,000,123    | 41.0         |
//	| Male   | 2,456 | 345,000,457    | 59.0         |
//
//	_Weighted by users.weight ×1000_
//
// then, as italic lines, why weights were not applied, every weighting note
// and result note, and the row-cap note ("_Showing 5 of more than 5 rows
// (raw queries are limited to 5 rows; use GROUP BY to aggregate)._"),
// followed by the executed SQL in a ```sql block when [result.Result.SQL]
// is set (show_sql). Raw rows say nothing about weights of their own: they
// are never weighted, and naming the weight column under them would read as
// if they were. The Dataset part is left out when the name is
// empty, as in the seed's second example. Times are whole milliseconds from
// 10 ms up and carry one decimal below (0.4 ms). A result without rows shows
// "_No rows._" instead of a table. A failed result shows
//
//	**Error**: relation "invalid_table" does not exist
//
//	**Query**: `SELECT * FROM invalid_table`
//
// where the query is an inline code span whose backtick fence is longer
// than any backtick run in it, or a fenced block when it spans lines. Error
// messages are put on one line. With show_sql, the SQL that was sent
// follows under "**SQL sent**:", since the database's error refers to it.
//
// [Multi] renders execute_multi_query exactly as the seed does: the summary
// (Total Queries, Successful ✅, Failed ❌ — the emoji only when the count is
// not zero — and Total Execution Time as "423ms"), the "Executed in
// parallel" line when the queries ran concurrently and there were several,
// one "## N. label" section per result in request order ("Query N" when
// unlabelled) separated by horizontal rules, and the tips. The tips name the
// raw row cap of the results (5 when none states it) and the aggregated cap
// when a result states it, else SPEC §3's 1,000 rows; then only what is
// true of the call: which columns to quote when some result was weighted
// (weighting is automatic, so the seed's "include weight columns" is gone),
// that some aggregates were not weighted, how to retry failed queries.
//
// # Tables and values
//
// [Table] renders a Markdown table in the seed's padded layout with plain
// separators (|------|); columns are padded to their widest cell up to 32
// characters, counted in runes (wide CJK characters and emoji are not
// aligned). A column's numbers are written by what it holds, its
// [result.Column] Kind and Unit, so an answer pasted into a chat reads
// well; the structured output keeps the raw values:
//
//   - people and counts ([result.KindCount]: weighted_count, weighted_reach,
//     n, n_eff, COUNT(...), their standard errors) as whole numbers with
//     thousands separators: 125,023,984;
//   - percentages and margins ([result.KindPercent]: weighted_pct,
//     reach_pct, moe_pct) with one fixed decimal, or two in a column that
//     holds a non-zero value below 1: 33.8, 0.09;
//   - means and their standard errors ([result.KindMean]) with two
//     decimals from 1 up and three significant digits below: 1,774.45,
//     0.281, 0.0213;
//   - totals ([result.KindTotal]: SUM(x), weighted_sum_x) as whole numbers
//     when the column reaches 100, else like means;
//   - identifiers ([result.KindID]: the respondent key, id, *_id) as
//     digits without separators: 1796;
//   - a column with a unit gets it: a currency symbol before the number
//     (₹1,774.45, -₹12), a code or Rs. before it with a space (INR 1,234),
//     any other unit after it (1,234 min); money means have two decimals,
//     raw amounts are whole when every value in the column is;
//   - a Total row (is_total) reads "Total" in the column its totals roll
//     up (the label column every Total row leaves NULL), where the
//     structured row holds NULL;
//   - dates and timestamps: a column whose every value is at midnight
//     (dates, or date_trunc's timestamps on either engine) prints as dates,
//     2026-03-01; other timestamps as 2026-03-01 14:05:09, with the offset
//     of a timestamp with time zone (or UTC).
//
// Other values are formatted by [Number] — thousands separators, NULL,
// true/false, 4 significant digits for small floats, NaN and Infinity — and
// in a column where some float has decimals, integral floats get two
// decimals too. [Cell] makes every value safe inside a row: line breaks and
// control characters become single spaces (not <br>, which a model would
// read as text), invalid UTF-8 becomes U+FFFD, the text is cut to
// [Options.MaxCell] runes with "…", and "|" is escaped as "\|".
//
// # The byte cap
//
// Every answer is at most [Options.MaxBytes] long (default 256 KiB). When it
// would be longer it is cut at row boundaries and ends with
//
//	_Output truncated at 256 KB: 120 of 1,000 rows shown. Narrow the query (fewer columns, GROUP BY, LIMIT) to see the rest._
//
// Headers, errors and notes are kept; only rows are dropped. In a
// multi-query answer the room is shared so that small results stay whole
// and rows are cut from the largest ones, each cut section saying "_Output
// cap: N of M rows shown._". Only if the text is too large even without
// rows (a 100 KB query echoed thirty times) are queries, SQL, errors and
// notes shortened to 1 KB each, and as a last resort the answer is cut at a
// line boundary with any open code fence closed. Rows that cannot fit are
// never formatted, so the cost of an answer is bounded by the cap, not by
// the size of the result.
package render
