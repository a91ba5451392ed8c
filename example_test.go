package scim_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// send makes one request to h and returns the status line and body.
func send(h http.Handler, method, target, body string) string {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer scim_demo")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return fmt.Sprint(rec.Code, " ", strings.TrimSpace(string(b)))
}

// A host mounts the handler under its SCIM base URL, behind bearer-token
// authentication. This is the request Entra ID's Test connection sends.
func ExampleNewHandler() {
	store := memstore.New() // one tenant per workspace, from BearerAuth
	h, err := scim.NewHandler(store, scim.Options{BaseURL: "https://app.example.com/scim/v2"})
	if err != nil {
		panic(err)
	}
	var tokens scim.Tokens
	tokens.Add("workspace-42", scim.HashToken("scim_demo"))
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(tokens.Lookup)(h)))

	fmt.Println(send(mux, "GET", "/scim/v2/Users?filter=userName+eq+%229d1e0d5c-4c34-4bb4-8cf7-5c7f5e4b0c1a%22", ""))
	// Output:
	// 200 {"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}
}

// Policies refuse writes with the host's own words: here every user needs an
// email, and each workspace has the seats of its plan, read on every
// create (workspace-42 has two).
func ExampleSeatLimit() {
	store := memstore.New(memstore.WithTenant(func(ctx context.Context) string {
		t, _ := scim.TenantFrom(ctx)
		return t.ID
	}))
	plans := map[string]int{"workspace-42": 2}
	limit := func(ctx context.Context) (int, error) {
		t, _ := scim.TenantFrom(ctx)
		return plans[t.ID], nil // a lookup in the host's billing table
	}
	countActive := func(ctx context.Context) (int, error) {
		active, err := scim.ParseFilter("active eq true")
		if err != nil {
			return 0, err
		}
		page, err := store.ListUsers(ctx, scim.Query{Filter: active, StartIndex: 1})
		return page.TotalResults, err
	}
	h, err := scim.NewHandler(store, scim.Options{
		UserPolicies: []scim.UserPolicy{scim.RequireEmail, scim.SeatLimit(limit, countActive)},
	})
	if err != nil {
		panic(err)
	}
	var tokens scim.Tokens
	tokens.Add("workspace-42", scim.HashToken("scim_demo"))
	api := scim.BearerAuth(tokens.Lookup)(h)

	fmt.Println(send(api, "POST", "/Users", `{"userName":"nomail"}`))
	for _, name := range []string{"ada", "grace", "linus"} {
		res := send(api, "POST", "/Users", `{"userName":"`+name+`","emails":[{"value":"`+name+`@example.com"}]}`)
		fmt.Println(name, res[:3])
	}
	fmt.Println(send(api, "POST", "/Users", `{"userName":"linus","emails":[{"value":"linus@example.com"}]}`))
	// Output:
	// 400 {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"user \"nomail\" has no email: this application requires an email address on every user"}
	// ada 201
	// grace 201
	// linus 403
	// 403 {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"seat limit of 2 reached: deactivate or delete a user, or add seats, before provisioning \"linus\""}
}

// AllowDomain tells a refusal from a failure: ErrDomainNotAllowed refuses
// the domain (400), any other error means the lookup failed, and the client
// reads a 503 it will retry, not "not verified".
func ExampleErrDomainNotAllowed() {
	verified := map[string]bool{"contoso.com": true}
	dbDown := false
	h, err := scim.NewHandler(memstore.New(), scim.Options{
		AllowDomain: func(ctx context.Context, domain string) error {
			if dbDown {
				return errors.New("verified_domains: connection refused") // logged, never sent
			}
			if !verified[domain] {
				return fmt.Errorf("%w: %s is not verified", scim.ErrDomainNotAllowed, domain)
			}
			return nil
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(send(h, "POST", "/Users", `{"userName":"ada@contoso.com"}`)[:3])
	fmt.Println(send(h, "POST", "/Users", `{"userName":"eve@fabrikam.com"}`))
	dbDown = true
	fmt.Println(send(h, "POST", "/Users", `{"userName":"grace@contoso.org"}`))
	// Output:
	// 201
	// 400 {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"the email domain \"fabrikam.com\" of userName \"eve@fabrikam.com\" is not a verified domain of this workspace"}
	// 503 {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"503","detail":"this server could not check the email domain of userName; try again later"}
}

// OnChange lets a host react to provisioning: here it revokes the sessions
// of a user Entra ID deactivates.
func ExampleOptions_onChange() {
	revoke := func(userID string) { fmt.Println("revoking sessions of", userID) }
	store := memstore.New()
	h, err := scim.NewHandler(store, scim.Options{
		OnChange: func(ctx context.Context, e scim.Event) {
			fmt.Println("event:", e.Kind, e.Changed)
			if e.Kind == scim.UserDeactivated {
				revoke(e.User.UserName)
			}
		},
	})
	if err != nil {
		panic(err)
	}
	created := send(h, "POST", "/Users", `{"userName":"ada","active":true}`)
	id := created[strings.Index(created, `"id":"`)+6:]
	id = id[:strings.IndexByte(id, '"')]
	send(h, "PUT", "/Users/"+id, `{"userName":"ada","active":false}`)
	// Output:
	// event: user.created []
	// event: user.deactivated [active]
	// revoking sessions of ada
}
