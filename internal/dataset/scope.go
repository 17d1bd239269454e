package dataset

import "context"

// scopeKey carries the datasets a caller may see.
type scopeKey struct{}

// Scope is the set of dataset ids a caller may see. A nil Scope (no scope
// in the context) allows every dataset: the server runs without auth.
type Scope map[int64]bool

// WithScope returns a context whose calls see only the datasets of s. The
// auth layer sets it per request; the registry enforces it in List and Open,
// so every tool (list, schema, query, sample, context) honours it.
func WithScope(ctx context.Context, s Scope) context.Context {
	if s == nil {
		s = Scope{}
	}
	return context.WithValue(ctx, scopeKey{}, s)
}

// allowed reports whether ctx may see dataset id.
func allowed(ctx context.Context, id int64) bool {
	s, ok := ctx.Value(scopeKey{}).(Scope)
	return !ok || s[id]
}
