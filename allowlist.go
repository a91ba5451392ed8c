package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// checkUser runs the host's policies on the final state of a user write:
// for now the domain allowlist. old is nil on create.
func (h *Handler) checkUser(ctx context.Context, old, u *User) error {
	if h.opts.AllowDomain == nil {
		return nil
	}
	return h.checkDomains(ctx, old, u)
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
