package scim_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// A host declares the custom attributes its admins map in Entra ID; the
// handler checks their types on every write, filters on them, and the
// host reads them back typed.
func ExampleExtension() {
	contoso := scim.Extension{
		Schema:   "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User",
		Resource: "User",
		Attributes: []scim.Attribute{
			{Name: "costCenter", Type: scim.TypeString},
			{Name: "badgeNumber", Type: scim.TypeInteger},
		},
	}
	store := memstore.New()
	h, err := scim.NewHandler(store, scim.Options{Extensions: []scim.Extension{contoso}})
	if err != nil {
		panic(err)
	}
	do := func(method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/scim+json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	// Entra ID sends a mapped extension attribute flat.
	do("POST", "/Users", `{"userName":"ada@example.com","urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:badgeNumber":150}`)
	w := do("POST", "/Users", `{"userName":"bob@example.com","urn:ietf:params:scim:schemas:extension:Contoso:2.0:User":{"badgeNumber":"ninety"}}`)
	fmt.Println(w.Code, strings.Contains(w.Body.String(), "badgeNumber must be an integer"))

	q := url.Values{"filter": {`urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:badgeNumber gt 100`}}
	w = do("GET", "/Users?"+q.Encode(), "")
	fmt.Println(w.Code, strings.Contains(w.Body.String(), `"totalResults":1`))

	page, _ := store.ListUsers(context.Background(), scim.Query{StartIndex: 1, Count: 10})
	n, ok := contoso.Lookup(page.Resources[0].Extra, "badgeNumber")
	fmt.Printf("%T %v %v\n", n, n, ok)
	// Output:
	// 400 true
	// 200 true
	// int64 150 true
}
