package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// TokenPrefix starts every API token, so that secret scanners and people
// can recognise one, and so that the server can tell it from a JWT.
const TokenPrefix = "mcpa_"

// NewToken returns a fresh random API token and the hash to store for it.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // never returns an error (crypto/rand since Go 1.24)
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of token: what the catalog stores.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// isAPIToken reports whether token looks like one of ours rather than a JWT.
func isAPIToken(token string) bool { return strings.HasPrefix(token, TokenPrefix) }
