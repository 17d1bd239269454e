package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

type tokenRow struct {
	catalog.Token
	Grant    string
	LastUsed time.Time
}

type tokenForm struct {
	Name     string
	Datasets string
	Scopes   []string
}

type tokensData struct {
	Tokens   []tokenRow
	Form     tokenForm
	Scopes   []string
	Problems []string
	// Created is the new token's value, shown once.
	Created     string
	CreatedName string
}

func (d tokensData) FormError() string { return strings.Join(d.Problems, "; ") }

// HasScope reports whether the form ticks scope.
func (f tokenForm) HasScope(s string) bool { return slices.Contains(f.Scopes, s) }

func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showTokens(w, r, s, http.StatusOK, tokensData{Form: tokenForm{Scopes: []string{catalog.ScopeMCP}, Datasets: "all"}})
}

func (c *Console) showTokens(w http.ResponseWriter, r *http.Request, s *session, status int, d tokensData) {
	ctx := r.Context()
	tokens, err := c.opts.Store.Tokens(ctx)
	if err != nil {
		c.log.ErrorContext(ctx, "read tokens", "err", err)
		c.fail(w, r, s, http.StatusServiceUnavailable, "The tokens cannot be read right now; try again shortly.")
		return
	}
	// Newest first; the last use comes from the query log.
	slices.Reverse(tokens)
	for _, t := range tokens {
		row := tokenRow{Token: t, Grant: catalog.DescribeGrant(t)}
		if recs, err := c.opts.Store.QueryLogRecords(ctx, catalog.LogFilter{Principal: "token:" + t.Name, Limit: 1}); err == nil && len(recs) > 0 {
			row.LastUsed = recs[0].Time
		}
		d.Tokens = append(d.Tokens, row)
	}
	d.Scopes = catalog.Scopes
	c.render(w, r, s, status, "tokens", "Tokens", d)
}

// tokenCreate creates a token from the form; its value is shown once, in
// the answer to this POST (never in a URL, never stored).
func (c *Console) tokenCreate(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	f := tokenForm{Name: strings.TrimSpace(r.PostFormValue("name")), Datasets: strings.TrimSpace(r.PostFormValue("datasets")), Scopes: r.PostForm["scope"]}
	d := tokensData{Form: f}
	if err := catalog.CheckTokenName(f.Name); err != nil {
		d.Problems = append(d.Problems, "Name: "+err.Error()+" (use letters, digits, '-', '_', '.' or '@')")
	}
	if len(f.Scopes) == 0 {
		d.Problems = append(d.Problems, "Scopes: tick at least one")
	}
	for _, sc := range f.Scopes {
		if !slices.Contains(catalog.Scopes, sc) {
			d.Problems = append(d.Problems, fmt.Sprintf("Scopes: unknown scope %q", sc))
		}
	}
	all, ids := false, []int64{}
	switch {
	case f.Datasets == "" && !f.HasScope(catalog.ScopeMCP):
	case f.Datasets == "":
		d.Problems = append(d.Problems, `Datasets: give dataset ids such as 1,2 or "all" (an mcp token needs them)`)
	default:
		var err error
		if all, ids, err = auth.ParseDatasets(f.Datasets); err != nil {
			d.Problems = append(d.Problems, "Datasets: "+err.Error())
		}
		for _, id := range ids {
			if _, err := c.opts.Store.Get(ctx, id); errors.Is(err, catalog.ErrNotFound) {
				d.Problems = append(d.Problems, fmt.Sprintf("Datasets: dataset %d does not exist", id))
			}
		}
	}
	if len(d.Problems) == 0 {
		for _, t := range mustTokens(c, r) {
			if t.Active() && t.Name == f.Name {
				d.Problems = append(d.Problems, fmt.Sprintf("Name: an active token is already called %q", f.Name))
			}
		}
	}
	if len(d.Problems) > 0 {
		c.showTokens(w, r, s, http.StatusBadRequest, d)
		return
	}
	secret, hash := auth.NewToken()
	t, err := c.opts.Store.AddToken(ctx, catalog.Token{Name: f.Name, Hash: hash, AllDatasets: all, Datasets: ids, Scopes: f.Scopes})
	if err != nil {
		c.log.ErrorContext(ctx, "add token", "err", err)
		d.Problems = append(d.Problems, "The token could not be stored; try again shortly.")
		c.showTokens(w, r, s, http.StatusServiceUnavailable, d)
		return
	}
	c.event(ctx, s, ActionTokenCreated, catalog.Dataset{}, "created token %d %q for %s (scopes: %s)", t.ID, t.Name, catalog.DescribeGrant(t), strings.Join(t.Scopes, ", "))
	w.Header().Set("Cache-Control", "no-store")
	c.showTokens(w, r, s, http.StatusOK, tokensData{Created: secret, CreatedName: t.Name,
		Form: tokenForm{Scopes: []string{catalog.ScopeMCP}, Datasets: "all"}})
}

func mustTokens(c *Console, r *http.Request) []catalog.Token {
	ts, _ := c.opts.Store.Tokens(r.Context())
	return ts
}

func (c *Console) tokenRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, s, http.StatusNotFound, "There is no token with that id.")
		return
	}
	var name string
	for _, t := range mustTokens(c, r) {
		if t.ID == id {
			name = t.Name
		}
	}
	if err := c.opts.Store.RevokeToken(ctx, id); err != nil {
		if errors.Is(err, catalog.ErrTokenNotFound) {
			c.showTokens(w, r, s, http.StatusBadRequest, tokensData{Problems: []string{fmt.Sprintf("Token %d is not active (already revoked?)", id)},
				Form: tokenForm{Scopes: []string{catalog.ScopeMCP}, Datasets: "all"}})
			return
		}
		c.log.ErrorContext(ctx, "revoke token", "err", err)
		c.fail(w, r, s, http.StatusServiceUnavailable, "The token could not be revoked right now; try again shortly.")
		return
	}
	c.event(ctx, s, ActionTokenRevoked, catalog.Dataset{}, "revoked token %d %q", id, name)
	http.Redirect(w, r, Prefix+"/tokens?done=revoked", http.StatusSeeOther)
}
