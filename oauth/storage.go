package oauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/scimhost/scim"
)

// Errors of a [Storage]. They are sentinels: compare with errors.Is.
var (
	// ErrNotFound: no client (or no secret of the client) has the id.
	ErrNotFound = errors.New("oauth: not found")
	// ErrExists: a client, or a secret of the client, already has the id.
	ErrExists = errors.New("oauth: already exists")
)

// Client is an OAuth client of the token endpoint: what one SCIM client
// (one Entra ID enterprise application) authenticates as. It belongs to one
// tenant, and every access token it gets acts for that tenant only.
//
// A client authenticates with one of its [Secret] values
// (client_secret_basic, client_secret_post), or, when Federation is set, with
// a JWT its identity provider signed (RFC 7523 §2.2; Entra ID's workload
// identity federation). It may have both.
type Client struct {
	// ID is the client_id, which the admin copies into Entra's "Client ID"
	// field. [NewClientID] makes one; any non-empty string of at most 255
	// bytes without control characters or ':' works (':' separates the
	// id from the secret in HTTP Basic).
	ID string
	// Tenant is the id of the workspace the client provisions: the
	// [scim.Tenant.ID] of requests made with its access tokens. Never empty.
	Tenant string
	// Name is for the host's admin pages ("Entra ID, production"); the
	// token endpoint does not use it.
	Name string
	// Disabled revokes the client: its next token request is refused, and
	// tokens already issued are refused once the [Server] notices, within
	// [Options.ClientCheckInterval].
	Disabled bool
	// Federation, when not nil, lets the client authenticate with an
	// assertion that this identity provider signed.
	Federation *Federation
	// Created is when the client was made; a Storage keeps it to the
	// microsecond at least.
	Created time.Time
}

// Validate reports what makes c unfit to store: an ID that is empty,
// longer than 255 bytes, or has a control character or ':', or an empty
// Tenant. Storages refuse such a client in CreateClient.
func (c Client) Validate() error {
	switch {
	case !validClientID(c.ID):
		return fmt.Errorf("oauth: client id %q: want 1 to 255 bytes without control characters or ':'", truncate(c.ID, 64))
	case c.Tenant == "":
		return fmt.Errorf("oauth: client %q has no tenant", c.ID)
	}
	return nil
}

// Federation is what an admin copies from Entra ID's workload identity
// federation settings into the host's portal: the four values that say
// which signed assertions authenticate the client. Every value is compared
// exactly, case included.
type Federation struct {
	// Issuer is the assertion's required "iss", for Entra ID
	// https://login.microsoftonline.com/<tenant id>/v2.0.
	Issuer string
	// JWKSURL is where the issuer publishes its signing keys, for Entra ID
	// https://login.microsoftonline.com/<tenant id>/discovery/v2.0/keys.
	// It must be https (see [Options.AllowLoopbackHTTP] for tests).
	JWKSURL string
	// Subject is the assertion's required "sub": the object id of Entra
	// ID's provisioning service in the customer's directory.
	Subject string
	// Audience must be one of the assertion's "aud" values, for Entra ID
	// api://<application id>. The portal shows it with "/.default"
	// appended, the scope form, while the assertion carries it without;
	// [Federation.Validate] strips that suffix so an admin may paste
	// either.
	Audience string
}

// Validate checks that every field is set and that JWKSURL is an absolute
// https URL (or, with allowLoopbackHTTP, an http URL on a loopback host), and
// returns f with a trailing "/.default" removed from Audience. Hosts call
// it on what an admin entered before storing it; the token endpoint checks
// the URL again before every fetch.
func (f Federation) Validate(allowLoopbackHTTP bool) (Federation, error) {
	f.Audience = strings.TrimSuffix(f.Audience, "/.default")
	switch {
	case f.Issuer == "":
		return f, errors.New("oauth: federation: the issuer is empty")
	case f.Subject == "":
		return f, errors.New("oauth: federation: the subject is empty")
	case f.Audience == "":
		return f, errors.New("oauth: federation: the audience is empty")
	}
	if err := checkJWKSURL(f.JWKSURL, allowLoopbackHTTP); err != nil {
		return f, err
	}
	return f, nil
}

// checkJWKSURL refuses a JWKS URL that is not https, unless it is http on a
// loopback host and that is allowed.
func checkJWKSURL(raw string, allowLoopbackHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return errors.New("oauth: federation: the JWKS URL is not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && allowLoopbackHTTP && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("oauth: federation: the JWKS URL must be https, not %s", u.Scheme)
}

// Secret is one client secret, stored as its hash. A client may have
// several active at once, so that a new one is handed to Entra before the
// old one is revoked and provisioning never stops.
type Secret struct {
	// ID tells the client's secrets apart, for the admin's list and for
	// revoking one; it is not secret. Unique per client.
	ID string
	// ClientID is the client the secret authenticates.
	ClientID string
	// Hash is the SHA-256 of the secret ([scim.HashToken]). The secret
	// itself is shown once and never stored.
	Hash scim.TokenHash
	// Created and Expires bound when the secret gets tokens; an expired
	// secret gets none.
	Created, Expires time.Time
	// Revoked, when not zero, is when the secret was revoked: it gets no
	// more tokens, and the tokens it got are refused once the [Server]
	// notices, within [Options.ClientCheckInterval].
	Revoked time.Time
}

// Active reports whether s may get a token at now: not revoked, not
// expired.
func (s Secret) Active(now time.Time) bool {
	return s.Revoked.IsZero() && now.Before(s.Expires)
}

// ClientStorage keeps clients. Methods are safe for concurrent use, from
// any number of processes sharing the storage.
type ClientStorage interface {
	// CreateClient stores c. It returns ErrExists when a client has c.ID,
	// and an error, storing nothing, when [Client.Validate] refuses c.
	CreateClient(ctx context.Context, c Client) error
	// Client returns the client with id, or ErrNotFound.
	Client(ctx context.Context, id string) (Client, error)
	// UpdateClient replaces Name, Disabled and Federation of the stored
	// client with c.ID (ID, Tenant and Created never change). It returns
	// ErrNotFound when there is none.
	UpdateClient(ctx context.Context, c Client) error
	// DeleteClient deletes the client and all its secrets, or returns
	// ErrNotFound.
	DeleteClient(ctx context.Context, id string) error
	// Clients returns the tenant's clients, oldest first (then by ID).
	Clients(ctx context.Context, tenant string) ([]Client, error)
}

// SecretStorage keeps client secrets. Methods are safe for concurrent use,
// from any number of processes sharing the storage.
type SecretStorage interface {
	// AddSecret stores s beside the client's other secrets. It returns
	// ErrNotFound when no client has s.ClientID and ErrExists when the
	// client has a secret with s.ID.
	AddSecret(ctx context.Context, s Secret) error
	// Secrets returns every secret of the client, revoked and expired ones
	// included, oldest first (then by ID); none (and no error) for a client
	// that does not exist.
	Secrets(ctx context.Context, clientID string) ([]Secret, error)
	// RevokeSecret sets the secret's Revoked time to at, unless it is
	// already revoked (the first revocation is kept). It returns
	// ErrNotFound when the client has no secret with secretID.
	RevokeSecret(ctx context.Context, clientID, secretID string, at time.Time) error
	// DeleteSecret deletes the secret, or returns ErrNotFound. Hosts delete
	// secrets long expired or revoked; deleting one is also a revocation.
	DeleteSecret(ctx context.Context, clientID, secretID string) error
}

// Storage is what the token endpoint needs: clients and their secrets.
// [Memory] keeps them in memory; package
// github.com/scimhost/scim/oauth/oauthsql in PostgreSQL or SQLite; package
// github.com/scimhost/scim/oauth/oauthtest checks any implementation
// against this contract. Access tokens are not stored (see the package
// documentation).
type Storage interface {
	ClientStorage
	SecretStorage
}

// The bounds of a secret's lifetime, and the default, as Microsoft's
// requirements for gallery apps put them: a secret expires one to three
// years after it is issued.
const (
	MinSecretLifetime     = 365 * 24 * time.Hour
	MaxSecretLifetime     = 3 * 365 * 24 * time.Hour
	DefaultSecretLifetime = MinSecretLifetime
)

// SecretPrefix starts every secret [NewSecret] makes, so that secret
// scanners and people recognise one: the regular expression is
// scimcs_[0-9a-f]{64}.
const SecretPrefix = "scimcs_"

// NewClientID returns a random client id: 32 lowercase hex digits (128
// bits), which survive copying into any portal.
func NewClientID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewSecret returns a new random secret for the client clientID, to show the
// admin once, and the [Secret] to store with [SecretStorage.AddSecret]. It
// expires lifetime after now; a zero lifetime means DefaultSecretLifetime.
// It returns an error when lifetime is outside [MinSecretLifetime,
// MaxSecretLifetime] or clientID is empty.
//
// The secret is [SecretPrefix] and 32 bytes from crypto/rand in hex: 256
// bits, so an unsalted SHA-256 is the right hash for it, as for
// [scim.NewToken].
func NewSecret(clientID string, lifetime time.Duration) (secret string, s Secret, err error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret = SecretPrefix + hex.EncodeToString(b[:])
	s, err = SecretOf(clientID, secret, lifetime)
	return secret, s, err
}

// SecretOf returns the [Secret] to store for a secret the host chose itself
// (the demo's -oauth-secret flag), with the lifetime rules of [NewSecret].
// The secret's strength is then the host's business: the token endpoint
// bounds failed attempts, but a guessable secret stays guessable.
func SecretOf(clientID, secret string, lifetime time.Duration) (Secret, error) {
	if lifetime == 0 {
		lifetime = DefaultSecretLifetime
	}
	switch {
	case clientID == "":
		return Secret{}, errors.New("oauth: secret: empty client id")
	case secret == "":
		return Secret{}, errors.New("oauth: secret: empty secret")
	case lifetime < MinSecretLifetime || lifetime > MaxSecretLifetime:
		return Secret{}, fmt.Errorf("oauth: secret: lifetime %v is outside 1 to 3 years", lifetime)
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	now := time.Now().UTC().Truncate(time.Microsecond)
	return Secret{
		ID:       hex.EncodeToString(id[:]),
		ClientID: clientID,
		Hash:     scim.HashToken(secret),
		Created:  now,
		Expires:  now.Add(lifetime),
	}, nil
}

// validClientID reports whether id can be a client id.
func validClientID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c == 0x7f || c == ':' {
			return false
		}
	}
	return true
}
