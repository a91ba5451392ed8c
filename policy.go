package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// UserPolicy is a host's rule about users, run on the final state of every
// user write (create, replace, PATCH) before the Store sees it; old is nil
// on create. It returns nil to allow the write. To refuse, it returns an
// *Error, which the client reads as it is ([Refuse] makes a 400
// invalidValue); any other error is treated as the policy failing, a 500
// whose text the client never sees.
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
// when limit users are already active. countActive reports the tenant's
// active users now (a COUNT over the host's table). Deactivating, updating
// and deleting are never refused, so an admin can always make room.
//
// The check and the write are not one transaction: two concurrent creates
// can both pass at limit-1. A host that must never exceed the limit enforces
// it in its Store as well.
func SeatLimit(limit int, countActive func(ctx context.Context) (int, error)) UserPolicy {
	return func(ctx context.Context, old, u *User) error {
		if !u.Active || (old != nil && old.Active) {
			return nil
		}
		n, err := countActive(ctx)
		if err != nil {
			return err
		}
		if n >= limit {
			return &Error{Status: http.StatusForbidden, Detail: fmt.Sprintf("seat limit of %d reached: deactivate or delete a user, or add seats, before provisioning %q", limit, u.UserName)}
		}
		return nil
	}
}

// checkUser runs the domain allowlist and the host's user policies on the
// final state of a user write. old is nil on create.
func (h *Handler) checkUser(ctx context.Context, old, u *User) error {
	if h.opts.AllowDomain != nil {
		if err := h.checkDomains(ctx, old, u); err != nil {
			return err
		}
	}
	for _, p := range h.opts.UserPolicies {
		if err := p(ctx, old, u); err != nil {
			return err
		}
	}
	return nil
}

// checkGroup runs the host's group policies.
func (h *Handler) checkGroup(ctx context.Context, old, g *Group) error {
	for _, p := range h.opts.GroupPolicies {
		if err := p(ctx, old, g); err != nil {
			return err
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
		if errors.As(err, &e) {
			return err
		}
		return &Error{
			Status: http.StatusBadRequest,
			Type:   InvalidValue,
			Detail: fmt.Sprintf("the email domain %q of %s %q is not a verified domain of this workspace", domain, attr, value),
			Err:    err,
		}
	}
	if strings.Contains(u.UserName, "@") && (old == nil || !strings.EqualFold(old.UserName, u.UserName)) {
		if err := ask("userName", u.UserName); err != nil {
			return err
		}
	}
	for _, e := range u.Emails {
		if old != nil && hasEmail(old.Emails, e.Value) {
			continue
		}
		if err := ask("emails.value", e.Value); err != nil {
			return err
		}
	}
	return nil
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
