// CSV of a result, every row and column as the query returned them
// (RFC 4180 quoting; numbers unformatted so a spreadsheet reads them).

export function csvOf(r) {
  const cols = r.columns || [];
  const lines = [cols.map((c) => quote(c.name)).join(",")];
  for (const row of r.rows || []) {
    lines.push(row.map((v) => quote(v)).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

function quote(v) {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" || typeof v === "boolean" ? String(v) : String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
