package scim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// errorBody is a SCIM error response as a client decodes it.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType"`
	Detail   string   `json:"detail"`
}

const errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// authResult is what one request through BearerAuth produced.
type authResult struct {
	status    int
	header    http.Header
	body      string
	reached   bool   // the next handler ran
	tenant    Tenant // what the next handler read with TenantFrom
	hadTenant bool
}

// serve sends a GET with the given Authorization header values through
// BearerAuth(lookup) to a handler that records the tenant it sees.
func serve(t *testing.T, lookup TokenLookup, auth ...string) authResult {
	t.Helper()
	var res authResult
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res.reached = true
		res.tenant, res.hadTenant = TenantFrom(r.Context())
		w.WriteHeader(http.StatusOK)
	})
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/Users?filter=userName+eq+%22x%22", nil)
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	rec := httptest.NewRecorder()
	BearerAuth(lookup)(next).ServeHTTP(rec, req)
	res.status = rec.Code
	res.header = rec.Header()
	res.body = rec.Body.String()
	return res
}

// checkSCIMError asserts that res is a SCIM error response with the status
// and detail given, and that the body does not contain any of secrets.
func checkSCIMError(t *testing.T, res authResult, status int, detail string, secrets ...string) {
	t.Helper()
	if res.status != status {
		t.Errorf("status = %d, want %d (body %s)", res.status, status, res.body)
	}
	if res.reached {
		t.Errorf("next handler ran for a refused request")
	}
	if ct := res.header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("Content-Type = %q, want application/scim+json", ct)
	}
	var b errorBody
	if err := json.Unmarshal([]byte(res.body), &b); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, res.body)
	}
	if !slices.Equal(b.Schemas, []string{errorSchema}) {
		t.Errorf("schemas = %q, want [%q]", b.Schemas, errorSchema)
	}
	if b.Status != strconv.Itoa(status) {
		t.Errorf(`"status" = %q, want the string %q`, b.Status, strconv.Itoa(status))
	}
	if b.Detail != detail {
		t.Errorf("detail = %q, want %q", b.Detail, detail)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(res.body, s) {
			t.Errorf("body %s contains the secret %q", res.body, s)
		}
	}
}

func TestBearerAuth(t *testing.T) {
	var tokens Tokens
	acme, acmeHash := NewToken()
	off, offHash := NewToken()
	mustAdd(t, &tokens, "acme", acmeHash)
	mustAdd(t, &tokens, "off", offHash)
	tokens.SetDisabled("off", true)
	wrong, _ := NewToken()

	const (
		noChallenge    = `Bearer realm="scim"`
		tokenChallenge = `Bearer realm="scim", error="invalid_token"`
	)
	tests := []struct {
		name      string
		auth      []string // Authorization header values; none when nil
		status    int
		detail    string // for refusals
		challenge string // WWW-Authenticate, "" for none
		tenant    string // for admitted requests
	}{
		{name: "no header", status: 401, detail: errNoToken.Detail, challenge: noChallenge},
		{name: "empty header", auth: []string{""}, status: 401, detail: errNoToken.Detail, challenge: noChallenge},
		{name: "basic scheme", auth: []string{"Basic YWxhZGRpbjpvcGVuc2VzYW1l"}, status: 401, detail: errWrongScheme.Detail, challenge: noChallenge},
		{name: "other scheme carrying the right token", auth: []string{"Token " + acme}, status: 401, detail: errWrongScheme.Detail, challenge: noChallenge},
		{name: "token with no scheme", auth: []string{acme}, status: 401, detail: errWrongScheme.Detail, challenge: noChallenge},
		{name: "scheme glued to token", auth: []string{"Bearer" + acme}, status: 401, detail: errWrongScheme.Detail, challenge: noChallenge},
		{name: "scheme only", auth: []string{"Bearer"}, status: 401, detail: errNoToken.Detail, challenge: noChallenge},
		{name: "scheme and spaces", auth: []string{"Bearer   \t "}, status: 401, detail: errNoToken.Detail, challenge: noChallenge},
		{name: "wrong token", auth: []string{"Bearer " + wrong}, status: 401, detail: errBadToken.Detail, challenge: tokenChallenge},
		{name: "wrong token of another form", auth: []string{"Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig"}, status: 401, detail: errBadToken.Detail, challenge: tokenChallenge},
		{name: "right token with a character more", auth: []string{"Bearer " + acme + "0"}, status: 401, detail: errBadToken.Detail, challenge: tokenChallenge},
		{name: "right token in upper case", auth: []string{"Bearer " + strings.ToUpper(acme)}, status: 401, detail: errBadToken.Detail, challenge: tokenChallenge},
		{name: "two headers", auth: []string{"Bearer " + acme, "Bearer " + acme}, status: 400, detail: errManyAuth.Detail, challenge: `Bearer realm="scim", error="invalid_request"`},
		{name: "disabled tenant", auth: []string{"Bearer " + off}, status: 403, detail: "SCIM provisioning is switched off for this workspace; a workspace admin can switch it back on"},
		{name: "right token", auth: []string{"Bearer " + acme}, status: 200, tenant: "acme"},
		{name: "scheme in lower case", auth: []string{"bearer " + acme}, status: 200, tenant: "acme"},
		{name: "scheme in upper case", auth: []string{"BEARER " + acme}, status: 200, tenant: "acme"},
		{name: "extra spaces", auth: []string{"  Bearer    " + acme + "  "}, status: 200, tenant: "acme"},
		{name: "tab after scheme", auth: []string{"Bearer\t" + acme}, status: 200, tenant: "acme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(t, tokens.Lookup, tt.auth...)
			if got := res.header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if tt.status != http.StatusOK {
				checkSCIMError(t, res, tt.status, tt.detail, acme, off, wrong)
				return
			}
			if res.status != http.StatusOK || !res.reached {
				t.Fatalf("status = %d, next handler ran: %v; want 200 from the next handler (body %s)", res.status, res.reached, res.body)
			}
			if want := (Tenant{ID: tt.tenant}); !res.hadTenant || res.tenant != want {
				t.Errorf("TenantFrom = %+v, %v; want %+v, true", res.tenant, res.hadTenant, want)
			}
		})
	}
}

func mustAdd(t testing.TB, tokens *Tokens, tenantID string, h TokenHash) {
	t.Helper()
	if err := tokens.Add(tenantID, h); err != nil {
		t.Fatalf("Add(%q): %v", tenantID, err)
	}
}

// TestBearerAuthRotation walks through a token rotation: two tokens of one
// tenant valid at once, then the old one revoked, then all of them.
func TestBearerAuthRotation(t *testing.T) {
	var tokens Tokens
	old, oldHash := NewToken()
	mustAdd(t, &tokens, "acme", oldHash)
	newer, newerHash := NewToken()
	mustAdd(t, &tokens, "acme", newerHash)
	other, otherHash := NewToken()
	mustAdd(t, &tokens, "globex", otherHash)

	type want struct {
		token  string
		tenant string // "" for refused
	}
	steps := []struct {
		name   string
		change func(t *testing.T)
		want   []want
	}{
		{
			name:   "both tokens valid",
			change: func(*testing.T) {},
			want:   []want{{old, "acme"}, {newer, "acme"}, {other, "globex"}},
		},
		{
			name: "old token removed",
			change: func(t *testing.T) {
				if !tokens.Remove(oldHash) {
					t.Error("Remove(old) = false, want true")
				}
				if tokens.Remove(oldHash) {
					t.Error("second Remove(old) = true, want false")
				}
			},
			want: []want{{old, ""}, {newer, "acme"}, {other, "globex"}},
		},
		{
			name: "old token added again",
			change: func(t *testing.T) {
				mustAdd(t, &tokens, "acme", oldHash)
				mustAdd(t, &tokens, "acme", oldHash) // again: no error, no change
			},
			want: []want{{old, "acme"}, {newer, "acme"}, {other, "globex"}},
		},
		{
			name: "all of the tenant's tokens removed",
			change: func(t *testing.T) {
				if n := tokens.RemoveAll("acme"); n != 2 {
					t.Errorf("RemoveAll = %d, want 2", n)
				}
			},
			want: []want{{old, ""}, {newer, ""}, {other, "globex"}},
		},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.change(t)
			for _, w := range step.want {
				res := serve(t, tokens.Lookup, "Bearer "+w.token)
				if w.tenant == "" {
					checkSCIMError(t, res, 401, errBadToken.Detail, w.token)
					continue
				}
				if res.status != 200 || res.tenant.ID != w.tenant {
					t.Errorf("token of %s: status %d, tenant %q; want 200, %q", w.tenant, res.status, res.tenant.ID, w.tenant)
				}
			}
		})
	}
}

// TestBearerAuthDisabled turns a tenant's sync off and on again, and checks
// that the switch outlives the tenant's tokens.
func TestBearerAuthDisabled(t *testing.T) {
	var tokens Tokens
	acme, acmeHash := NewToken()
	mustAdd(t, &tokens, "acme", acmeHash)
	globex, globexHash := NewToken()
	mustAdd(t, &tokens, "globex", globexHash)

	check := func(t *testing.T, token string, wantStatus int) {
		t.Helper()
		res := serve(t, tokens.Lookup, "Bearer "+token)
		if wantStatus == http.StatusForbidden {
			checkSCIMError(t, res, wantStatus, errDisabled.Detail, token)
			if got := res.header.Get("WWW-Authenticate"); got != "" {
				t.Errorf("WWW-Authenticate = %q on 403, want none", got)
			}
			return
		}
		if res.status != wantStatus {
			t.Errorf("status = %d, want %d", res.status, wantStatus)
		}
	}

	tokens.SetDisabled("acme", true)
	check(t, acme, 403)
	check(t, globex, 200)
	if !tokens.Disabled("acme") || tokens.Disabled("globex") {
		t.Errorf("Disabled = %v, %v; want true, false", tokens.Disabled("acme"), tokens.Disabled("globex"))
	}

	// Revoking and reissuing the tokens of a switched-off tenant does not
	// switch it back on.
	tokens.RemoveAll("acme")
	reissued, reissuedHash := NewToken()
	mustAdd(t, &tokens, "acme", reissuedHash)
	check(t, reissued, 403)

	tokens.SetDisabled("acme", false)
	check(t, reissued, 200)
	if tokens.Disabled("acme") {
		t.Error("Disabled after switching back on")
	}
	tokens.SetDisabled("acme", false) // already on: no change
	check(t, reissued, 200)

	// The switch may be set before a tenant has any token.
	tokens.SetDisabled("initech", true)
	initech, initechHash := NewToken()
	mustAdd(t, &tokens, "initech", initechHash)
	check(t, initech, 403)
}

// captureLog makes slog.Default write text to the returned buffer until the
// test ends. Tests that use it must not run in parallel.
func captureLog(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	old, oldWriter, oldFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		slog.SetDefault(old)
		// slog.SetDefault redirected the log package; restoring the default
		// slog handler does not undo that.
		log.SetOutput(oldWriter)
		log.SetFlags(oldFlags)
	})
	return &buf
}

// TestBearerAuthLookupError checks that the failures of a host's lookup are
// answered without revealing them, and logged without the token.
func TestBearerAuthLookupError(t *testing.T) {
	token, _ := NewToken()
	const dbErr = "pq: connection refused to 10.0.0.7:5432"
	tests := []struct {
		name    string
		lookup  TokenLookup
		status  int
		detail  string
		logHas  string // "" when nothing must be logged
		headers map[string]string
	}{
		{
			name: "database down",
			lookup: func(context.Context, string) (Tenant, error) {
				return Tenant{}, errors.New(dbErr)
			},
			status: 500, detail: internalDetail, logHas: dbErr,
		},
		{
			name: "unknown token wrapped",
			lookup: func(context.Context, string) (Tenant, error) {
				return Tenant{}, fmt.Errorf("tokens table: %w", ErrUnknownToken)
			},
			status: 401, detail: errBadToken.Detail,
			headers: map[string]string{"WWW-Authenticate": `Bearer realm="scim", error="invalid_token"`},
		},
		{
			name: "lookup chooses its answer",
			lookup: func(context.Context, string) (Tenant, error) {
				return Tenant{}, &Error{Status: http.StatusTooManyRequests, Detail: "too many token lookups"}
			},
			status: 429, detail: "too many token lookups",
		},
		{
			name: "lookup returns no tenant",
			lookup: func(context.Context, string) (Tenant, error) {
				return Tenant{}, nil
			},
			status: 500, detail: internalDetail, logHas: errEmptyTenantID.Error(),
		},
		{
			name:   "nil lookup",
			lookup: nil,
			status: 500, detail: internalDetail, logHas: errNilLookup.Error(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := captureLog(t)
			res := serve(t, tt.lookup, "Bearer "+token)
			checkSCIMError(t, res, tt.status, tt.detail, token, dbErr)
			for k, v := range tt.headers {
				if got := res.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			logged := buf.String()
			if tt.logHas == "" && logged != "" {
				t.Errorf("logged %q, want nothing", logged)
			}
			if !strings.Contains(logged, tt.logHas) {
				t.Errorf("log %q does not contain %q", logged, tt.logHas)
			}
			if strings.Contains(logged, token) {
				t.Errorf("log %q contains the token", logged)
			}
			if strings.Contains(logged, HashToken(token).String()) {
				t.Errorf("log %q contains the token's hash", logged)
			}
		})
	}
}

// TestBearerAuthNilNext checks that a host's missing handler is a logged
// 500, not a panic on every request.
func TestBearerAuthNilNext(t *testing.T) {
	buf := captureLog(t)
	var tokens Tokens
	token, h := NewToken()
	mustAdd(t, &tokens, "acme", h)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/Users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	BearerAuth(tokens.Lookup)(nil).ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	if !strings.Contains(buf.String(), errNilNext.Error()) {
		t.Errorf("log %q does not name the missing handler", buf.String())
	}
}

func TestTenantContext(t *testing.T) {
	if got, ok := TenantFrom(t.Context()); ok {
		t.Errorf("TenantFrom(empty context) = %+v, true; want false", got)
	}
	want := Tenant{ID: "acme", Disabled: true}
	ctx := WithTenant(t.Context(), want)
	if got, ok := TenantFrom(ctx); !ok || got != want {
		t.Errorf("TenantFrom(WithTenant(%+v)) = %+v, %v", want, got, ok)
	}
	inner := WithTenant(ctx, Tenant{ID: "globex"})
	if got, _ := TenantFrom(inner); got.ID != "globex" {
		t.Errorf("inner tenant = %q, want globex", got.ID)
	}
	if got, _ := TenantFrom(ctx); got != want {
		t.Errorf("outer context changed to %+v", got)
	}
}

func TestNewToken(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		token, h := NewToken()
		rest, ok := strings.CutPrefix(token, TokenPrefix)
		if !ok {
			t.Fatalf("token %q lacks the prefix %q", token, TokenPrefix)
		}
		if len(rest) != 64 || strings.Trim(rest, "0123456789abcdef") != "" {
			t.Fatalf("token %q is not the prefix and 64 lowercase hex digits", token)
		}
		if h != HashToken(token) {
			t.Fatalf("NewToken hash %s, HashToken %s", h, HashToken(token))
		}
		if seen[token] {
			t.Fatalf("token %q made twice", token)
		}
		seen[token] = true
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256 test vector of FIPS 180-2: "abc".
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := HashToken("abc").String(); got != abc {
		t.Errorf(`HashToken("abc") = %s, want %s`, got, abc)
	}
	// Tokens short enough for HashToken's stack buffer and longer ones
	// (a JWT) hash alike.
	for _, n := range []int{0, 69, 127, 128, 129, 2000} {
		token := strings.Repeat("x", n)
		if got, want := HashToken(token), TokenHash(sha256.Sum256([]byte(token))); got != want {
			t.Errorf("HashToken of %d bytes = %s, want %s", n, got, want)
		}
	}
}

func TestParseTokenHash(t *testing.T) {
	_, h := NewToken()
	tests := []struct {
		name    string
		in      string
		want    TokenHash
		wantErr bool
	}{
		{name: "lower case", in: h.String(), want: h},
		{name: "upper case", in: strings.ToUpper(h.String()), want: h},
		{name: "zero", in: strings.Repeat("0", 64), want: TokenHash{}},
		{name: "empty", in: "", wantErr: true},
		{name: "too short", in: h.String()[:62], wantErr: true},
		{name: "too long", in: h.String() + "00", wantErr: true},
		{name: "odd length", in: h.String()[:63], wantErr: true},
		{name: "not hex", in: "zz" + h.String()[2:], wantErr: true},
		{name: "a token, not a hash", in: "scim_" + h.String()[5:], wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTokenHash(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTokenHash(%q) error = %v, want error: %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseTokenHash(%q) = %s, want %s", tt.in, got, tt.want)
			}
			var u TokenHash
			if err := u.UnmarshalText([]byte(tt.in)); (err != nil) != tt.wantErr || u != tt.want {
				t.Errorf("UnmarshalText(%q) = %s, %v; want %s", tt.in, u, err, tt.want)
			}
		})
	}
}

// TestTokenHashJSON checks that a hash in a host's config file reads as hex.
func TestTokenHashJSON(t *testing.T) {
	_, h := NewToken()
	type config struct {
		Tenant string    `json:"tenant"`
		Hash   TokenHash `json:"hash"`
	}
	b, err := json.Marshal(config{"acme", h})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"tenant":"acme","hash":"` + h.String() + `"}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var c config
	if err := json.Unmarshal(b, &c); err != nil || c.Hash != h {
		t.Errorf("Unmarshal(%s) = %+v, %v; want hash %s", b, c, err, h)
	}
	if err := json.Unmarshal([]byte(`{"hash":"00"}`), &c); err == nil {
		t.Errorf("Unmarshal of a short hash: no error")
	}
}

func TestTokensAdd(t *testing.T) {
	var tokens Tokens
	token, h := NewToken()
	mustAdd(t, &tokens, "acme", h)
	if err := tokens.Add("globex", h); !errors.Is(err, errHashTaken) {
		t.Errorf("Add of acme's hash for globex: error %v, want %v", err, errHashTaken)
	}
	if err := tokens.Add("", HashToken("other")); !errors.Is(err, errNoTenantID) {
		t.Errorf("Add with no tenant: error %v, want %v", err, errNoTenantID)
	}
	if got, err := tokens.Lookup(t.Context(), token); err != nil || got != (Tenant{ID: "acme"}) {
		t.Errorf("after refused Adds, Lookup = %+v, %v; want acme", got, err)
	}
	if _, err := tokens.Lookup(t.Context(), "other"); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("Lookup of a refused token: error %v, want ErrUnknownToken", err)
	}
}

func TestTokensZeroValue(t *testing.T) {
	var tokens Tokens
	for _, token := range []string{"", "scim_x", "anything"} {
		if got, err := tokens.Lookup(t.Context(), token); !errors.Is(err, ErrUnknownToken) || got != (Tenant{}) {
			t.Errorf("Lookup(%q) = %+v, %v; want ErrUnknownToken", token, got, err)
		}
	}
	if tokens.Remove(HashToken("x")) {
		t.Error("Remove on an empty set = true")
	}
	if n := tokens.RemoveAll("acme"); n != 0 {
		t.Errorf("RemoveAll on an empty set = %d", n)
	}
	tokens.SetDisabled("acme", false)
	if tokens.Disabled("acme") {
		t.Error("Disabled on an empty set = true")
	}
}

// TestTokensConcurrent runs Add, Remove, RemoveAll, SetDisabled and Lookup
// from many goroutines; run it with -race. Tokens added before the start
// and never removed must be found, with their tenant, throughout.
func TestTokensConcurrent(t *testing.T) {
	var tokens Tokens
	const tenants = 4
	stable := make([]string, tenants)
	for i := range stable {
		var h TokenHash
		stable[i], h = NewToken()
		mustAdd(t, &tokens, "t"+strconv.Itoa(i), h)
	}
	handler := BearerAuth(tokens.Lookup)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tn, _ := TenantFrom(r.Context())
		_, _ = io.WriteString(w, tn.ID)
	}))

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	const rounds = 200
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tenant := "t" + strconv.Itoa(g%tenants)
			for i := range rounds {
				switch g % 4 {
				case 0: // churns its own tokens
					tok, h := NewToken()
					if err := tokens.Add(tenant, h); err != nil {
						errs <- err
						return
					}
					if got, err := tokens.Lookup(context.Background(), tok); err != nil || got.ID != tenant {
						errs <- fmt.Errorf("fresh token of %s: %+v, %v", tenant, got, err)
						return
					}
					tokens.Remove(h)
				case 1: // flips the switch of a tenant with no stable token
					tokens.SetDisabled("flipping", i%2 == 0)
				case 2: // revokes tokens of tenants no one else uses
					_, h := NewToken()
					_ = tokens.Add("short-lived", h)
					tokens.RemoveAll("short-lived")
				case 3: // reads through the middleware
					tok := stable[i%tenants]
					req := httptest.NewRequest(http.MethodGet, "/Users", nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					rec := httptest.NewRecorder()
					handler.ServeHTTP(rec, req)
					want := "t" + strconv.Itoa(i%tenants)
					if rec.Code != 200 || rec.Body.String() != want {
						errs <- fmt.Errorf("stable token of %s: %d %s", want, rec.Code, rec.Body)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmarks measure the middleware rather than a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// benchSizes are the numbers of tokens in the set: one workspace, and a
// thousand.
var benchSizes = []int{1, 1000}

// fillTokens returns a set of n tokens, one per tenant, and one of them.
func fillTokens(b *testing.B, n int) (*Tokens, string) {
	tokens := new(Tokens)
	var token string
	for i := range n {
		tok, h := NewToken()
		mustAdd(b, tokens, "tenant-"+strconv.Itoa(i), h)
		if i == n/2 {
			token = tok
		}
	}
	return tokens, token
}

// BenchmarkBearerAuth measures the middleware on an admitted request and
// on a wrong token.
func BenchmarkBearerAuth(b *testing.B) {
	for _, n := range benchSizes {
		tokens, token := fillTokens(b, n)
		var seen string
		h := BearerAuth(tokens.Lookup)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t, _ := TenantFrom(r.Context())
			seen = t.ID
		}))
		wrong, _ := NewToken()
		for _, c := range []struct{ name, token string }{{"valid", token}, {"wrong", wrong}} {
			b.Run(fmt.Sprintf("tokens=%d/%s", n, c.name), func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/Users", nil)
				req.Header.Set("Authorization", "Bearer "+c.token)
				w := &discardWriter{h: make(http.Header)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					h.ServeHTTP(w, req)
				}
			})
		}
		if seen == "" {
			b.Fatal("the valid token never reached the handler")
		}
	}
}

// scanTokens is the alternative to Tokens' map that the Tokens doc
// rejects: every stored hash compared with the presented one in constant
// time. It is here only so that BenchmarkTokensLookup can show the cost.
type scanTokens struct {
	hashes  []TokenHash
	tenants []string
}

func (s *scanTokens) lookup(_ context.Context, token string) (Tenant, error) {
	h := HashToken(token)
	found := -1
	for i := range s.hashes {
		eq := subtle.ConstantTimeCompare(h[:], s.hashes[i][:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return Tenant{}, ErrUnknownToken
	}
	return Tenant{ID: s.tenants[found]}, nil
}

// BenchmarkTokensLookup compares Tokens.Lookup (a map keyed by hash) with a
// constant-time scan over every stored hash.
func BenchmarkTokensLookup(b *testing.B) {
	for _, n := range benchSizes {
		tokens, token := fillTokens(b, n)
		scan := new(scanTokens)
		for h, id := range tokens.tenant {
			scan.hashes = append(scan.hashes, h)
			scan.tenants = append(scan.tenants, id)
		}
		for _, c := range []struct {
			name   string
			lookup TokenLookup
		}{{"map", tokens.Lookup}, {"scan", scan.lookup}} {
			b.Run(fmt.Sprintf("tokens=%d/%s", n, c.name), func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.lookup(ctx, token); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// The handler's code reads a request's context with requestContext, never
// with r.Context(): BearerAuth hands a *Handler the tenant's context apart
// from the request (Handler.serve), so a call of r.Context() would miss
// the tenant, and memstore would serve the request from the data of no
// tenant. Only the functions listed here may call Context().
func TestHandlerReadsContextFromWriter(t *testing.T) {
	allowed := map[string]bool{
		"bearerAuth":     true, // before the Handler: the context to add to
		"ServeHTTP":      true, // Handler.ServeHTTP hands it to serve
		"requestContext": true, // the fallback for writers that are not the Handler's
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || allowed[fd.Name.Name] {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok && len(c.Args) == 0 {
					if s, ok := c.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "Context" {
						t.Errorf("%s: %s calls Context(); read the request's context with requestContext(w, r)", fset.Position(c.Pos()), fd.Name.Name)
					}
				}
				return true
			})
		}
	}
}
