package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/scimhost/scim"
)

// accessClaims are the claims of an access token: a JWT after RFC 9068's
// profile, signed with HS256 by one of Options.SigningKeys.
type accessClaims struct {
	jwt.Claims
	// Tenant is the client's tenant, the scope of the token.
	Tenant string `json:"tid"`
	// ClientID repeats sub, as RFC 9068 §2.2 asks.
	ClientID string `json:"client_id"`
	// SecretID is the secret the token was issued for; empty for an
	// assertion. A revoked secret's tokens are refused by it.
	SecretID string `json:"sid,omitempty"`
	Scope    string `json:"scope"`
}

// accessAudience is the "aud" of every access token: the SCIM API.
const accessAudience = "scim"

// issue signs an access token for client c, authenticated with the
// secret secretID (or an assertion, "").
func (s *Server) issue(c Client, secretID string, now time.Time) (string, error) {
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	claims := accessClaims{
		Claims: jwt.Claims{
			Issuer:   s.opts.Issuer,
			Subject:  c.ID,
			Audience: jwt.Audience{accessAudience},
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(s.opts.TokenLifetime)),
			ID:       hex.EncodeToString(jti[:]),
		},
		Tenant:   c.Tenant,
		ClientID: c.ID,
		SecretID: secretID,
		Scope:    Scope,
	}
	return jwt.Signed(s.signer).Claims(claims).Serialize()
}

// Lookup is a [scim.TokenLookup] for the access tokens the Server issues:
//
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(srv.Lookup)(h)))
//
// It returns the client's tenant with [scim.Tenant.Client] set to the
// client id, or [scim.ErrUnknownToken] for a token that is not one of the
// Server's, was not signed by one of Options.SigningKeys, has expired, or
// belongs to a client that is disabled or deleted, or was issued for a
// secret since revoked or deleted. The signature is verified without the
// storage; what a replica knows of the client is at most
// Options.ClientCheckInterval old, so one storage read per client and
// interval is all the storage sees. An error of the storage is returned
// wrapped (BearerAuth answers 500): a token is never admitted unchecked.
//
// Whether the tenant's SCIM sync is switched off ([scim.Tenant.Disabled])
// is what Options.TenantDisabled says; without it, never. To accept static
// tokens too, see [Server.LookupOr].
func (s *Server) Lookup(ctx context.Context, token string) (scim.Tenant, error) {
	now := s.now()
	h := hashAccess(token)
	c, ok := s.tokens.get(h, now)
	if !ok {
		var err error
		if c, err = s.parseAccess(token, now); err != nil {
			return scim.Tenant{}, err
		}
		s.tokens.put(h, c)
	}
	if err := s.clientAdmits(ctx, c, now); err != nil {
		return scim.Tenant{}, err
	}
	t := scim.Tenant{ID: c.Tenant, Client: c.ClientID}
	if s.opts.TenantDisabled != nil {
		off, err := s.opts.TenantDisabled(ctx, c.Tenant)
		if err != nil {
			return scim.Tenant{}, fmt.Errorf("oauth: TenantDisabled(%q): %w", c.Tenant, err)
		}
		t.Disabled = off
	}
	return t, nil
}

// LookupOr returns a [scim.TokenLookup] that admits the Server's access
// tokens, as [Server.Lookup] does, and hands every other token to next,
// such as [scim.Tokens.Lookup] for static bearer tokens: so that, per
// tenant, Entra ID gallery apps use OAuth while Okta keeps its token.
//
//	lookup := srv.LookupOr(tokens.Lookup)
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(lookup)(h)))
//
// A token shaped like a JWT (three dot-separated parts, which a
// [scim.NewToken] token never is) goes to the Server first, and to next
// only when the Server does not admit it (a host's own static tokens may be
// JWTs); any other token goes to next alone, so a static token costs no
// more than without OAuth. A nil next is [Server.Lookup] alone.
func (s *Server) LookupOr(next scim.TokenLookup) scim.TokenLookup {
	if next == nil {
		return s.Lookup
	}
	return func(ctx context.Context, token string) (scim.Tenant, error) {
		if strings.Count(token, ".") != 2 {
			return next(ctx, token)
		}
		t, err := s.Lookup(ctx, token)
		if errors.Is(err, scim.ErrUnknownToken) {
			return next(ctx, token)
		}
		return t, err
	}
}

// tokenAlgs is the one algorithm of access tokens.
var tokenAlgs = []jose.SignatureAlgorithm{jose.HS256}

// parseAccess verifies an access token and returns its claims.
func (s *Server) parseAccess(token string, now time.Time) (accessClaims, error) {
	var c accessClaims
	if len(token) > 4096 {
		return c, scim.ErrUnknownToken
	}
	tok, err := jwt.ParseSigned(token, tokenAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return c, scim.ErrUnknownToken
	}
	key := s.verify[tok.Headers[0].KeyID]
	if key == nil {
		return c, scim.ErrUnknownToken
	}
	if err := tok.Claims(key, &c); err != nil {
		return c, scim.ErrUnknownToken
	}
	if c.Expiry == nil || c.Tenant == "" || c.ClientID == "" || c.Subject != c.ClientID {
		return c, scim.ErrUnknownToken
	}
	err = c.ValidateWithLeeway(jwt.Expected{Issuer: s.opts.Issuer, AnyAudience: jwt.Audience{accessAudience}, Time: now}, s.opts.ClockSkew)
	if err != nil {
		return c, scim.ErrUnknownToken
	}
	return c, nil
}

// clientAdmits checks that the client of a verified token may still use
// it: not disabled or deleted, same tenant, its secret not revoked.
func (s *Server) clientAdmits(ctx context.Context, c accessClaims, now time.Time) error {
	st, err := s.clients.get(ctx, s, c.ClientID, now)
	if err != nil {
		return fmt.Errorf("oauth: reading client %q: %w", c.ClientID, err)
	}
	switch {
	case !st.exists || st.client.Disabled || st.client.Tenant != c.Tenant:
		return scim.ErrUnknownToken
	case c.SecretID != "" && !st.liveSecrets[c.SecretID]:
		return scim.ErrUnknownToken
	}
	return nil
}

// tokenCache remembers the claims of access tokens already verified, by
// the token's SHA-256, so that the requests of one client, which all carry
// the same token for an hour, cost a hash and a map lookup rather than a
// JWS parse. Entries go when the token expires; the cache is bounded.
type tokenCache struct {
	mu sync.RWMutex
	m  map[scim.TokenHash]accessClaims
}

// maxCachedTokens bounds the token cache: a few hundred bytes each.
const maxCachedTokens = 10000

func newTokenCache() *tokenCache {
	return &tokenCache{m: make(map[scim.TokenHash]accessClaims)}
}

// hashAccess is scim.HashToken for tokens of an access token's length: a
// stack buffer of that size spares the allocation of a []byte on every
// SCIM request.
func hashAccess(token string) scim.TokenHash {
	var buf [1024]byte
	if len(token) <= len(buf) {
		return sha256.Sum256(append(buf[:0], token...))
	}
	return scim.HashToken(token)
}

func (t *tokenCache) get(h scim.TokenHash, now time.Time) (accessClaims, bool) {
	t.mu.RLock()
	c, ok := t.m[h]
	t.mu.RUnlock()
	if ok && !now.Before(c.Expiry.Time()) {
		// Expired: verify again, which refuses it (with the skew allowed).
		return c, false
	}
	return c, ok
}

func (t *tokenCache) put(h scim.TokenHash, c accessClaims) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxCachedTokens {
		// Random eviction: map iteration order is unspecified, and a
		// verified token dropped costs only a verification.
		n := 0
		for k := range t.m {
			delete(t.m, k)
			if n++; n >= maxCachedTokens/10 {
				break
			}
		}
	}
	t.m[h] = c
}

// clientCache is what a replica last read of each client that presented a
// token: whether it exists, and which of its secrets still count.
type clientCache struct {
	mu      sync.Mutex
	entries map[string]*clientEntry
}

type clientEntry struct {
	mu          sync.Mutex // serialises reads of one client
	read        time.Time
	exists      bool
	client      Client
	liveSecrets map[string]bool // secrets neither revoked nor deleted
}

// clientState is a snapshot of a clientEntry.
type clientState struct {
	exists      bool
	client      Client
	liveSecrets map[string]bool
}

func (cc *clientCache) get(ctx context.Context, s *Server, id string, now time.Time) (clientState, error) {
	cc.mu.Lock()
	e := cc.entries[id]
	if e == nil {
		e = &clientEntry{}
		cc.entries[id] = e
	}
	cc.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.read.IsZero() && s.opts.ClientCheckInterval > 0 && now.Sub(e.read) < s.opts.ClientCheckInterval {
		return clientState{e.exists, e.client, e.liveSecrets}, nil
	}
	c, err := s.storage.Client(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		e.exists, e.client, e.liveSecrets = false, Client{}, nil
		e.read = now
		return clientState{}, nil
	case err != nil:
		return clientState{}, err
	}
	secrets, err := s.storage.Secrets(ctx, id)
	if err != nil {
		return clientState{}, err
	}
	live := make(map[string]bool, len(secrets))
	for _, sec := range secrets {
		if sec.Revoked.IsZero() {
			// An expired secret's tokens stay valid until they expire:
			// they were issued while it was valid.
			live[sec.ID] = true
		}
	}
	e.exists, e.client, e.liveSecrets, e.read = true, c, live, now
	return clientState{true, c, live}, nil
}

// ForgetClient drops what this Server remembers of the client with id, so
// that the next SCIM request with one of its tokens reads the storage. A
// host calls it after revoking a client or a secret: the revocation then
// holds at once on this replica, and on the others within
// Options.ClientCheckInterval.
func (s *Server) ForgetClient(id string) { s.clients.forget(id) }

func (cc *clientCache) forget(id string) {
	cc.mu.Lock()
	delete(cc.entries, id)
	cc.mu.Unlock()
}
