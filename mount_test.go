package scim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// readmeMount is the README's mount: the handler behind BearerAuth on the
// host's http.ServeMux under /scim/v2/, the mux wrapped in CleanPaths.
func readmeMount(t *testing.T) (http.Handler, *http.ServeMux) {
	t.Helper()
	h := newHandler(t, memstore.New(), scim.Options{BaseURL: "https://app.example.com/scim/v2"})
	var tokens scim.Tokens
	if err := tokens.Add("workspace-42", scim.HashToken("scim_demo")); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(tokens.Lookup)(h)))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	return scim.CleanPaths("/scim/v2", mux), mux
}

func TestCleanPathsThroughServeMux(t *testing.T) {
	srv, mux := readmeMount(t)
	auth := map[string]string{"Authorization": "Bearer scim_demo"}
	send := func(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
		return serve(t, h, request{method: method, path: path, body: body, header: auth})
	}

	// A Tenant URL pasted with a trailing slash: the create reaches the
	// handler and creates the user.
	rec := send(srv, "POST", "/scim/v2//Users", `{"userName":"bjensen@example.com"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /scim/v2//Users: %d %s", rec.Code, rec.Body)
	}
	id := decode(t, rec)["id"].(string)
	if loc := rec.Header().Get("Location"); loc != "https://app.example.com/scim/v2/Users/"+id {
		t.Errorf("Location = %q", loc)
	}
	clean := send(srv, "GET", "/scim/v2/Users/"+id, "")
	if clean.Code != http.StatusOK {
		t.Fatalf("GET the clean path: %d", clean.Code)
	}
	for _, path := range []string{
		"/scim/v2//Users/" + id,
		"/scim/v2/Users/" + id + "/",
		"//scim/v2/Users//" + id + "//",
	} {
		rec := send(srv, "GET", path, "")
		if rec.Code != http.StatusOK || rec.Body.String() != clean.Body.String() {
			t.Errorf("GET %s: %d %s; want the clean path's answer", path, rec.Code, rec.Body)
		}
	}
	for _, path := range []string{"/scim/v2/Users/", "/scim/v2//Users?filter=userName+eq+%22bjensen@example.com%22"} {
		rec := send(srv, "GET", path, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"totalResults":1`) {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	// The base URL itself, with or without a doubled slash, is the
	// handler's (a SCIM 404), not a redirect.
	for _, path := range []string{"/scim/v2/", "/scim/v2//"} {
		if rec := send(srv, "GET", path, ""); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "no SCIM endpoint") {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	// Without CleanPaths the mux redirects before the handler runs: what
	// the wrapper is for.
	if rec := send(mux, "POST", "/scim/v2//Users", `{"userName":"x@example.com"}`); rec.Code < 300 || rec.Code > 399 {
		t.Errorf("the bare mux answered POST /scim/v2//Users with %d; CleanPaths may no longer be needed", rec.Code)
	}
	// Other routes, and paths that dot segments would move, are the mux's.
	if rec := send(srv, "GET", "/health", ""); rec.Code != http.StatusOK {
		t.Errorf("GET /health: %d", rec.Code)
	}
	for _, path := range []string{"//health", "/scim/v2/../health", "/scim/v2//../health"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = path
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code/100 != 3 {
			t.Errorf("GET %s: %d, want the mux's redirect", path, rec.Code)
		}
	}
}
