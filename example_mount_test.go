package scim_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// A Tenant URL pasted with a trailing slash makes Entra ID send
// "POST /scim/v2//Users". Under CleanPaths it reaches the handler; the
// bare http.ServeMux would answer it with a redirect.
func ExampleCleanPaths() {
	h, err := scim.NewHandler(memstore.New(), scim.Options{
		BaseURL: "https://app.example.com/scim/v2",
		Prefix:  "/scim/v2", // the handler looks past it: no http.StripPrefix
	})
	if err != nil {
		panic(err)
	}
	var tokens scim.Tokens
	tokens.Add("workspace-42", scim.HashToken("scim_demo"))
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", scim.BearerAuth(tokens.Lookup)(h))
	srv := &http.Server{Handler: scim.CleanPaths("/scim/v2", mux)}

	for _, handler := range []http.Handler{mux, srv.Handler} {
		req := httptest.NewRequest("POST", "/scim/v2//Users", strings.NewReader(`{"userName":"bjensen@example.com"}`))
		req.Header.Set("Authorization", "Bearer scim_demo")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code/100 == 3 {
			fmt.Println("redirected to", rec.Header().Get("Location"))
		} else {
			fmt.Println(rec.Code, "created at", strings.TrimPrefix(rec.Header().Get("Location"), "https://app.example.com")[:len("/scim/v2/Users/")]+"...")
		}
	}
	// Output:
	// redirected to /scim/v2/Users
	// 201 created at /scim/v2/Users/...
}
