package scim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// TestTenantsAreIsolated mounts one handler for two workspaces, told apart by
// their tokens, as a multi-tenant SaaS does.
func TestTenantsAreIsolated(t *testing.T) {
	store := memstore.New() // scoped by scim.TenantFrom by default
	h := newHandler(t, store, scim.Options{})
	var tokens scim.Tokens
	tokens.Add("acme", scim.HashToken("scim_acme"))
	tokens.Add("globex", scim.HashToken("scim_globex"))
	srv := scim.BearerAuth(tokens.Lookup)(h)
	as := func(token string, r request) *httptest.ResponseRecorder {
		if r.header == nil {
			r.header = map[string]string{}
		}
		r.header["Authorization"] = "Bearer " + token
		return serve(t, srv, r)
	}

	rec := as("scim_acme", request{method: "POST", path: "/Users", body: `{"userName":"ceo@acme.com"}`})
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	id := decode(t, rec)["id"].(string)

	// The other workspace neither sees nor touches acme's user.
	for _, r := range []request{
		{method: "GET", path: "/Users/" + id},
		{method: "PUT", path: "/Users/" + id, body: `{"userName":"pwned"}`},
		{method: "DELETE", path: "/Users/" + id},
	} {
		rec := as("scim_globex", r)
		wantError(t, rec, http.StatusNotFound, "", id)
		if strings.Contains(rec.Body.String(), "ceo@acme.com") {
			t.Errorf("%s leaked the other tenant's data: %s", r.method, rec.Body)
		}
	}
	if got := decode(t, as("scim_globex", request{method: "GET", path: `/Users?filter=userName+eq+%22ceo@acme.com%22`})); got["totalResults"] != float64(0) {
		t.Errorf("globex's filter found acme's user: %v", got)
	}
	// The same userName is free in another workspace.
	if rec := as("scim_globex", request{method: "POST", path: "/Users", body: `{"userName":"ceo@acme.com"}`}); rec.Code != http.StatusCreated {
		t.Errorf("same userName in another tenant: %d %s", rec.Code, rec.Body)
	}
	if got := decode(t, as("scim_acme", request{method: "GET", path: "/Users/" + id})); got["userName"] != "ceo@acme.com" {
		t.Errorf("acme's user changed: %v", got)
	}

	// Switching acme's sync off refuses its requests with a detail the admin can act on.
	tokens.SetDisabled("acme", true)
	wantError(t, as("scim_acme", request{method: "GET", path: "/Users"}), http.StatusForbidden, "", "switched off")
	wantError(t, as("scim_nope", request{method: "GET", path: "/Users"}), http.StatusUnauthorized, "", "")
}
