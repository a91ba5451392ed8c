package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
)

// extensionChecks check filters and sorts on the attributes of declared
// schema extensions ([scim.Extension]), whose values the handler keeps in
// User.Extra under the extension's URN.
var extensionChecks = []check{
	{"FilterAndSortByExtensionAttributes", 0, testExtensionAttributes},
	{"UniqueExtensionValues", ExtensionDeclarer, testUniqueExtensionValues},
}

// Extensions makes the extension checks use the host's declared schema
// extensions, as passed in scim.Options.Extensions, instead of the kit's
// own (urn:ietf:params:scim:schemas:extension:Contoso:2.0:User with
// costCenter, a string, badgeNumber, an integer, code, a caseExact string,
// and since, a dateTime), and makes them strict: the store must answer eq
// and sw on each declared string attribute (case-sensitively when it is
// caseExact), gt, lt and sortBy on each integer, decimal or dateTime one
// (a dateTime as an instant, whatever its offset), of User extensions;
// ErrUnsupported fails the check. Without this option the kit's own
// extension is checked and the store may refuse those filters with
// ErrUnsupported, but never answer them wrongly.
//
// The checks build their paths with [scim.Extension.Path], as the handler
// types the queries it hands the store.
func Extensions(exts ...scim.Extension) Option {
	return func(cfg *config) { cfg.extensions = append(cfg.extensions, exts...) }
}

// kitExtension is the extension checked without [Extensions].
var kitExtension = scim.Extension{
	Schema: "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User", Resource: "User",
	Attributes: []scim.Attribute{
		{Name: "costCenter", Type: scim.TypeString},
		{Name: "badgeNumber", Type: scim.TypeInteger},
		{Name: "code", Type: scim.TypeString, CaseExact: true},
		{Name: "since", Type: scim.TypeDateTime},
	},
}

// extTime is the dateTime the extension checks store for the number n:
// n minutes after 2026-01-01T00:00:00Z, spelled in UTC for even users and
// at -05:00 for odd ones, so that the text order of the values is not
// their order in time.
func extTime(i, n int) time.Time {
	t := time.Date(2026, 1, 1, 0, n, 0, 0, time.UTC)
	if i%2 == 1 {
		t = t.In(time.FixedZone("", -5*3600))
	}
	return t
}

// extString is the string the extension checks store for user i and the
// number n: "Value-n", or "VALUE-n" for odd users.
func extString(i, n int) string {
	if i%2 == 1 {
		return fmt.Sprintf("VALUE-%d", n)
	}
	return fmt.Sprintf("Value-%d", n)
}

// testExtensionAttributes stores five users with values for the simple
// attributes of each User extension (and one user without), then filters
// and sorts by them: a number compares as a number (100 > 99, which a
// text comparison gets wrong), a dateTime as an instant (which its text
// gets wrong across offsets), a string ignores case unless it is
// caseExact.
func testExtensionAttributes(t *testing.T, s scim.Store, cfg *config) {
	exts, must := cfg.extensions, true
	if len(exts) == 0 {
		exts, must = []scim.Extension{kitExtension}, false
	}
	numbers := []int{99, 100, 1000, 7, 250}
	sortChecked := map[string]bool{} // by kind of attribute: one sort check each
	for j, e := range exts {
		if e.Resource != "User" {
			continue
		}
		var simple []scim.Attribute
		for _, a := range e.Attributes {
			if !a.MultiValued && a.Mutability != scim.MutabilityReadOnly && !a.CanonicalOnly &&
				(a.Type == "" || a.Type == scim.TypeString || a.Type == scim.TypeInteger || a.Type == scim.TypeDecimal || a.Type == scim.TypeDateTime) {
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
				switch a.Type {
				case "", scim.TypeString:
					v = extString(i, n)
				case scim.TypeDateTime:
					v = extTime(i, n).Format(time.RFC3339)
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
			attr, ok := e.Path(a.Name)
			if !ok {
				t.Fatalf("%s.Path(%q): not declared", e.Schema, a.Name)
			}
			name := e.Schema + ":" + a.Name
			cmpr := func(op scim.Operator, kind scim.ValueKind, text string, want ...string) {
				t.Helper()
				checkUsers(t, s, &scim.AttrExpr{Path: attr, Op: op, Value: scim.Value{Kind: kind, Text: text}}, must, want...)
			}
			var sortWant []string // the users in ascending order
			kind := "number"
			switch a.Type {
			case "", scim.TypeString:
				if a.CaseExact {
					kind = "caseExact string"
					cmpr(scim.OpEq, scim.KindString, "VALUE-100", un(1))
					cmpr(scim.OpEq, scim.KindString, "value-100")
					cmpr(scim.OpSw, scim.KindString, "VALUE-", un(1), un(3))
					// Byte order: every "VALUE-" before every "Value-".
					sortWant = []string{un(1), un(3), un(2), un(4), un(0), none}
				} else {
					cmpr(scim.OpEq, scim.KindString, "value-100", un(1))
					cmpr(scim.OpSw, scim.KindString, "value-1", un(1), un(2))
					continue
				}
			case scim.TypeDateTime:
				kind = "dateTime"
				at := func(n int) string { return extTime(0, n).Format(time.RFC3339) }
				cmpr(scim.OpGt, scim.KindString, at(100), un(2), un(4))
				cmpr(scim.OpLt, scim.KindString, at(100), un(0), un(3))
				cmpr(scim.OpEq, scim.KindString, at(100), un(1))
				cmpr(scim.OpEq, scim.KindString, extTime(1, 7).Format(time.RFC3339Nano), un(3))
				cmpr(scim.OpGe, scim.KindString, extTime(1, 250).Format(time.RFC3339), un(2), un(4))
				cmpr(scim.OpLe, scim.KindString, at(7), un(3))
				checkUsers(t, s, &scim.AttrExpr{Path: attr, Op: scim.OpPr}, must, un(0), un(1), un(2), un(3), un(4))
				sortWant = []string{un(3), un(0), un(1), un(4), un(2), none}
			default:
				cmpr(scim.OpGt, scim.KindNumber, "100", un(2), un(4))
				cmpr(scim.OpLt, scim.KindNumber, "100", un(0), un(3))
				checkUsers(t, s, &scim.AttrExpr{Path: attr, Op: scim.OpPr}, must, un(0), un(1), un(2), un(3), un(4))
				sortWant = []string{un(3), un(0), un(1), un(4), un(2), none}
			}
			if sortChecked[kind] {
				// Users of the extensions checked before sort among
				// these: one sort check of each kind is enough.
				continue
			}
			sortChecked[kind] = true
			checkExtensionSort(t, s, attr, name, must, sortWant)
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
				case scim.TypeDateTime:
					want = extTime(i, n).Format(time.RFC3339)
					if tm, isTime := v.(time.Time); isTime {
						v = tm.Format(time.RFC3339)
					}
				default:
					want = extString(i, n)
				}
				if !ok || v != want {
					t.Errorf("GetUser: %s:%s = %#v (%v), want %#v", e.Schema, a.Name, v, ok, want)
				}
			}
		}
	}
}

// checkExtensionSort lists the users sorted by attr and compares their
// userNames with want, the users the check created in ascending order.
// Users of other checks come between them; they are ignored.
func checkExtensionSort(t *testing.T, s scim.Store, attr scim.AttrPath, name string, must bool, want []string) {
	t.Helper()
	page, err := s.ListUsers(t.Context(), scim.Query{SortBy: attr, StartIndex: 1, Count: 100})
	if errors.Is(err, scim.ErrUnsupported) && !must {
		t.Logf("sortBy %s: ErrUnsupported (allowed)", name)
		return
	}
	if err != nil {
		t.Errorf("sortBy %s: %v", name, err)
		return
	}
	var got []string
	for _, u := range page.Resources {
		present(t, "ListUsers", u)
		if slices.Contains(want, u.UserName) {
			got = append(got, u.UserName)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("sortBy %s: %q, want %q (in the declared type's order, the user without a value last)", name, got, want)
	}
}

// uniqueExtension is the extension the uniqueness check declares to the
// store.
var uniqueExtension = scim.Extension{
	Schema: "urn:ietf:params:scim:schemas:extension:StoreTest:2.0:User", Resource: "User",
	Attributes: []scim.Attribute{
		{Name: "badge", Uniqueness: scim.UniquenessServer},
		{Name: "token", CaseExact: true, Uniqueness: scim.UniquenessServer},
		{Name: "note"},
	},
}

// testUniqueExtensionValues declares an extension with unique attributes
// (scim.ExtensionDeclarer) and checks that the store enforces them: of
// twenty concurrent creates of one value (in two cases) exactly one
// succeeds and the others are ErrConflict naming the attribute; a
// caseExact value conflicts only with itself; a replace (and an update)
// to a taken value conflicts; a deleted user's value is free.
func testUniqueExtensionValues(t *testing.T, s scim.Store, _ *config) {
	e := uniqueExtension
	if err := s.(scim.ExtensionDeclarer).DeclareExtensions([]scim.Extension{e}); err != nil {
		t.Fatalf("DeclareExtensions: %v", err)
	}
	user := func(name string, attrs ...string) *scim.User {
		u := &scim.User{UserName: name, Active: true}
		for i := 0; i+1 < len(attrs); i += 2 {
			if err := e.Set(&u.Extra, attrs[i], attrs[i+1]); err != nil {
				t.Fatal(err)
			}
		}
		return u
	}
	badge := e.Schema + ":badge"
	wantConflict := func(what string, err error, attr string) {
		t.Helper()
		if !errors.Is(err, scim.ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict on %s", what, err, attr)
			return
		}
		conflictOn(t, what, err, attr)
	}

	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	ids := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := "Badge-1"
			if i%2 == 1 {
				v = "BADGE-1" // not caseExact: the same value
			}
			u, err := s.CreateUser(t.Context(), user(fmt.Sprintf("unique-%d@example.com", i), "badge", v))
			if errs[i] = err; err == nil {
				ids[i] = u.ID
			}
		}()
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil && winner != "":
			t.Errorf("two concurrent creates with %s %q succeeded, want exactly one", badge, "Badge-1")
		case err == nil:
			winner = ids[i]
		default:
			wantConflict("concurrent create with a taken "+badge, err, badge)
		}
	}
	if winner == "" {
		t.Fatalf("none of %d concurrent creates with one %s succeeded, want exactly one", n, badge)
	}

	token := e.Schema + ":token"
	first := createUser(t, s, user("token-1@example.com", "token", "Tk", "note", "n"))
	second := createUser(t, s, user("token-2@example.com", "token", "tk", "note", "n")) // caseExact: another value
	_, err := s.CreateUser(t.Context(), user("token-3@example.com", "token", "Tk"))
	wantConflict("CreateUser with a taken caseExact "+token, err, token)

	second.Extra = nil
	if err := e.Set(&second.Extra, "token", "Tk"); err != nil {
		t.Fatal(err)
	}
	second.Meta.Version = ""
	_, err = s.ReplaceUser(t.Context(), second)
	wantConflict("ReplaceUser to a taken "+token, err, token)
	if uu, ok := s.(scim.UserUpdater); ok {
		_, err = uu.UpdateUser(t.Context(), second.ID, func(u *scim.User) error { return e.Set(&u.Extra, "badge", "badge-1") })
		wantConflict("UpdateUser to a taken "+badge, err, badge)
	}
	// Keeping one's own value is no conflict.
	first.Meta.Version = ""
	if err := e.Set(&first.Extra, "note", "changed"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceUser(t.Context(), first); err != nil {
		t.Errorf("ReplaceUser keeping its own %s: %v", token, err)
	}
	// A deleted user's value is free again.
	if err := s.DeleteUser(t.Context(), winner); err != nil {
		t.Fatal(err)
	}
	createUser(t, s, user("unique-again@example.com", "badge", "badge-1"))
}
