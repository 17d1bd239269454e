// Package admin is the admin console served at /admin by the same binary
// as /mcp: server-rendered html/template pages over the query log, the
// datasets, their profiles and the API tokens, with the stylesheet
// embedded (no CDN, no build step, no JavaScript) and charts drawn on the
// server as inline SVG, each with a table beside it.
//
// Access follows /mcp's policy. With no tokens and no OAuth on a loopback
// listener the console is open (a banner says so) to requests whose Host
// is loopback (the DNS-rebinding defence /mcp has). Otherwise a visitor
// signs in with an API token holding the admin scope and gets a session
// cookie: HttpOnly, SameSite=Strict, Secure behind TLS, path /admin,
// signed with a key kept in the catalog store (so every replica sharing
// the store accepts it) and expiring after Options.SessionTTL. The token
// is checked again on every request: revoking it ends its sessions.
//
// Every state-changing request is a POST carrying a CSRF token derived
// from the session's nonce; cross-site requests are also refused by
// [http.CrossOriginProtection]. Responses carry a Content-Security-Policy
// that allows no script at all, frame-ancestors 'none' and nosniff.
//
// The console reuses the code paths of the tools and the CLI: dataset
// lists, schemas, samples and level-3 context come from
// [analysis.Service]; "Try it" calls query_dataset on the very MCP server
// the assistants use, through an in-memory client, so the guard,
// weighting, caps and Markdown are exactly theirs (and the call is in the
// query log as client "admin console"). Every admin action is written into
// the query log as a record of kind [catalog.KindAdmin] naming who did it.
package admin
