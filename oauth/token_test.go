package oauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/scimhost/scim"
)

// TestTokenGranted covers the three ways a client authenticates, and that
// the SCIM endpoint accepts the token for the client's tenant, beside a
// static token for another tenant.
func TestTokenGranted(t *testing.T) {
	f := newFixture(t, Options{})
	scimH, static := f.scimEndpoint(t)
	cases := []struct {
		name  string
		form  url.Values
		basic string
	}{
		{"client_secret_post", secretForm("client-1", f.secret), ""},
		{"client_secret_basic", url.Values{"grant_type": {"client_credentials"}, "scope": {"scim"}}, basicHeader("client-1", f.secret)},
		{"client_secret_basic with client_id in the form", url.Values{"grant_type": {"client_credentials"}, "client_id": {"client-1"}}, basicHeader("client-1", f.secret)},
		{"Entra assertion", assertionForm("client-1", f.idp.sign(entraClaims(f.clock.now()))), ""},
		{"Entra assertion, scope scim.readwrite", func() url.Values {
			v := assertionForm("client-1", f.idp.sign(entraClaims(f.clock.now())))
			v.Set("scope", "scim.readwrite")
			return v
		}(), ""},
		{"Entra assertion, aud a list", func() url.Values {
			c := entraClaims(f.clock.now())
			c["aud"] = []string{"api://another", entraAudience}
			return assertionForm("client-1", f.idp.sign(c))
		}(), ""},
		{"no scope", func() url.Values { v := secretForm("client-1", f.secret); v.Del("scope"); return v }(), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.post(t, c.form, c.basic)
			if r.status != 200 || r.token() == "" {
				t.Fatalf("status %d, body %s", r.status, r.raw)
			}
			if r.body["token_type"] != "Bearer" || r.body["expires_in"] != float64(3600) || r.body["scope"] != "scim" {
				t.Errorf("body = %v", r.body)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
			tn, err := f.srv.Lookup(t.Context(), r.token())
			if err != nil || tn.ID != "acme" || tn.Client != "client-1" {
				t.Errorf("Lookup = %+v, %v", tn, err)
			}
			if got := scimGet(scimH, r.token()); got != 200 {
				t.Errorf("SCIM with the access token: %d", got)
			}
		})
	}
	if got := scimGet(scimH, static); got != 200 {
		t.Errorf("SCIM with the static token: %d", got)
	}
	// Each token acts for its own tenant only: a user created with the
	// access token is not in the static token's tenant.
	access := f.post(t, secretForm("client-1", f.secret), "").token()
	req := httptest.NewRequest(http.MethodPost, "/Users", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@acme.example"}`))
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/scim+json")
	w := httptest.NewRecorder()
	scimH.ServeHTTP(w, req)
	if w.Code != 201 {
		t.Fatalf("create with the access token: %d %s", w.Code, w.Body)
	}
	for _, c := range []struct {
		token string
		n     string
	}{{access, `"totalResults":1`}, {static, `"totalResults":0`}} {
		req := httptest.NewRequest(http.MethodGet, "/Users", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		w := httptest.NewRecorder()
		scimH.ServeHTTP(w, req)
		if !strings.Contains(w.Body.String(), c.n) {
			t.Errorf("list: %s, want %s", w.Body, c.n)
		}
	}
	if got := scimGet(scimH, "a.b.c"); got != 401 {
		t.Errorf("SCIM with a JWT-shaped junk token: %d", got)
	}
}

// TestTokenRefused covers every refusal: the status, the RFC 6749 error
// code, and the reason in the log.
func TestTokenRefused(t *testing.T) {
	f := newFixture(t, Options{MaxFailures: 1000})
	now := f.clock.now()
	ctx := context.Background()

	expired, expiredSec := f.addSecret(t)
	expiredSec.ID = "expired"
	expiredSec.Expires = now.Add(-time.Second)
	_ = f.store.DeleteSecret(ctx, "client-1", mustSecretID(t, f, expired))
	if err := f.store.AddSecret(ctx, expiredSec); err != nil {
		t.Fatal(err)
	}
	revoked, revokedSec := f.addSecret(t)
	if err := f.store.RevokeSecret(ctx, "client-1", revokedSec.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := f.store.CreateClient(ctx, Client{ID: "off", Tenant: "acme", Disabled: true}); err != nil {
		t.Fatal(err)
	}
	offSecret, offSec, _ := NewSecret("off", 0)
	_ = f.store.AddSecret(ctx, offSec)
	if err := f.store.CreateClient(ctx, Client{ID: "no-fed", Tenant: "acme"}); err != nil {
		t.Fatal(err)
	}

	with := func(k string, v any) map[string]any {
		c := entraClaims(now)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	good := f.idp.sign(entraClaims(now))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"aud":"`+entraAudience+`","iss":"`+entraIssuer+`","sub":"someone-else","exp":9999999999}`)) + "." + parts[2]
	// The JWKS's public key, as the bytes an attacker would use as an
	// HMAC secret.
	f.idp.mu.Lock()
	der, _ := x509.MarshalPKIXPublicKey(&f.idp.keys[f.idp.current].PublicKey)
	kid := f.idp.current
	f.idp.mu.Unlock()
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hmacForged := signWith(t, jose.SigningKey{Algorithm: jose.HS256, Key: pubPEM}, kid, entraClaims(now))
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	unknownKey := signWith(t, jose.SigningKey{Algorithm: jose.RS256, Key: otherKey}, "not-in-the-jwks", entraClaims(now))
	wrongKeySameKid := signWith(t, jose.SigningKey{Algorithm: jose.RS256, Key: otherKey}, kid, entraClaims(now))
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}

	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
		reason string
	}{
		{"wrong secret", postReq(secretForm("client-1", "scimcs_wrong"), ""), 401, errInvalidClient, "wrong secret"},
		{"wrong secret, Basic", postReq(url.Values{"grant_type": {"client_credentials"}}, basicHeader("client-1", "nope")), 401, errInvalidClient, "wrong secret"},
		{"expired secret", postReq(secretForm("client-1", expired), ""), 401, errInvalidClient, "expired secret"},
		{"revoked secret", postReq(secretForm("client-1", revoked), ""), 401, errInvalidClient, "revoked secret"},
		{"unknown client", postReq(secretForm("nobody", f.secret), ""), 401, errInvalidClient, "unknown client"},
		{"disabled client", postReq(secretForm("off", offSecret), ""), 401, errInvalidClient, "the client is disabled"},
		{"assertion for a client without federation", postReq(assertionForm("no-fed", good), ""), 401, errInvalidClient, "not configured for client assertions"},
		{"wrong issuer", postReq(assertionForm("client-1", f.idp.sign(with("iss", "https://login.microsoftonline.com/other/v2.0"))), ""), 401, errInvalidClient, "wrong issuer"},
		{"wrong audience", postReq(assertionForm("client-1", f.idp.sign(with("aud", "api://other"))), ""), 401, errInvalidClient, "wrong audience"},
		{"audience of another case", postReq(assertionForm("client-1", f.idp.sign(with("aud", strings.ToUpper(entraAudience)))), ""), 401, errInvalidClient, "wrong audience"},
		{"wrong subject", postReq(assertionForm("client-1", f.idp.sign(with("sub", "00000000-0000-0000-0000-000000000000"))), ""), 401, errInvalidClient, "wrong subject"},
		{"expired assertion", postReq(assertionForm("client-1", f.idp.sign(with("exp", now.Add(-2*time.Minute).Unix()))), ""), 401, errInvalidClient, "reason=expired"},
		{"assertion without exp", postReq(assertionForm("client-1", f.idp.sign(with("exp", nil))), ""), 401, errInvalidClient, "no exp"},
		{"assertion not yet valid", postReq(assertionForm("client-1", f.idp.sign(with("nbf", now.Add(5*time.Minute).Unix()))), ""), 401, errInvalidClient, "not yet valid"},
		{"assertion issued in the future", postReq(assertionForm("client-1", f.idp.sign(with("iat", now.Add(5*time.Minute).Unix()))), ""), 401, errInvalidClient, "issued in the future"},
		{"alg none", postReq(assertionForm("client-1", unsigned(t, map[string]any{"alg": "none", "kid": kid}, entraClaims(now), "")), ""), 401, errInvalidClient, "alg none"},
		{"HMAC keyed with the public key", postReq(assertionForm("client-1", hmacForged), ""), 401, errInvalidClient, "HMAC algorithm"},
		{"unknown key", postReq(assertionForm("client-1", unknownKey), ""), 401, errInvalidClient, "unknown key"},
		{"another key under the JWKS's kid", postReq(assertionForm("client-1", wrongKeySameKid), ""), 401, errInvalidClient, "bad signature"},
		{"tampered signature", postReq(assertionForm("client-1", tampered), ""), 401, errInvalidClient, "bad signature"},
		{"not a JWT", postReq(assertionForm("client-1", "hello"), ""), 401, errInvalidClient, "not a compact JWS"},
		{"wrong assertion type", postReq(form("grant_type", "client_credentials", "client_id", "client-1", "client_assertion_type", "urn:x", "client_assertion", good), ""), 400, errInvalidRequest, "client_assertion_type must be"},
		{"unsupported grant type", postReq(form("grant_type", "authorization_code", "client_id", "client-1", "client_secret", f.secret), ""), 400, errUnsupportedGrantType, "grant_type"},
		{"RFC 7523 authorization grant", postReq(form("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion", good), ""), 400, errUnsupportedGrantType, "grant_type"},
		{"no grant type", postReq(form("client_id", "client-1", "client_secret", f.secret), ""), 400, errInvalidRequest, "grant_type is missing"},
		{"unknown scope", postReq(form("grant_type", "client_credentials", "client_id", "client-1", "client_secret", f.secret, "scope", "scim admin"), ""), 400, errInvalidScope, "'admin' is not offered"},
		{"parameter twice", postReq(form("grant_type", "client_credentials", "client_id", "client-1", "client_secret", f.secret, "client_secret", "x"), ""), 400, errInvalidRequest, "more than once"},
		{"secret and assertion", postReq(form("grant_type", "client_credentials", "client_id", "client-1", "client_secret", f.secret, "client_assertion_type", AssertionType, "client_assertion", good), ""), 400, errInvalidRequest, "more than one way"},
		{"Basic and client_secret", postReq(secretForm("client-1", f.secret), basicHeader("client-1", f.secret)), 400, errInvalidRequest, "more than one way"},
		{"Basic for another client_id", postReq(form("grant_type", "client_credentials", "client_id", "other"), basicHeader("client-1", f.secret)), 400, errInvalidRequest, "differs"},
		{"Bearer instead of Basic", postReq(form("grant_type", "client_credentials"), "Bearer x"), 401, errInvalidClient, "not HTTP Basic"},
		{"no client authentication", postReq(form("grant_type", "client_credentials", "client_id", "client-1"), ""), 401, errInvalidClient, "no client authentication"},
		{"no client_id", postReq(form("grant_type", "client_credentials", "client_secret", f.secret), ""), 400, errInvalidRequest, "client_id is missing"},
		{"not a form", func() *http.Request {
			r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(`{"grant_type":"client_credentials"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, 400, errInvalidRequest, "x-www-form-urlencoded"},
		{"no content type", func() *http.Request {
			return httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(secretForm("client-1", f.secret).Encode()))
		}, 400, errInvalidRequest, "x-www-form-urlencoded"},
		{"a form that does not parse", func() *http.Request {
			r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=%zz"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 400, errInvalidRequest, "does not parse"},
		{"a body too large", func() *http.Request {
			r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=client_credentials&x="+strings.Repeat("a", maxFormBytes)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 400, errInvalidRequest, "larger than"},
		{"GET", func() *http.Request {
			return httptest.NewRequest("GET", "/oauth2/token?"+secretForm("client-1", f.secret).Encode(), nil)
		}, 405, errInvalidRequest, "method GET"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.log.String())
			r := f.do(t, c.req())
			if r.status != c.status || r.code() != c.code {
				t.Fatalf("status %d error %q, want %d %q; body %s", r.status, r.code(), c.status, c.code, r.raw)
			}
			if r.token() != "" {
				t.Fatal("a refusal carries an access token")
			}
			if _, ok := r.body["error_description"].(string); !ok {
				t.Errorf("no error_description: %s", r.raw)
			}
			if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
			line := f.log.String()[before:]
			if !strings.Contains(line, "oauth token refused") || !strings.Contains(line, c.reason) {
				t.Errorf("log %q lacks the reason %q", line, c.reason)
			}
		})
	}
	// Nothing secret is ever logged.
	logged := f.log.String()
	for _, s := range []string{f.secret, expired, revoked, offSecret, good, parts[2]} {
		if strings.Contains(logged, s) {
			t.Errorf("the log holds a secret or an assertion")
		}
	}
	if !strings.Contains(logged, "client_id=client-1") {
		t.Errorf("the log does not name the client: %s", logged)
	}
}

func postReq(form url.Values, basic string) func() *http.Request {
	return func() *http.Request {
		r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic != "" {
			r.Header.Set("Authorization", basic)
		}
		return r
	}
}

func mustSecretID(t *testing.T, f *fixture, secret string) string {
	t.Helper()
	all, _ := f.store.Secrets(context.Background(), f.client.ID)
	h := scim.HashToken(secret)
	for _, s := range all {
		if s.Hash == h {
			return s.ID
		}
	}
	t.Fatal("secret not stored")
	return ""
}

// TestKeyRotation: the identity provider rotates to a new key without
// notice; an assertion signed with it gets a token without a restart, as
// soon as the refresh interval since the last fetch has passed, and
// assertions with unknown kids do not fetch more often than that.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t, Options{JWKSRefreshInterval: time.Minute})
	if r := f.post(t, assertionForm("client-1", f.idp.sign(entraClaims(f.clock.now()))), ""); r.status != 200 {
		t.Fatalf("before rotation: %s", r.raw)
	}
	f.clock.advance(2 * time.Minute)
	f.idp.rotate("key-2")
	if r := f.post(t, assertionForm("client-1", f.idp.sign(entraClaims(f.clock.now()))), ""); r.status != 200 {
		t.Fatalf("after rotation: %s", r.raw)
	}
	if n := f.idp.fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
	// The cache serves the new key with no fetch.
	if r := f.post(t, assertionForm("client-1", f.idp.sign(entraClaims(f.clock.now()))), ""); r.status != 200 {
		t.Fatalf("cached: %s", r.raw)
	}
	// Within the refresh interval, a rotation is not seen, and unknown
	// kids fetch nothing.
	f.clock.advance(10 * time.Second)
	f.idp.rotate("key-3")
	for range 5 {
		if r := f.post(t, assertionForm("client-1", f.idp.sign(entraClaims(f.clock.now()))), ""); r.status != 401 {
			t.Fatalf("unknown kid within the interval: %d", r.status)
		}
	}
	if n := f.idp.fetches.Load(); n != 2 {
		t.Errorf("%d fetches after unknown kids within the interval, want 2", n)
	}
	f.clock.advance(time.Minute)
	if r := f.post(t, assertionForm("client-1", f.idp.sign(entraClaims(f.clock.now()))), ""); r.status != 200 {
		t.Fatalf("after the interval: %s", r.raw)
	}
	if n := f.idp.fetches.Load(); n != 3 {
		t.Errorf("%d fetches, want 3", n)
	}
}

// TestRevocation: revoking a client or a secret refuses new tokens at once,
// and the tokens already issued once the Server reads the client again
// (after ClientCheckInterval, or at once after ForgetClient).
func TestRevocation(t *testing.T) {
	ctx := context.Background()
	t.Run("secret", func(t *testing.T) {
		f := newFixture(t, Options{ClientCheckInterval: 30 * time.Second})
		other, _ := f.addSecret(t)
		tokOld := f.post(t, secretForm("client-1", f.secret), "").token()
		tokOther := f.post(t, secretForm("client-1", other), "").token()
		for _, tok := range []string{tokOld, tokOther} {
			if _, err := f.srv.Lookup(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.store.RevokeSecret(ctx, "client-1", f.sec.ID, f.clock.now()); err != nil {
			t.Fatal(err)
		}
		if r := f.post(t, secretForm("client-1", f.secret), ""); r.status != 401 {
			t.Errorf("a revoked secret got a token: %d", r.status)
		}
		if _, err := f.srv.Lookup(ctx, tokOld); err != nil {
			t.Errorf("within the check interval the old token still works, as documented: %v", err)
		}
		f.clock.advance(31 * time.Second)
		if _, err := f.srv.Lookup(ctx, tokOld); err != scim.ErrUnknownToken {
			t.Errorf("the revoked secret's token after the interval: %v", err)
		}
		if _, err := f.srv.Lookup(ctx, tokOther); err != nil {
			t.Errorf("the other secret's token: %v", err)
		}
	})
	t.Run("client", func(t *testing.T) {
		f := newFixture(t, Options{})
		tok := f.post(t, assertionForm("client-1", f.idp.sign(entraClaims(f.clock.now()))), "").token()
		if _, err := f.srv.Lookup(ctx, tok); err != nil {
			t.Fatal(err)
		}
		c := f.client
		c.Disabled = true
		if err := f.store.UpdateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		if r := f.post(t, secretForm("client-1", f.secret), ""); r.status != 401 {
			t.Errorf("a disabled client got a token: %d", r.status)
		}
		f.srv.ForgetClient("client-1")
		if _, err := f.srv.Lookup(ctx, tok); err != scim.ErrUnknownToken {
			t.Errorf("a disabled client's token after ForgetClient: %v", err)
		}
	})
	t.Run("deleted client, checked on every request", func(t *testing.T) {
		f := newFixture(t, Options{ClientCheckInterval: -1})
		tok := f.post(t, secretForm("client-1", f.secret), "").token()
		if _, err := f.srv.Lookup(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := f.store.DeleteClient(ctx, "client-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.srv.Lookup(ctx, tok); err != scim.ErrUnknownToken {
			t.Errorf("a deleted client's token: %v", err)
		}
	})
}

// TestAccessTokenRefused: tokens the Server did not issue, or no longer
// honours, are unknown tokens to BearerAuth.
func TestAccessTokenRefused(t *testing.T) {
	ctx := context.Background()
	oldKey := NewSigningKey()
	f := newFixture(t, Options{SigningKeys: []SigningKey{oldKey}})
	tok := f.post(t, secretForm("client-1", f.secret), "").token()

	other := newFixture(t, Options{})
	foreign := other.post(t, secretForm("client-1", other.secret), "").token()

	// A Server whose keys rotated: a new key signs, the old one still
	// verifies.
	rotated, err := New(f.store, Options{Issuer: testIssuer, SigningKeys: []SigningKey{NewSigningKey(), oldKey}})
	if err != nil {
		t.Fatal(err)
	}
	rotated.now = f.clock.now
	if tn, err := rotated.Lookup(ctx, tok); err != nil || tn.ID != "acme" {
		t.Errorf("a token of the previous key after rotation: %+v %v", tn, err)
	}
	otherIssuer, _ := New(f.store, Options{Issuer: "https://other.example.com", SigningKeys: []SigningKey{oldKey}})
	otherIssuer.now = f.clock.now

	parts := strings.Split(tok, ".")
	cases := []struct {
		name  string
		srv   *Server
		token string
	}{
		{"another server's key", f.srv, foreign},
		{"tampered", f.srv, parts[0] + "." + parts[1] + "x." + parts[2]},
		{"signature cut", f.srv, parts[0] + "." + parts[1] + "."},
		{"alg none", f.srv, unsigned(t, map[string]any{"alg": "none", "kid": oldKey.ID}, map[string]any{"iss": testIssuer, "sub": "client-1", "client_id": "client-1", "tid": "acme", "aud": "scim", "exp": 9999999999}, "")},
		{"another issuer", otherIssuer, tok},
		{"not a JWT", f.srv, "scim_0123"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.srv.Lookup(ctx, c.token); err != scim.ErrUnknownToken {
				t.Errorf("Lookup = %v, want ErrUnknownToken", err)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		if _, err := f.srv.Lookup(ctx, tok); err != nil {
			t.Fatal(err)
		}
		f.clock.advance(time.Hour + 2*time.Minute)
		if _, err := f.srv.Lookup(ctx, tok); err != scim.ErrUnknownToken {
			t.Errorf("an expired token (cached before): %v", err)
		}
	})
}

// TestFailureBound: past MaxFailures failures in a window, even the right
// secret is refused with 429 and Retry-After, until the window ends.
func TestFailureBound(t *testing.T) {
	f := newFixture(t, Options{MaxFailures: 3, FailureWindow: time.Minute})
	for range 3 {
		if r := f.post(t, secretForm("client-1", "wrong"), ""); r.status != 401 {
			t.Fatalf("wrong secret: %d", r.status)
		}
	}
	r := f.post(t, secretForm("client-1", f.secret), "")
	if r.status != 429 || r.code() != errInvalidClient || r.header.Get("Retry-After") != "60" {
		t.Fatalf("after 3 failures: %d %s Retry-After %q", r.status, r.raw, r.header.Get("Retry-After"))
	}
	// Another client is not affected.
	if r := f.post(t, secretForm("nobody", "x"), ""); r.status != 401 {
		t.Errorf("another client: %d", r.status)
	}
	f.clock.advance(time.Minute)
	if r := f.post(t, secretForm("client-1", f.secret), ""); r.status != 200 {
		t.Errorf("after the window: %d %s", r.status, r.raw)
	}
}

// TestJWKSFetch: the fetch's limits and the URL rules.
func TestJWKSFetch(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(" ", 4096) + `]}`))
	}))
	defer big.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://example.com/keys", http.StatusFound)
	}))
	defer redirect.Close()
	status := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer status.Close()

	f := newFixture(t, Options{MaxJWKSBytes: 1024, JWKSTimeout: 200 * time.Millisecond})
	cases := []struct {
		name, url, want string
	}{
		{"too large", big.URL, "larger than 1024 bytes"},
		{"too slow", slow.URL, "deadline exceeded"},
		{"redirect to plain http elsewhere", redirect.URL, "must be https"},
		{"error status", status.URL, "status 500"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := f.srv.keys.fetch(t.Context(), c.url); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("fetch: %v, want %q", err, c.want)
			}
		})
	}
	for _, c := range []struct {
		name     string
		url      string
		loopback bool
		ok       bool
	}{
		{"https", "https://login.microsoftonline.com/t/discovery/v2.0/keys", false, true},
		{"http elsewhere", "http://login.microsoftonline.com/keys", true, false},
		{"http on loopback, not allowed", "http://127.0.0.1:1/keys", false, false},
		{"http on loopback, allowed", "http://127.0.0.1:1/keys", true, true},
		{"http on localhost, allowed", "http://localhost:1/keys", true, true},
		{"http on ::1, allowed", "http://[::1]:1/keys", true, true},
		{"relative", "/keys", true, false},
		{"with user info", "https://u:p@example.com/keys", false, false},
	} {
		t.Run("url "+c.name, func(t *testing.T) {
			if err := checkJWKSURL(c.url, c.loopback); (err == nil) != c.ok {
				t.Errorf("checkJWKSURL = %v, want ok %v", err, c.ok)
			}
		})
	}
}

func TestFederationValidate(t *testing.T) {
	f := Federation{Issuer: entraIssuer, JWKSURL: "https://login.microsoftonline.com/x/discovery/v2.0/keys", Subject: entraSubject, Audience: entraAudience + "/.default"}
	got, err := f.Validate(false)
	if err != nil || got.Audience != entraAudience {
		t.Errorf("Validate = %+v, %v", got, err)
	}
	for _, bad := range []Federation{
		{JWKSURL: f.JWKSURL, Subject: "s", Audience: "a"},
		{Issuer: "i", JWKSURL: f.JWKSURL, Audience: "a"},
		{Issuer: "i", JWKSURL: f.JWKSURL, Subject: "s", Audience: "/.default"},
		{Issuer: "i", JWKSURL: "http://example.com/keys", Subject: "s", Audience: "a"},
	} {
		if _, err := bad.Validate(true); err == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
}

func TestNewOptions(t *testing.T) {
	key := NewSigningKey()
	mem := &Memory{}
	cases := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"minimal", Options{Issuer: testIssuer, SigningKeys: []SigningKey{key}}, true},
		{"6 h tokens", Options{Issuer: testIssuer, SigningKeys: []SigningKey{key}, TokenLifetime: 6 * time.Hour}, true},
		{"no issuer", Options{SigningKeys: []SigningKey{key}}, false},
		{"no keys", Options{Issuer: testIssuer}, false},
		{"short key", Options{Issuer: testIssuer, SigningKeys: []SigningKey{{ID: "k", Secret: []byte("short")}}}, false},
		{"key without id", Options{Issuer: testIssuer, SigningKeys: []SigningKey{{Secret: key.Secret}}}, false},
		{"two keys, one id", Options{Issuer: testIssuer, SigningKeys: []SigningKey{key, key}}, false},
		{"30 min tokens", Options{Issuer: testIssuer, SigningKeys: []SigningKey{key}, TokenLifetime: 30 * time.Minute}, false},
		{"7 h tokens", Options{Issuer: testIssuer, SigningKeys: []SigningKey{key}, TokenLifetime: 7 * time.Hour}, false},
		{"big skew", Options{Issuer: testIssuer, SigningKeys: []SigningKey{key}, ClockSkew: time.Hour}, false},
		{"relative token URL", Options{Issuer: testIssuer, SigningKeys: []SigningKey{key}, TokenURL: "/token"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(mem, c.opts); (err == nil) != c.ok {
				t.Errorf("New = %v, want ok %v", err, c.ok)
			}
		})
	}
	if _, err := New(nil, cases[0].opts); err == nil {
		t.Error("New(nil) = nil error")
	}
}

func TestTokenLifetime(t *testing.T) {
	f := newFixture(t, Options{TokenLifetime: 6 * time.Hour})
	r := f.post(t, secretForm("client-1", f.secret), "")
	if r.body["expires_in"] != float64(6*3600) {
		t.Fatalf("expires_in = %v", r.body["expires_in"])
	}
	f.clock.advance(6*time.Hour - time.Minute)
	if _, err := f.srv.Lookup(t.Context(), r.token()); err != nil {
		t.Errorf("before expiry: %v", err)
	}
	// Past the expiry and the clock skew allowed for other replicas.
	f.clock.advance(DefaultClockSkew + 2*time.Minute)
	if _, err := f.srv.Lookup(t.Context(), r.token()); err != scim.ErrUnknownToken {
		t.Errorf("after expiry: %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	secret, s, err := NewSecret("c", 0)
	if err != nil || !strings.HasPrefix(secret, SecretPrefix) || len(secret) != len(SecretPrefix)+64 || s.Hash != scim.HashToken(secret) {
		t.Fatalf("NewSecret = %q %+v %v", secret, s, err)
	}
	if got := s.Expires.Sub(s.Created); got != DefaultSecretLifetime {
		t.Errorf("lifetime %v", got)
	}
	for _, c := range []struct {
		name     string
		id       string
		lifetime time.Duration
	}{
		{"no client", "", 0},
		{"too short", "c", 30 * 24 * time.Hour},
		{"too long", "c", 4 * 365 * 24 * time.Hour},
	} {
		if _, _, err := NewSecret(c.id, c.lifetime); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if _, err := SecretOf("c", "", 0); err == nil {
		t.Error("SecretOf with an empty secret")
	}
	for _, c := range []struct {
		name string
		at   time.Time
		rev  time.Time
		want bool
	}{
		{"fresh", s.Created, time.Time{}, true},
		{"at expiry", s.Expires, time.Time{}, false},
		{"revoked", s.Created, s.Created, false},
	} {
		sec := s
		sec.Revoked = c.rev
		if got := sec.Active(c.at); got != c.want {
			t.Errorf("%s: Active = %v", c.name, got)
		}
	}
}

// TestLookupOr: static tokens go to the fallback, JWT-shaped ones to the
// Server first and to the fallback only when the Server does not admit
// them, so that a host's own JWT static tokens keep working.
func TestLookupOr(t *testing.T) {
	f := newFixture(t, Options{})
	access := f.post(t, secretForm("client-1", f.secret), "").token()
	var calls []string
	next := func(_ context.Context, token string) (scim.Tenant, error) {
		calls = append(calls, token)
		if token == "host.own.jwt" || token == "static" {
			return scim.Tenant{ID: "host"}, nil
		}
		return scim.Tenant{}, scim.ErrUnknownToken
	}
	lookup := f.srv.LookupOr(next)
	for _, c := range []struct {
		name, token, tenant, client string
		err                         error
		nextCalled                  bool
	}{
		{"access token", access, "acme", "client-1", nil, false},
		{"static token", "static", "host", "", nil, true},
		{"the host's own JWT", "host.own.jwt", "host", "", nil, true},
		{"unknown", "x.y.z", "", "", scim.ErrUnknownToken, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls = nil
			tn, err := lookup(t.Context(), c.token)
			if tn.ID != c.tenant || tn.Client != c.client || !errors.Is(err, c.err) || (len(calls) > 0) != c.nextCalled {
				t.Errorf("= %+v, %v, next called %v", tn, err, calls)
			}
		})
	}
	if tn, err := f.srv.LookupOr(nil)(t.Context(), access); err != nil || tn.ID != "acme" {
		t.Errorf("LookupOr(nil) = %+v, %v", tn, err)
	}
}

// TestClientWithoutTenant: a stored client with no tenant (a storage that
// does not validate) gets a 500, not a token for no one.
func TestClientWithoutTenant(t *testing.T) {
	f := newFixture(t, Options{})
	f.store.mu.Lock()
	c := f.store.clients["client-1"]
	c.Tenant = ""
	f.store.clients["client-1"] = c
	f.store.mu.Unlock()
	r := f.post(t, secretForm("client-1", f.secret), "")
	if r.status != 500 || r.code() != errServerError || strings.Contains(r.raw, "tenant") {
		t.Errorf("%d %s", r.status, r.raw)
	}
}

func TestMetadata(t *testing.T) {
	f := newFixture(t, Options{TokenURL: testIssuer + "/oauth2/token"})
	w := httptest.NewRecorder()
	f.srv.Metadata().ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/oauth-authorization-server", nil))
	body := w.Body.String()
	for _, want := range []string{`"issuer":"` + testIssuer + `"`, `"token_endpoint":"` + testIssuer + `/oauth2/token"`, `"client_credentials"`, `"private_key_jwt"`, `"RS256"`} {
		if !strings.Contains(body, want) {
			t.Errorf("metadata lacks %s: %s", want, body)
		}
	}
	if strings.Contains(body, "HS256") || strings.Contains(body, `"none"`) {
		t.Errorf("metadata advertises a refused algorithm: %s", body)
	}
}

// TestConcurrentClients: token requests and SCIM lookups from many
// goroutines at once, with secrets and assertions, share the caches safely
// (run with -race) and all succeed.
func TestConcurrentClients(t *testing.T) {
	f := newFixture(t, Options{MaxFailures: 1 << 20})
	scimH, static := f.scimEndpoint(t)
	const n = 32
	errs := make(chan string, n)
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			form := secretForm("client-1", f.secret)
			if i%2 == 1 {
				form = assertionForm("client-1", f.idp.sign(entraClaims(f.clock.now())))
			}
			r := f.post(t, form, "")
			if r.status != 200 {
				errs <- r.raw
				return
			}
			for range 10 {
				if got := scimGet(scimH, r.token()); got != 200 {
					errs <- fmt.Sprintf("SCIM %d", got)
				}
				if got := scimGet(scimH, static); got != 200 {
					errs <- fmt.Sprintf("SCIM static %d", got)
				}
			}
			f.srv.ForgetClient("client-1")
		}()
	}
	for range n {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestTenantDisabled: the tenant's switch, kept by scim.Tokens for the
// static tokens, applies to access tokens through Options.TenantDisabled.
func TestTenantDisabled(t *testing.T) {
	var tokens scim.Tokens
	f := newFixture(t, Options{TenantDisabled: func(_ context.Context, id string) (bool, error) { return tokens.Disabled(id), nil }})
	h, _ := f.scimEndpoint(t)
	access := f.post(t, secretForm("client-1", f.secret), "").token()
	if got := scimGet(h, access); got != 200 {
		t.Fatalf("on: %d", got)
	}
	tokens.SetDisabled("acme", true)
	if got := scimGet(h, access); got != 403 {
		t.Errorf("switched off: %d", got)
	}
	failing := newFixture(t, Options{TenantDisabled: func(context.Context, string) (bool, error) { return false, errors.New("db down") }})
	tok := failing.post(t, secretForm("client-1", failing.secret), "").token()
	if _, err := failing.srv.Lookup(t.Context(), tok); err == nil || errors.Is(err, scim.ErrUnknownToken) {
		t.Errorf("a failing TenantDisabled: %v", err)
	}
}
