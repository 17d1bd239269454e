// SVG drawing of a chart model (model.js). It returns markup, not DOM, and
// takes text measurement and colours as arguments, so it runs the same in
// the view, in an exported file and in the unit tests. Colours are written
// into the markup (not CSS variables) so a downloaded SVG or PNG looks like
// the screen.

import * as fmt from "./format.js";

/**
 * draw returns { svg, width, height, tips, hover } for a chart model.
 * opts: width, theme (see themeOf in view.js), measure(text, px, bold) → px,
 * id (unique prefix for pattern ids), small (a chart of a batch).
 */
export function draw(chart, opts) {
  switch (chart.kind) {
    case "bars":
      return drawBars(chart, opts);
    case "grouped":
      return drawGrouped(chart, opts);
    case "line":
      return drawLine(chart, opts);
    default:
      return null;
  }
}

export function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

const r1 = (x) => Math.round(x * 10) / 10;

/** Round-number ticks covering [lo, hi]. */
export function ticks(lo, hi, count) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const out = [];
  for (let v = start; v <= end + step / 2; v += step) out.push(Math.abs(v) < step / 1e6 ? 0 : v);
  return out;
}

function truncate(text, maxW, px, measure, bold) {
  if (measure(text, px, bold) <= maxW) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (measure(text.slice(0, mid) + "…", px, bold) <= maxW) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, Math.max(1, lo)) + "…";
}

/** The dataset's minimum base, as the weighting legend or notes state it. */
function lowBaseMin(chart) {
  const w = chart.result.weighting || {};
  const texts = [...(w.legend || []).filter((t) => t.column === "low_base").map((t) => t.meaning), ...(w.notes || []), ...(chart.notes || [])];
  for (const n of texts) {
    const m = /fewer than (\d+)|low[_ ]base flags n < (\d+)|below (\d+)\)/i.exec(n || "");
    if (m) return m[1] || m[2] || m[3];
  }
  return null;
}

/** Tooltip lines of one figure. */
function tipOf(chart, title, it, extra = []) {
  const m = chart.measure;
  const lines = [title];
  let v = `${m.label}: ${fmt.precise(it.value, m)}`;
  if (it.moe !== null && it.moe !== undefined) v += ` ${fmt.moe(it.moe, m)} (95% margin of error)`;
  lines.push(v);
  const base = [];
  if (it.n !== null && it.n !== undefined) base.push(`n = ${fmt.integer(it.n)}`);
  if (it.nEff !== null && it.nEff !== undefined) base.push(`effective n = ${fmt.integer(it.nEff)}`);
  if (base.length) lines.push(base.join(" · "));
  if (it.other) lines.push(`${it.members ?? ""} smaller categories added together`.trim());
  if (it.lowBase) {
    const min = lowBaseMin(chart);
    lines.push(`Low base: n = ${it.n !== null ? fmt.integer(it.n) : "?"} is below ${min ? "the minimum base of " + min : "the dataset's minimum base"}; read with caution.`);
  }
  if (it.letters) lines.push(`Significantly higher than ${it.letters.split("").join(", ")} (α = ${chart.sig?.alpha ?? 0.05}${chart.sig?.correction === "bonferroni" ? ", Bonferroni" : ""})`);
  return lines.concat(extra).join("\n");
}

function patternDefs(id, colors, theme) {
  return colors
    .map(
      (c, i) =>
        `<pattern id="${id}-hatch-${i}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">` +
        `<rect width="6" height="6" fill="${theme.bg}"/><rect width="6" height="6" fill="${c}" fill-opacity="0.22"/>` +
        `<line x1="1.5" y1="0" x2="1.5" y2="6" stroke="${c}" stroke-width="2.4"/></pattern>`,
    )
    .join("");
}

function svgOpen(width, height, theme, chart, extraDefs) {
  const aria = esc(`${chart.title}: ${chart.kind === "line" ? "line" : "bar"} chart of ${chart.measure.label}`);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-${chart.kind}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${aria}" font-family="${esc(theme.font)}" font-size="12">` +
    `<defs>${extraDefs}</defs>`
  );
}

function axisTitle(chart) {
  const m = chart.measure;
  let t = m.label;
  if (m.error) t += " · whiskers: 95% margin of error";
  return t;
}

/** Lays out value text and letters to the right of a bar end. */
function endLabels(x, y, it, chart, theme, measure, px, cls = "") {
  const m = chart.measure;
  let out = "";
  const text = it.value === null ? "suppressed" : fmt.value(it.value, m);
  out += `<text class="value${cls}" x="${r1(x)}" y="${r1(y)}" dy="0.35em" fill="${theme.text}" font-size="${px}">${esc(text)}</text>`;
  let lx = x + measure(text, px, false) + 4;
  if (it.letters) {
    out += `<text class="sig-letter" x="${r1(lx)}" y="${r1(y)}" dy="0.35em" fill="${theme.letter}" font-size="${px}" font-weight="700">${esc(it.letters)}</text>`;
    lx += measure(it.letters, px, true) + 4;
  }
  // A low base says its n where the eye already is.
  if (it.lowBase && it.n !== null && it.n !== undefined) {
    out += `<text class="low-base-tag" x="${r1(lx)}" y="${r1(y)}" dy="0.35em" fill="${theme.muted}" font-size="${px - 1}" font-style="italic">n=${esc(fmt.integer(it.n))}</text>`;
  }
  return out;
}

function endWidth(it, chart, measure, px) {
  const text = it.value === null ? "suppressed" : fmt.value(it.value, chart.measure);
  let w = measure(text, px, false) + 6;
  if (it.letters) w += measure(it.letters, px, true) + 4;
  if (it.lowBase && it.n !== null && it.n !== undefined) w += measure(`n=${fmt.integer(it.n)}`, px - 1, false) + 4;
  return w;
}

function whisker(x0, x1, y, h, theme) {
  const cap = h / 2;
  return (
    `<g class="whisker" stroke="${theme.whisker}" stroke-width="1.3">` +
    `<line x1="${r1(x0)}" y1="${r1(y)}" x2="${r1(x1)}" y2="${r1(y)}"/>` +
    `<line x1="${r1(x0)}" y1="${r1(y - cap)}" x2="${r1(x0)}" y2="${r1(y + cap)}"/>` +
    `<line x1="${r1(x1)}" y1="${r1(y - cap)}" x2="${r1(x1)}" y2="${r1(y + cap)}"/></g>`
  );
}

/** The value domain of items with their whiskers and references, from 0. */
function domainOf(values) {
  let lo = 0;
  let hi = 0;
  const nonneg = values.every(([v]) => v === null || v === undefined || v >= 0);
  for (const [v, e] of values) {
    if (v === null || v === undefined) continue;
    const err = e || 0;
    lo = Math.min(lo, nonneg ? 0 : v - err, v);
    hi = Math.max(hi, v + err, v);
  }
  if (hi === lo) hi = lo + 1;
  return [lo, hi];
}

/**
 * The ends of a margin of error: a share, count or mean that cannot be
 * negative gets no whisker below zero, and a percentage none above 100.
 */
function errorBar(v, e, lo, pct) {
  return [lo >= 0 ? Math.max(0, v - e) : v - e, pct ? Math.min(100, v + e) : v + e];
}

function xAxis(scale, lo, hi, top, bottom, x0, x1, chart, theme, px, count) {
  let out = "";
  const ts = ticks(lo, hi, count).filter((t) => t >= lo - 1e-9 && t <= hi + 1e-9);
  for (const t of ts) {
    const x = scale(t);
    if (x < x0 - 0.5 || x > x1 + 0.5) continue;
    out += `<line class="grid" x1="${r1(x)}" y1="${top}" x2="${r1(x)}" y2="${bottom}" stroke="${t === 0 ? theme.axis : theme.grid}" stroke-width="1"/>`;
    out += `<text class="tick" x="${r1(x)}" y="${bottom + 14}" text-anchor="middle" fill="${theme.muted}" font-size="${px - 1}">${esc(fmt.tick(t, chart.measure))}</text>`;
  }
  return out;
}

function refLine(x, top, bottom, label, theme, px, width, tip) {
  const anchor = x > width - 60 ? "end" : x < 60 ? "start" : "middle";
  return (
    `<g class="total-ref" data-tip="${tip}">` +
    `<line x1="${r1(x)}" y1="${top - 4}" x2="${r1(x)}" y2="${bottom}" stroke="${theme.total}" stroke-width="1.5" stroke-dasharray="5 3"/>` +
    `<text x="${r1(x)}" y="${top - 8}" text-anchor="${anchor}" fill="${theme.total}" font-size="${px - 1}" font-weight="600">${esc(label)}</text></g>`
  );
}

function legend(entries, width, theme, measure, px, y0, id) {
  // entries: {label, letter, color, dashed, note}
  let x = 0;
  let y = y0;
  let out = `<g class="legend">`;
  const lineH = px + 8;
  for (const e of entries) {
    const text = (e.letter ? e.letter + "  " : "") + e.label + (e.note ? ` (${e.note})` : "");
    const w = 16 + measure(text, px, false) + 14;
    if (x > 0 && x + w > width) {
      x = 0;
      y += lineH;
    }
    const sw = e.dashed
      ? `<line x1="${x}" y1="${y + px / 2}" x2="${x + 12}" y2="${y + px / 2}" stroke="${e.color}" stroke-width="2" stroke-dasharray="4 2"/>`
      : `<rect x="${x}" y="${y + 1}" width="11" height="${px - 2}" rx="2" fill="${e.color}"/>`;
    out += `<g class="legend-item">${sw}`;
    let tx = x + 16;
    if (e.letter) {
      out += `<text class="group-letter" x="${tx}" y="${y + px / 2}" dy="0.35em" fill="${theme.letter}" font-size="${px}" font-weight="700">${esc(e.letter)}</text>`;
      tx += measure(e.letter + "  ", px, true);
    }
    out += `<text x="${r1(tx)}" y="${y + px / 2}" dy="0.35em" fill="${theme.text}" font-size="${px}">${esc(e.label)}${e.note ? `<tspan fill="${theme.muted}"> (${esc(e.note)})</tspan>` : ""}</text></g>`;
    x += w;
  }
  out += `</g>`;
  return { svg: out, height: y - y0 + lineH };
}

function drawBars(chart, opts) {
  const { width, theme, measure, id } = opts;
  const small = !!opts.small;
  const px = small ? 11 : 12;
  const compact = width < 440;
  const items = chart.items;
  const tips = [];
  const m = chart.measure;
  const barH = small ? 14 : 20;
  const gap = small ? 6 : 8;
  const labelOf = (it) => (it.groupLetter ? `${it.label} (${it.groupLetter})` : it.label);
  const labelWidth = (it) => measure(it.label, px, false) + (it.groupLetter ? measure(` (${it.groupLetter})`, px, true) : 0);
  const labelW = compact ? 0 : Math.min(Math.max(...items.map(labelWidth)) + 12, Math.max(80, width * 0.38));
  const endW = Math.max(40, ...items.map((it) => endWidth(it, chart, measure, px)));
  const refs = chart.refs || [];
  // An "Other" that dwarfs the drawn categories would squash them: the axis
  // follows the categories and the Other bar is broken at its end.
  const named = items.filter((it) => !it.other);
  const other = items.find((it) => it.other);
  const namedMax = Math.max(0, ...named.map((it) => (it.value ?? 0) + (it.moe ?? 0)));
  const broken = other && other.value !== null && named.length > 0 && other.value > 1.5 * namedMax;
  const [lo, hi] = domainOf([...(broken ? named : items).map((it) => [it.value, it.moe]), ...refs.map((r) => [r.value, 0])]);
  const x0 = labelW + (compact ? 0 : 6);
  const x1 = width - endW;
  const scale = (v) => x0 + ((Math.min(v, hi) - lo) / (hi - lo)) * (x1 - x0);
  const top = refs.length ? 20 : 4;
  const rowH = (compact ? px + 4 : 0) + barH + gap;
  const plotBottom = top + items.length * rowH;
  const height = plotBottom + 36;
  let body = xAxis(scale, lo, hi, top, plotBottom, x0, x1, chart, theme, px, Math.max(2, Math.floor((x1 - x0) / 70)));
  items.forEach((it, i) => {
    const yRow = top + i * rowH;
    const yBar = yRow + (compact ? px + 4 : 0);
    const yMid = yBar + barH / 2;
    const color = it.other ? theme.other : theme.accent;
    const fill = it.lowBase ? `url(#${id}-hatch-0)` : color;
    const tip = tips.push(tipOf(chart, labelOf(it), it)) - 1;
    // The group's own letter (when bars are the compared groups) follows
    // its label in the letters' colour, as a tab's column header would.
    const suffix = it.groupLetter ? ` (${it.groupLetter})` : "";
    const room = (compact ? width - 4 : labelW - 8) - measure(suffix, px, true);
    const lab = esc(truncate(it.label, room, px, measure)) + (suffix ? `<tspan class="group-letter" fill="${theme.letter}" font-weight="700">${esc(suffix)}</tspan>` : "");
    if (compact) body += `<text class="label" x="0" y="${r1(yRow + px / 2 + 1)}" dy="0.35em" fill="${theme.text}" font-size="${px}" data-tip="${tip}">${lab}</text>`;
    else body += `<text class="label" x="${r1(labelW - 8)}" y="${r1(yMid)}" dy="0.35em" text-anchor="end" fill="${theme.text}" font-size="${px}" data-tip="${tip}">${lab}</text>`;
    if (it.value !== null) {
      const a = scale(Math.min(0, it.value));
      const b = scale(Math.max(0, it.value));
      const cls = "bar" + (it.lowBase ? " low-base" : "") + (it.other ? " other" : "");
      body += `<rect class="${cls}" x="${r1(a)}" y="${r1(yBar)}" width="${r1(Math.max(1, b - a))}" height="${barH}" rx="2" fill="${fill}" stroke="${it.lowBase ? color : "none"}" data-tip="${tip}" aria-label="${esc(tipsText(tips[tip]))}"/>`;
      if (it.other && broken) {
        // Two slanted cuts: the bar goes on beyond the axis.
        const bx = b - 14;
        body += `<g class="bar-break" stroke="${theme.bg}" stroke-width="3"><line x1="${r1(bx)}" y1="${r1(yBar + barH + 2)}" x2="${r1(bx + 5)}" y2="${r1(yBar - 2)}"/><line x1="${r1(bx + 6)}" y1="${r1(yBar + barH + 2)}" x2="${r1(bx + 11)}" y2="${r1(yBar - 2)}"/></g>`;
      }
      let end = b;
      if (it.moe !== null && it.moe !== undefined && it.moe > 0) {
        const [w0, w1] = errorBar(it.value, it.moe, lo, m.pct);
        body += whisker(scale(w0), scale(w1), yMid, barH * 0.7, theme);
        end = Math.max(end, scale(it.value + it.moe));
      }
      body += endLabels(end + 4, yMid, it, chart, theme, measure, px);
    } else {
      body += endLabels(x0 + 4, yMid, it, chart, theme, measure, px, " suppressed");
    }
  });
  refs.forEach((r) => {
    const tip = tips.push(tipOf(chart, "Total (reference, not a category)", r)) - 1;
    body += refLine(scale(r.value), top, plotBottom, `${r.label} ${fmt.value(r.value, m)}`, theme, px, width, tip);
  });
  body += `<text class="axis-title" x="${r1((x0 + x1) / 2)}" y="${plotBottom + 30}" text-anchor="middle" fill="${theme.muted}" font-size="${px - 1}">${esc(axisTitle(chart))}</text>`;
  const defs = patternDefs(id, [theme.accent], theme);
  return { svg: svgOpen(width, height, theme, chart, defs) + body + `</svg>`, width, height, tips };
}

function tipsText(t) {
  return t.replace(/\n/g, "; ");
}

function drawGrouped(chart, opts) {
  const { width, theme, measure, id } = opts;
  const small = !!opts.small;
  const px = small ? 11 : 12;
  const compact = width < 440;
  const tips = [];
  const m = chart.measure;
  const series = chart.series;
  const colors = series.map((_, i) => theme.palette[i % theme.palette.length]);
  const barH = small ? 9 : series.length > 4 ? 10 : 13;
  const inner = 2;
  const clusterGap = small ? 8 : 12;
  const clusters = chart.clusters;
  const entries = series.map((s, i) => ({
    label: s.label,
    letter: s.letter,
    color: colors[i],
    note: [s.untested ? "not tested" : "", s.total && s.total.value !== null ? `total ${fmt.value(s.total.value, m)}` : ""].filter(Boolean).join(", "),
  }));
  if (clusters.some((c) => c.ref)) entries.push({ label: "Total of the category", color: theme.total, dashed: true });
  const leg = legend(entries, width, theme, measure, px, 0, id);
  const all = [];
  for (const c of clusters) for (const it of c.items) if (it) all.push(it);
  const labelW = compact ? 0 : Math.min(Math.max(...clusters.map((c) => measure(c.label, px, false))) + 10, Math.max(80, width * 0.34));
  const endW = Math.max(40, ...all.map((it) => endWidth(it, chart, measure, px - 1)));
  const refs = chart.refs || [];
  const [lo, hi] = domainOf([...all.map((it) => [it.value, it.moe]), ...refs.map((r) => [r.value, 0]), ...clusters.filter((c) => c.ref).map((c) => [c.ref.value, 0])]);
  const x0 = labelW + (compact ? 0 : 6);
  const x1 = width - endW;
  const scale = (v) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0);
  const top = leg.height + 6 + (refs.length ? 18 : 0);
  const clusterH = series.length * (barH + inner) - inner;
  const rowH = (compact ? px + 4 : 0) + clusterH + clusterGap;
  const plotBottom = top + clusters.length * rowH;
  const height = plotBottom + 36;
  let body = leg.svg;
  body += xAxis(scale, lo, hi, top, plotBottom, x0, x1, chart, theme, px, Math.max(2, Math.floor((x1 - x0) / 70)));
  clusters.forEach((c, ci) => {
    const yRow = top + ci * rowH;
    const yc = yRow + (compact ? px + 4 : 0);
    const ctip = tips.push(c.label) - 1;
    if (compact) body += `<text class="label" x="0" y="${r1(yRow + px / 2 + 1)}" dy="0.35em" fill="${theme.text}" font-size="${px}" font-weight="600" data-tip="${ctip}">${esc(truncate(c.label, width - 4, px, measure))}</text>`;
    else body += `<text class="label" x="${r1(labelW - 8)}" y="${r1(yc + clusterH / 2)}" dy="0.35em" text-anchor="end" fill="${theme.text}" font-size="${px}" data-tip="${ctip}">${esc(truncate(c.label, labelW - 8, px, measure))}</text>`;
    c.items.forEach((it, si) => {
      if (!it) return;
      const y = yc + si * (barH + inner);
      const yMid = y + barH / 2;
      const s = series[si];
      const color = c.other ? theme.other : colors[si];
      const tip = tips.push(tipOf(chart, `${c.label} · ${s.letter ? s.letter + " " : ""}${s.label}`, it)) - 1;
      if (it.value === null) {
        body += endLabels(x0 + 4, yMid, it, chart, theme, measure, px - 1, " suppressed");
        return;
      }
      const a = scale(Math.min(0, it.value));
      const b = scale(Math.max(0, it.value));
      const cls = "bar" + (it.lowBase ? " low-base" : "") + (c.other ? " other" : "");
      body += `<rect class="${cls}" data-series="${si}" x="${r1(a)}" y="${r1(y)}" width="${r1(Math.max(1, b - a))}" height="${barH}" rx="1.5" fill="${it.lowBase ? `url(#${id}-hatch-${si})` : color}" stroke="${it.lowBase ? color : "none"}" data-tip="${tip}" aria-label="${esc(tipsText(tips[tip]))}"/>`;
      let end = b;
      if (it.moe !== null && it.moe !== undefined && it.moe > 0) {
        const [w0, w1] = errorBar(it.value, it.moe, lo, m.pct);
        body += whisker(scale(w0), scale(w1), yMid, barH * 0.8, theme);
        end = Math.max(end, scale(it.value + it.moe));
      }
      body += endLabels(end + 3, yMid, it, chart, theme, measure, px - 1);
    });
    if (c.ref) {
      const x = scale(c.ref.value);
      const tip = tips.push(tipOf(chart, `${c.ref.label} (reference, not a bar)`, c.ref)) - 1;
      body += `<g class="total-ref cluster-ref" data-tip="${tip}"><line x1="${r1(x)}" y1="${r1(yc - 3)}" x2="${r1(x)}" y2="${r1(yc + clusterH + 3)}" stroke="${theme.total}" stroke-width="2" stroke-dasharray="4 2"/></g>`;
    }
  });
  refs.forEach((r) => {
    const tip = tips.push(tipOf(chart, "Total (reference, not a category)", r)) - 1;
    body += refLine(scale(r.value), top, plotBottom, `${r.label} ${fmt.value(r.value, m)}`, theme, px, width, tip);
  });
  body += `<text class="axis-title" x="${r1((x0 + x1) / 2)}" y="${plotBottom + 30}" text-anchor="middle" fill="${theme.muted}" font-size="${px - 1}">${esc(axisTitle(chart))}</text>`;
  return { svg: svgOpen(width, height, theme, chart, patternDefs(id, colors, theme)) + body + `</svg>`, width, height, tips };
}

function drawLine(chart, opts) {
  const { width, theme, measure } = opts;
  const small = !!opts.small;
  const px = small ? 11 : 12;
  const tips = [];
  const m = chart.measure;
  const series = chart.series;
  const lines = series.filter((s) => !s.total);
  const colors = series.map((s, i) => (s.total ? theme.total : lines.length === 1 ? theme.accent : theme.palette[i % theme.palette.length]));
  let body = "";
  let top = 8;
  if (series.length > 1) {
    const leg = legend(
      series.map((s, i) => ({ label: s.label, color: colors[i], dashed: s.total })),
      width,
      theme,
      measure,
      px,
      0,
    );
    body += leg.svg;
    top = leg.height + 8;
  }
  if ((chart.refs || []).length) top += 14;
  const points = series.flatMap((s) => s.points);
  const xs = points.map((p) => p.x);
  let xlo = Math.min(...xs);
  let xhi = Math.max(...xs);
  if (xhi === xlo) {
    xlo -= 1;
    xhi += 1;
  }
  const [dlo, dhi] = domainOf([...points.map((p) => [p.value, p.moe]), ...(chart.refs || []).map((r) => [r.value, 0])]);
  const vals = points.map((p) => p.value).filter((v) => v !== null);
  const vmin = Math.min(...vals);
  // Start at zero unless the values sit far from it (a trend of means).
  const ylo = vmin > 0 && vmin > (dhi - vmin) * 2 ? ticks(vmin * 0.95, dhi, 4)[0] : dlo;
  const yt = ticks(ylo, dhi, small ? 3 : 5);
  const yhi = yt[yt.length - 1];
  const ylo2 = yt[0];
  const uniq = [...new Set(xs)].sort((a, b) => a - b);
  const xLabel = (x) => (chart.xType === "time" ? fmt.date(x, chart.monthly) : fmt.label(x));
  // Room for the first and last x labels, centred on their points.
  const half = (x) => measure(xLabel(x), px - 1, false) / 2 + 2;
  const leftW = Math.max(Math.max(...yt.map((t) => measure(fmt.tick(t, m), px - 1, false))) + 8, half(uniq[0]));
  const plotH = small ? 140 : width < 440 ? 180 : 230;
  const x0 = leftW;
  const x1 = width - Math.max(12, half(uniq[uniq.length - 1]));
  const bottom = top + plotH;
  const sx = (x) => x0 + ((x - xlo) / (xhi - xlo)) * (x1 - x0);
  const sy = (v) => bottom - ((v - ylo2) / (yhi - ylo2)) * plotH;
  for (const t of yt) {
    body += `<line class="grid" x1="${x0}" y1="${r1(sy(t))}" x2="${x1}" y2="${r1(sy(t))}" stroke="${t === 0 ? theme.axis : theme.grid}"/>`;
    body += `<text class="tick" x="${x0 - 6}" y="${r1(sy(t))}" dy="0.35em" text-anchor="end" fill="${theme.muted}" font-size="${px - 1}">${esc(fmt.tick(t, m))}</text>`;
  }
  // x ticks: at data points when few, else evenly spaced values.
  const maxLabels = Math.max(2, Math.floor((x1 - x0) / (measure(xLabel(uniq[0]), px - 1, false) + 16)));
  const step = Math.ceil(uniq.length / maxLabels);
  const xt = uniq.filter((_, i) => i % step === 0);
  for (const x of xt) {
    body += `<line x1="${r1(sx(x))}" y1="${bottom}" x2="${r1(sx(x))}" y2="${bottom + 4}" stroke="${theme.axis}"/>`;
    body += `<text class="tick x-tick" x="${r1(sx(x))}" y="${bottom + 16}" text-anchor="middle" fill="${theme.muted}" font-size="${px - 1}">${esc(xLabel(x))}</text>`;
  }
  body += `<line x1="${x0}" y1="${bottom}" x2="${x1}" y2="${bottom}" stroke="${theme.axis}"/>`;
  series.forEach((s, si) => {
    const pts = s.points.filter((p) => p.value !== null);
    if (!pts.length) return;
    const color = colors[si];
    if (pts.some((p) => p.moe)) {
      const clamp = (v) => Math.min(yhi, Math.max(ylo2, v));
      const upper = pts.map((p) => `${r1(sx(p.x))},${r1(sy(clamp(p.value + (p.moe || 0))))}`);
      const lower = pts
        .slice()
        .reverse()
        .map((p) => `${r1(sx(p.x))},${r1(sy(clamp(errorBar(p.value, p.moe || 0, ylo2, false)[0])))}`);
      body += `<polygon class="moe-band" points="${upper.concat(lower).join(" ")}" fill="${color}" fill-opacity="0.14" stroke="none"/>`;
    }
    const d = pts.map((p, i) => `${i ? "L" : "M"}${r1(sx(p.x))},${r1(sy(p.value))}`).join("");
    body += `<path class="line${s.total ? " total-line" : ""}" d="${d}" fill="none" stroke="${color}" stroke-width="${s.total ? 1.8 : 2.2}"${s.total ? ' stroke-dasharray="6 3"' : ""} stroke-linejoin="round"/>`;
    if (pts.length <= 60) {
      for (const p of pts) {
        const tip = tips.push(tipOf(chart, `${s.label} · ${xLabel(p.x)}`, p)) - 1;
        body += `<circle class="point${p.lowBase ? " low-base" : ""}" cx="${r1(sx(p.x))}" cy="${r1(sy(p.value))}" r="${small ? 2.6 : 3.2}" fill="${p.lowBase ? theme.bg : color}" stroke="${color}" stroke-width="1.6" data-tip="${tip}"/>`;
      }
    }
  });
  for (const r of chart.refs || []) {
    const tip = tips.push(tipOf(chart, "Total (reference)", r)) - 1;
    body += `<g class="total-ref" data-tip="${tip}"><line x1="${x0}" y1="${r1(sy(r.value))}" x2="${x1}" y2="${r1(sy(r.value))}" stroke="${theme.total}" stroke-width="1.5" stroke-dasharray="5 3"/>` +
      `<text x="${x1}" y="${r1(sy(r.value) - 5)}" text-anchor="end" fill="${theme.total}" font-size="${px - 1}" font-weight="600">${esc(`Total ${fmt.value(r.value, m)}`)}</text></g>`;
  }
  // Hover: the nearest x shows every line's value there.
  const hover = uniq.map((x) => {
    const lines2 = [xLabel(x)];
    for (const s of series) {
      const p = s.points.find((q) => q.x === x);
      if (p) lines2.push(`${s.label}: ${fmt.precise(p.value, m)}${p.moe ? " " + fmt.moe(p.moe, m) : ""}${p.lowBase ? " (low base, n = " + fmt.integer(p.n ?? 0) + ")" : ""}`);
    }
    return { px: sx(x), text: lines2.join("\n") };
  });
  body += `<rect class="hover-zone" x="${x0}" y="${top}" width="${x1 - x0}" height="${plotH}" fill="transparent"/>`;
  const xName = chart.dim.name;
  body += `<text class="axis-title" x="${r1((x0 + x1) / 2)}" y="${bottom + 32}" text-anchor="middle" fill="${theme.muted}" font-size="${px - 1}">${esc(`${axisTitle(chart).replace(" · whiskers", " · band")} by ${xName}`)}</text>`;
  const height = bottom + 40;
  return { svg: svgOpen(width, height, theme, chart, "") + body + `</svg>`, width, height, tips, hover, plot: { top, bottom } };
}
