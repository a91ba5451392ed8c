package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/scimhost/scim"
)

// extensionChecks check filters and sorts on the attributes of declared
// schema extensions ([scim.Extension]), whose values the handler keeps in
// User.Extra under the extension's URN.
var extensionChecks = []check{
	{"FilterAndSortByExtensionAttributes", 0, testExtensionAttributes},
}

// Extensions makes the extension checks use the host's declared schema
// extensions, as passed in scim.Options.Extensions, instead of the kit's
// own (urn:ietf:params:scim:schemas:extension:Contoso:2.0:User with
// costCenter, a string, and badgeNumber, an integer), and makes them
// strict: the store must answer eq on each declared string attribute, and
// gt, lt and sortBy on each integer or decimal one, of User extensions;
// ErrUnsupported fails the check. Without this option the kit's own
// extension is checked and the store may refuse those filters with
// ErrUnsupported, but never answer them wrongly.
func Extensions(exts ...scim.Extension) Option {
	return func(cfg *config) { cfg.extensions = append(cfg.extensions, exts...) }
}

// kitExtension is the extension checked without [Extensions].
var kitExtension = scim.Extension{
	Schema: "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User", Resource: "User",
	Attributes: []scim.Attribute{
		{Name: "costCenter", Type: scim.TypeString},
		{Name: "badgeNumber", Type: scim.TypeInteger},
	},
}

// testExtensionAttributes stores five users with values for the simple
// attributes of each User extension (and one user without), then filters
// and sorts by them: a number compares as a number (100 > 99, which a
// text comparison gets wrong), a string ignores case.
func testExtensionAttributes(t *testing.T, s scim.Store, cfg *config) {
	exts, must := cfg.extensions, true
	if len(exts) == 0 {
		exts, must = []scim.Extension{kitExtension}, false
	}
	numbers := []int{99, 100, 1000, 7, 250}
	sortChecked := false
	for j, e := range exts {
		if e.Resource != "User" {
			continue
		}
		var simple []scim.Attribute
		for _, a := range e.Attributes {
			if !a.MultiValued && a.Mutability != scim.MutabilityReadOnly && (a.Type == "" || a.Type == scim.TypeString || a.Type == scim.TypeInteger || a.Type == scim.TypeDecimal) {
				simple = append(simple, a)
			}
		}
		if len(simple) == 0 {
			continue
		}
		un := func(i int) string { return fmt.Sprintf("ext%d-%d@example.com", j, i) }
		ids := map[int]string{} // index in numbers → id
		for i, n := range numbers {
			u := &scim.User{UserName: un(i), Active: true}
			for _, a := range simple {
				var v any = n
				if a.Type == "" || a.Type == scim.TypeString {
					v = fmt.Sprintf("Value-%d", n)
					if i%2 == 1 {
						v = fmt.Sprintf("VALUE-%d", n)
					}
				}
				if err := e.Set(&u.Extra, a.Name, v); err != nil {
					t.Fatal(err)
				}
			}
			ids[i] = createUser(t, s, u).ID
		}
		none := fmt.Sprintf("ext%d-none@example.com", j)
		createUser(t, s, &scim.User{UserName: none, Active: true})

		for _, a := range simple {
			attr := scim.AttrPath{URN: e.Schema, Name: a.Name}
			name := e.Schema + ":" + a.Name
			if a.Type == "" || a.Type == scim.TypeString {
				f := &scim.AttrExpr{Path: attr, Op: scim.OpEq, Value: scim.Value{Kind: scim.KindString, Text: "value-100"}}
				checkUsers(t, s, f, must, un(1))
				continue
			}
			checkUsers(t, s, &scim.AttrExpr{Path: attr, Op: scim.OpGt, Value: scim.Value{Kind: scim.KindNumber, Text: "100"}},
				must, un(2), un(4))
			checkUsers(t, s, &scim.AttrExpr{Path: attr, Op: scim.OpLt, Value: scim.Value{Kind: scim.KindNumber, Text: "100"}},
				must, un(0), un(3))
			checkUsers(t, s, &scim.AttrExpr{Path: attr, Op: scim.OpPr}, must, un(0), un(1), un(2), un(3), un(4))
			if sortChecked {
				// Users of the extensions checked before sort among
				// these: one sort check is enough.
				continue
			}
			sortChecked = true

			page, err := s.ListUsers(t.Context(), scim.Query{SortBy: attr, StartIndex: 1, Count: 100})
			if errors.Is(err, scim.ErrUnsupported) && !must {
				t.Logf("sortBy %s: ErrUnsupported (allowed)", name)
				continue
			}
			if err != nil {
				t.Errorf("sortBy %s: %v", name, err)
				continue
			}
			var got []string
			for _, u := range page.Resources {
				present(t, "ListUsers", u)
				got = append(got, u.UserName)
			}
			want := []string{un(3), un(0), un(1), un(4), un(2), none}
			if !slices.Equal(got, want) {
				t.Errorf("sortBy %s: %q, want %q (numbers in numeric order, the user without a value last)", name, got, want)
			}
		}

		// The values come back as they were stored, typed.
		for i, n := range numbers {
			got, err := s.GetUser(t.Context(), ids[i], scim.Projection{})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range simple {
				v, ok := e.Lookup(got.Extra, a.Name)
				var want any
				switch a.Type {
				case scim.TypeInteger:
					want = int64(n)
				case scim.TypeDecimal:
					want = float64(n)
				default:
					want = "Value-" + strconv.Itoa(n)
					if i%2 == 1 {
						want = "VALUE-" + strconv.Itoa(n)
					}
				}
				if !ok || v != want {
					t.Errorf("GetUser: %s:%s = %#v (%v), want %#v", e.Schema, a.Name, v, ok, want)
				}
			}
		}
	}
}
