package admin

import (
	"context"
	"time"

	"github.com/scimhost/scim"
)

// Token is the record of a SCIM bearer token: everything about it but the
// token itself, which only [Settings.CreateToken] ever returns, once.
type Token struct {
	// ID identifies the token for revocation; it is not secret.
	ID string `json:"id"`
	// Tenant is the workspace the token acts for.
	Tenant string `json:"-"`
	// Name is the admin's label for it ("Entra ID production"); may be "".
	Name string `json:"name"`
	// Prefix is the start of the token ("scim_3f9a1c2b"), enough for an
	// admin to tell tokens apart and match the one pasted into a client,
	// far too little to use.
	Prefix string `json:"prefix"`
	// Hash is the SHA-256 of the token, by which a request's token is found.
	Hash scim.TokenHash `json:"-"`
	// Created is when the token was made.
	Created time.Time `json:"created"`
	// LastUsed is when a request last presented the token, to about a
	// minute; zero when never.
	LastUsed time.Time `json:"lastUsed,omitzero"`
	// Revoked is when the token was revoked; zero while it is valid.
	Revoked time.Time `json:"revoked,omitzero"`
}

// Active reports whether the token has not been revoked.
func (t *Token) Active() bool { return t.Revoked.IsZero() }

// TokenStore keeps a workspace's SCIM tokens by hash. It never sees a
// token, only its [scim.TokenHash]. Every method is safe for concurrent
// use.
type TokenStore interface {
	// AddToken stores t. It returns an error wrapping [scim.ErrConflict]
	// when a token with t's ID or t's Hash exists.
	AddToken(ctx context.Context, t Token) error
	// ListTokens returns the tenant's tokens, revoked ones included, oldest
	// first; an empty list for a tenant without tokens.
	ListTokens(ctx context.Context, tenant string) ([]Token, error)
	// RevokeToken sets the Revoked time of the tenant's token id to at,
	// unless it is already revoked. It returns an error wrapping
	// [scim.ErrNotFound] when the tenant has no such token.
	RevokeToken(ctx context.Context, tenant, id string, at time.Time) error
	// FindToken returns the token, revoked or not, whose hash is h, or an
	// error wrapping [scim.ErrNotFound].
	FindToken(ctx context.Context, h scim.TokenHash) (Token, error)
	// TouchToken sets the LastUsed time of token id to at when at is later.
	// An unknown id is not an error.
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// SyncStore keeps each workspace's "SCIM sync" switch. A workspace whose
// switch was never set has sync on, so that a workspace provisions as soon
// as its admin has made a token. Every method is safe for concurrent use.
type SyncStore interface {
	// SyncDisabled reports whether the tenant's admin has switched sync off.
	SyncDisabled(ctx context.Context, tenant string) (bool, error)
	// SetSyncDisabled switches the tenant's sync off (true) or on.
	SetSyncDisabled(ctx context.Context, tenant string, disabled bool) error
}

// Domain is an email domain a workspace claims, and the state of its
// verification by a DNS TXT record.
type Domain struct {
	// Name is the domain in lower case, ASCII (an internationalised domain
	// in its xn-- form), without a trailing dot.
	Name string `json:"name"`
	// Tenant is the workspace that claims it.
	Tenant string `json:"-"`
	// Token is the value the admin publishes in a TXT record at
	// [TXTName] to prove control of the domain. It is not secret: anyone
	// can read DNS.
	Token string `json:"token"`
	// Added is when the domain was added.
	Added time.Time `json:"added"`
	// Verified is when the TXT record was first found; zero until then.
	Verified time.Time `json:"verified,omitzero"`
	// Checked is when the record was last looked up; zero before the first
	// check.
	Checked time.Time `json:"checked,omitzero"`
	// CheckError says why the last check did not find the record; "" when
	// it did or when there was no check.
	CheckError string `json:"checkError,omitempty"`
}

// IsVerified reports whether the domain's TXT record has been found.
func (d *Domain) IsVerified() bool { return !d.Verified.IsZero() }

// DomainStore keeps the email domains each workspace claims. Two workspaces
// may claim the same domain: each proves control with its own TXT value.
// Every method is safe for concurrent use.
type DomainStore interface {
	// AddDomain stores d. It returns an error wrapping [scim.ErrConflict]
	// when the tenant already has a domain of that name.
	AddDomain(ctx context.Context, d Domain) error
	// ListDomains returns the tenant's domains ordered by name.
	ListDomains(ctx context.Context, tenant string) ([]Domain, error)
	// GetDomain returns the tenant's domain name, or an error wrapping
	// [scim.ErrNotFound].
	GetDomain(ctx context.Context, tenant, name string) (Domain, error)
	// UpdateDomain stores the Verified, Checked and CheckError of d, a
	// domain of d.Tenant, or returns an error wrapping [scim.ErrNotFound].
	UpdateDomain(ctx context.Context, d Domain) error
	// RemoveDomain removes the tenant's domain name, or returns an error
	// wrapping [scim.ErrNotFound].
	RemoveDomain(ctx context.Context, tenant, name string) error
}

// LogFilter selects provisioning log entries. Its zero value selects the
// newest [DefaultLogLimit] entries.
type LogFilter struct {
	// FailuresOnly keeps entries with status 400 or more.
	FailuresOnly bool
	// ProbesOnly keeps connection tests ([scim.LogEntry.Probe]).
	ProbesOnly bool
	// ResourceType, when set, keeps entries about "User" or "Group".
	ResourceType string
	// Client, when set, keeps entries whose Client or UserAgent equals it.
	Client string
	// Before, when set, keeps entries older than it: the next page.
	Before time.Time
	// Limit caps the entries returned; 0 means DefaultLogLimit, and it is
	// at most MaxLogLimit.
	Limit int
}

// Limits of LogFilter.Limit.
const (
	DefaultLogLimit = 100
	MaxLogLimit     = 1000
)

// EffectiveLimit returns f.Limit within its bounds: DefaultLogLimit when
// it is 0 or less, at most MaxLogLimit; an implementation of [LogStore]
// may use it.
func (f LogFilter) EffectiveLimit() int {
	switch {
	case f.Limit <= 0:
		return DefaultLogLimit
	case f.Limit > MaxLogLimit:
		return MaxLogLimit
	}
	return f.Limit
}

// Matches reports whether e passes f's conditions, Before included, other
// than Limit; an implementation of [LogStore] may use it.
func (f LogFilter) Matches(e *scim.LogEntry) bool {
	return (!f.FailuresOnly || e.Failed()) &&
		(!f.ProbesOnly || e.Probe) &&
		(f.ResourceType == "" || e.ResourceType == f.ResourceType) &&
		(f.Client == "" || e.Client == f.Client || e.UserAgent == f.Client) &&
		(f.Before.IsZero() || e.Time.Before(f.Before))
}

// LogStore is a provisioning log a workspace admin reads: a [scim.LogSink]
// the handler writes through a [scim.LogQueue], and the query the admin
// page runs. Every method is safe for concurrent use.
type LogStore interface {
	scim.LogSink
	// ListLog returns the tenant's entries that match f, newest first, at
	// most f's limit.
	ListLog(ctx context.Context, tenant string, f LogFilter) ([]scim.LogEntry, error)
	// LogClients returns the distinct clients (Client, else UserAgent) of
	// the tenant's entries, for the page's filter, at most 50, sorted.
	LogClients(ctx context.Context, tenant string) ([]string, error)
}
