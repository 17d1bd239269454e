// Number and label formatting shared by the charts, the table and the CSV.
// The table follows the Markdown answer (thousands separators, NULL), so an
// analyst reading both sees the same figures.

const full = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** Cell text as the Markdown table shows it. */
export function cell(v) {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") return Number.isInteger(v) ? int.format(v) : full.format(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  return String(v);
}

/** Category label of a dimension value. */
export function label(v) {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : full.format(v);
  return String(v);
}

/** Compact form for axes and bar ends: 74.3M, 12.4K, 980. */
export function compact(v) {
  const a = Math.abs(v);
  const units = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [size, suffix] of units) {
    if (a >= size) {
      const x = v / size;
      return trim(x.toFixed(Math.abs(x) >= 100 ? 0 : 1)) + suffix;
    }
  }
  if (Number.isInteger(v)) return String(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return trim(v.toFixed(1));
  return trim(v.toFixed(2));
}

function trim(s) {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/**
 * Value text of a measure: percentages with one decimal and a % sign,
 * counts and sums compact, means with three significant figures.
 */
export function value(v, measure) {
  if (v === null || v === undefined || Number.isNaN(v)) return "n/a";
  if (measure.pct) return v.toFixed(1) + "%";
  const a = Math.abs(v);
  if (a >= 100000) return compact(v);
  if (a >= 100 || Number.isInteger(v)) return int.format(v);
  // Fixed decimals (49.96 reads "50.0", not "50") so a column of means lines up.
  return v.toFixed(a >= 10 ? 1 : 2);
}

/** Full-precision value for tooltips. */
export function precise(v, measure) {
  if (v === null || v === undefined || Number.isNaN(v)) return "n/a";
  if (measure.pct) return v.toFixed(2) + "%";
  if (Math.abs(v) >= 1000) return int.format(v);
  return full.format(v);
}

/** Margin of error in the measure's unit: ±0.7 pt, ±1.2K. */
export function moe(m, measure) {
  if (m === null || m === undefined || Number.isNaN(m)) return "";
  if (measure.pct) return "±" + m.toFixed(1) + " pt";
  return "±" + compact(m);
}

/** Axis tick text. */
export function tick(v, measure) {
  if (measure.pct) return trim(v.toFixed(Math.abs(v) < 10 && v % 1 ? 1 : 0)) + "%";
  return compact(v);
}

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Date text for a time axis: "Mar 2026" when every point is a month start. */
export function date(ms, monthly) {
  const d = new Date(ms);
  const m = months[d.getUTCMonth()];
  if (monthly) return `${m} ${d.getUTCFullYear()}`;
  return `${d.getUTCDate()} ${m} ${d.getUTCFullYear()}`;
}

export function integer(v) {
  return int.format(v);
}
