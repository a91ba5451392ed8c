package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/scimhost/scim"
)

// Settings is a workspace admin's side of SCIM: the stores of tokens, sync
// switches, domains and the provisioning log, and the operations on them
// that the admin [Handler] offers. It also serves the SCIM side:
// [Settings.Lookup] is the [scim.TokenLookup] for [scim.BearerAuthLog] and
// [Settings.AllowDomain] is Options.AllowDomain.
//
// Tokens, Sync and Domains are required; Log may be nil (the page then
// shows no log). Set the fields before first use and do not change them
// afterwards; a Settings is then safe for concurrent use, and must not be
// copied. With SQL stores, Lookup costs two indexed reads per request (the
// token by hash, the switch) and a write once a minute per token, and
// AllowDomain a read per checked email; [CacheTokens] and [CacheDomains]
// keep the reads in memory for a bounded time, at the price of seeing
// other processes' revocations and domain changes that much later.
type Settings struct {
	Tokens  TokenStore
	Sync    SyncStore
	Domains DomainStore
	Log     LogStore

	// Resolver looks up domains' TXT records; nil means net.DefaultResolver.
	// A test points it at its own DNS server with a custom Dial.
	Resolver *net.Resolver
	// CheckTimeout bounds one domain check; 0 means 10 seconds.
	CheckTimeout time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	touched sync.Map // token ID → time.Time of the last TouchToken
}

func (s *Settings) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ErrInvalid is wrapped by the errors of a Settings operation refused for
// its input (a domain that is not a domain name, a name too long). Its
// text after the "admin: " prefix is meant for the admin.
var ErrInvalid = errors.New("invalid input")

// tokenPrefixLen is how much of a token its record keeps: TokenPrefix and 8
// hex digits (32 bits), enough to tell tokens apart, far from enough to
// guess the other 224.
const tokenPrefixLen = len(scim.TokenPrefix) + 8

// maxTokenName caps a token's label.
const maxTokenName = 100

// CreateToken makes a new SCIM token for tenant, labelled name, stores its
// record and returns the token — the only time it is ever available: show
// it to the admin once, and never log it. A tenant may have several valid
// tokens, so a token is rotated without a gap: create the new one, paste
// it into the client, revoke the old one.
func (s *Settings) CreateToken(ctx context.Context, tenant, name string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if len(name) > maxTokenName || !utf8.ValidString(name) {
		return "", Token{}, fmt.Errorf("admin: a token's name is at most %d bytes of text: %w", maxTokenName, ErrInvalid)
	}
	secret, hash := scim.NewToken()
	t := Token{
		ID:      scim.NewID(),
		Tenant:  tenant,
		Name:    name,
		Prefix:  secret[:tokenPrefixLen],
		Hash:    hash,
		Created: s.now().UTC().Truncate(time.Millisecond),
	}
	if err := s.Tokens.AddToken(ctx, t); err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

// RevokeToken revokes the tenant's token id: from its return, requests
// presenting it get 401, and are recorded in the tenant's log as refused.
func (s *Settings) RevokeToken(ctx context.Context, tenant, id string) error {
	return s.Tokens.RevokeToken(ctx, tenant, id, s.now().UTC().Truncate(time.Millisecond))
}

// touchEvery is how often a token's LastUsed is written: one write a minute
// per token, not one per request.
const touchEvery = time.Minute

// Lookup is a [scim.TokenLookup] over the token and sync stores: it finds
// the presented token by hash, answers a revoked one with its tenant and
// [scim.ErrUnknownToken] (so [scim.BearerAuthLog] records the refusal for
// that workspace), marks the tenant Disabled when its sync is off, and
// records when the token was last used, at most once a minute per token.
func (s *Settings) Lookup(ctx context.Context, token string) (scim.Tenant, error) {
	t, err := s.Tokens.FindToken(ctx, scim.HashToken(token))
	switch {
	case errors.Is(err, scim.ErrNotFound):
		return scim.Tenant{}, scim.ErrUnknownToken
	case err != nil:
		return scim.Tenant{}, err
	case !t.Active():
		return scim.Tenant{ID: t.Tenant}, fmt.Errorf("admin: revoked token %s…: %w", t.Prefix, scim.ErrUnknownToken)
	}
	off, err := s.Sync.SyncDisabled(ctx, t.Tenant)
	if err != nil {
		return scim.Tenant{}, err
	}
	now := s.now()
	if last, ok := s.touched.Load(t.ID); !ok || now.Sub(last.(time.Time)) >= touchEvery {
		s.touched.Store(t.ID, now)
		if err := s.Tokens.TouchToken(ctx, t.ID, now.UTC().Truncate(time.Millisecond)); err != nil {
			return scim.Tenant{}, err
		}
	}
	return scim.Tenant{ID: t.Tenant, Disabled: off}, nil
}

var _ scim.TokenLookup = (*Settings)(nil).Lookup

// AllowDomain is an Options.AllowDomain that allows the email domains the
// request's workspace ([scim.TenantFrom]) has verified, exactly: a verified
// example.com does not allow eu.example.com, which its admin adds and
// verifies on its own. A request without a tenant is refused. A refusal
// wraps [scim.ErrDomainNotAllowed]; a failing DomainStore is returned as
// it is, so that the handler answers 503 rather than "not verified".
func (s *Settings) AllowDomain(ctx context.Context, domain string) error {
	t, ok := scim.TenantFrom(ctx)
	if !ok {
		return fmt.Errorf("%w: no workspace in the request", scim.ErrDomainNotAllowed)
	}
	d, err := s.Domains.GetDomain(ctx, t.ID, domain)
	switch {
	case errors.Is(err, scim.ErrNotFound):
		return fmt.Errorf("%w: not a domain of this workspace", scim.ErrDomainNotAllowed)
	case err != nil:
		// Not a refusal of the input: the store failed, which the handler
		// answers 503 with a generic detail, logging the cause.
		return fmt.Errorf("admin: reading the workspace's domains: %w", err)
	case !d.IsVerified():
		return fmt.Errorf("%w: not verified", scim.ErrDomainNotAllowed)
	}
	return nil
}

// TXTPrefix is the label under which a domain's verification record is
// published: the record for example.com is a TXT record at
// _scim-verification.example.com. A label of its own keeps the record out
// of the way of the domain's SPF and other apex TXT records.
const TXTPrefix = "_scim-verification."

// TXTName returns where the verification record of domain is published.
func TXTName(domain string) string { return TXTPrefix + domain }

// tokenValuePrefix starts every verification value.
const tokenValuePrefix = "scim-domain-verification="

// AddDomain adds name to tenant's domains, unverified, with a new
// verification value to publish at [TXTName]. It accepts a domain in any
// case, with or without a trailing dot, and an email address's domain
// after an @; it returns an error wrapping [ErrInvalid] for anything that
// is not a DNS name of at least two labels, and one wrapping
// [scim.ErrConflict] when the tenant has the domain already.
func (s *Settings) AddDomain(ctx context.Context, tenant, name string) (Domain, error) {
	n, err := NormalizeDomain(name)
	if err != nil {
		return Domain{}, err
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	d := Domain{
		Name:   n,
		Tenant: tenant,
		Token:  tokenValuePrefix + hex.EncodeToString(b[:]),
		Added:  s.now().UTC().Truncate(time.Millisecond),
	}
	if err := s.Domains.AddDomain(ctx, d); err != nil {
		return Domain{}, err
	}
	return d, nil
}

// NormalizeDomain returns name as a [Domain] stores it: lower case, without
// a trailing dot, or an error wrapping [ErrInvalid] that says what is wrong.
// A Unicode domain is refused with a request for its xn-- form: the
// standard library has no IDNA mapping, and guessing one would let two
// spellings of a domain differ.
func NormalizeDomain(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if i := strings.LastIndexByte(n, '@'); i >= 0 {
		n = n[i+1:]
	}
	n = strings.TrimSuffix(n, ".")
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("admin: %q is not a domain name: %s: %w", strings.TrimSpace(name), why, ErrInvalid)
	}
	switch {
	case n == "":
		return bad("it is empty")
	case len(n) > 253:
		return bad("it is longer than 253 characters")
	case !strings.Contains(n, "."):
		return bad("it needs at least two labels, like example.com")
	}
	for label := range strings.SplitSeq(n, ".") {
		if label == "" || len(label) > 63 {
			return bad("each label has 1 to 63 characters")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return bad("a label neither starts nor ends with a hyphen")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if c >= utf8.RuneSelf {
				return bad("enter an internationalised domain in its ASCII (xn--) form")
			}
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return bad("it may hold only letters, digits, hyphens and dots")
			}
		}
	}
	return n, nil
}

// VerifyDomain looks up the TXT record of the tenant's domain name and
// stores the result: the domain is verified from the first check that
// finds its value among the record's strings, and stays verified when a
// later check fails (the failure is kept in CheckError for the admin to
// see). Each check is bounded by CheckTimeout. It returns the domain as
// stored; a failed lookup is not an error of VerifyDomain.
func (s *Settings) VerifyDomain(ctx context.Context, tenant, name string) (Domain, error) {
	n, err := NormalizeDomain(name)
	if err != nil {
		return Domain{}, err
	}
	d, err := s.Domains.GetDomain(ctx, tenant, n)
	if err != nil {
		return Domain{}, err
	}
	found, why := s.lookupTXT(ctx, d)
	now := s.now().UTC().Truncate(time.Millisecond)
	d.Checked, d.CheckError = now, why
	if found && d.Verified.IsZero() {
		d.Verified = now
	}
	if err := s.Domains.UpdateDomain(ctx, d); err != nil {
		return Domain{}, err
	}
	return d, nil
}

// lookupTXT reports whether d's verification value is published, or why
// not, in words for the admin.
func (s *Settings) lookupTXT(ctx context.Context, d Domain) (bool, string) {
	timeout := s.CheckTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := s.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	name := TXTName(d.Name)
	txts, err := r.LookupTXT(ctx, name)
	if err != nil {
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			return false, fmt.Sprintf("no TXT record at %s yet (DNS changes can take a while to appear)", name)
		case errors.As(err, &dnsErr) && dnsErr.IsTimeout, ctx.Err() != nil:
			return false, fmt.Sprintf("looking up %s timed out; try again", name)
		}
		return false, fmt.Sprintf("looking up %s failed; try again", name)
	}
	if slices.ContainsFunc(txts, func(v string) bool { return strings.TrimSpace(v) == d.Token }) {
		return true, ""
	}
	return false, fmt.Sprintf("the TXT record at %s does not hold %s", name, d.Token)
}

// RemoveDomain removes the tenant's domain name: from its return, emails on
// it are refused again.
func (s *Settings) RemoveDomain(ctx context.Context, tenant, name string) error {
	n, err := NormalizeDomain(name)
	if err != nil {
		return err
	}
	return s.Domains.RemoveDomain(ctx, tenant, n)
}
