package scim_test

import (
	"net/http"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// The hot paths skip the ServeMux; every other shape of a /Users or
// /Groups path must still reach it and be answered as the ServeMux
// answers it.
func TestResourceRouting(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	for _, ep := range []struct {
		endpoint, body string
		patched        int // a PATCH's status: a group's is 204 by default
	}{
		{"/Users", entraUserBody("ada"), 200},
		{"/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops"}`, 204},
	} {
		e := ep.endpoint
		rec := serve(t, h, request{method: "POST", path: e, body: ep.body})
		if rec.Code != http.StatusCreated {
			t.Fatalf("create in %s: %d %s", e, rec.Code, rec.Body)
		}
		id := decode(t, rec)["id"].(string)
		for _, tc := range []struct {
			name, method, path string
			want               int
		}{
			{"list", "GET", e, 200},
			{"list, trailing slash", "GET", e + "/", 200},
			{"get", "GET", e + "/" + id, 200},
			{"get, doubled slash", "GET", e + "//" + id, 200},
			{"get, trailing slash", "GET", e + "/" + id + "/", 200},
			{"head", "HEAD", e + "/" + id, 200},
			{"escaped slash in the id", "GET", e + "/a%2Fb", 404},
			{"unknown id", "GET", e + "/nope", 404},
			{"sub-resource", "GET", e + "/" + id + "/x", 404},
			{"options", "OPTIONS", e + "/" + id, 405},
			{"post on an id", "POST", e + "/" + id, 405},
			{"delete the collection", "DELETE", e, 405},
			{"similar prefix", "GET", e + "x", 404},
			{"patch", "PATCH", e + "/" + id, ep.patched},
			{"search", "POST", e + "/.search", 200},
			{"delete", "DELETE", e + "/" + id, 204},
			{"deleted", "GET", e + "/" + id, 404},
		} {
			t.Run(e+"/"+tc.name, func(t *testing.T) {
				body := ""
				switch tc.method {
				case "PATCH":
					body = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"externalId","value":"x1"}]}`
				case "POST":
					body = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`
				}
				rec := serve(t, h, request{method: tc.method, path: tc.path, body: body})
				if rec.Code != tc.want {
					t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, rec.Code, tc.want, rec.Body)
				}
			})
		}
	}
}
