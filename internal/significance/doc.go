// Package significance compares groups as tabulation tools do, with the
// numbers R's survey package gives for svydesign(ids = ~1, weights = ~w): a
// one-stage design, no strata, no finite population correction, variances
// by Taylor linearisation. It does no I/O and never sees a respondent: the
// weighted SQL returns sufficient statistics per cell or group, and this
// package turns them into the answer.
//
// # What the SQL must return
//
// A crosstab ([Crosstab]: column percentages of a row variable within each
// group of the compare_by column) needs, per (row category, group) cell:
// the unweighted n, Σw and Σw². Each respondent of the base is in exactly one
// cell, so these also give the design covariance of all the cell proportions
// at once, which is all the Rao–Scott test needs. The Total column, the
// groups' bases and the whole base are sums of cells. When a respondent can
// be in several rows (multi-response: the reach of each app by town class),
// the SQL also returns each group's base, n, Σw and Σw² over everyone in
// the group ([Crosstab].Bases); there is then no test of independence.
//
// Means and proportions per group ([Means]; a proportion is the mean of a
// 0/1 indicator) need, per group: n, Σw, Σw², and either the mean and its
// standard error (the weighted SQL's weighted_avg_… and se_… columns), or the
// one-pass sums Σw·y, Σw²·y, Σw²·y² ([MeanSums], from which
// [MeanSums.Group] computes both). The Total's mean and SE need the whole
// base's sums: with MeanSums they are the groups' sums added up
// ([MeanSums.Add]); with means and SEs alone the Total must come from the
// statement's own Total row.
//
// Every comparison also needs [Options.NDesign], the number of respondents
// with a positive weight in the whole dataset (not the base): a group, and
// a question's WHERE, are domains of the full design, so the n in n/(n−1)
// stays the panel's size, as svyby and subset() keep it.
//
// # The tests
//
// Groups are lettered A, B, C… in the order of their values (numbers by
// value, text byte by byte as PostgreSQL's C collation, NULL last). For each
// pair of groups (within each row of a crosstab) the difference of the two
// estimates is divided by √(se_g² + se_h²): the estimates of two disjoint
// domains of this design have zero covariance. The p-value is two-sided from
// the normal distribution. An estimate gets the letter of every group it is
// significantly higher than, at Alpha, or at Alpha after multiplying p by the
// number m of pairs tested in the row (Bonferroni). A group whose unweighted
// base is below MinBase is shown but not tested: no letters, its letter
// nowhere, its pairs listed with tested = false and not counted in m.
//
// The overall test of a crosstab is svychisq(~R + G, des) with its default
// Rao–Scott second-order F (F = X²/tr Δ on d0 = (tr Δ)²/tr Δ² and d0·(n−1)
// degrees of freedom, n the base) and its "Chisq" form; that of means is
// regTermTest(svyglm(y ~ factor(G), des), ~factor(G)), a Wald F on (k−1,
// n−k) degrees of freedom.
//
// [Significance] is the block a tool result carries in structuredContent,
// built from a result by [CrosstabResult.Significance] or
// [MeansResult.Significance] once the caller says which result row shows
// which cell.
//
// testdata/ holds the reference panel and R's answers the tests reproduce
// (see its README).
package significance
