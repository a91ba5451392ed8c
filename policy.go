package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrDomainNotAllowed is what an Options.AllowDomain hook returns, or
// wraps (fmt.Errorf("%w: %s", scim.ErrDomainNotAllowed, why)), to refuse a
// domain: the client reads a 400 invalidValue naming the domain and the
// attribute. Any other error from the hook means it could not decide (its
// database is down): the client reads 503 with a detail that says nothing
// of the cause, which is logged, so that a provisioning client retries
// instead of reporting the domain as unverified.
var ErrDomainNotAllowed = errors.New("scim: email domain not allowed")

// UserPolicy is a host's rule about users, run on the final state of every
// user write (create, replace, PATCH) before the Store sees it; old is nil
// on create. It returns nil to allow the write. To refuse, it returns an
// *Error, which the client reads as it is ([Refuse] makes a 400
// invalidValue). Any other error means the policy could not decide (a
// lookup failed): the write is not made and the client reads 503, a
// retryable status, with a generic detail; the cause is logged, never
// sent. It may read the store (SeatLimit counts users): it runs outside the
// store's lock, or, after lost races on a [ReentrantReader], inside it, so
// it should not write to the store's database.
type UserPolicy func(ctx context.Context, old, u *User) error

// GroupPolicy is [UserPolicy] for groups. On a membership-only PATCH that the
// store applies through [MemberPatcher], the handler does not load the
// group: old holds only the group's id, and g.Members only the members being
// added.
type GroupPolicy func(ctx context.Context, old, g *Group) error

// Refuse returns the error a policy returns to refuse a write: 400
// invalidValue with detail as the client's explanation.
func Refuse(detail string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: InvalidValue, Detail: detail}
}

// RequireEmail is a UserPolicy that refuses a user without an email value,
// for hosts that identify people by email (Entra sends the user's mail as
// emails[type eq "work"].value, but only when the directory has one).
func RequireEmail(_ context.Context, _, u *User) error {
	for _, e := range u.Emails {
		if strings.TrimSpace(e.Value) != "" {
			return nil
		}
	}
	return Refuse(fmt.Sprintf("user %q has no email: this application requires an email address on every user", u.UserName))
}

// SeatLimit returns a UserPolicy that refuses to create or reactivate a user
// when the tenant's seats are taken. Both functions are called on every
// create or reactivation, with the request's context (and so its
// [Tenant]): limit reports the tenant's seats now (its plan; negative for
// no limit), countActive its active users now (a COUNT over the host's
// table). Deactivating, updating and deleting are never refused, so an
// admin can always make room.
//
// A refusal is 403 Forbidden without a scimType (RFC 7644 §3.12 defines
// none for it), with a detail naming the limit and the user:
// "seat limit of 50 reached: deactivate or delete a user, or add seats,
// before provisioning \"ada@example.com\"". An error from either function
// means the policy could not decide: 503, the cause logged.
//
// The check and the write are not one transaction: two concurrent creates
// can both pass at limit-1. A host that must never exceed the limit enforces
// it in its Store as well.
func SeatLimit(limit, countActive func(ctx context.Context) (int, error)) UserPolicy {
	return func(ctx context.Context, old, u *User) error {
		if !u.Active || (old != nil && old.Active) {
			return nil
		}
		seats, err := limit(ctx)
		if err != nil {
			return fmt.Errorf("scim: SeatLimit: reading the limit: %w", err)
		}
		if seats < 0 {
			return nil
		}
		n, err := countActive(ctx)
		if err != nil {
			return fmt.Errorf("scim: SeatLimit: counting active users: %w", err)
		}
		if n >= seats {
			return &Error{Status: http.StatusForbidden, Detail: fmt.Sprintf("seat limit of %d reached: deactivate or delete a user, or add seats, before provisioning %q", seats, u.UserName)}
		}
		return nil
	}
}

// undecided is the answer to a hook that failed to decide: 503 with a
// generic detail, the cause kept for the log. A *Error from the hook is its
// own answer.
func undecided(err error, detail string) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Status: http.StatusServiceUnavailable, Detail: detail, Err: err}
}

// checkUser runs the domain allowlist and the host's user policies on the
// final state of a user write. old is nil on create.
func (h *Handler) checkUser(ctx context.Context, old, u *User) error {
	if len(h.ext.user) > 0 {
		var was map[string]json.RawMessage
		if old != nil {
			was = old.Extra
		}
		if err := normalizeExtensions(h.ext.user, &u.Extra, was); err != nil {
			return err
		}
	}
	if h.opts.AllowDomain != nil {
		if err := h.checkDomains(ctx, old, u); err != nil {
			return err
		}
	}
	for _, p := range h.opts.UserPolicies {
		if err := p(ctx, old, u); err != nil {
			return undecided(err, "this server could not check the user against its policies; try again later")
		}
	}
	return nil
}

// checkGroup runs the host's group policies.
func (h *Handler) checkGroup(ctx context.Context, old, g *Group) error {
	if len(h.ext.group) > 0 {
		var was map[string]json.RawMessage
		if old != nil {
			was = old.Extra
		}
		if err := normalizeExtensions(h.ext.group, &g.Extra, was); err != nil {
			return err
		}
	}
	for _, p := range h.opts.GroupPolicies {
		if err := p(ctx, old, g); err != nil {
			return undecided(err, "this server could not check the group against its policies; try again later")
		}
	}
	return nil
}

// checkDomains asks Options.AllowDomain about every email domain the write
// introduces. Only values that are new or changed against the stored user
// are checked, so a user who was provisioned before a domain lost its
// verification can still be deactivated or renamed; identity is the SCIM
// id, so a user whose email moves to a verified domain keeps everything.
func (h *Handler) checkDomains(ctx context.Context, old, u *User) error {
	asked := map[string]bool{}
	ask := func(attr, value string) error {
		domain, ok := emailDomain(value)
		if !ok || asked[domain] {
			return nil
		}
		asked[domain] = true
		err := h.opts.AllowDomain(ctx, domain)
		if err == nil {
			return nil
		}
		var e *Error
		if errors.As(err, &e) || !errors.Is(err, ErrDomainNotAllowed) {
			return undecided(err, fmt.Sprintf("this server could not check the email domain of %s; try again later", attr))
		}
		return &Error{
			Status: http.StatusBadRequest,
			Type:   InvalidValue,
			Detail: fmt.Sprintf("the email domain %q of %s %q is not a verified domain of this workspace", domain, attr, value),
			Err:    err,
		}
	}
	return eachIntroducedAddress(old, u, ask)
}

// eachIntroducedAddress calls fn with every address a write of u over old
// (nil on create) introduces, which checkDomains must ask about: a userName
// that is an address and changed, and email values old does not have.
func eachIntroducedAddress(old, u *User, fn func(attr, value string) error) error {
	if strings.Contains(u.UserName, "@") && (old == nil || !strings.EqualFold(old.UserName, u.UserName)) {
		if err := fn("userName", u.UserName); err != nil {
			return err
		}
	}
	for _, e := range u.Emails {
		if old != nil && hasEmail(old.Emails, e.Value) {
			continue
		}
		if err := fn("emails.value", e.Value); err != nil {
			return err
		}
	}
	return nil
}

// errAddressIntroduced ends introducesAddress's walk at the first address.
var errAddressIntroduced = errors.New("scim: the write introduces an address")

// introducesAddress reports whether checkDomains would ask AllowDomain
// anything about a write of u over old.
func introducesAddress(old, u *User) bool {
	return eachIntroducedAddress(old, u, func(string, string) error { return errAddressIntroduced }) != nil
}

func hasEmail(emails []MultiValue, v string) bool {
	for _, e := range emails {
		if strings.EqualFold(e.Value, v) {
			return true
		}
	}
	return false
}

// emailDomain returns the lower-cased domain of an address, false when the
// value has no "@" or nothing after it.
func emailDomain(addr string) (string, bool) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || i == len(addr)-1 {
		return "", false
	}
	return strings.ToLower(strings.TrimSpace(addr[i+1:])), true
}
