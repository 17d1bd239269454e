// Entry point of the view: connects to the host through the MCP Apps bridge
// (@modelcontextprotocol/ext-apps), follows the host's theme and container,
// and hands tool results to the view. The bridge reports our size to the
// host (autoResize) whenever the content changes.

import { App, applyDocumentTheme, applyHostFonts, applyHostStyleVariables } from "@modelcontextprotocol/ext-apps";
import { createView } from "./view.js";

const root = document.getElementById("root");
let app;

const view = createView(root, {
  async download(name, mimeType, data, isBase64) {
    const caps = app && app.getHostCapabilities ? app.getHostCapabilities() : null;
    if (caps && caps.downloadFile) {
      const resource = { uri: `file:///${name}`, mimeType };
      if (isBase64) resource.blob = data;
      else resource.text = data;
      const res = await app.downloadFile({ contents: [{ type: "resource", resource }] });
      return !(res && res.isError);
    }
    // Hosts without ui/download-file: a plain link, which works where the
    // sandbox allows downloads.
    const a = document.createElement("a");
    a.download = name;
    a.href = isBase64 ? `data:${mimeType};base64,${data}` : `data:${mimeType};charset=utf-8,${encodeURIComponent(data)}`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    return true;
  },
  log(msg) {
    if (app) app.sendLog({ level: "warning", logger: "mcp-analytics-view", data: msg }).catch(() => {});
  },
});

function applyContext(ctx) {
  if (!ctx) return;
  if (ctx.theme) applyDocumentTheme(ctx.theme);
  if (ctx.styles && ctx.styles.variables) applyHostStyleVariables(ctx.styles.variables);
  if (ctx.styles && ctx.styles.css && ctx.styles.css.fonts) applyHostFonts(ctx.styles.css.fonts);
  const dims = ctx.containerDimensions;
  const html = document.documentElement;
  if (dims && typeof dims.height === "number") {
    html.classList.add("fixed-height");
    html.style.maxHeight = "";
  } else {
    html.classList.remove("fixed-height");
    html.style.maxHeight = dims && typeof dims.maxHeight === "number" ? `${dims.maxHeight}px` : "";
  }
  const inset = ctx.safeAreaInsets;
  if (inset) document.body.style.padding = `${inset.top}px ${inset.right}px ${inset.bottom}px ${inset.left}px`;
  view.retheme();
}

app = new App({ name: "mcp-analytics result view", version: "1.0.0" }, {}, { autoResize: true });
app.ontoolinput = (p) => view.pending(p && p.arguments);
app.ontoolresult = (r) => view.render(r && r.structuredContent, r);
app.ontoolcancelled = (p) => view.cancelled(p && p.reason);
app.onhostcontextchanged = () => applyContext(app.getHostContext());
app.onteardown = async () => ({});

view.message("Waiting for a query result…");
app
  .connect()
  .then(() => applyContext(app.getHostContext()))
  .catch(() => {
    // Not inside an MCP Apps host. ChatGPT's Apps SDK globals, when present,
    // still carry the tool output.
    const openai = window.openai;
    if (openai && openai.toolOutput) view.render(openai.toolOutput);
    else view.message("This view shows mcp-analytics query results inside an MCP Apps host.");
  });

if (typeof window !== "undefined") {
  window.addEventListener("openai:set_globals", () => {
    const openai = window.openai;
    if (openai && openai.toolOutput && !view.rendered()) view.render(openai.toolOutput);
  });
}
