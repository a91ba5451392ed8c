package scim_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// emailIndex is memstore with a unique index on work emails as well, the
// way a host's users table often has one.
type emailIndex struct {
	*memstore.Store
	attr, value string // what the conflict names
}

var errDriver = errors.New(`pq: duplicate key value violates unique constraint "accounts_email_key"`)

func (e emailIndex) CreateUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	for _, m := range u.Emails {
		page, err := e.Store.ListUsers(ctx, scim.Query{Filter: &scim.AttrExpr{Path: scim.AttrPath{Name: "emails", Sub: "value"}, Op: scim.OpEq, Value: scim.Value{Kind: scim.KindString, Text: m.Value}}, StartIndex: 1, Count: 1})
		if err != nil {
			return nil, err
		}
		if page.TotalResults > 0 {
			return nil, &scim.ConflictError{Attribute: e.attr, Value: e.value, Err: errDriver}
		}
	}
	return e.Store.CreateUser(ctx, u)
}

func TestConflictErrorNamesTheAttribute(t *testing.T) {
	ce := &scim.ConflictError{Attribute: "emails", Value: "a@example.com", Err: errDriver}
	if !errors.Is(ce, scim.ErrConflict) || !errors.Is(ce, errDriver) {
		t.Errorf("errors.Is(ConflictError, ErrConflict / its cause) = false")
	}
	var got *scim.ConflictError
	if wrapped := errors.Join(errors.New("context"), ce); !errors.As(wrapped, &got) || got != ce || !errors.Is(wrapped, scim.ErrConflict) {
		t.Errorf("a wrapped ConflictError is not found by errors.As / errors.Is")
	}
	cases := []struct {
		name, attr, value string
		detail            string
	}{
		{"attribute and value", "emails", "a@example.com", `a User with emails "a@example.com" already exists`},
		{"attribute only", "emails", "", "a User with the same emails already exists"},
		{"the unique attribute without its value", "userName", "", `a User with userName "other@example.com" already exists`},
		{"no attribute", "", "", `a User with userName "other@example.com" already exists`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, emailIndex{Store: memstore.New(), attr: tc.attr, value: tc.value}, scim.Options{})
			if rec := serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"alice@example.com","emails":[{"value":"a@example.com","type":"work"}]}`}); rec.Code != 201 {
				t.Fatalf("first create: %d %s", rec.Code, rec.Body)
			}
			rec := serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"other@example.com","emails":[{"value":"a@example.com","type":"work"}]}`})
			wantError(t, rec, 409, "uniqueness", tc.detail)
			if strings.Contains(rec.Body.String(), "accounts_email_key") {
				t.Errorf("the driver's text reached the client: %s", rec.Body)
			}
		})
	}
	// memstore names userName and displayName.
	h := newHandler(t, memstore.New(), scim.Options{})
	serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"bob@example.com"}`})
	wantError(t, serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"BOB@example.com"}`}), 409, "uniqueness", `a User with userName "BOB@example.com" already exists`)
	serve(t, h, request{method: "POST", path: "/Groups", body: `{"displayName":"Sales"}`})
	wantError(t, serve(t, h, request{method: "POST", path: "/Groups", body: `{"displayName":"sales"}`}), 409, "uniqueness", `a Group with displayName "sales" already exists`)
	// WriteError names the attribute too.
	rec := httptest.NewRecorder()
	scim.WriteError(rec, ce)
	wantError(t, rec, 409, "uniqueness", `a resource with emails "a@example.com" already exists`)
}
