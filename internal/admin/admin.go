package admin

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/querylog"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// Prefix is where the console is mounted.
const Prefix = "/admin"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options are the console's dependencies: the same values the MCP server
// is built from.
type Options struct {
	Store    catalog.Store
	Registry *dataset.Registry
	Service  *analysis.Service
	// MCP is the server the assistants call; "Try it" calls its
	// query_dataset tool through an in-memory client.
	MCP *mcp.Server
	// QueryLog receives the admin events.
	QueryLog *querylog.Writer
	// Auth checks sign-in tokens; nil (or an authenticator that does not
	// require tokens) leaves the console open on loopback.
	Auth *auth.Authenticator
	// Loopback reports that the server listens on loopback only: without
	// auth the console is open only then.
	Loopback bool
	// Limits are the server's default limits (connection tests use their
	// connect timeout).
	Limits config.Limits
	// SessionTTL is how long a sign-in lasts; 12h when 0.
	SessionTTL time.Duration
	// Instance names this process in the admin events (host:pid).
	Instance string
	Logger   *slog.Logger
}

// Console serves the admin pages.
type Console struct {
	opts  Options
	log   *slog.Logger
	pages map[string]*template.Template
	keys  *keyRing
	now   func() time.Time

	// examples caches level 3's example queries per dataset: they are run
	// to be checked, which costs more than the rest of the page.
	exMu     sync.Mutex
	examples map[int64]cachedExamples

	dashMu sync.Mutex
	dash   map[string]cachedDashboard // by range key
}

type cachedExamples struct {
	key string
	at  time.Time
	ex  []result.ContextExample
}

// New builds the console. It reads (or creates) the session signing key in
// the catalog store.
func New(ctx context.Context, opts Options) (*Console, error) {
	if opts.Store == nil || opts.Registry == nil || opts.Service == nil || opts.MCP == nil || opts.QueryLog == nil {
		return nil, errors.New("admin console: store, registry, service, MCP server and query log are required")
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Console{opts: opts, log: log.With("component", "admin"), now: time.Now, examples: map[int64]cachedExamples{}, dash: map[string]cachedDashboard{}}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if c.keys, err = newKeyRing(ctx, opts.Store); err != nil {
		return nil, err
	}
	return c, nil
}

// pageNames are the templates that are whole pages (each combined with
// layout.html).
var pageNames = []string{"dashboard", "log", "logdetail", "tokens", "datasets", "datasetnew", "dataset", "datasetedit",
	"datasetremove", "try", "signin", "error"}

func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("admin templates: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}

// Handler serves the console under [Prefix]. Mount it at Prefix+"/" (and
// Prefix, which redirects).
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET "+Prefix+"/signin", c.signinPage)
	mux.HandleFunc("POST "+Prefix+"/signin", c.signin)
	mux.HandleFunc("POST "+Prefix+"/signout", c.signout)

	page := func(pattern string, h func(http.ResponseWriter, *http.Request, *session)) {
		mux.Handle(pattern, c.authed(h))
	}
	page("GET "+Prefix+"/{$}", c.dashboard)
	page("GET "+Prefix+"/log", c.logPage)
	page("GET "+Prefix+"/log.csv", c.logCSV)
	page("GET "+Prefix+"/log/{id}", c.logDetail)
	page("GET "+Prefix+"/tokens", c.tokensPage)
	page("POST "+Prefix+"/tokens", c.tokenCreate)
	page("POST "+Prefix+"/tokens/{id}/revoke", c.tokenRevoke)
	page("GET "+Prefix+"/datasets", c.datasetsPage)
	page("GET "+Prefix+"/datasets/new", c.datasetNewPage)
	page("POST "+Prefix+"/datasets", c.datasetAdd)
	page("GET "+Prefix+"/datasets/{id}", c.datasetPage)
	page("GET "+Prefix+"/datasets/{id}/edit", c.datasetEditPage)
	page("POST "+Prefix+"/datasets/{id}", c.datasetEdit)
	page("POST "+Prefix+"/datasets/{id}/test", c.datasetTest)
	page("POST "+Prefix+"/datasets/{id}/profile", c.datasetProfile)
	page("GET "+Prefix+"/datasets/{id}/remove", c.datasetRemovePage)
	page("POST "+Prefix+"/datasets/{id}/remove", c.datasetRemove)
	page("GET "+Prefix+"/try", c.tryPage)
	page("POST "+Prefix+"/try", c.try)
	mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
	})
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, http.StatusNotFound, "There is no such page.")
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.log.InfoContext(r.Context(), "refused a cross-origin admin request", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		c.fail(w, r, nil, http.StatusForbidden, "Cross-site requests are refused.")
	}))
	return securityHeaders(cop.Handler(mux))
}

// csp allows nothing but the console's own stylesheet, forms posting to
// itself and inline SVG (which is markup, not a fetched image).
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// startKey carries when the request arrived, for the Server-Timing header.
type startKey struct{}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), startKey{}, time.Now()))
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, Prefix+"/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string
	Session *session
	CSRF    string
	// Open is set when the console is open without sign-in.
	Open  bool
	Flash string
	Error string
	Data  any
}

// render writes page name with data. The page is rendered into a buffer
// first, so a template error is a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name, title string, data any) {
	start := time.Now()
	v := view{Title: title, Nav: name, Session: s, Data: data, Flash: flashText(r.URL.Query().Get("done"))}
	if s != nil {
		v.CSRF = c.keys.csrf(s.Nonce)
		v.Open = s.Open
	}
	if e, ok := data.(interface{ FormError() string }); ok {
		v.Error = e.FormError()
	}
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		c.log.ErrorContext(r.Context(), "render admin page", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Server-Timing reports the time spent in the handler (reading the
	// catalog, the log, the datasets) and in the template, in ms.
	st := fmt.Sprintf("render;dur=%.2f", float64(time.Since(start).Microseconds())/1000)
	if t0, ok := r.Context().Value(startKey{}).(time.Time); ok {
		st = fmt.Sprintf("total;dur=%.2f, %s", float64(time.Since(t0).Microseconds())/1000, st)
	}
	w.Header().Set("Server-Timing", st)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail renders the error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	c.render(w, r, s, status, "error", http.StatusText(status), msg)
}

// flashes are the confirmations shown after a redirect (?done=...); only
// these fixed texts can appear, so the parameter cannot inject content.
var flashes = map[string]string{
	"added":     "Dataset added. Every server picks it up within a few seconds.",
	"saved":     "Changes saved.",
	"removed":   "Dataset removed.",
	"profiled":  "Dataset profiled.",
	"revoked":   "Token revoked. Every server refuses it within a few seconds.",
	"signedout": "Signed out.",
}

func flashText(k string) string { return flashes[k] }

// event writes an admin action into the query log and waits until it is
// stored (or spooled), so an action the page confirms is in the audit
// trail.
func (c *Console) event(ctx context.Context, s *session, action string, ds catalog.Dataset, format string, args ...any) {
	rec := catalog.QueryRecord{
		ID: querylog.NewID(), Kind: catalog.KindAdmin, Time: c.now().UTC(), Tool: "admin." + action,
		DatasetID: ds.ID, DatasetName: ds.Name, Outcome: catalog.OutcomeOK, Message: fmt.Sprintf(format, args...),
		ClientName: "admin console", Principal: s.Principal, Instance: c.opts.Instance,
	}
	c.opts.QueryLog.Add(rec)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.opts.QueryLog.Flush(fctx); err != nil {
		c.log.WarnContext(ctx, "flush the admin event", "action", action, "err", err)
	}
	c.log.InfoContext(ctx, "admin action", "action", action, "principal", s.Principal, "dataset", ds.ID, "detail", rec.Message)
}

// Actions recorded as admin events (Tool is "admin." + the action).
const (
	ActionDatasetAdded   = "dataset_added"
	ActionDatasetChanged = "dataset_changed"
	ActionDatasetRemoved = "dataset_removed"
	ActionDatasetTested  = "dataset_tested"
	ActionProfileRefresh = "profile_refreshed"
	ActionTokenCreated   = "token_created"
	ActionTokenRevoked   = "token_revoked"
)
