package scim_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// BenchmarkExtensionCreateUser is what a declared extension costs a create:
// Entra's create body with two attributes of the Contoso extension sent
// flat, as Entra sends mapped custom attributes, with the extension
// declared and (for comparison) undeclared, kept untyped in Extra.
func BenchmarkExtensionCreateUser(b *testing.B) {
	ext := scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{
		{Name: "costCenter"}, {Name: "badgeNumber", Type: scim.TypeInteger},
	}}
	body := func(i int) string {
		s := entraUserBody("user" + strconv.Itoa(i))
		return strings.TrimSuffix(strings.TrimSpace(s), "}") + `,"` + contosoURN + `:costCenter":"CC-42","` + contosoURN + `:badgeNumber":` + strconv.Itoa(i) + `}`
	}
	b.Run("declared", func(b *testing.B) {
		benchRequest(b, newHandler(b, memstore.New(), scim.Options{Extensions: []scim.Extension{ext}}), "POST", "/Users", body, 201)
	})
	b.Run("undeclared", func(b *testing.B) {
		benchRequest(b, newHandler(b, memstore.New(), scim.Options{}), "POST", "/Users", body, 201)
	})
}
