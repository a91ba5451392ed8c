package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/scimhost/scim"
)

// A host with two workspaces gives each its own token; the token alone tells
// the handler (and the Store, through TenantFrom) which workspace a request
// acts for.
func ExampleBearerAuth() {
	var tokens scim.Tokens

	// When an admin of a workspace turns SCIM on, the host makes a token,
	// shows it once, and stores only its hash.
	acmeToken, acmeHash := scim.NewToken()
	globexToken, globexHash := scim.NewToken()
	if err := tokens.Add("acme", acmeHash); err != nil {
		fmt.Println(err)
	}
	if err := tokens.Add("globex", globexHash); err != nil {
		fmt.Println(err)
	}

	// Stands for the SCIM handler: a multi-tenant Store reads the tenant the
	// same way.
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := scim.TenantFrom(r.Context())
		fmt.Fprintf(w, "acting for %s", t.ID)
	})
	h := scim.BearerAuth(tokens.Lookup)(whoami)

	send := func(token string) {
		req := httptest.NewRequest(http.MethodGet, "/Users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	send(acmeToken)
	send(globexToken)
	send("scim_not-a-token")

	// Globex switches sync off: its requests are refused, Acme's are not.
	tokens.SetDisabled("globex", true)
	send(globexToken)
	send(acmeToken)
	// Output:
	// 200 acting for acme
	// 200 acting for globex
	// 401 {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"invalid bearer token"}
	// 403 {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"SCIM provisioning is switched off for this workspace; a workspace admin can switch it back on"}
	// 200 acting for acme
}

// A token is rotated without a gap: the new one is added beside the old, the
// admin pastes it into the client, and then the old one is removed.
func ExampleTokens_rotation() {
	var tokens scim.Tokens
	oldToken, oldHash := scim.NewToken()
	_ = tokens.Add("acme", oldHash)

	newToken, newHash := scim.NewToken()
	_ = tokens.Add("acme", newHash)
	check := func(name, token string) {
		t, err := tokens.Lookup(context.Background(), token)
		fmt.Printf("%s: %q %v\n", name, t.ID, err)
	}
	check("old", oldToken)
	check("new", newToken)

	tokens.Remove(oldHash)
	check("old", oldToken)
	check("new", newToken)
	// Output:
	// old: "acme" <nil>
	// new: "acme" <nil>
	// old: "" scim: unknown bearer token
	// new: "acme" <nil>
}

// NewToken makes the token to show the admin once, and the hash to store.
func ExampleNewToken() {
	token, hash := scim.NewToken()
	fmt.Println(strings.HasPrefix(token, scim.TokenPrefix), len(token))
	fmt.Println(hash == scim.HashToken(token), len(hash.String()))

	// The hash is what goes into the database or a config file, as hex.
	stored := hash.String()
	parsed, err := scim.ParseTokenHash(stored)
	fmt.Println(parsed == hash, err)
	// Output:
	// true 69
	// true 64
	// true <nil>
}
