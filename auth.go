package scim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// A SCIM endpoint is a door into a customer's user directory, so it is
// guarded by a bearer token per workspace: the admin pastes the token into
// Entra's Secret Token field (or Okta's, ...), the client sends it as
// "Authorization: Bearer <token>", and the token alone tells the host which
// workspace the request acts for. Several tokens may be valid for one
// workspace at once, so a token can be rotated without a gap.

// ErrUnknownToken is what a [TokenLookup] returns, or wraps, when no tenant
// has the presented token. [BearerAuth] answers it with 401 invalid_token.
var ErrUnknownToken = errors.New("scim: unknown bearer token")

// Tenant is who a request acts for: the host's workspace (organisation,
// account) whose directory the client provisions.
//
// The zero Tenant is no tenant; a [TokenLookup] never returns it with a nil
// error.
type Tenant struct {
	// ID is the host's workspace id. A multi-tenant Store scopes every call
	// to it (see [TenantFrom]); it is never empty.
	ID string
	// Disabled reports that the workspace's admin has switched SCIM
	// provisioning off: [BearerAuth] answers its requests 403 and never
	// passes them on.
	Disabled bool
	// Client names the OAuth client that authenticated the request; it is
	// empty for a static bearer token.
	Client string
}

type tenantKey struct{}

// TenantFrom returns the tenant [BearerAuth] (or [WithTenant]) put in ctx,
// and whether there was one. A multi-tenant Store calls it first in every
// method and refuses to run without one.
func TenantFrom(ctx context.Context) (Tenant, bool) {
	if c, ok := ctx.Value(tenantKey{}).(*tenantCtx); ok {
		return c.t, true
	}
	return Tenant{}, false
}

// WithTenant returns a copy of ctx carrying t, for hosts that authenticate
// requests their own way and for tests of a Store. Unlike [BearerAuth] it
// does not check t.Disabled: a host with its own authentication switches
// sync off itself.
func WithTenant(ctx context.Context, t Tenant) context.Context {
	if ctx == nil {
		// As context.WithValue does: a nil parent is a caller's bug, which
		// would otherwise surface later, far from here.
		panic("scim: WithTenant: nil parent context")
	}
	return &tenantCtx{Context: ctx, t: t}
}

// tenantCtx is the context WithTenant returns. It answers the tenant's key
// with itself, a pointer, so that neither WithTenant (once per request)
// nor TenantFrom (several times: the store, the logs) boxes a Tenant, as
// context.WithValue's any would.
type tenantCtx struct {
	context.Context
	t Tenant
}

func (c *tenantCtx) Value(key any) any {
	if _, ok := key.(tenantKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// String names the context as context.WithValue's do, for a host that
// prints one.
func (c *tenantCtx) String() string {
	return fmt.Sprintf("%v.WithTenant(%q)", c.Context, c.t.ID)
}

// TokenLookup finds the tenant a presented bearer token belongs to. It
// returns [ErrUnknownToken] (or an error wrapping it) when no tenant has the
// token, and a Tenant with a non-empty ID otherwise. A lookup that knows
// whose token it was (a revoked one) may return that tenant together with
// ErrUnknownToken: the request is still refused 401, and [BearerAuthLog]
// records the refusal in that tenant's provisioning log. Any other error is
// answered 500 with a generic detail and logged; a *[Error] is written as it
// is, so a lookup may answer 429 or 503 on its own terms.
//
// A lookup must not reveal through its timing which stored token the
// presented one resembles: either compare in constant time
// (crypto/subtle) or, better, look up by [HashToken] of the presented
// token, as [Tokens] does. A database lookup by hash is safe for the same
// reason: the attacker chooses the token but not its SHA-256, so how long an
// index search takes tells nothing that helps forge a token. Never look up
// the token itself in a database index, and never log it.
//
// A TokenLookup must be safe for concurrent use.
type TokenLookup func(ctx context.Context, token string) (Tenant, error)

// Responses of BearerAuth. They are shared: an *Error is never modified.
var (
	errNoToken     = &Error{Status: http.StatusUnauthorized, Detail: "missing bearer token: send Authorization: Bearer <token>"}
	errWrongScheme = &Error{Status: http.StatusUnauthorized, Detail: "unsupported authorization scheme: send Authorization: Bearer <token>"}
	errBadToken    = &Error{Status: http.StatusUnauthorized, Detail: "invalid bearer token"}
	errManyAuth    = &Error{Status: http.StatusBadRequest, Detail: "more than one Authorization header"}
	errDisabled    = &Error{Status: http.StatusForbidden, Detail: "SCIM provisioning is switched off for this workspace; a workspace admin can switch it back on"}
)

// The WWW-Authenticate challenges of RFC 6750 §3. The error parameter is sent
// only when the client presented a token (§3.1: a request without
// authentication information gets no error code).
const (
	challenge               = `Bearer realm="scim"`
	challengeInvalidToken   = `Bearer realm="scim", error="invalid_token"`
	challengeInvalidRequest = `Bearer realm="scim", error="invalid_request"`
)

// Programming errors of the host, answered 500 and logged.
var (
	errNilLookup     = errors.New("scim: BearerAuth: nil TokenLookup")
	errNilNext       = errors.New("scim: BearerAuth: nil next handler")
	errEmptyTenantID = errors.New("scim: BearerAuth: TokenLookup returned a tenant with an empty ID")
)

// BearerAuth returns middleware that admits a request only when it carries a
// bearer token that lookup knows, and puts the token's [Tenant] in the
// request's context for the handler and the Store ([TenantFrom]):
//
//	tokens := new(scim.Tokens) // or the host's own TokenLookup over its database
//	h, err := scim.NewHandler(store, scim.Options{Prefix: "/scim/v2", ...})
//	mux.Handle("/scim/v2/", scim.BearerAuth(tokens.Lookup)(h))
//
// When next is the *[Handler] itself, BearerAuth hands it the context
// holding the tenant directly, rather than through r.WithContext, which
// copies the request: with Options.Prefix (no http.StripPrefix) the
// Handler then serves the very request the server read. Any other next
// (the host's own middleware, or a Handler wrapped in it) gets
// r.WithContext as usual, and finds the tenant with TenantFrom(r.Context()).
//
// The token is read from "Authorization: Bearer <token>" (RFC 6750 §2.1); the
// scheme is matched without regard to case and the token is trimmed of
// surrounding spaces and tabs. Every refusal is a SCIM error body:
//
//   - no Authorization header, an empty one, another scheme (Basic) or an
//     empty token: 401 with WWW-Authenticate: Bearer realm="scim";
//   - a token lookup does not know: 401 with error="invalid_token" added;
//   - more than one Authorization header: 400 with error="invalid_request",
//     since a proxy and this middleware might each read a different one;
//   - a tenant whose sync is switched off (Tenant.Disabled): 403, whose
//     detail is what the admin reads in Entra's Test Connection;
//   - any other lookup error: 500 with a generic detail; the error is logged
//     with slog.Default (a *[Error] from lookup is written as it is).
//
// No detail repeats the token, and neither the token nor the Authorization
// header is ever logged. A nil lookup answers every request 500.
func BearerAuth(lookup TokenLookup) func(http.Handler) http.Handler {
	return bearerAuth(lookup, nil)
}

// BearerAuthLog is [BearerAuth] that also records, in the provisioning log
// q, the requests it refuses for a known tenant: a revoked token whose
// tenant lookup names (see [TokenLookup]) and a tenant whose sync is
// switched off. Requests it admits are recorded by the [Handler] through
// Options.Log; give both the same queue. A nil q records nothing.
func BearerAuthLog(lookup TokenLookup, q *LogQueue) func(http.Handler) http.Handler {
	return bearerAuth(lookup, q)
}

func bearerAuth(lookup TokenLookup, q *LogQueue) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if lookup == nil || next == nil {
				err := errNilLookup
				if next == nil {
					err = errNilNext
				}
				writeError(w, r, slog.Default(), err)
				return
			}
			token, e := bearerToken(r.Header)
			if e != nil {
				switch e {
				case errManyAuth:
					w.Header().Set("WWW-Authenticate", challengeInvalidRequest)
				default:
					w.Header().Set("WWW-Authenticate", challenge)
				}
				writeError(w, r, nil, e)
				return
			}
			var start time.Time
			if q != nil {
				start = time.Now()
			}
			t, err := lookup(r.Context(), token)
			switch {
			case errors.Is(err, ErrUnknownToken):
				w.Header().Set("WWW-Authenticate", challengeInvalidToken)
				writeError(w, r, nil, errBadToken)
				if q != nil && t.ID != "" {
					logRefusal(q, r, refusedPath(next, r), t, errBadToken, start)
				}
				return
			case err != nil:
				// The wrapping names where the error came from in the log;
				// the token is not in it.
				writeError(w, r, slog.Default(), fmt.Errorf("scim: token lookup: %w", err))
				return
			case t.ID == "":
				writeError(w, r, slog.Default(), errEmptyTenantID)
				return
			case t.Disabled:
				writeError(w, r, nil, errDisabled)
				if q != nil {
					logRefusal(q, r, refusedPath(next, r), t, errDisabled, start)
				}
				return
			}
			ctx := WithTenant(r.Context(), t)
			if sh, ok := next.(*Handler); ok {
				// The Handler takes the context as it is: r.WithContext
				// would copy the request, one of the largest allocations
				// of a request.
				sh.serve(w, r, ctx)
				return
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// refusedPath is the path a refusal's provisioning log entry names: below
// the SCIM base URL, as the Handler's entries name theirs.
func refusedPath(next http.Handler, r *http.Request) string {
	p := cleanPath(r.URL.Path)
	if sh, ok := next.(*Handler); ok {
		if rel, ok := sh.below(p); ok {
			return rel
		}
	}
	return p
}

// bearerToken returns the token of the request's Authorization header, or
// the error to answer.
func bearerToken(h http.Header) (string, *Error) {
	vals := h.Values("Authorization")
	switch {
	case len(vals) == 0:
		return "", errNoToken
	case len(vals) > 1:
		return "", errManyAuth
	}
	v := strings.TrimSpace(vals[0])
	if v == "" {
		return "", errNoToken
	}
	scheme, token := v, ""
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		scheme, token = v[:i], strings.TrimSpace(v[i:])
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errWrongScheme
	}
	if token == "" {
		return "", errNoToken
	}
	return token, nil
}

// TokenPrefix starts every token [NewToken] makes. A fixed prefix and length
// (the regular expression scim_[0-9a-f]{64}) let secret scanners recognise a
// leaked token, and let a person tell a SCIM token from other secrets.
const TokenPrefix = "scim_"

// NewToken returns a new bearer token to show the workspace admin once, and
// its hash to store. The token is [TokenPrefix] followed by 32 bytes from
// crypto/rand in lowercase hex: 256 bits, which no one guesses, written in
// characters that survive copying and pasting, double-click selection,
// URLs and shell quoting unchanged.
//
// NewToken does not return an error: since Go 1.24, crypto/rand never fails
// (on the rare system where it cannot read randomness, the program stops).
func NewToken() (token string, hash TokenHash) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = TokenPrefix + hex.EncodeToString(b[:])
	return token, HashToken(token)
}

// TokenHash is the SHA-256 of a bearer token: what a host stores instead of
// the token, so that a leaked database or config file holds no usable token.
// Its zero value is the hash of no token. It is comparable, so it can key a
// map, and it encodes as lowercase hex in text (JSON, YAML, flags).
type TokenHash [sha256.Size]byte

// HashToken returns the hash of token, exactly as presented (prefix
// included). An unsalted SHA-256 is right for a token with 256 random bits
// as [NewToken] makes: there is no dictionary to try. It is not for
// passwords.
func HashToken(token string) TokenHash {
	// Copying a token of usual length into a stack buffer spares the
	// allocation of converting it to a []byte on every request.
	var buf [128]byte
	if len(token) <= len(buf) {
		return sha256.Sum256(append(buf[:0], token...))
	}
	return sha256.Sum256([]byte(token))
}

// String returns h as 64 lowercase hex digits.
func (h TokenHash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText returns h as 64 lowercase hex digits.
func (h TokenHash) MarshalText() ([]byte, error) {
	b := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(b, h[:])
	return b, nil
}

// UnmarshalText sets h from 64 hex digits, as [ParseTokenHash] does.
func (h *TokenHash) UnmarshalText(text []byte) error {
	p, err := ParseTokenHash(string(text))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseTokenHash parses the 64 hex digits (either case) of
// [TokenHash.String]. It returns an error for any other length or a
// character that is not a hex digit.
func ParseTokenHash(s string) (TokenHash, error) {
	var h TokenHash
	if len(s) != hex.EncodedLen(len(h)) {
		return TokenHash{}, fmt.Errorf("scim: token hash must be %d hex digits, not %d characters", hex.EncodedLen(len(h)), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return TokenHash{}, fmt.Errorf("scim: token hash: %w", err)
	}
	return h, nil
}

// Errors of Tokens.Add: mistakes of the host's code, not of a client.
var (
	errNoTenantID = errors.New("scim: Tokens.Add: empty tenant ID")
	errHashTaken  = errors.New("scim: Tokens.Add: token hash already belongs to another tenant")
)

// Tokens is an in-memory set of token hashes, each belonging to a tenant,
// with a switch per tenant that turns sync off. Its Lookup method is a
// [TokenLookup]. A host that keeps its tokens in a database loads them at
// start-up with Add, and calls Add, Remove and SetDisabled as its admins
// create and revoke tokens; or it writes its own TokenLookup.
//
// A tenant may have several tokens at once, so a token is rotated without a
// gap: Add the new one, let the admin paste it into the client, Remove the
// old one.
//
// Lookup finds the presented token's hash in a map rather than comparing it
// with every stored hash in constant time: the attacker chooses the token but
// not its SHA-256, so whatever the map's timing reveals about the stored
// hashes cannot be turned back into a token. A scan with crypto/subtle
// would cost time in proportion to the number of tokens on every request:
// about 11 µs at 1,000 tokens, where the map takes 0.2 µs at any size and
// the whole middleware 0.5 µs (BenchmarkTokensLookup, BenchmarkBearerAuth).
//
// The zero value is an empty set, ready to use. A Tokens is safe for
// concurrent use and must not be copied after first use.
type Tokens struct {
	mu       sync.RWMutex
	tenant   map[TokenHash]string // token hash → tenant ID
	disabled map[string]bool      // tenant IDs whose sync is switched off
}

var _ TokenLookup = (*Tokens)(nil).Lookup

// Add makes the token with hash h valid for the tenant tenantID, beside any
// tokens the tenant already has. Adding a hash the tenant already has does
// nothing. It returns an error, and changes nothing, when tenantID is empty
// or h already belongs to another tenant (the same token for two workspaces
// would let one act for the other).
func (t *Tokens) Add(tenantID string, h TokenHash) error {
	if tenantID == "" {
		return errNoTenantID
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.tenant[h]; ok && id != tenantID {
		return errHashTaken
	}
	if t.tenant == nil {
		t.tenant = make(map[TokenHash]string)
	}
	t.tenant[h] = tenantID
	return nil
}

// Remove revokes the token with hash h: from its return, Lookup no longer
// finds it. It reports whether the token was in the set.
func (t *Tokens) Remove(h TokenHash) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.tenant[h]
	delete(t.tenant, h)
	return ok
}

// RemoveAll revokes every token of the tenant tenantID, as when a token has
// leaked or the workspace is deleted, and returns how many there were. It
// leaves the tenant's switch (SetDisabled) as it is, so that revoking and
// reissuing tokens does not switch a tenant's sync back on. It takes time in
// proportion to the number of tokens in the set.
func (t *Tokens) RemoveAll(tenantID string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for h, id := range t.tenant {
		if id == tenantID {
			delete(t.tenant, h)
			n++
		}
	}
	return n
}

// SetDisabled switches sync off (disabled true) or back on for the tenant
// tenantID: while it is off, Lookup returns the tenant with Disabled set and
// [BearerAuth] answers 403. The switch is kept apart from the tokens: it may
// be set before the tenant has any, and it outlives their removal.
// Switching a tenant back on forgets it.
func (t *Tokens) SetDisabled(tenantID string, disabled bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !disabled {
		delete(t.disabled, tenantID)
		return
	}
	if t.disabled == nil {
		t.disabled = make(map[string]bool)
	}
	t.disabled[tenantID] = true
}

// Disabled reports whether sync is switched off for the tenant tenantID
// ([Tokens.SetDisabled]), for lookups of other tokens of the tenant (such as
// OAuth access tokens) that honour the same switch.
func (t *Tokens) Disabled(tenantID string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.disabled[tenantID]
}

// Lookup returns the tenant of token, with Disabled set when its sync is
// switched off, or [ErrUnknownToken] when the set does not hold the token's
// hash. It is a [TokenLookup]; ctx is not used.
func (t *Tokens) Lookup(_ context.Context, token string) (Tenant, error) {
	h := HashToken(token)
	t.mu.RLock()
	id, ok := t.tenant[h]
	disabled := ok && t.disabled[id]
	t.mu.RUnlock()
	if !ok {
		return Tenant{}, ErrUnknownToken
	}
	return Tenant{ID: id, Disabled: disabled}, nil
}
