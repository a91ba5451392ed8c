package scim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// TestPrimaryFalseRoundTrips: RFC 7643 §2.5 makes only null and [] the
// same as unassigned, so a "primary": false a client sends comes back.
func TestPrimaryFalseRoundTrips(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	rec := serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"a@contoso.com","emails":[{"value":"a@contoso.com","type":"work","primary":true},{"value":"a@home.example","type":"home","primary":false}],"addresses":[{"type":"work","locality":"Oslo","primary":false}]}`})
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	for _, want := range []string{`{"value":"a@home.example","type":"home","primary":false}`, `{"locality":"Oslo","type":"work","primary":false}`, `{"value":"a@contoso.com","type":"work","primary":true}`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("POST answer lacks %s: %s", want, rec.Body)
		}
	}
	id := decode(t, rec)["id"].(string)
	rec = serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"work\"].primary","value":false},{"op":"add","path":"phoneNumbers","value":[{"value":"555","primary":false}]}]}`})
	if rec.Code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
	}
	for _, want := range []string{`{"value":"a@contoso.com","type":"work","primary":false}`, `"phoneNumbers":[{"value":"555","primary":false}]`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("PATCH answer lacks %s: %s", want, rec.Body)
		}
	}
	// Removing primary makes it unassigned again.
	rec = serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"emails[type eq \"home\"].primary"}]}`})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `{"value":"a@home.example","type":"home"}`) {
		t.Errorf("remove primary: %d %s", rec.Code, rec.Body)
	}
}

// TestRemoveActive: {"op":"remove","path":"active"} makes active
// unassigned, which this package reads as active (see User.Active), in
// every mode.
func TestRemoveActive(t *testing.T) {
	for _, strict := range []bool{false, true} {
		var events []scim.Event
		h := newHandler(t, memstore.New(), scim.Options{Strict: strict, OnChange: func(_ context.Context, e scim.Event) { events = append(events, e) }})
		rec := serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"a@contoso.com","active":false}`})
		id := decode(t, rec)["id"].(string)
		rec = serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"active"}]}`})
		if rec.Code != http.StatusOK || decode(t, rec)["active"] != true {
			t.Errorf("strict %v: %d %s", strict, rec.Code, rec.Body)
		}
		if last := events[len(events)-1]; last.Kind != scim.UserReactivated {
			t.Errorf("strict %v: last event %v, want a reactivation", strict, last.Kind)
		}
	}
}

// unsupportedStore refuses every filter, naming the part it cannot
// evaluate.
type unsupportedStore struct{ *memstore.Store }

func (s unsupportedStore) ListUsers(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	if q.Filter != nil {
		return scim.Page[*scim.User]{}, &scim.UnsupportedError{Expr: q.Filter.String(), Reason: "addresses are not indexed"}
	}
	return s.Store.ListUsers(ctx, q)
}

// ListUsersShared overrides the embedded memstore's, so that the handler's
// reads see the override of ListUsers (scim.SharedUserReader's rule).
func (s unsupportedStore) ListUsersShared(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	return s.ListUsers(ctx, q)
}

// TestUnsupportedFilterNamesThePart: a store's UnsupportedError reaches the
// client as a 400 invalidFilter naming the part of the filter.
func TestUnsupportedFilterNamesThePart(t *testing.T) {
	h := newHandler(t, unsupportedStore{memstore.New()}, scim.Options{})
	rec := serve(t, h, request{method: "GET", path: `/Users?filter=addresses.locality+eq+%22Oslo%22`})
	body := decode(t, rec)
	want := `the server cannot evaluate "addresses.locality eq \"Oslo\"" in this filter: addresses are not indexed`
	if rec.Code != http.StatusBadRequest || body["scimType"] != "invalidFilter" || body["detail"] != want {
		t.Errorf("%d %v; want 400 invalidFilter %q", rec.Code, body, want)
	}
}

// TestEntraMatchingAttributes: every attribute Entra ID's admins can choose
// as the matching attribute filters on memstore.
func TestEntraMatchingAttributes(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"other@contoso.com","externalId":"other","emails":[{"value":"other@contoso.com","type":"work"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"2"}}`})
	rec := serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"bjensen@contoso.com","externalId":"bjensen","emails":[{"value":"babs@contoso.com","type":"work"},{"value":"bjensen@home.example","type":"home"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984"}}`})
	id := decode(t, rec)["id"].(string)
	rec = serve(t, h, request{method: "POST", path: "/Groups", body: `{"displayName":"Tour Guides","externalId":"8aa1a0c0"}`})
	gid := decode(t, rec)["id"].(string)
	for _, tc := range []struct{ path, want string }{
		{`/Users?filter=employeeNumber+eq+%22701984%22`, id},
		{`/Users?filter=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber+eq+%22701984%22`, id},
		{`/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22babs@contoso.com%22`, id},
		{`/Users?filter=emails%5Btype+eq+%22work%22+and+value+eq+%22babs@contoso.com%22%5D`, id},
		{`/Users?filter=externalId+eq+%22bjensen%22`, id},
		{`/Users?filter=userName+eq+%22BJENSEN@contoso.com%22`, id},
		{`/Groups?excludedAttributes=members&filter=displayName+eq+%22tour+guides%22`, gid},
		{`/Groups?filter=externalId+eq+%228aa1a0c0%22`, gid},
	} {
		rec := serve(t, h, request{method: "GET", path: tc.path})
		body := decode(t, rec)
		rs, _ := body["Resources"].([]any)
		if rec.Code != http.StatusOK || body["totalResults"] != 1.0 || len(rs) != 1 || rs[0].(map[string]any)["id"] != tc.want {
			t.Errorf("%s: %d %s", tc.path, rec.Code, rec.Body)
		}
	}
	// A work email that is not the user's work email does not match.
	rec = serve(t, h, request{method: "GET", path: `/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22bjensen@home.example%22`})
	if body := decode(t, rec); body["totalResults"] != 0.0 {
		t.Errorf("home email as work: %s", rec.Body)
	}
}
