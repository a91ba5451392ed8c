package scim_test

import (
	"net/http"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// The hot paths skip the ServeMux; every other shape of /Users path must
// still reach it and be answered as before.
func TestUsersRouting(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	rec := serve(t, h, request{method: "POST", path: "/Users", body: entraUserBody("ada")})
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	id := decode(t, rec)["id"].(string)
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"list", "GET", "/Users", 200},
		{"list, trailing slash", "GET", "/Users/", 200},
		{"get", "GET", "/Users/" + id, 200},
		{"get, doubled slash", "GET", "/Users//" + id, 200},
		{"get, trailing slash", "GET", "/Users/" + id + "/", 200},
		{"head", "HEAD", "/Users/" + id, 200},
		{"escaped slash in the id", "GET", "/Users/a%2Fb", 404},
		{"unknown id", "GET", "/Users/nope", 404},
		{"sub-resource", "GET", "/Users/" + id + "/x", 404},
		{"options", "OPTIONS", "/Users/" + id, 405},
		{"post on an id", "POST", "/Users/" + id, 405},
		{"delete the collection", "DELETE", "/Users", 405},
		{"similar prefix", "GET", "/Usersx", 404},
		{"delete", "DELETE", "/Users/" + id, 204},
		{"deleted", "GET", "/Users/" + id, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(t, h, request{method: tc.method, path: tc.path})
			if rec.Code != tc.want {
				t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, rec.Code, tc.want, rec.Body)
			}
		})
	}
}
