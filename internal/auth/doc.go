// Package auth decides who may call the MCP endpoint and which datasets each
// caller sees.
//
// Two kinds of credentials are accepted as "Authorization: Bearer" tokens:
//
//   - API tokens made by "mcp-analytics tokens create": the secret is
//     "mcpa_" followed by 32 random bytes in base64url, shown once; the
//     catalog keeps only its SHA-256 (the secret has 256 bits of entropy, so
//     a slow password hash would add nothing). Each token lists the datasets
//     it may see, or all of them.
//   - OAuth 2.1 access tokens (resource-server mode, [Config.Issuer] set):
//     JWTs signed with RS256/384/512, PS256/384/512 or ES256/384 by a key of
//     the issuer's JWKS, with iss, aud, exp and nbf checked. A configurable
//     claim ([Config.DatasetsClaim], "mcpa_datasets" by default) lists the
//     datasets. Protected resource metadata (RFC 9728) tells clients where
//     to get such tokens.
//
// [Authenticator.Middleware] checks the token of every HTTP request and
// answers 401 with a WWW-Authenticate challenge when it is missing, wrong,
// expired or revoked. A valid token becomes the go-sdk's [auth.TokenInfo]
// carrying a [Grant]; the SDK binds a stateful session to the token's
// subject, so a session opened with one token cannot be used with another.
// [ScopeMiddleware], an MCP receiving middleware, reads the grant of the
// request that carries each call (never that of the session's first
// request) and narrows the call's context with [dataset.WithScope]; the
// dataset registry then hides every other dataset from every tool, which
// answers "not found" without revealing that it exists.
//
// Authentication is required as soon as OAuth is configured or the catalog
// holds any token (even a revoked one: revoking the last token locks the
// endpoint rather than opening it). Token changes made by other processes
// are seen within [Config.TokenRefresh].
package auth
