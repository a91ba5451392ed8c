package oauth

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scimhost/scim"
)

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmarks measure the handler, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkSCIMAuth measures BearerAuth admitting a SCIM request: with a
// static token (scim.Tokens), with an OAuth access token as every request
// after the first sees it (verified once, then found by its hash), and with
// an access token whose signature is verified on every request (the cache
// defeated), the cost a replica pays once per token.
func BenchmarkSCIMAuth(b *testing.B) {
	f := newFixture(b, Options{Logger: slog.New(slog.DiscardHandler)})
	var tokens scim.Tokens
	static, hash := scim.NewToken()
	if err := tokens.Add("okta-tenant", hash); err != nil {
		b.Fatal(err)
	}
	access := f.post(b, secretForm("client-1", f.secret), "").token()
	if access == "" {
		b.Fatal("no access token")
	}
	var seen scim.Tenant
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen, _ = scim.TenantFrom(r.Context()) })
	cases := []struct {
		name, token string
		lookup      scim.TokenLookup
		want        string
	}{
		{"static", static, f.srv.LookupOr(tokens.Lookup), "okta-tenant"},
		{"oauth", access, f.srv.LookupOr(tokens.Lookup), "acme"},
		{"oauth-verify-every-time", access, func(ctx context.Context, token string) (scim.Tenant, error) {
			f.srv.tokens = newTokenCache()
			return f.srv.Lookup(ctx, token)
		}, "acme"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := scim.BearerAuth(c.lookup)(next)
			req := httptest.NewRequest(http.MethodGet, "/Users", nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			w := &discardWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
			if seen.ID != c.want {
				b.Fatalf("tenant %q, want %q", seen.ID, c.want)
			}
		})
	}
}

// BenchmarkTokenRequest measures the token endpoint issuing a token for a
// client secret (post) and for an Entra ID assertion with the JWKS cached.
func BenchmarkTokenRequest(b *testing.B) {
	f := newFixture(b, Options{Logger: slog.New(slog.DiscardHandler), MaxFailures: 1 << 30})
	assertion := f.idp.sign(entraClaims(f.clock.now()))
	for _, c := range []struct {
		name string
		form url.Values
	}{
		{"secret", secretForm("client-1", f.secret)},
		{"assertion", assertionForm("client-1", assertion)},
	} {
		b.Run(c.name, func(b *testing.B) {
			body := c.form.Encode()
			w := &discardWriter{h: make(http.Header)}
			// The first request fetches the JWKS; the loop measures the
			// cached keys.
			if r := f.post(b, c.form, ""); r.status != 200 {
				b.Fatalf("%d %s", r.status, r.raw)
			}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				f.srv.ServeHTTP(w, req)
			}
		})
	}
	if n := f.idp.fetches.Load(); n != 1 {
		b.Errorf("%d JWKS fetches, want 1", n)
	}
}
