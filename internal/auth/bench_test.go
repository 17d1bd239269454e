package auth

import (
	"context"
	"testing"
)

// BenchmarkAuthenticator_Verify measures what auth adds to each request.
func BenchmarkAuthenticator_Verify(b *testing.B) {
	iss := newIssuer(b)
	s, _ := newBenchStore(b)
	secret, hash := NewToken()
	if _, err := s.AddToken(context.Background(), tokenRecord("bench", hash)); err != nil {
		b.Fatal(err)
	}
	a, err := New(context.Background(), iss.config(), s, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, token string }{
		{"api-token", secret},
		{"jwt-RS256", iss.sign("RS256", "rsa-1", claimsWith())},
		{"jwt-ES256", iss.sign("ES256", "ec-1", claimsWith())},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if _, err := a.Verify(ctx, c.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
