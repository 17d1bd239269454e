// Builds the MCP Apps view into one self-contained HTML file that the Go
// server embeds (internal/mcpapp/result.html), and the test host page the
// browser test drives (internal/mcpapp/testdata/host.html).
//
//   node build.mjs          write both files
//   node build.mjs --check  exit 1 when a committed file differs from its sources
//
// Both are plain esbuild bundles: minified, no source maps, no network at
// run time. Two trims keep the view small: zod keeps only its English
// messages, and the MCP client package (of which the bridge needs only its
// Protocol class) is marked free of side effects so unused parts drop out.

import * as esbuild from "esbuild";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const targets = [
  {
    entry: "src/main.js",
    template: "src/index.html",
    style: "src/style.css",
    out: path.join(repo, "internal/mcpapp/result.html"),
  },
  {
    entry: "host/host.js",
    template: "host/host.html",
    out: path.join(repo, "internal/mcpapp/testdata/host.html"),
  },
];

const trim = {
  name: "trim",
  setup(build) {
    build.onResolve({ filter: /locales\/index\.js$/ }, (args) => {
      if (!args.importer.includes(`${path.sep}zod${path.sep}`)) return undefined;
      return { path: path.join(here, "src/zod-locales.js") };
    });
    build.onResolve({ filter: /^zod\/v4\/locales\/en\.js$/ }, () => ({ path: path.join(here, "node_modules/zod/v4/locales/en.js") }));
    build.onResolve({ filter: /^@modelcontextprotocol\/client$/ }, () => ({
      path: path.join(here, "node_modules/@modelcontextprotocol/client/dist/index.mjs"),
      sideEffects: false,
    }));
  },
};

async function bundle(t) {
  const res = await esbuild.build({
    entryPoints: [path.join(here, t.entry)],
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: ["es2022"],
    legalComments: "none",
    write: false,
    plugins: [trim],
    logLevel: "warning",
  });
  let js = res.outputFiles[0].text.replace(/<\/script/gi, "<\\/script");
  let css = "";
  if (t.style) {
    const src = await readFile(path.join(here, t.style), "utf8");
    css = (await esbuild.transform(src, { loader: "css", minify: true })).code.trim();
  }
  const template = await readFile(path.join(here, t.template), "utf8");
  const html = template
    .replace("<!doctype html>", "<!doctype html>\n<!-- Built from web/result-view by build.mjs: edit the sources there and rebuild. -->")
    .replace("/*STYLE*/", () => css)
    .replace("/*SCRIPT*/", () => js.trim());
  return html;
}

const check = process.argv.includes("--check");
let stale = 0;
for (const t of targets) {
  const html = await bundle(t);
  const rel = path.relative(repo, t.out);
  if (check) {
    let old = "";
    try {
      old = await readFile(t.out, "utf8");
    } catch {
      old = "";
    }
    if (old !== html) {
      console.error(`${rel} does not match its sources: run "npm run build" in web/result-view and commit it`);
      stale++;
    } else {
      console.log(`${rel} matches its sources (${html.length} bytes)`);
    }
  } else {
    await writeFile(t.out, html);
    console.log(`wrote ${rel} (${html.length} bytes)`);
  }
}
process.exit(stale ? 1 : 0);
