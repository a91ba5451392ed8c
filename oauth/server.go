package oauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The bounds and default of an access token's lifetime: Microsoft's gallery
// requirements ask for 60 minutes to 6 hours.
const (
	MinTokenLifetime     = time.Hour
	MaxTokenLifetime     = 6 * time.Hour
	DefaultTokenLifetime = time.Hour
)

// Defaults of [Options].
const (
	DefaultClockSkew           = time.Minute
	DefaultMaxFailures         = 20
	DefaultFailureWindow       = time.Minute
	DefaultClientCheckInterval = 30 * time.Second
	DefaultJWKSRefreshInterval = time.Minute
	DefaultJWKSMaxAge          = time.Hour
	DefaultJWKSTimeout         = 10 * time.Second
	DefaultMaxJWKSBytes        = 1 << 20
)

// Scope is the scope an access token is issued with.
const Scope = "scim"

// AssertionType is the client_assertion_type of RFC 7523 §2.2.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// SigningKey is one HMAC-SHA256 key that signs and verifies access tokens.
// Every replica of the host must have the same keys, from the host's
// configuration or secret store; [NewSigningKey] makes one.
type SigningKey struct {
	// ID names the key in the tokens it signs (the JWS "kid"), so that a
	// retired key can still verify the tokens it signed until they expire.
	ID string
	// Secret is the key: at least 32 bytes, random.
	Secret []byte
}

// NewSigningKey returns a new random SigningKey: a 12-hex-digit id and 32
// bytes from crypto/rand.
func NewSigningKey() SigningKey {
	var id [6]byte
	_, _ = rand.Read(id[:])
	k := SigningKey{ID: hex.EncodeToString(id[:]), Secret: make([]byte, 32)}
	_, _ = rand.Read(k.Secret)
	return k
}

// Options configure a [Server]. Only Issuer and SigningKeys are required;
// every other zero value means its default.
type Options struct {
	// Issuer identifies this authorization server, as the "iss" of the
	// access tokens and in the RFC 8414 metadata: an https URL such as
	// "https://app.example.com". Required.
	Issuer string
	// TokenURL is the token endpoint's absolute URL, the "Token URL" an
	// admin copies into Entra ID; only the metadata ([Server.Metadata])
	// uses it.
	TokenURL string
	// SigningKeys sign and verify access tokens: the first signs, all
	// verify. Rotate by putting a new key first, and drop the old one after
	// MaxTokenLifetime. Required, each at least 32 bytes, ids unique.
	SigningKeys []SigningKey
	// TokenLifetime is how long an access token is valid, from
	// MinTokenLifetime to MaxTokenLifetime. Default DefaultTokenLifetime.
	TokenLifetime time.Duration
	// Scopes are the scope values a token request may ask for, besides
	// "scim" and "scim.readwrite" (what Entra ID sends); asking for
	// another is refused with invalid_scope. Every token is issued with
	// scope "scim" and grants the SCIM API of the client's tenant.
	Scopes []string
	// ClockSkew is the tolerance on an assertion's exp, nbf and iat and
	// on an access token's exp, for clocks that differ between hosts.
	// Default DefaultClockSkew; at most 5 minutes.
	ClockSkew time.Duration
	// MaxFailures bounds the failed token requests per client in each
	// FailureWindow: past it, the client's requests are refused with 429
	// until the window ends, even with the right secret. Defaults
	// DefaultMaxFailures and DefaultFailureWindow. The count is per
	// process, so with N replicas an attacker gets N times as many tries.
	MaxFailures   int
	FailureWindow time.Duration
	// ClientCheckInterval is how long a replica trusts what it last read
	// of a client and its secrets when admitting an access token: revoking
	// a client or a secret refuses its tokens already issued within this
	// interval. Default DefaultClientCheckInterval. A negative value reads
	// the storage on every SCIM request.
	ClientCheckInterval time.Duration
	// TenantDisabled, when set, is asked on every SCIM request admitted
	// with an access token whether the tenant's SCIM sync is switched off;
	// true sets [scim.Tenant.Disabled], which BearerAuth answers 403, as
	// for a static token. With scim.Tokens keeping the switch:
	//
	//	TenantDisabled: func(_ context.Context, id string) (bool, error) { return tokens.Disabled(id), nil },
	//
	// An error is returned by Lookup, wrapped (BearerAuth answers 500).
	TenantDisabled func(ctx context.Context, tenant string) (bool, error)
	// HTTPClient fetches the JWKS of federated clients; nil means a client
	// with JWKSTimeout as its timeout. Redirects to a URL that is not
	// allowed (see Federation.JWKSURL) are refused whatever the client.
	HTTPClient *http.Client
	// JWKSRefreshInterval is the least time between two fetches of one
	// JWKS URL: an assertion signed with a key not in the cached set
	// fetches the set again at most this often. Default
	// DefaultJWKSRefreshInterval.
	JWKSRefreshInterval time.Duration
	// JWKSMaxAge is how long a fetched key set is used before it is
	// fetched again on the next assertion. Default DefaultJWKSMaxAge.
	JWKSMaxAge time.Duration
	// JWKSTimeout bounds one JWKS fetch. Default DefaultJWKSTimeout.
	JWKSTimeout time.Duration
	// MaxJWKSBytes caps a JWKS document. Default DefaultMaxJWKSBytes.
	MaxJWKSBytes int64
	// AllowLoopbackHTTP allows http:// JWKS URLs on localhost and
	// loopback addresses, for tests and demos. Everything else must be
	// https.
	AllowLoopbackHTTP bool
	// Logger receives a Warn line for every refused token request (client
	// id, reason, error code; never a secret or an assertion) and an Info
	// line for every token issued. Nil means slog.Default().
	Logger *slog.Logger
}

// Server is an OAuth 2.0 authorization server for SCIM clients: its
// ServeHTTP is the token endpoint, [Server.Lookup] admits the access tokens
// it issues. Make one with [New]; the zero Server is not usable. A Server
// is safe for concurrent use.
type Server struct {
	opts    Options
	storage Storage
	log     *slog.Logger
	now     func() time.Time

	signer  jose.Signer
	verify  map[string][]byte // signing key id → secret
	scopes  map[string]bool   // acceptable requested scope values
	keys    *keySets
	fails   *failures
	tokens  *tokenCache
	clients *clientCache
}

// New returns a Server over storage. It returns an error when storage is
// nil, or opts lack the Issuer or a valid signing key, or a value is outside
// its range.
func New(storage Storage, opts Options) (*Server, error) {
	if storage == nil {
		return nil, errors.New("oauth: New: nil Storage")
	}
	if u, err := url.Parse(opts.Issuer); opts.Issuer == "" || err != nil || !u.IsAbs() {
		return nil, errors.New("oauth: New: Options.Issuer must be an absolute URL")
	}
	if opts.TokenURL != "" {
		if u, err := url.Parse(opts.TokenURL); err != nil || !u.IsAbs() {
			return nil, errors.New("oauth: New: Options.TokenURL must be an absolute URL")
		}
	}
	if len(opts.SigningKeys) == 0 {
		return nil, errors.New("oauth: New: Options.SigningKeys is empty")
	}
	verify := make(map[string][]byte, len(opts.SigningKeys))
	for _, k := range opts.SigningKeys {
		switch {
		case k.ID == "":
			return nil, errors.New("oauth: New: a signing key has no ID")
		case len(k.Secret) < 32:
			return nil, fmt.Errorf("oauth: New: signing key %q is shorter than 32 bytes", k.ID)
		case verify[k.ID] != nil:
			return nil, fmt.Errorf("oauth: New: two signing keys have the ID %q", k.ID)
		}
		verify[k.ID] = slices.Clone(k.Secret)
	}
	first := opts.SigningKeys[0]
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: verify[first.ID]},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader(jose.HeaderKey("kid"), first.ID))
	if err != nil {
		return nil, fmt.Errorf("oauth: New: %w", err)
	}
	defaults := []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&opts.TokenLifetime, DefaultTokenLifetime},
		{&opts.ClockSkew, DefaultClockSkew},
		{&opts.FailureWindow, DefaultFailureWindow},
		{&opts.ClientCheckInterval, DefaultClientCheckInterval},
		{&opts.JWKSRefreshInterval, DefaultJWKSRefreshInterval},
		{&opts.JWKSMaxAge, DefaultJWKSMaxAge},
		{&opts.JWKSTimeout, DefaultJWKSTimeout},
	}
	for _, d := range defaults {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if opts.MaxFailures == 0 {
		opts.MaxFailures = DefaultMaxFailures
	}
	if opts.MaxJWKSBytes == 0 {
		opts.MaxJWKSBytes = DefaultMaxJWKSBytes
	}
	switch {
	case opts.TokenLifetime < MinTokenLifetime || opts.TokenLifetime > MaxTokenLifetime:
		return nil, fmt.Errorf("oauth: New: Options.TokenLifetime %v is outside 1h to 6h", opts.TokenLifetime)
	case opts.ClockSkew < 0 || opts.ClockSkew > 5*time.Minute:
		return nil, fmt.Errorf("oauth: New: Options.ClockSkew %v is outside 0 to 5m", opts.ClockSkew)
	case opts.MaxFailures < 0 || opts.FailureWindow < 0 || opts.JWKSRefreshInterval < 0 ||
		opts.JWKSMaxAge < 0 || opts.JWKSTimeout < 0 || opts.MaxJWKSBytes < 0:
		return nil, errors.New("oauth: New: a limit in Options is negative")
	}
	scopes := map[string]bool{Scope: true, "scim.readwrite": true}
	for _, s := range opts.Scopes {
		scopes[s] = true
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		opts: opts, storage: storage, log: log, now: time.Now,
		signer: signer, verify: verify, scopes: scopes,
		fails:   newFailures(),
		tokens:  newTokenCache(),
		clients: &clientCache{entries: map[string]*clientEntry{}},
	}
	s.keys = newKeySets(s)
	return s, nil
}
