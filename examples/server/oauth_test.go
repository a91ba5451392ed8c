package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// startOAuthDemo runs the demo with args after the usual ones and returns
// what it printed once it listens.
func startOAuthDemo(t *testing.T, args ...string) string {
	t.Helper()
	out, _ := startOAuthDemoAt(t, "127.0.0.1:0", args...)
	return out
}

// startOAuthDemoAt is startOAuthDemo on addr, which also returns a function
// that stops the server.
func startOAuthDemoAt(t *testing.T, addr string, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	out := &syncWriter{w: &bytes.Buffer{}}
	go func() {
		done <- run(ctx, append([]string{"-addr", addr, "-token", "secret", "-db", "memory"}, args...), out, ready)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server stopped with %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start in 30s")
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	return out.w.(*bytes.Buffer).String(), stop
}

// printed returns the value of the line "name: value" the demo printed.
func printed(t *testing.T, out, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `: +(\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo did not print %q:\n%s", name, out)
	}
	return m[1]
}

func tokenRequest(t *testing.T, tokenURL string, form url.Values, basic string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != "" {
		req.Header.Set("Authorization", basic)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("token endpoint: %d %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

// TestDemoOAuth drives the demo as Entra ID would: client credentials with
// the printed secret, then with a federated assertion signed by a key
// served on loopback, and SCIM with the access tokens, the static token
// still working beside them.
func TestDemoOAuth(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig"}}})
	}))
	defer jwks.Close()
	const (
		issuer   = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
		subject  = "5b0e3a35-6d26-4bbe-8a7e-1bd0d6c1c7d2"
		audience = "api://2c5b4e6a-0d7d-4b70-9c2e-0f43cbe1c1a1"
	)
	out, stop := startOAuthDemoAt(t, "127.0.0.1:0", "-oauth", "-oauth-secret", "s3cr3t-demo",
		"-wif-jwks", jwks.URL+"/discovery/v2.0/keys", "-wif-issuer", issuer, "-wif-subject", subject, "-wif-audience", audience+"/.default")
	base := printed(t, out, "SCIM Base URL")
	tokenURL := printed(t, out, "OAuth Token URL")
	clientID := printed(t, out, "OAuth Client ID")
	if got := printed(t, out, "OAuth Client Secret"); got != "s3cr3t-demo" {
		t.Errorf("printed secret %q", got)
	}
	if !strings.HasSuffix(tokenURL, "/oauth2/token") || !strings.HasPrefix(base, strings.TrimSuffix(tokenURL, "/oauth2/token")) {
		t.Errorf("token URL %q beside base %q", tokenURL, base)
	}

	status, body := tokenRequest(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_secret": {"s3cr3t-demo"}, "scope": {"scim"}}, "")
	if status != 200 || body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) {
		t.Fatalf("secret: %d %v", status, body)
	}
	fromSecret, _ := body["access_token"].(string)
	if status, _ := call(t, "GET", base+"/Users", fromSecret, ""); status != 200 {
		t.Errorf("SCIM with the secret's access token: %d", status)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":s3cr3t-demo"))
	if status, body := tokenRequest(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, basic); status != 200 {
		t.Errorf("client_secret_basic: %d %v", status, body)
	}
	if status, body := tokenRequest(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_secret": {"wrong"}}, ""); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", status, body)
	}

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	assertion, err := jwt.Signed(signer).Claims(map[string]any{
		"aud": audience, "iss": issuer, "sub": subject, "oid": subject, "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
		"appid": "1b730954-1685-4b74-9bfd-dac224a7b894", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "ver": "2.0",
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	status, body = tokenRequest(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}, "scope": {"scim"}}, "")
	if status != 200 {
		t.Fatalf("assertion: %d %v", status, body)
	}
	fromAssertion, _ := body["access_token"].(string)
	if status, _ := call(t, "POST", base+"/Users", fromAssertion, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"wif@example.com"}`); status != 201 {
		t.Errorf("SCIM create with the assertion's access token: %d", status)
	}
	status, list := call(t, "GET", base+"/Users", "secret", "")
	if status != 200 || list["totalResults"] != float64(1) {
		t.Errorf("the static token sees the tenant's user: %d %v", status, list)
	}
	_, spc := call(t, "GET", base+"/ServiceProviderConfig", "secret", "")
	if !strings.Contains(mustJSON(t, spc["authenticationSchemes"]), `"oauth2"`) {
		t.Errorf("ServiceProviderConfig does not list OAuth: %v", spc["authenticationSchemes"])
	}
	if status, _ := call(t, "GET", base+"/Users", fromSecret+"x", ""); status != 401 {
		t.Errorf("a tampered access token: %d", status)
	}

	// Restarted on its address with the same secret, the demo admits the
	// tokens it issued before; with another secret it does not.
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/scim/v2")
	stop()
	_, stop = startOAuthDemoAt(t, addr, "-oauth", "-oauth-secret", "s3cr3t-demo")
	if status, _ := call(t, "GET", base+"/Users", fromSecret, ""); status != 200 {
		t.Errorf("a token of the previous start, same secret: %d", status)
	}
	stop()
	startOAuthDemoAt(t, addr, "-oauth", "-oauth-secret", "another")
	if status, _ := call(t, "GET", base+"/Users", fromSecret, ""); status != 401 {
		t.Errorf("a token of another secret's start: %d", status)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDemoOAuthRandomSecret: without -oauth-secret the demo prints a random
// secret, which works; without -oauth it prints no OAuth lines.
func TestDemoOAuthRandomSecret(t *testing.T) {
	out := startOAuthDemo(t, "-oauth")
	secret := printed(t, out, "OAuth Client Secret")
	if !strings.HasPrefix(secret, "scimcs_") {
		t.Errorf("random secret %q", secret)
	}
	status, body := tokenRequest(t, printed(t, out, "OAuth Token URL"), url.Values{"grant_type": {"client_credentials"},
		"client_id": {printed(t, out, "OAuth Client ID")}, "client_secret": {secret}}, "")
	if status != 200 {
		t.Errorf("random secret: %d %v", status, body)
	}
	if out := startOAuthDemo(t); strings.Contains(out, "OAuth") {
		t.Errorf("without -oauth the demo printed OAuth lines:\n%s", out)
	}
}

func TestDemoOAuthFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"secret without -oauth", []string{"-oauth-secret", "x"}},
		{"WIF without -oauth", []string{"-wif-issuer", "x"}},
		{"incomplete WIF", []string{"-oauth", "-wif-issuer", "https://login.microsoftonline.com/t/v2.0"}},
		{"plain http JWKS elsewhere", []string{"-oauth", "-wif-jwks", "http://login.microsoftonline.com/keys", "-wif-issuer", "i", "-wif-subject", "s", "-wif-audience", "a"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := parseFlags(c.args, io.Discard); err == nil {
				t.Errorf("parseFlags(%q) = nil error", c.args)
			}
		})
	}
}

// TestDemoOAuthRestartKeepsTheClient restarts the demo on each store. On
// SQLite and PostgreSQL the OAuth client and its secrets are in the
// database: the secrets of earlier starts, random or given, still get
// tokens after a restart; in memory they are lost. A changed -oauth-secret
// replaces the one it was, on every store.
func TestDemoOAuthRestartKeepsTheClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		persistent := db != "memory"
		out, stop := startOAuthDemoAt(t, "127.0.0.1:0", "-db", db, "-oauth", "-oauth-secret", "s3cr3t-demo")
		base, tokenURL := printed(t, out, "SCIM Base URL"), printed(t, out, "OAuth Token URL")
		addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/scim/v2")
		grant := func(secret string) (int, string) {
			t.Helper()
			status, body := tokenRequest(t, tokenURL, url.Values{"grant_type": {"client_credentials"},
				"client_id": {demoClientID}, "client_secret": {secret}}, "")
			tok, _ := body["access_token"].(string)
			return status, tok
		}
		wantGrant := func(when, secret string, want int) {
			t.Helper()
			if status, _ := grant(secret); status != want {
				t.Errorf("%s: a token for the secret %q: %d, want %d", when, secret, status, want)
			}
		}
		kept := map[bool]int{true: 200, false: 401}[persistent]

		status, first := grant("s3cr3t-demo")
		if status != 200 {
			t.Fatalf("first start: %d", status)
		}
		stop()
		_, stop = startOAuthDemoAt(t, addr, "-db", db, "-oauth", "-oauth-secret", "s3cr3t-demo")
		if status, _ := call(t, "GET", base+"/Users", first, ""); status != 200 {
			t.Errorf("the same secret restarted: an access token of the first start: %d, want 200", status)
		}
		wantGrant("the same secret restarted", "s3cr3t-demo", 200)

		stop()
		out, stop = startOAuthDemoAt(t, addr, "-db", db, "-oauth")
		random := printed(t, out, "OAuth Client Secret")
		if persistent != strings.Contains(out, "kept in the database") {
			t.Errorf("persistent %v, but the demo printed:\n%s", persistent, out)
		}
		wantGrant("a random secret's start", random, 200)
		wantGrant("a random secret's start", "s3cr3t-demo", kept)

		stop()
		_, stop = startOAuthDemoAt(t, addr, "-db", db, "-oauth", "-oauth-secret", "another")
		wantGrant("another secret's start", "another", 200)
		wantGrant("another secret's start", random, kept)
		wantGrant("another secret's start", "s3cr3t-demo", 401)
		stop()
	})
}
