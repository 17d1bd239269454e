// A minimal MCP Apps host for the browser test (internal/mcpapp): a real MCP
// client (@modelcontextprotocol/client over Streamable HTTP) connects to the
// Go server on this page's origin, and ext-apps' AppBridge runs the view in
// a sandboxed iframe under the CSP built from the resource's _meta.ui.csp,
// as a web host does. The Go test drives it through window.mcpaHost.

import { AppBridge, PostMessageTransport, getToolUiResourceUri, RESOURCE_MIME_TYPE } from "@modelcontextprotocol/ext-apps/app-bridge";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const HOST = { name: "mcpa-test-host", version: "1.0.0" };
const EXTENSION = "io.modelcontextprotocol/ui";

// Theme variables as a host passes them (a subset of the standard keys).
const THEMES = {
  light: {
    "--color-background-primary": "#ffffff",
    "--color-background-secondary": "#f4f4f2",
    "--color-text-primary": "#1a1a18",
    "--color-text-secondary": "#5e5d59",
    "--color-border-primary": "#d1d0cb",
    "--color-border-secondary": "#e6e5e0",
    "--font-sans": "system-ui, sans-serif",
  },
  dark: {
    "--color-background-primary": "#262624",
    "--color-background-secondary": "#30302e",
    "--color-text-primary": "#f5f4ef",
    "--color-text-secondary": "#b7b5a9",
    "--color-border-primary": "#4a4945",
    "--color-border-secondary": "#3b3a37",
    "--font-sans": "system-ui, sans-serif",
  },
};

/** The CSP a host builds from _meta.ui.csp (MCP Apps, "Security Implications"). */
function cspOf(csp) {
  const res = (csp && csp.resourceDomains) || [];
  const conn = (csp && csp.connectDomains) || [];
  const frames = (csp && csp.frameDomains) || [];
  const base = (csp && csp.baseUriDomains) || [];
  return [
    "default-src 'none'",
    `script-src 'unsafe-inline' ${res.join(" ")}`,
    `style-src 'unsafe-inline' ${res.join(" ")}`,
    `connect-src ${conn.length ? conn.join(" ") : "'none'"}`,
    `img-src data: ${res.join(" ")}`,
    `font-src ${res.length ? res.join(" ") : "'none'"}`,
    `media-src data: ${res.join(" ")}`,
    `frame-src ${frames.length ? frames.join(" ") : "'none'"}`,
    "object-src 'none'",
    `base-uri ${base.length ? base.join(" ") : "'none'"}`,
  ].join("; ");
}

const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const views = new Map();
let client = null;
let tools = [];

const host = {
  downloads: [],
  logs: [],

  /** Connects the MCP client; announce adds the MCP Apps extension. */
  async connect(announce = true) {
    client = new Client(HOST, { capabilities: announce ? { extensions: { [EXTENSION]: { mimeTypes: [RESOURCE_MIME_TYPE] } } } : {} });
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", location.href), { requestInit: { headers } }));
    tools = (await client.listTools()).tools;
    return tools.map((t) => ({ name: t.name, resourceUri: getToolUiResourceUri(t) || null, meta: t._meta || null }));
  },

  /**
   * Shows a tool's result in its view: calls the tool (or takes result, a
   * hand-made CallToolResult), reads the view's resource, and runs it.
   */
  async show({ id = "view", tool = "query_dataset", args = {}, result = null, theme = "light", width = 640 }) {
    const t = tools.find((x) => x.name === tool);
    if (!t) throw new Error(`no tool ${tool}`);
    const uri = getToolUiResourceUri(t);
    if (!uri) throw new Error(`${tool} has no view`);
    const read = await client.readResource({ uri });
    const content = read.contents[0];
    if (content.mimeType !== RESOURCE_MIME_TYPE) throw new Error(`view has MIME type ${content.mimeType}`);
    const ui = (content._meta && content._meta.ui) || {};
    const policy = cspOf(ui.csp);
    const html = content.text.replace(/<head>/i, `<head><meta http-equiv="Content-Security-Policy" content="${policy}">`);

    document.body.style.background = THEMES[theme]["--color-background-secondary"];
    const box = document.createElement("div");
    box.className = "frame";
    box.id = id;
    box.style.width = `${width}px`;
    box.style.background = THEMES[theme]["--color-background-primary"];
    const iframe = document.createElement("iframe");
    iframe.setAttribute("sandbox", "allow-scripts");
    iframe.name = id;
    iframe.title = `${tool} result`;
    box.appendChild(iframe);
    document.getElementById("frames").appendChild(box);

    const sizes = [];
    const bridge = new AppBridge(
      client,
      HOST,
      { openLinks: {}, serverTools: {}, serverResources: {}, logging: {}, downloadFile: {} },
      {
        hostContext: {
          theme,
          styles: { variables: THEMES[theme] },
          displayMode: "inline",
          availableDisplayModes: ["inline"],
          containerDimensions: { width, maxHeight: 6000 },
          platform: "web",
          locale: "en-US",
        },
      },
    );
    bridge.onsizechange = ({ width: w, height }) => {
      sizes.push({ width: w, height });
      if (height !== undefined) iframe.style.height = `${height}px`;
    };
    bridge.ondownloadfile = async (params) => {
      for (const c of params.contents || []) {
        const r = c.resource || {};
        const data = r.blob || r.text || "";
        host.downloads.push({ view: id, uri: r.uri, mimeType: r.mimeType, size: data.length, head: data.slice(0, 64), data, base64: !!r.blob });
      }
      return {};
    };
    bridge.onloggingmessage = (p) => host.logs.push(p);
    const initialized = new Promise((resolve) => (bridge.oninitialized = resolve));
    await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
    iframe.srcdoc = html;
    await initialized;
    await bridge.sendToolInput({ arguments: args });
    const res = result || (await client.callTool({ name: tool, arguments: args }));
    await bridge.sendToolResult(res);
    views.set(id, { bridge, iframe, box, sizes, theme });
    return { isError: !!res.isError, structuredContent: res.structuredContent ?? null, text: (res.content || []).map((c) => c.text || "").join("\n"), policy };
  },

  /** Changes a view's theme, as a host does when the user switches. */
  async setTheme(id, theme) {
    const v = views.get(id);
    v.box.style.background = THEMES[theme]["--color-background-primary"];
    await v.bridge.sendHostContextChange({ theme, styles: { variables: THEMES[theme] } });
  },

  /** Resizes a view's container. */
  async setWidth(id, width) {
    const v = views.get(id);
    v.box.style.width = `${width}px`;
    await v.bridge.sendHostContextChange({ containerDimensions: { width, maxHeight: 6000 } });
  },

  sizes(id) {
    return views.get(id).sizes;
  },

  async readResource(uri) {
    return client.readResource({ uri });
  },
};

window.mcpaHost = host;
window.mcpaHostReady = true;
