package scim_test

import (
	"context"
	"fmt"
	"io"
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
// email, and the plan has two seats.
func ExampleSeatLimit() {
	store := memstore.New()
	countActive := func(ctx context.Context) (int, error) {
		active, err := scim.ParseFilter("active eq true")
		if err != nil {
			return 0, err
		}
		page, err := store.ListUsers(ctx, scim.Query{Filter: active, StartIndex: 1})
		return page.TotalResults, err
	}
	h, err := scim.NewHandler(store, scim.Options{
		UserPolicies: []scim.UserPolicy{scim.RequireEmail, scim.SeatLimit(2, countActive)},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(send(h, "POST", "/Users", `{"userName":"nomail"}`))
	for _, name := range []string{"ada", "grace", "linus"} {
		res := send(h, "POST", "/Users", `{"userName":"`+name+`","emails":[{"value":"`+name+`@example.com"}]}`)
		fmt.Println(name, res[:3])
	}
	fmt.Println(send(h, "POST", "/Users", `{"userName":"linus","emails":[{"value":"linus@example.com"}]}`))
	// Output:
	// 400 {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"user \"nomail\" has no email: this application requires an email address on every user"}
	// ada 201
	// grace 201
	// linus 403
	// 403 {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"seat limit of 2 reached: deactivate or delete a user, or add seats, before provisioning \"linus\""}
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
