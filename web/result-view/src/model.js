// The chart model: what a query result's structuredContent means as a chart.
// It is pure (no DOM), so the rules an analyst relies on are unit-tested:
// which columns are categories and which are figures, which figure is drawn,
// where the margins of error come from, that Total rows are references and
// never bars, and what happens to the tail beyond the bars we draw.

import { label as labelOf } from "./format.js";

/** Bars drawn before the tail is combined into "Other". */
export const MAX_BARS = 25;
/** Bars of a small chart (one question of a multi-query batch). */
export const MAX_BARS_SMALL = 12;
/** Series (legend entries) of a grouped bar or line chart. */
export const MAX_SERIES = 8;

// Columns the weighting step adds that describe a figure, not a figure to draw.
const STAT = /^(n|n_eff|n_zero_weight|low_base|is_total)$|^(moe|se)_/;
const NUMERIC_TYPE = /int|double|real|numeric|decimal|float|number/i;
const TIME_TYPE = /^(date|timestamp)/i;
const ISO_DATE = /^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?)?$/;
const TIME_NAME = /(^|_)(year|month|week|quarter|day|hour|date|period)(_|$)/i;
const AGGREGATE_NAME = /^(count|sum|avg|mean|min|max|total|pct|share|percent|median|stddev|variance|cnt|n)(_|$)|_(count|sum|avg|mean|total|pct|share|percent)$/i;

/**
 * Chart models for a tool's structuredContent: one for a single result,
 * one per question for execute_multi_query.
 */
export function analyse(sc, opts = {}) {
  if (sc && Array.isArray(sc.results)) {
    return {
      multi: true,
      total: sc.total ?? sc.results.length,
      succeeded: sc.succeeded ?? sc.results.filter((r) => r.ok).length,
      failed: sc.failed ?? sc.results.filter((r) => !r.ok).length,
      totalMS: sc.total_ms,
      parallel: sc.parallel,
      charts: sc.results.map((r, i) => chartOf(r, { ...opts, small: true, index: i })),
    };
  }
  return { multi: false, charts: [chartOf(sc || {}, { ...opts, index: 0 })] };
}

/** The chart model of one result. measureName picks a figure other than the default. */
export function chartOf(r, opts = {}) {
  const base = {
    index: opts.index ?? 0,
    title: r.label || (opts.small ? `Query ${(opts.index ?? 0) + 1}` : "Query result"),
    result: r,
    notes: notesOf(r),
  };
  if (!r.ok) return { ...base, kind: "error", message: r.error || "The query did not run." };
  const rows = r.rows || [];
  const cols = r.columns || [];
  if (rows.length === 0) return { ...base, kind: "empty" };

  const info = columnsOf(r);
  const dims = dimensionsOf(info, rows);
  const measures = measuresOf(info, dims, r);
  const sig = significanceOf(r, cols);
  if (sig && sig.measure) {
    const at = measures.findIndex((m) => m.name === sig.measure);
    if (at > 0) measures.unshift(...measures.splice(at, 1));
  }
  let measure = measures[0];
  if (opts.measureName) measure = measures.find((m) => m.name === opts.measureName) || measure;
  // Without a label, say what is drawn: "Weighted % by gender × nccs".
  if (!r.label && measure && dims.length) base.title = `${measure.label} by ${dims.map((d) => d.name).join(" × ")}`;
  const withTable = { ...base, measures, measure, dims, table: true };
  if (!measure || dims.length === 0 || r.aggregated === false) {
    return { ...withTable, kind: "table", why: whyTable(r, dims, measure) };
  }
  const ctx = { r, rows, info, measure, sig, small: !!opts.small };
  const time = dims.find((d) => d.time);
  if (time) {
    const others = dims.filter((d) => d !== time);
    if (others.length <= 1) return { ...withTable, ...lineOf(ctx, time, others[0]) };
    return { ...withTable, kind: "table", why: "More than two categories: shown as a table." };
  }
  // A number with many values (age in years, say) reads as a line, not 56 bars.
  if (dims.length === 1 && dims[0].numeric && distinct(rows, dims[0].index) > MAX_BARS) {
    return { ...withTable, ...lineOf(ctx, dims[0], undefined) };
  }
  if (dims.length === 1) return { ...withTable, ...barsOf(ctx, dims[0]) };
  if (dims.length === 2) {
    const grouped = groupedOf(ctx, dims);
    if (grouped) return { ...withTable, ...grouped };
    return { ...withTable, kind: "table", why: "Too many groups on both sides for a chart: shown as a table." };
  }
  return { ...withTable, kind: "table", why: "More than two categories: shown as a table." };
}

function whyTable(r, dims, measure) {
  if (r.aggregated === false) return "Raw rows: shown as a table.";
  if (!measure) return "No figure to chart: shown as a table.";
  if (dims.length === 0) return "";
  return "";
}

/** Describes every column: numeric, added by weighting, a statistic, time-like. */
export function columnsOf(r) {
  const cols = r.columns || [];
  const rows = r.rows || [];
  const addedList = (r.weighting && r.weighting.added_columns) || [];
  const added = new Set(addedList);
  return cols.map((c, i) => {
    const sample = [];
    for (const row of rows) {
      const v = row[i];
      if (v !== null && v !== undefined) sample.push(v);
      if (sample.length >= 50) break;
    }
    const numeric = NUMERIC_TYPE.test(c.type || "") || (sample.length > 0 && sample.every((v) => typeof v === "number"));
    const stat = STAT.test(c.name) && (added.has(c.name) || addedList.length === 0 || c.name === "is_total");
    let time = false;
    if (TIME_TYPE.test(c.type || "")) time = true;
    else if (!numeric && sample.length > 0 && sample.every((v) => typeof v === "string" && ISO_DATE.test(v))) time = true;
    else if (numeric && TIME_NAME.test(c.name) && sample.every((v) => Number.isInteger(v))) time = true;
    return {
      name: c.name,
      type: c.type || "",
      index: i,
      numeric,
      added: added.has(c.name) || (addedList.length === 0 && /^weighted_|^reach_pct$/.test(c.name)),
      stat,
      time,
      boolean: /^bool/i.test(c.type || "") || (sample.length > 0 && sample.every((v) => typeof v === "boolean")),
    };
  });
}

/**
 * The category columns: every column the SQL asked for that is not a figure
 * (text, boolean, dates, and numbers named like a period). When there is
 * none, a leading number that is not named like an aggregate (age in
 * "SELECT age, COUNT(*)") is the category.
 */
export function dimensionsOf(info, rows) {
  const own = info.filter((c) => !c.added && !c.stat);
  const dims = own.filter((c) => !c.numeric || c.time || c.boolean);
  if (dims.length > 0) return dims;
  const first = own[0];
  const figures = own.length - 1 + info.filter((c) => c.added && !c.stat).length;
  if (first && first.numeric && !AGGREGATE_NAME.test(first.name) && figures > 0 && rows.length > 1) return [first];
  return [];
}

/**
 * The figures that can be drawn, best first: weighted share, reach, weighted
 * means, weighted counts, reach counts, weighted sums, other weighted twins,
 * then what the SQL computed unweighted. Each knows its margin of error
 * column (95 %, or 1.96 × its standard error) and whether it adds up across
 * categories (so a tail can be combined into "Other").
 */
export function measuresOf(info, dims, r) {
  const by = new Map(info.map((c) => [c.name, c]));
  const dimSet = new Set(dims.map((d) => d.name));
  const used = new Set();
  const out = [];
  const error = (moeName, seName) => {
    if (by.has(moeName)) return { index: by.get(moeName).index, factor: 1 };
    if (seName && by.has(seName)) return { index: by.get(seName).index, factor: 1.96 };
    return null;
  };
  const add = (name, label, props) => {
    const c = by.get(name);
    if (!c || used.has(name) || dimSet.has(name)) return;
    used.add(name);
    out.push({ name, index: c.index, label, pct: false, additive: false, error: null, ...props });
  };
  const grouped = dims.length > 0;
  add("weighted_pct", "Weighted %", { pct: true, additive: grouped, error: error("moe_pct", "se_weighted_pct") });
  add("reach_pct", "Reach %", { pct: true, error: error("moe_reach_pct", "se_reach_pct") });
  // The weighted twin of AVG(x) is weighted_<its output name>: weighted_avg
  // for a bare AVG(x), weighted_avg_x for AVG(x) AS avg_x.
  for (const c of info) {
    const m = /^weighted_(avg|mean)(?:_(.+))?$/.exec(c.name);
    if (m) add(c.name, m[2] ? `Weighted mean of ${m[2].replace(/_/g, " ")}` : "Weighted mean", { error: error(`moe_${c.name}`, `se_${c.name}`) });
  }
  add("weighted_count", "Weighted count", { additive: true, error: error(null, "se_weighted_count") });
  add("weighted_reach", "Weighted reach", { error: error(null, "se_weighted_reach") });
  for (const c of info) {
    const m = /^weighted_sum_(.+)$/.exec(c.name);
    if (m) add(c.name, `Weighted sum of ${m[1]}`, { additive: true });
  }
  for (const c of info) {
    if (c.added && !c.stat && c.numeric) add(c.name, c.name.replace(/_/g, " "), { error: error(`moe_${c.name}`, `se_${c.name}`) });
  }
  const weighted = out.length > 0;
  for (const c of info) {
    if (c.added || c.stat || !c.numeric || dimSet.has(c.name)) continue;
    const additive = /^(count|sum|total|cnt)(_|$)|_(count|sum|total)$/i.test(c.name);
    add(c.name, weighted ? `${c.name} (unweighted)` : c.name, { additive, pct: /(^|_)(pct|percent|share)(_|$)/i.test(c.name) });
  }
  return out;
}

/** The significance block of issue 14, when present and usable. */
export function significanceOf(r, cols) {
  const s = r.significance;
  if (!s || typeof s !== "object") return null;
  const groups = Array.isArray(s.groups) ? s.groups : [];
  const letters = Array.isArray(s.letters) ? s.letters : [];
  const compareIndex = cols.findIndex((c) => c.name === s.compare_by);
  const letterOf = new Map();
  for (const g of groups) letterOf.set(keyOf(g.value), g);
  return {
    compareBy: s.compare_by,
    compareIndex,
    alpha: s.alpha,
    correction: s.correction,
    measure: s.measure,
    groups,
    letters,
    letterOf,
    overall: s.overall || null,
  };
}

/** A stable key for a dimension value (null and "null" differ). */
export function keyOf(v) {
  return v === null || v === undefined ? "\u0000null" : typeof v + ":" + String(v);
}

function distinct(rows, i) {
  return new Set(rows.map((row) => keyOf(row[i]))).size;
}

function totalIndexOf(r) {
  return (r.columns || []).findIndex((c) => c.name === "is_total");
}

/** Splits rows into data rows and Total rows (is_total true). */
function splitTotals(r, rows) {
  const ti = totalIndexOf(r);
  const data = [];
  const totals = [];
  rows.forEach((row, i) => {
    if (ti >= 0 && row[ti] === true) totals.push({ row, i });
    else data.push({ row, i });
  });
  return { data, totals };
}

function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** One drawn figure with what its tooltip says. */
function itemOf(ctx, row, i) {
  const { info, measure, sig } = ctx;
  const by = (name) => info.find((c) => c.name === name);
  const nCol = by("n");
  const neffCol = by("n_eff");
  const lowCol = by("low_base");
  const value = num(row[measure.index]);
  const moe = measure.error && value !== null ? num(row[measure.error.index]) : null;
  return {
    row: i,
    value,
    moe: moe === null ? null : moe * measure.error.factor,
    n: nCol ? num(row[nCol.index]) : null,
    nEff: neffCol ? num(row[neffCol.index]) : null,
    lowBase: lowCol ? row[lowCol.index] === true : false,
    letters: sig && typeof sig.letters[i] === "string" ? sig.letters[i] : "",
  };
}

// Socio-economic classes (NCCS A1..E3, merged A, B, C/D/E) have an order.
const CLASS = /^[A-E][1-3]?(\/[A-E][1-3]?)*$/;

/** Is a dimension's order meaningful (numbers, age bands such as 15-24, 55+, NCCS classes)? */
function ordinal(values) {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return false;
  if (present.every((v) => typeof v === "string" && CLASS.test(v))) return true;
  return present.every((v) => typeof v === "number" || /^\s*[<>≤≥]?\s*\d/.test(String(v)));
}

/** The sort key of an ordinal value: its leading number, or its class letters. */
function leadingNumber(v) {
  if (typeof v === "number") return v;
  const s = String(v);
  if (CLASS.test(s)) return (s.charCodeAt(0) - 64) * 10 + (parseInt(s[1], 10) || 0);
  const m = /-?\d+(\.\d+)?/.exec(s);
  return m ? parseFloat(m[0]) : Infinity;
}

function hasOrderBy(r) {
  return typeof r.query === "string" && /\border\s+by\b/i.test(r.query);
}

/** Sorts categories: the SQL's ORDER BY wins, then natural order for bands, else by value; NULL last. */
function sortCategories(list, r, valueOf, keyValue) {
  const order = hasOrderBy(r) ? "query" : ordinal(list.map(keyValue)) ? "natural" : "value";
  const sorted = list.slice();
  if (order === "natural") {
    sorted.sort((a, b) => leadingNumber(keyValue(a)) - leadingNumber(keyValue(b)) || String(keyValue(a)).localeCompare(String(keyValue(b))));
  } else if (order === "value") {
    sorted.sort((a, b) => (valueOf(b) ?? -Infinity) - (valueOf(a) ?? -Infinity));
  }
  const isNull = (x) => keyValue(x) === null || keyValue(x) === undefined;
  return { order, list: [...sorted.filter((x) => !isNull(x)), ...sorted.filter(isNull)] };
}

/** A dimension value is collapsed in a Total row when it is NULL or says Total/All. */
function collapsed(v) {
  return v === null || v === undefined || /^(total|all|overall)$/i.test(String(v).trim());
}

function barsOf(ctx, dim) {
  const { r, rows, measure, sig, small } = ctx;
  const { data, totals } = splitTotals(r, rows);
  const items = data.map(({ row, i }) => {
    const it = itemOf(ctx, row, i);
    const v = row[dim.index];
    const g = sig && sig.compareIndex === dim.index ? sig.letterOf.get(keyOf(v)) : null;
    return { ...it, key: keyOf(v), raw: v, label: labelOf(v), groupLetter: g ? g.letter : "", untested: g ? g.tested === false : false };
  });
  const { order, list } = sortCategories(items, r, (x) => x.value, (x) => x.raw);
  const max = small ? MAX_BARS_SMALL : MAX_BARS;
  let shown = list;
  let other = null;
  let tail = 0;
  if (list.length > max) {
    if (measure.additive) {
      shown = list.slice(0, max - 1);
      const rest = list.slice(max - 1);
      tail = rest.length;
      other = {
        key: "\u0000other",
        raw: null,
        label: `Other (${rest.length})`,
        other: true,
        value: sum(rest.map((x) => x.value)),
        moe: null,
        n: rest.every((x) => x.n !== null) ? sum(rest.map((x) => x.n)) : null,
        nEff: null,
        lowBase: false,
        letters: "",
        row: -1,
        members: rest.length,
      };
      shown = [...shown, other];
    } else {
      shown = list.slice(0, max);
      tail = list.length - max;
    }
  }
  const refs = totals
    .map(({ row, i }) => ({ ...itemOf(ctx, row, i), label: "Total" }))
    .filter((t) => t.value !== null && !(measure.pct && Math.abs(t.value - 100) < 0.05));
  const tailNote = tailNoteOf(list.length, shown, other, tail, measure, order);
  return {
    kind: "bars",
    dim,
    items: shown,
    refs,
    categories: list.length,
    order,
    tailNote,
    sig: sig && sig.compareIndex === dim.index ? sig : sig && sig.letters.length ? sig : null,
  };
}

function tailNoteOf(count, shown, other, tail, measure, order) {
  if (!tail) return "";
  const first = order === "value" ? "largest" : "first";
  if (other) {
    return `${count.toLocaleString("en-US")} categories: the ${first} ${(shown.length - 1).toLocaleString("en-US")} are drawn and the other ${tail.toLocaleString("en-US")} are combined in “Other” (their ${measure.label.toLowerCase()} added up). The table has every row.`;
  }
  return `${count.toLocaleString("en-US")} categories: the ${first} ${shown.length.toLocaleString("en-US")} are drawn; the other ${tail.toLocaleString("en-US")} are left out, as ${measure.label.toLowerCase()} does not add up across categories. The table has every row.`;
}

function sum(xs) {
  let s = 0;
  for (const x of xs) if (typeof x === "number") s += x;
  return s;
}

/**
 * Grouped bars for two categories: clusters along one, series (legend, and
 * the significance letters' groups) along the other. The series is the
 * compare_by column when significance is given, else the category with
 * fewer values.
 */
function groupedOf(ctx, dims) {
  const { r, rows, measure, sig, small } = ctx;
  const { data, totals } = splitTotals(r, rows);
  const count = (d) => new Set(data.map(({ row }) => keyOf(row[d.index]))).size;
  let [cat, ser] = dims;
  if (sig && sig.compareIndex === cat.index) [cat, ser] = [ser, cat];
  else if (!(sig && sig.compareIndex === ser.index) && count(cat) < count(ser)) [cat, ser] = [ser, cat];
  if (count(ser) > MAX_SERIES && count(cat) <= MAX_SERIES && !(sig && sig.compareIndex === ser.index)) [cat, ser] = [ser, cat];

  // Series in the order of the significance groups, else of first appearance
  // (natural order for bands).
  const seriesMap = new Map();
  for (const { row } of data) {
    const v = row[ser.index];
    const k = keyOf(v);
    if (!seriesMap.has(k)) seriesMap.set(k, { key: k, raw: v, label: labelOf(v), letter: "", untested: false, total: null });
  }
  let series = [...seriesMap.values()];
  if (sig && sig.compareIndex === ser.index && sig.groups.length) {
    const pos = new Map(sig.groups.map((g, i) => [keyOf(g.value), i]));
    series.sort((a, b) => (pos.get(a.key) ?? 1e9) - (pos.get(b.key) ?? 1e9));
    for (const s of series) {
      const g = sig.letterOf.get(s.key);
      if (g) {
        s.letter = g.letter || "";
        s.untested = g.tested === false;
      }
    }
  } else if (ordinal(series.map((s) => s.raw))) {
    series.sort((a, b) => leadingNumber(a.raw) - leadingNumber(b.raw));
  } else if (!hasOrderBy(r)) {
    // Largest series first, so the legend reads in order of importance.
    const size = new Map();
    for (const { row } of data) {
      const k = keyOf(row[ser.index]);
      size.set(k, (size.get(k) || 0) + (num(row[measure.index]) || 0));
    }
    series.sort((a, b) => size.get(b.key) - size.get(a.key));
  }
  const nulls = series.filter((s) => s.raw === null || s.raw === undefined);
  series = [...series.filter((s) => !nulls.includes(s)), ...nulls];
  if (series.length > MAX_SERIES) return null;

  const catMap = new Map();
  for (const { row, i } of data) {
    const v = row[cat.index];
    const k = keyOf(v);
    if (!catMap.has(k)) catMap.set(k, { key: k, raw: v, label: labelOf(v), items: new Map(), ref: null });
    catMap.get(k).items.set(keyOf(row[ser.index]), itemOf(ctx, row, i));
  }
  const peak = (c) => Math.max(...[...c.items.values()].map((x) => x.value ?? -Infinity));
  const { order, list } = sortCategories([...catMap.values()], r, peak, (c) => c.raw);
  const max = small ? MAX_BARS_SMALL : MAX_BARS;
  let shown = list;
  let tail = 0;
  let other = null;
  if (list.length > max) {
    if (measure.additive) {
      shown = list.slice(0, max - 1);
      const rest = list.slice(max - 1);
      tail = rest.length;
      other = { key: "\u0000other", raw: null, label: `Other (${rest.length})`, other: true, items: new Map(), ref: null };
      for (const s of series) {
        const vals = rest.map((c) => c.items.get(s.key)).filter(Boolean);
        other.items.set(s.key, { value: sum(vals.map((x) => x.value)), moe: null, n: null, nEff: null, lowBase: false, letters: "", row: -1, other: true });
      }
      shown = [...shown, other];
    } else {
      shown = list.slice(0, max);
      tail = list.length - max;
    }
  }

  // Total rows: one per category (the category's total across the series) is
  // a reference mark on that cluster; one per series is said in the legend;
  // one for everything is a reference line.
  const refs = [];
  for (const { row, i } of totals) {
    const it = itemOf(ctx, row, i);
    if (it.value === null) continue;
    const catCollapsed = collapsed(row[cat.index]);
    const serCollapsed = collapsed(row[ser.index]);
    if (!catCollapsed && serCollapsed) {
      const c = catMap.get(keyOf(row[cat.index]));
      if (c) c.ref = { ...it, label: `Total ${labelOf(row[cat.index])}` };
    } else if (catCollapsed && !serCollapsed) {
      const s = series.find((x) => x.key === keyOf(row[ser.index]));
      if (s && !(measure.pct && Math.abs(it.value - 100) < 0.05)) s.total = it;
    } else if (!(measure.pct && Math.abs(it.value - 100) < 0.05)) {
      refs.push({ ...it, label: "Total" });
    }
  }
  return {
    kind: "grouped",
    dim: cat,
    seriesDim: ser,
    series,
    clusters: shown.map((c) => ({ ...c, items: series.map((s) => c.items.get(s.key) || null) })),
    refs,
    categories: list.length,
    order,
    tailNote: tailNoteOf(list.length, shown, other, tail, measure, order),
    sig: sig && sig.letters.length ? sig : null,
  };
}

/** Parses a time dimension value into a number for the x axis. */
export function timeValue(v) {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return null;
  const m = /^(\d{4})-(\d{2})$/.exec(v);
  if (m) return Date.UTC(+m[1], +m[2] - 1, 1);
  const d = /^(\d{4})-(\d{2})-(\d{2})/.exec(v);
  if (d) {
    const rest = v.slice(10);
    if (!rest.trim()) return Date.UTC(+d[1], +d[2] - 1, +d[3]);
    const t = Date.parse(v.replace(" ", "T"));
    return Number.isNaN(t) ? Date.UTC(+d[1], +d[2] - 1, +d[3]) : t;
  }
  return null;
}

/**
 * A line along a time (or many-valued number) column, one per value of the
 * other category when there is one. Total rows become a dashed Total line
 * (per x) or a reference line.
 */
function lineOf(ctx, x, ser) {
  const { r, rows, measure } = ctx;
  const { data, totals } = splitTotals(r, rows);
  const isDate = x.time && !x.numeric;
  const xv = (v) => (isDate ? timeValue(v) : num(v));
  const seriesMap = new Map();
  const ensure = (raw, total) => {
    const k = total ? "\u0000total" : ser ? keyOf(raw) : "\u0000all";
    if (!seriesMap.has(k)) seriesMap.set(k, { key: k, raw, label: total ? "Total" : ser ? labelOf(raw) : measure.label, total, points: [] });
    return seriesMap.get(k);
  };
  let skipped = 0;
  const add = (row, i, total) => {
    const xval = xv(row[x.index]);
    if (xval === null) {
      skipped++;
      return;
    }
    const s = ensure(ser ? row[ser.index] : null, total);
    s.points.push({ ...itemOf(ctx, row, i), x: xval, raw: row[x.index] });
  };
  for (const { row, i } of data) add(row, i, false);
  const refs = [];
  for (const { row, i } of totals) {
    if (ser && !collapsed(row[ser.index])) continue;
    if (!collapsed(row[x.index])) add(row, i, true);
    else {
      const it = itemOf(ctx, row, i);
      if (it.value !== null && !(measure.pct && Math.abs(it.value - 100) < 0.05)) refs.push({ ...it, label: "Total" });
    }
  }
  let series = [...seriesMap.values()];
  for (const s of series) s.points.sort((a, b) => a.x - b.x);
  const totalSeries = series.filter((s) => s.total);
  let lines = series.filter((s) => !s.total);
  let dropped = 0;
  if (lines.length > MAX_SERIES) {
    const mean = (s) => sum(s.points.map((p) => p.value)) / Math.max(1, s.points.length);
    lines.sort((a, b) => mean(b) - mean(a));
    dropped = lines.length - MAX_SERIES;
    lines = lines.slice(0, MAX_SERIES);
  }
  const monthly =
    isDate &&
    series.every((s) =>
      s.points.every((p) => {
        const d = new Date(p.x);
        return d.getUTCDate() === 1 && d.getUTCHours() === 0 && d.getUTCMinutes() === 0;
      }),
    );
  let tailNote = "";
  if (dropped) tailNote = `${(lines.length + dropped).toLocaleString("en-US")} lines: the ${MAX_SERIES} with the highest average are drawn. The table has every row.`;
  if (skipped) tailNote += (tailNote ? " " : "") + `${skipped} rows without a ${x.name} are left out.`;
  return {
    kind: "line",
    dim: x,
    seriesDim: ser || null,
    xType: isDate ? "time" : "number",
    monthly,
    series: [...lines, ...totalSeries],
    refs,
    tailNote,
    sig: null,
  };
}

/** Notes to show under a chart: the result's own, then what weighting did. */
function notesOf(r) {
  const notes = [];
  for (const n of r.notes || []) notes.push(n);
  const w = r.weighting || {};
  if (w.applied && Array.isArray(w.notes) && w.notes.length) notes.push(w.notes[0]);
  if (!w.applied && w.reason_if_not) notes.push(`Weights not applied: ${w.reason_if_not}`);
  if (r.truncated && !notes.some((n) => /cut|capped|more than/i.test(n))) notes.push(`Showing ${r.row_count ?? (r.rows || []).length} rows; the query had more.`);
  return notes;
}
