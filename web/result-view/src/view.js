// The view's DOM: one card per result (chart or table, toolbar, notes), the
// multi-query summary and failed list, the tooltip, and the exports. It knows
// nothing of the host bridge: main.js hands it results and the two host
// services it needs (download a file, log).

import { analyse, chartOf } from "./model.js";
import { draw, esc } from "./draw.js";
import { csvOf } from "./csv.js";
import * as fmt from "./format.js";

const LIGHT = ["#2563eb", "#ea580c", "#059669", "#db2777", "#7c3aed", "#0891b2", "#a16207", "#64748b"];
const DARK = ["#60a5fa", "#fb923c", "#34d399", "#f472b6", "#a78bfa", "#22d3ee", "#facc15", "#94a3b8"];

/** Creates the view in root. services: { download(name, mime, data, isBase64) → Promise<bool>, log(msg) }. */
export function createView(root, services) {
  const state = { sc: null, model: null, cards: [], width: 0, seq: 0 };
  const tooltip = document.createElement("div");
  tooltip.className = "tooltip";
  tooltip.setAttribute("role", "tooltip");
  tooltip.hidden = true;
  document.body.appendChild(tooltip);

  const canvas = document.createElement("canvas");
  const ctx2d = canvas.getContext("2d");
  const widths = new Map();
  let font = "system-ui, sans-serif";
  let fontSet = "";
  const measure = (text, px, bold) => {
    const key = `${bold ? "b" : ""}${px}|${text}`;
    let w = widths.get(key);
    if (w === undefined) {
      // Setting the canvas font parses it: only when it changes.
      const f = `${bold ? "700 " : ""}${px}px ${font}`;
      if (f !== fontSet) {
        ctx2d.font = f;
        fontSet = f;
      }
      w = ctx2d.measureText(text).width;
      if (widths.size > 20000) widths.clear();
      widths.set(key, w);
    }
    return w;
  };

  function theme() {
    const dark = document.documentElement.dataset.theme === "dark" || (!document.documentElement.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
    const probe = document.createElement("span");
    probe.style.display = "none";
    document.body.appendChild(probe);
    const resolve = (v, fallback) => {
      probe.style.color = fallback;
      probe.style.color = `var(${v}, ${fallback})`;
      return getComputedStyle(probe).color || fallback;
    };
    const t = {
      dark,
      bg: resolve("--color-background-primary", dark ? "#171717" : "#ffffff"),
      text: resolve("--color-text-primary", dark ? "#f5f5f5" : "#171717"),
      muted: resolve("--color-text-secondary", dark ? "#a3a3a3" : "#525252"),
      grid: resolve("--chart-grid", dark ? "#2e2e2e" : "#ececec"),
      axis: resolve("--chart-axis", dark ? "#6b6b6b" : "#a3a3a3"),
      accent: dark ? DARK[0] : LIGHT[0],
      palette: dark ? DARK : LIGHT,
      letter: dark ? "#fbbf24" : "#b45309",
      total: dark ? "#e5e5e5" : "#262626",
      other: dark ? "#737373" : "#a3a3a3",
      whisker: dark ? "#d4d4d4" : "#404040",
    };
    probe.remove();
    font = getComputedStyle(document.body).fontFamily || font;
    t.font = font;
    widths.clear();
    fontSet = "";
    return t;
  }

  function setState(s) {
    root.dataset.state = s;
  }

  function pending(args) {
    if (state.sc) return;
    let what = "Running the query…";
    if (args && Array.isArray(args.queries)) what = `Running ${args.queries.length} ${args.queries.length === 1 ? "query" : "queries"} in parallel…`;
    root.innerHTML = `<div class="status"><span class="spinner" aria-hidden="true"></span>${esc(what)}</div>` + (args && typeof args.query === "string" ? `<pre class="sql">${esc(args.query.slice(0, 600))}</pre>` : "");
    setState("pending");
  }

  function cancelled(reason) {
    if (state.sc) return;
    root.innerHTML = `<div class="status error">The query was cancelled${reason ? ": " + esc(reason) : "."}</div>`;
    setState("cancelled");
  }

  function message(text) {
    root.innerHTML = `<div class="status">${esc(text)}</div>`;
    setState("waiting");
  }

  function render(sc, toolResult) {
    if (!sc || typeof sc !== "object") {
      const text = toolResult && Array.isArray(toolResult.content) ? toolResult.content.filter((c) => c.type === "text").map((c) => c.text).join("\n") : "";
      root.innerHTML = `<div class="status error">${esc(text || "The tool returned no structured result to draw.")}</div>`;
      setState("error");
      return;
    }
    const t0 = performance.now();
    state.sc = sc;
    state.model = analyse(sc);
    state.seq++;
    build();
    // How long the model and the first drawing took (the browser test reports it).
    root.dataset.renderMs = (performance.now() - t0).toFixed(1);
  }

  function build() {
    const model = state.model;
    root.innerHTML = "";
    state.cards = [];
    if (model.multi) {
      const head = document.createElement("header");
      head.className = "summary";
      const time = typeof model.totalMS === "number" ? ` · ${fmt.integer(Math.round(model.totalMS))} ms${model.parallel ? " in parallel" : ""}` : "";
      head.innerHTML =
        `<h1>${model.total} ${model.total === 1 ? "query" : "queries"}</h1>` +
        `<p class="meta"><span class="ok">${model.succeeded} succeeded</span>${model.failed ? ` · <span class="bad">${model.failed} failed</span>` : ""}${time}</p>`;
      root.appendChild(head);
      const failed = model.charts.filter((c) => c.kind === "error");
      if (failed.length) {
        const box = document.createElement("section");
        box.className = "failed";
        box.innerHTML =
          `<h2>Failed (${failed.length})</h2><ol>` +
          failed.map((c) => `<li value="${c.index + 1}"><strong>${esc(c.title)}</strong>: ${esc(c.message)}${c.result.query ? `<code>${esc(c.result.query.slice(0, 300))}</code>` : ""}</li>`).join("") +
          `</ol>`;
        root.appendChild(box);
      }
      const grid = document.createElement("div");
      grid.className = "grid";
      root.appendChild(grid);
      for (const c of model.charts) {
        if (c.kind === "error") continue;
        grid.appendChild(card(c, true));
      }
    } else {
      root.appendChild(card(model.charts[0], false));
    }
    drawAll();
    setState("rendered");
  }

  function card(chart, small) {
    const el = document.createElement("section");
    el.className = "card" + (small ? " small" : "");
    const entry = { el, chart, small, mode: chart.kind === "table" ? "table" : "chart", drawn: null };
    state.cards.push(entry);
    fillCard(entry);
    return el;
  }

  function fillCard(entry) {
    const { el, chart, small } = entry;
    const r = chart.result;
    el.dataset.kind = chart.kind;
    el.dataset.index = String(chart.index);
    const title = small ? `${chart.index + 1}. ${chart.title}` : chart.title;
    const bits = [];
    if (r.dataset) bits.push(r.dataset);
    if (chart.kind !== "error") bits.push(`${fmt.integer(r.row_count ?? (r.rows || []).length)} ${(r.row_count ?? 0) === 1 ? "row" : "rows"}${r.truncated ? " (capped)" : ""}`);
    if (typeof r.time_ms === "number") bits.push(`${fmt.integer(Math.round(r.time_ms))} ms`);
    if (r.weighting) bits.push(r.weighting.applied ? "weighted" : "unweighted");
    if (r.cached) bits.push("cached");
    let html = `<header><h2 class="title">${esc(title)}</h2><p class="meta">${esc(bits.join(" · "))}</p></header>`;
    if (chart.kind === "error") {
      html += `<div class="status error">${esc(chart.message)}</div>`;
      el.innerHTML = html;
      return;
    }
    if (chart.kind === "empty") {
      html += `<div class="status">The query returned no rows.</div>`;
      el.innerHTML = html;
      return;
    }
    const canChart = chart.kind !== "table";
    html += `<div class="toolbar" role="toolbar" aria-label="Result actions">`;
    if (canChart) {
      html +=
        `<div class="seg" role="group" aria-label="View">` +
        `<button type="button" data-act="chart" aria-pressed="${entry.mode === "chart"}">Chart</button>` +
        `<button type="button" data-act="table" aria-pressed="${entry.mode === "table"}">Table</button></div>`;
      if (chart.measures.length > 1) {
        html +=
          `<select data-act="measure" aria-label="Figure to draw">` +
          chart.measures.slice(0, 10).map((m) => `<option value="${esc(m.name)}"${m.name === chart.measure.name ? " selected" : ""}>${esc(m.label)}</option>`).join("") +
          `</select>`;
      }
    }
    html += `<span class="spacer"></span><span class="exports"><button type="button" data-act="csv" title="Copy every row as CSV">${small ? "CSV" : "Copy CSV"}</button>`;
    if (canChart) html += `<button type="button" data-act="png" title="Download the chart as PNG">PNG</button><button type="button" data-act="svg" title="Download the chart as SVG">SVG</button>`;
    html += `</span></div><div class="figure"></div><div class="after"></div>`;
    el.innerHTML = html;
    el.querySelector(".toolbar").addEventListener("click", (ev) => {
      const b = ev.target.closest("button");
      if (!b) return;
      act(entry, b.dataset.act, b);
    });
    const sel = el.querySelector("select[data-act=measure]");
    if (sel)
      sel.addEventListener("change", () => {
        entry.chart = chartOf(r, { small, index: chart.index, measureName: sel.value });
        entry.chart.title = chart.title;
        drawCard(entry);
      });
    const fig = el.querySelector(".figure");
    fig.addEventListener("pointermove", (ev) => hover(entry, ev));
    fig.addEventListener("pointerdown", (ev) => hover(entry, ev));
    fig.addEventListener("pointerleave", () => hideTip(entry));
  }

  function afterHTML(chart, mode) {
    let html = "";
    if (chart.why) html += `<p class="why">${esc(chart.why)}</p>`;
    if (chart.tailNote) html += `<p class="tail-note">${esc(chart.tailNote)}</p>`;
    const low = (chart.items || []).some((i) => i.lowBase) || (chart.clusters || []).some((c) => c.items.some((i) => i && i.lowBase)) || (chart.series || []).some((s) => (s.points || []).some((p) => p.lowBase));
    if (low && mode === "chart") html += `<p class="low-note"><span class="hatch-key" aria-hidden="true"></span>${chart.kind === "line" ? "Hollow points" : "Hatched bars"}: low base, read with caution (hover for n).</p>`;
    if (chart.sig && mode === "chart" && chart.kind !== "line") {
      const s = chart.sig;
      let t = `Letters: significantly higher than the group with that letter (${s.compareBy ? esc(s.compareBy) + ", " : ""}α = ${s.alpha ?? 0.05}${s.correction === "bonferroni" ? ", Bonferroni-corrected" : ""}).`;
      const un = (s.groups || []).filter((g) => g.tested === false).map((g) => g.letter);
      if (un.length) t += ` Not tested (low base): ${un.join(", ")}.`;
      if (s.overall && typeof s.overall.p === "number") {
        // "Rao-Scott F test: F(1.98, 39,120.4) = 4.81, p = 0.008."
        const o = s.overall;
        const name = String(o.test || "Overall").replace(/\s*F$/, "");
        const df = typeof o.df1 === "number" && typeof o.df2 === "number" ? `(${fmt.cell(r2(o.df1))}, ${fmt.cell(r2(o.df2))})` : "";
        t += ` ${esc(name)} F test: ${typeof o.f === "number" ? `F${df} = ${o.f.toFixed(2)}, ` : ""}p ${o.p < 0.001 ? "< 0.001" : "= " + o.p.toFixed(3)}.`;
      }
      html += `<p class="sig-note">${t}</p>`;
    }
    if (chart.notes && chart.notes.length) html += `<ul class="notes">${chart.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`;
    return html;
  }

  function r2(x) {
    return Math.round(x * 100) / 100;
  }

  function drawAll() {
    const t = theme();
    state.theme = t;
    // Read every width first (one layout), then draw: reading a width after
    // each drawing would lay the page out once per chart.
    const widths = state.cards.map((entry) => {
      const fig = entry.el.querySelector(".figure");
      return fig ? fig.clientWidth || entry.el.clientWidth : 0;
    });
    state.cards.forEach((entry, i) => drawCard(entry, widths[i]));
  }

  function drawCard(entry, knownWidth) {
    const { el, chart } = entry;
    const fig = el.querySelector(".figure");
    if (!fig) return;
    const after = el.querySelector(".after");
    for (const b of el.querySelectorAll(".seg button")) b.setAttribute("aria-pressed", String(b.dataset.act === entry.mode));
    el.dataset.mode = entry.mode;
    if (entry.mode === "table") {
      fig.innerHTML = tableHTML(chart.result);
      entry.drawn = null;
    } else {
      const width = Math.max(200, Math.floor(knownWidth || fig.clientWidth || el.clientWidth || 600));
      entry.drawn = draw(chart, { width, theme: state.theme, measure, id: `c${state.seq}-${chart.index}`, small: entry.small });
      fig.innerHTML = entry.drawn ? entry.drawn.svg : "";
    }
    after.innerHTML = afterHTML(chart, entry.mode);
    const ta = el.querySelector(".csv-fallback");
    if (ta) ta.remove();
  }

  function tableHTML(r) {
    const cols = r.columns || [];
    const ti = cols.findIndex((c) => c.name === "is_total");
    const li = cols.findIndex((c) => c.name === "low_base");
    const numeric = cols.map((c, i) => /int|double|real|numeric|decimal|float/i.test(c.type || "") || (r.rows || []).some((row) => typeof row[i] === "number"));
    const parts = [`<div class="table-wrap" tabindex="0"><table><thead><tr>`];
    const legend = new Map(((r.weighting && r.weighting.legend) || []).map((t) => [t.column, t.meaning]));
    cols.forEach((c, i) => parts.push(`<th${numeric[i] ? ' class="num"' : ""} scope="col"${legend.has(c.name) ? ` title="${esc(legend.get(c.name))}"` : ""}>${esc(c.name)}</th>`));
    parts.push(`</tr></thead><tbody>`);
    for (const row of r.rows || []) {
      const cls = [ti >= 0 && row[ti] === true ? "total" : "", li >= 0 && row[li] === true ? "low-base" : ""].filter(Boolean).join(" ");
      parts.push(cls ? `<tr class="${cls}"${cls.includes("low-base") ? ' title="Low base: read with caution"' : ""}>` : `<tr>`);
      for (let i = 0; i < cols.length; i++) {
        const v = row[i];
        parts.push(`<td${numeric[i] ? ' class="num"' : ""}${v === null ? ' data-null=""' : ""}>${esc(fmt.cell(v))}</td>`);
      }
      parts.push(`</tr>`);
    }
    parts.push(`</tbody></table></div>`);
    return parts.join("");
  }

  function act(entry, what, button) {
    if (what === "chart" || what === "table") {
      entry.mode = what;
      drawCard(entry);
    } else if (what === "csv") {
      copyCSV(entry, button);
    } else if (what === "svg" || what === "png") {
      exportChart(entry, what, button);
    }
  }

  function flash(button, text) {
    const old = button.dataset.label || button.textContent;
    button.dataset.label = old;
    button.textContent = text;
    clearTimeout(button._t);
    button._t = setTimeout(() => (button.textContent = old), 1600);
  }

  async function copyCSV(entry, button) {
    const text = csvOf(entry.chart.result);
    try {
      await navigator.clipboard.writeText(text);
      flash(button, "Copied");
      return;
    } catch {
      // The host may not grant clipboard-write: fall back to a selection.
    }
    // Without clipboard access: select the CSV in a box the user can copy
    // from (one box per card; it goes away with the next redraw).
    let ta = entry.el.querySelector(".csv-fallback");
    if (!ta) {
      ta = document.createElement("textarea");
      ta.setAttribute("readonly", "");
      ta.setAttribute("aria-label", "CSV of the result");
      ta.className = "csv-fallback";
      entry.el.appendChild(ta);
    }
    ta.value = text;
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    if (ok) {
      ta.remove();
      flash(button, "Copied");
    } else {
      flash(button, "Select & copy below");
    }
  }

  function fileName(entry, ext) {
    const base = (entry.chart.title || "mcp-analytics-result")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 60);
    return `${base || "chart"}.${ext}`;
  }

  /** The chart as a standalone SVG: title, source line and notes included. */
  function exportSVG(entry) {
    const t = state.theme;
    const chart = entry.chart;
    const width = Math.max(640, entry.drawn ? entry.drawn.width : 640);
    const inner = draw(chart, { width: width - 32, theme: t, measure, id: `x${state.seq}-${chart.index}`, small: false });
    const r = chart.result;
    const source = ["Source: mcp-analytics", r.dataset, r.weighting && r.weighting.applied ? `weighted by ${r.weighting.weight_column || "the panel weight"}` : "unweighted"].filter(Boolean).join(" · ");
    const foot = [chart.tailNote, ...(chart.notes || []).filter((n) => /low base|cut|capped|suppress/i.test(n))].filter(Boolean).map((n) => (n.length > 150 ? n.slice(0, 149) + "…" : n));
    const head = 52;
    const height = head + inner.height + 16 + (foot.length + 1) * 16;
    let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${esc(t.font)}">`;
    svg += `<rect width="100%" height="100%" fill="${t.bg}"/>`;
    svg += `<text x="16" y="26" font-size="16" font-weight="700" fill="${t.text}">${esc(chart.title)}</text>`;
    svg += `<text x="16" y="43" font-size="11" fill="${t.muted}">${esc(chart.measure.label)}${chart.measure.error ? " with 95% margins of error" : ""}</text>`;
    svg += `<g transform="translate(16 ${head})">${inner.svg}</g>`;
    let y = head + inner.height + 18;
    for (const n of foot) {
      svg += `<text x="16" y="${y}" font-size="10.5" fill="${t.muted}">${esc(n)}</text>`;
      y += 16;
    }
    svg += `<text x="16" y="${y}" font-size="10.5" fill="${t.muted}">${esc(source)}</text></svg>`;
    return { svg, width, height };
  }

  async function exportChart(entry, kind, button) {
    if (!entry.drawn && entry.chart.kind === "table") return;
    const { svg, width, height } = exportSVG(entry);
    try {
      let ok;
      if (kind === "svg") {
        ok = await services.download(fileName(entry, "svg"), "image/svg+xml", svg, false);
      } else {
        const png = await toPNG(svg, width, height);
        ok = await services.download(fileName(entry, "png"), "image/png", png, true);
      }
      flash(button, ok ? "Saved" : "Blocked");
    } catch (err) {
      services.log(`export ${kind}: ${err && err.message ? err.message : err}`);
      flash(button, "Failed");
    }
  }

  function toPNG(svg, width, height) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => {
        const scale = 2;
        const c = document.createElement("canvas");
        c.width = width * scale;
        c.height = height * scale;
        const g = c.getContext("2d");
        g.scale(scale, scale);
        g.drawImage(img, 0, 0, width, height);
        const url = c.toDataURL("image/png");
        resolve(url.slice(url.indexOf(",") + 1));
      };
      img.onerror = () => reject(new Error("the SVG could not be drawn"));
      img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
    });
  }

  // Tooltip: bars, labels and references carry data-tip (an index into the
  // drawn chart's tips); a line chart's hover zone snaps to the nearest x.
  function hover(entry, ev) {
    const d = entry.drawn;
    if (!d) return;
    const target = ev.target.closest ? ev.target.closest("[data-tip]") : null;
    let text = null;
    if (target) text = d.tips[+target.dataset.tip];
    else if (d.hover && ev.target.classList && ev.target.classList.contains("hover-zone")) {
      const svg = entry.el.querySelector("svg");
      const box = svg.getBoundingClientRect();
      const x = ((ev.clientX - box.left) / box.width) * d.width;
      let best = d.hover[0];
      for (const h of d.hover) if (Math.abs(h.px - x) < Math.abs(best.px - x)) best = h;
      text = best.text;
      guide(entry, svg, best.px, d);
    }
    if (!text) return hideTip(entry, true);
    tooltip.textContent = text;
    tooltip.hidden = false;
    const pad = 12;
    const w = tooltip.offsetWidth;
    const h = tooltip.offsetHeight;
    let x = ev.clientX + pad;
    let y = ev.clientY + pad;
    if (x + w > window.innerWidth - 4) x = Math.max(4, ev.clientX - w - pad);
    if (y + h > window.innerHeight - 4) y = Math.max(4, ev.clientY - h - pad);
    tooltip.style.left = `${x}px`;
    tooltip.style.top = `${y}px`;
  }

  function guide(entry, svg, x, d) {
    let g = svg.querySelector(".guide");
    if (!g) {
      g = document.createElementNS("http://www.w3.org/2000/svg", "line");
      g.setAttribute("class", "guide");
      g.setAttribute("stroke", state.theme.axis);
      g.setAttribute("stroke-dasharray", "3 3");
      g.setAttribute("pointer-events", "none");
      svg.appendChild(g);
    }
    g.setAttribute("x1", x);
    g.setAttribute("x2", x);
    g.setAttribute("y1", d.plot.top);
    g.setAttribute("y2", d.plot.bottom);
  }

  function hideTip(entry, keepGuide) {
    tooltip.hidden = true;
    if (!keepGuide) {
      const g = entry.el.querySelector(".guide");
      if (g) g.remove();
    }
  }

  // Redraw when the width changes (the host resized us) or the theme does.
  let frame = 0;
  const ro = new ResizeObserver(() => {
    const w = root.clientWidth;
    if (w === state.width) return;
    state.width = w;
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => state.model && drawAll());
  });
  ro.observe(root);

  return {
    pending,
    cancelled,
    message,
    render,
    retheme: () => state.model && drawAll(),
    rendered: () => !!state.model,
  };
}
