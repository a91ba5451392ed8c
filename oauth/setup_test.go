package oauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// The values an Entra ID admin copies between the portals, in the shapes
// Microsoft documents for workload identity federation.
const (
	entraTenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	entraIssuer   = "https://login.microsoftonline.com/" + entraTenant + "/v2.0"
	entraSubject  = "5b0e3a35-6d26-4bbe-8a7e-1bd0d6c1c7d2" // the provisioning service's object id
	entraAppID    = "2c5b4e6a-0d7d-4b70-9c2e-0f43cbe1c1a1"
	entraAudience = "api://" + entraAppID
)

// clock is a settable time for the Server under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// idp is an identity provider made in the test: RSA keys, and a JWKS served
// on loopback, whose keys can rotate.
type idp struct {
	t       testing.TB
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	current string
	fetches atomic.Int64
}

func newIDP(t testing.TB) *idp {
	t.Helper()
	p := &idp{t: t, keys: map[string]*rsa.PrivateKey{}}
	p.rotate("key-1")
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		var set jose.JSONWebKeySet
		for kid, k := range p.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Use: "sig"})
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// rotate makes a new key, the one assertions are signed with from now on,
// and drops every older key from the JWKS, as a rotation without overlap
// would.
func (p *idp) rotate(kid string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = map[string]*rsa.PrivateKey{kid: k}
	p.current = kid
}

func (p *idp) jwksURL() string { return p.srv.URL + "/discovery/v2.0/keys" }

func (p *idp) federation() Federation {
	return Federation{Issuer: entraIssuer, JWKSURL: p.jwksURL(), Subject: entraSubject, Audience: entraAudience}
}

// entraClaims are the claims of an assertion from Entra ID's provisioning
// service, issued at now.
func entraClaims(now time.Time) map[string]any {
	return map[string]any{
		"aud":   entraAudience,
		"iss":   entraIssuer,
		"sub":   entraSubject,
		"oid":   entraSubject,
		"appid": "1b730954-1685-4b74-9bfd-dac224a7b894",
		"tid":   entraTenant,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"ver":   "2.0",
	}
}

// sign signs claims with the current key, RS256, with its kid.
func (p *idp) sign(claims map[string]any) string {
	p.mu.Lock()
	kid, k := p.current, p.keys[p.current]
	p.mu.Unlock()
	return signWith(p.t, jose.SigningKey{Algorithm: jose.RS256, Key: k}, kid, claims)
}

func signWith(t testing.TB, key jose.SigningKey, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(key, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unsigned returns a JWT with header h, claims and signature sig, built by
// hand, for the forgeries no library would make.
func unsigned(t testing.TB, h map[string]any, claims map[string]any, sig string) string {
	t.Helper()
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb) + "." + sig
}

// logBuffer collects a Server's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// fixture is a Server over a Memory with one tenant's client, "client-1",
// that has a secret and federation with a test identity provider.
type fixture struct {
	srv    *Server
	store  *Memory
	clock  *clock
	idp    *idp
	log    *logBuffer
	client Client
	secret string
	sec    Secret
}

const testIssuer = "https://app.example.com"

func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	f := &fixture{store: &Memory{}, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}, idp: newIDP(t), log: &logBuffer{}}
	if opts.Issuer == "" {
		opts.Issuer = testIssuer
	}
	if opts.SigningKeys == nil {
		opts.SigningKeys = []SigningKey{NewSigningKey()}
	}
	opts.AllowLoopbackHTTP = true
	opts.Logger = slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(f.store, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.now = f.clock.now
	f.srv = srv
	fed, err := f.idp.federation().Validate(true)
	if err != nil {
		t.Fatal(err)
	}
	f.client = Client{ID: "client-1", Tenant: "acme", Name: "Entra ID", Federation: &fed, Created: f.clock.now()}
	if err := f.store.CreateClient(context.Background(), f.client); err != nil {
		t.Fatal(err)
	}
	f.secret, f.sec = f.addSecret(t)
	return f
}

// addSecret gives client-1 a new secret, created at the fixture's now.
func (f *fixture) addSecret(t testing.TB) (string, Secret) {
	t.Helper()
	secret, s, err := NewSecret(f.client.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Created, s.Expires = f.clock.now(), f.clock.now().Add(DefaultSecretLifetime)
	if err := f.store.AddSecret(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return secret, s
}

// tokenResponse is what the token endpoint answered.
type tokenResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r tokenResponse) token() string { s, _ := r.body["access_token"].(string); return s }
func (r tokenResponse) code() string  { s, _ := r.body["error"].(string); return s }

// post sends a token request with form and, when basic is not empty, an
// Authorization header.
func (f *fixture) post(t testing.TB, form url.Values, basic string) tokenResponse {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != "" {
		req.Header.Set("Authorization", basic)
	}
	return f.do(t, req)
}

func (f *fixture) do(t testing.TB, req *http.Request) tokenResponse {
	t.Helper()
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	raw, _ := io.ReadAll(w.Result().Body)
	r := tokenResponse{status: w.Code, header: w.Header(), raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("token endpoint answered %d with a body that is not JSON: %q", w.Code, raw)
	}
	return r
}

func secretForm(id, secret string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"scim"}}
}

func assertionForm(id, assertion string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
		"client_assertion_type": {AssertionType}, "client_assertion": {assertion}, "scope": {"scim"}}
}

func basicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// scimEndpoint is a real SCIM handler over memstore, behind BearerAuth with
// the Server's tokens and a static token for the tenant "okta-tenant".
func (f *fixture) scimEndpoint(t testing.TB) (http.Handler, string) {
	t.Helper()
	var tokens scim.Tokens
	static, hash := scim.NewToken()
	if err := tokens.Add("okta-tenant", hash); err != nil {
		t.Fatal(err)
	}
	h, err := scim.NewHandler(memstore.New(memstore.WithTenant(func(ctx context.Context) string {
		tn, _ := scim.TenantFrom(ctx)
		return tn.ID
	})), scim.Options{OAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	return scim.BearerAuth(f.srv.LookupOr(tokens.Lookup))(h), static
}

// scimGet sends GET /Users with the bearer token and returns the status.
func scimGet(h http.Handler, token string) int {
	req := httptest.NewRequest(http.MethodGet, "/Users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}
