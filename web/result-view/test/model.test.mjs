// Unit tests of the chart model and the SVG drawing, on hand-made
// structuredContent (internal/mcpapp/testdata/fixtures, shared with the Go
// browser test) and on generated results. Run: npm test.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { analyse, chartOf, MAX_BARS, MAX_BARS_SMALL } from "../src/model.js";
import { draw, ticks } from "../src/draw.js";
import { csvOf } from "../src/csv.js";

const fixture = (name) => JSON.parse(readFileSync(new URL(`../../../internal/mcpapp/testdata/fixtures/${name}.json`, import.meta.url), "utf8"));
const theme = {
  bg: "#fff", text: "#111", muted: "#555", grid: "#eee", axis: "#aaa", accent: "#2563eb",
  palette: ["#2563eb", "#ea580c", "#059669", "#db2777", "#7c3aed", "#0891b2", "#a16207", "#64748b"],
  letter: "#b45309", total: "#222", other: "#999", whisker: "#333", font: "sans-serif",
};
const measure = (text, px, bold) => text.length * px * (bold ? 0.62 : 0.56);
const svgOf = (chart, width = 600, small = false) => draw(chart, { width, theme, measure, id: "t", small });
const count = (svg, re) => (svg.match(re) || []).length;

test("weighted means by group: bars, whiskers from 1.96·SE, letters, Total as reference", () => {
  const c = chartOf(fixture("means_letters"));
  assert.equal(c.kind, "bars");
  assert.equal(c.measure.name, "weighted_avg_spend");
  assert.equal(c.dim.name, "nccs");
  // Four groups drawn (the Total row is not a bar), in class order, NULL last.
  assert.deepEqual(c.items.map((i) => i.label), ["A", "B", "C/D/E", "NULL"]);
  assert.equal(c.order, "natural");
  assert.equal(c.items[0].moe.toFixed(3), (31.4 * 1.96).toFixed(3));
  assert.deepEqual(c.items.map((i) => i.letters), ["BC", "C", "", ""]);
  assert.deepEqual(c.items.map((i) => i.groupLetter), ["A", "B", "C", "D"]);
  assert.equal(c.items[3].lowBase, true);
  assert.equal(c.refs.length, 1);
  assert.equal(c.refs[0].value, 1402.9);
  const { svg, tips } = svgOf(c);
  assert.equal(count(svg, /class="bar[ "]/g), 4);
  assert.equal(count(svg, /class="whisker"/g), 4);
  assert.equal(count(svg, /class="sig-letter"/g), 2);
  assert.equal(count(svg, /class="bar low-base"/g), 1);
  assert.equal(count(svg, /class="total-ref"/g), 1);
  assert.match(svg, />Total 1,403</);
  assert.ok(tips.some((t) => /Low base: n = 21 is below the minimum base of 30/.test(t)), "low-base tooltip");
  assert.ok(tips.some((t) => /Significantly higher than B, C/.test(t)), "letters tooltip");
});

test("crosstab: grouped bars with the compare_by column as series and letters", () => {
  const c = chartOf(fixture("crosstab_letters"));
  assert.equal(c.kind, "grouped");
  assert.equal(c.dim.name, "nccs");
  assert.equal(c.seriesDim.name, "gender");
  assert.deepEqual(c.series.map((s) => `${s.letter} ${s.label}`), ["A Female", "B Male"]);
  assert.equal(c.clusters.length, 3, "Total rows are not clusters");
  // Per-series Totals of 100 % say nothing: no reference, no legend note.
  assert.equal(c.refs.length, 0);
  assert.equal(c.series[0].total, null);
  const { svg } = svgOf(c);
  assert.equal(count(svg, /class="bar[ "]/g), 6);
  assert.equal(count(svg, /class="whisker"/g), 6);
  assert.equal(count(svg, /class="sig-letter"/g), 2);
  assert.doesNotMatch(svg, /total 100/);
});

test("crosstab totals per category are reference marks, never bars or sums", () => {
  const fx = fixture("crosstab_letters");
  fx.significance = undefined;
  fx.rows = fx.rows.filter((r) => !r[9]);
  fx.rows.push(["A", null, 6068, 73384554.9, 12.3, 0.8, 6068, 3740, false, true]);
  fx.rows.push(["B", null, 5208, 120391393.1, 20.2, 1.0, 5208, 3092, false, true]);
  const c = chartOf(fx);
  assert.equal(c.kind, "grouped");
  assert.equal(c.clusters.find((x) => x.label === "A").ref.value, 12.3);
  assert.equal(c.clusters.find((x) => x.label === "C/D/E").ref, null);
  const { svg } = svgOf(c);
  assert.equal(count(svg, /class="bar[ "]/g), 6);
  assert.equal(count(svg, /cluster-ref/g), 2);
});

test("a month column draws a line with a margin-of-error band", () => {
  const c = chartOf(fixture("month_series"));
  assert.equal(c.kind, "line");
  assert.equal(c.measure.name, "reach_pct");
  assert.equal(c.xType, "time");
  assert.equal(c.monthly, true);
  assert.equal(c.series.length, 1);
  assert.equal(c.series[0].points.length, 12);
  const { svg } = svgOf(c);
  assert.equal(count(svg, /<path class="line"/g), 1);
  assert.equal(count(svg, /class="moe-band"/g), 1);
  assert.equal(count(svg, /class="point/g), 12);
  assert.match(svg, />Jan 2026</);
});

test("multi-query: one chart per question, failures kept apart", () => {
  const sc = {
    results: [fixture("means_letters"), { label: "Broken", ok: false, error: 'relation "nope" does not exist', query: "SELECT * FROM nope", columns: [], rows: [] }, fixture("crosstab_letters"), fixture("month_series")],
    total: 4, succeeded: 3, failed: 1, total_ms: 120, parallel: true,
  };
  const m = analyse(sc);
  assert.equal(m.multi, true);
  assert.deepEqual(m.charts.map((c) => c.kind), ["bars", "error", "grouped", "line"]);
  assert.equal(m.charts[1].message, 'relation "nope" does not exist');
  assert.equal(m.failed, 1);
});

test("1,000 categories: the tail is combined into Other, and the note says so", () => {
  const rows = [];
  for (let i = 0; i < 1000; i++) rows.push([`city ${i}`, 1000 - i, (1000 - i) * 1000, ((1000 - i) / 500500) * 100, 0.1, 1000 - i, 900 - i * 0.5, i > 970]);
  const r = {
    ok: true, aggregated: true, query: "SELECT city, COUNT(*) FROM users GROUP BY city",
    columns: [{ name: "city", type: "varchar" }, { name: "count", type: "bigint" }, { name: "weighted_count", type: "double" }, { name: "weighted_pct", type: "double" }, { name: "moe_pct", type: "double" }, { name: "n", type: "bigint" }, { name: "n_eff", type: "double" }, { name: "low_base", type: "boolean" }],
    rows, row_count: 1000, weighting: { applied: true, added_columns: ["weighted_count", "weighted_pct", "moe_pct", "n", "n_eff", "low_base"] },
  };
  const c = chartOf(r);
  assert.equal(c.kind, "bars");
  assert.equal(c.items.length, MAX_BARS);
  const other = c.items[MAX_BARS - 1];
  assert.equal(other.other, true);
  assert.equal(other.label, "Other (976)");
  const tail = rows.slice(MAX_BARS - 1).reduce((s, x) => s + x[3], 0);
  assert.ok(Math.abs(other.value - tail) < 1e-9);
  assert.match(c.tailNote, /1,000 categories: the largest 24 are drawn and the other 976 are combined in “Other”/);
  const small = chartOf(r, { small: true });
  assert.equal(small.items.length, MAX_BARS_SMALL);
  assert.equal(count(svgOf(c).svg, /class="bar[ "]/g), MAX_BARS);
});

test("not additive: reach tail is dropped with a note, not summed", () => {
  const rows = [];
  for (let i = 0; i < 40; i++) rows.push([`app ${i}`, 100 - i, 50 - i / 2, 1.1]);
  const c = chartOf({
    ok: true, aggregated: true, query: "SELECT app_name, COUNT(DISTINCT user_id) FROM app_usage GROUP BY 1",
    columns: [{ name: "app_name", type: "varchar" }, { name: "count", type: "bigint" }, { name: "reach_pct", type: "double" }, { name: "moe_reach_pct", type: "double" }],
    rows, weighting: { applied: true, added_columns: ["reach_pct", "moe_reach_pct"] },
  });
  assert.equal(c.measure.name, "reach_pct");
  assert.equal(c.items.length, MAX_BARS);
  assert.ok(!c.items.some((i) => i.other));
  assert.match(c.tailNote, /left out, as reach % does not add up/);
});

test("ordered bands keep their order; ORDER BY keeps the query's", () => {
  const base = {
    ok: true, aggregated: true,
    columns: [{ name: "age_group", type: "varchar" }, { name: "count", type: "bigint" }, { name: "weighted_pct", type: "double" }],
    rows: [["35-44", 10, 20], ["15-24", 30, 40], ["55+", 5, 10], ["25-34", 20, 30]],
    weighting: { applied: true, added_columns: ["weighted_pct"] },
  };
  assert.deepEqual(chartOf({ ...base, query: "SELECT age_group, COUNT(*) FROM users GROUP BY 1" }).items.map((i) => i.label), ["15-24", "25-34", "35-44", "55+"]);
  assert.deepEqual(chartOf({ ...base, query: "SELECT age_group, COUNT(*) FROM users GROUP BY 1 ORDER BY 2" }).items.map((i) => i.label), ["35-44", "15-24", "55+", "25-34"]);
  const cats = { ...base, query: "SELECT city, COUNT(*) FROM users GROUP BY 1", rows: [["Pune", 1, 5], ["Delhi", 3, 50], [null, 1, 1], ["Agra", 2, 20]] };
  assert.deepEqual(chartOf(cats).items.map((i) => i.label), ["Delhi", "Agra", "Pune", "NULL"]);
  const nccs = { ...base, query: "SELECT nccs, COUNT(*) FROM users GROUP BY 1", rows: [["C/D/E", 1, 67], ["A", 1, 12], ["B", 1, 20], [null, 1, 1]] };
  assert.deepEqual(chartOf(nccs).items.map((i) => i.label), ["A", "B", "C/D/E", "NULL"], "NCCS classes keep their order");
});

test("shapes that are not charts become tables", () => {
  const raw = { ok: true, aggregated: false, columns: [{ name: "user_id", type: "integer" }, { name: "gender", type: "varchar" }], rows: [[1, "Male"]], weighting: { applied: false } };
  assert.equal(chartOf(raw).kind, "table");
  const single = { ok: true, aggregated: true, columns: [{ name: "count", type: "bigint" }, { name: "weighted_count", type: "double" }], rows: [[20000, 6e8]], weighting: { applied: true, added_columns: ["weighted_count"] } };
  assert.equal(chartOf(single).kind, "table");
  const three = { ok: true, aggregated: true, columns: [{ name: "a", type: "varchar" }, { name: "b", type: "varchar" }, { name: "c", type: "varchar" }, { name: "count", type: "bigint" }], rows: [["x", "y", "z", 1], ["x", "y", "w", 2]] };
  assert.equal(chartOf(three).kind, "table");
  assert.equal(chartOf({ ok: true, columns: [{ name: "a", type: "varchar" }], rows: [] }).kind, "empty");
  assert.equal(chartOf({ ok: false, error: "bad SQL" }).kind, "error");
});

test("an unweighted count and a numeric dimension", () => {
  const rows = [];
  for (let age = 15; age <= 70; age++) rows.push([age, 100 + age]);
  const c = chartOf({ ok: true, aggregated: true, query: "SELECT age, COUNT(*) FROM users GROUP BY age", columns: [{ name: "age", type: "integer" }, { name: "count", type: "bigint" }], rows, weighting: { applied: false, reason_if_not: "apply_weights is false" } });
  assert.equal(c.kind, "line", "56 ages read as a line, not 56 bars");
  assert.equal(c.measure.name, "count");
  assert.ok(c.notes.includes("Weights not applied: apply_weights is false"));
});

test("CSV quotes what needs quoting and keeps numbers plain", () => {
  const csv = csvOf({ columns: [{ name: "city" }, { name: "n" }], rows: [['Delhi, "NCR"', 1234.5], [null, 2]] });
  assert.equal(csv, 'city,n\r\n"Delhi, ""NCR""",1234.5\r\n,2\r\n');
});

test("ticks are round numbers covering the range", () => {
  assert.deepEqual(ticks(0, 68.4, 5), [0, 20, 40, 60, 80]);
  assert.deepEqual(ticks(0, 2500, 5), [0, 500, 1000, 1500, 2000, 2500]);
});

test("narrow widths stack labels above bars", () => {
  const c = chartOf(fixture("means_letters"));
  const { svg, width } = svgOf(c, 300);
  assert.equal(width, 300);
  assert.doesNotMatch(svg, /text-anchor="end" fill="#111" font-size="12" data-tip/);
});
