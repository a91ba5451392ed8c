package scim

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The typed comparison (diffUsers, diffGroups) replaced comparing
// encodings: these tests hold it to the encodings' answer on generated
// users and groups and on the results of fuzzed PATCHes, so that no change
// the representation shows is missed (a missed change is a lost update)
// and none is reported that it does not show.

// encodedDiff is the comparison by encodings: whether a PATCH changed
// something (the representations or the password differ) and the names an
// event lists.
func encodedDiff[T any](enc func([]byte, T, Projection, string) []byte, password func(T) string, old, v T) (bool, []string) {
	a, b := enc(nil, old, Projection{}, ""), enc(nil, v, Projection{}, "")
	changed := changedAttributes(a, b)
	if password(old) != password(v) && password(v) != "" {
		changed = append(changed, "password")
	}
	return !bytes.Equal(a, b) || password(old) != password(v), changed
}

func userPassword(u *User) string { return u.Password }
func groupPassword(*Group) string { return "" }
func typedUserNames(old, u *User) []string {
	evs := userEvents("1", old, u)
	if len(evs) == 0 {
		return nil
	}
	return evs[0].Changed
}

// checkUserDiff fails t when the typed comparison of old and u disagrees
// with the encodings'.
func checkUserDiff(t *testing.T, old, u *User) {
	t.Helper()
	differ, names := encodedDiff(appendUser, userPassword, old, u)
	if got := diffUsers(old, u, nil); got != differ {
		t.Fatalf("diffUsers = %v, the encodings say %v\nold %s\nnew %s", got, differ, appendUser(nil, old, Projection{}, ""), appendUser(nil, u, Projection{}, ""))
	}
	var all []string
	if got := diffUsers(old, u, &all); got != differ {
		t.Fatalf("diffUsers with names = %v, the encodings say %v", got, differ)
	}
	if diff := cmp.Diff(names, typedUserNames(old, u)); diff != "" {
		t.Fatalf("changed attributes (-encodings +typed):\n%s\nold %s\nnew %s", diff, appendUser(nil, old, Projection{}, ""), appendUser(nil, u, Projection{}, ""))
	}
}

// checkGroupDiff is checkUserDiff for groups.
func checkGroupDiff(t *testing.T, old, g *Group) {
	t.Helper()
	differ, names := encodedDiff(appendGroup, groupPassword, old, g)
	if got := diffGroups(old, g, nil); got != differ {
		t.Fatalf("diffGroups = %v, the encodings say %v\nold %s\nnew %s", got, differ, appendGroup(nil, old, Projection{}, ""), appendGroup(nil, g, Projection{}, ""))
	}
	var typed []string
	diffGroups(old, g, &typed)
	slices.Sort(typed)
	if diff := cmp.Diff(names, typed); diff != "" {
		t.Fatalf("changed attributes (-encodings +typed):\n%s", diff)
	}
}

// userGen makes users from few values, so that two of them often share
// attributes, and each attribute differs in every way the model allows.
type userGen struct{ r *rand.Rand }

var genTexts = []string{"", "a", "A", "b", `q"\`}

func (g userGen) text() string { return genTexts[g.r.IntN(len(genTexts))] }

func (g userGen) multi() []MultiValue {
	n := g.r.IntN(3)
	if n == 0 {
		return nil
	}
	vs := make([]MultiValue, n)
	for i := range vs {
		vs[i] = MultiValue{Value: g.text(), Display: g.text(), Type: g.text()}
		if vs[i].Value == "" {
			vs[i].Value = "v" // the encoder drops a value without sub-attributes
		}
		switch g.r.IntN(3) {
		case 1:
			vs[i].Primary = true
		case 2:
			vs[i].NotPrimary = true
		}
	}
	return vs
}

func (g userGen) extra(urn string) map[string]json.RawMessage {
	if g.r.IntN(3) == 0 {
		return nil
	}
	m := map[string]json.RawMessage{}
	for _, k := range []string{urn, "urn:example:other:1.0:X"} {
		if g.r.IntN(2) == 0 {
			m[k] = json.RawMessage([]string{`{"a":"1"}`, `{"a":"2"}`, `{"a":["1"],"b":true}`}[g.r.IntN(3)])
		}
	}
	return m
}

func (g userGen) user() *User {
	u := &User{ID: "1"}
	for i := uattr(1); i < numUserAttrs; i++ {
		switch e := &userAttrs[i]; e.kind {
		case akString:
			if e.name != "id" {
				*e.str(u) = g.text()
			}
		case akBool:
			*e.boolean(u) = g.r.IntN(2) == 0
		case akMultiValues:
			*e.multi(u) = g.multi()
		}
	}
	u.Name = Name{Formatted: g.text(), FamilyName: g.text(), GivenName: g.text(), HonorificSuffix: g.text()}
	if g.r.IntN(2) == 0 {
		u.Addresses = []Address{{Locality: "L" + g.text(), Country: g.text(), Primary: g.r.IntN(2) == 0}}
	}
	if g.r.IntN(3) == 0 {
		u.Groups = []GroupRef{{Value: "g" + g.text(), Display: g.text()}}
	}
	switch g.r.IntN(3) {
	case 1:
		u.Enterprise = &EnterpriseUser{}
	case 2:
		u.Enterprise = &EnterpriseUser{Department: g.text(), EmployeeNumber: g.text()}
		switch g.r.IntN(3) {
		case 1:
			u.Enterprise.Manager = &Manager{}
		case 2:
			u.Enterprise.Manager = &Manager{Value: g.text(), DisplayName: g.text()}
		}
	}
	u.Extra = g.extra("urn:example:acme:1.0:User")
	return u
}

// mix returns a copy of a with each attribute, with one chance in four,
// taken from b: pairs that differ in a few attributes, or none.
func (g userGen) mix(a, b *User) *User {
	c := a.Clone()
	for i := uattr(1); i < numUserAttrs; i++ {
		if g.r.IntN(4) != 0 {
			continue
		}
		switch e := &userAttrs[i]; e.kind {
		case akString:
			*e.str(c) = *e.str(b)
		case akBool:
			*e.boolean(c) = *e.boolean(b)
		case akMultiValues:
			*e.multi(c) = *e.multi(b)
		case akName:
			c.Name = b.Name
		case akAddresses:
			c.Addresses = b.Addresses
		case akGroupRefs:
			c.Groups = b.Groups
		case akEnterprise:
			c.Enterprise = b.Enterprise
		}
	}
	if g.r.IntN(4) == 0 {
		c.Extra = b.Extra
	}
	return c
}

func TestDiffUsersAgreesWithEncodings(t *testing.T) {
	g := userGen{rand.New(rand.NewPCG(1, 17))}
	for range 20000 {
		a := g.user()
		checkUserDiff(t, a, g.mix(a, g.user()))
	}
	// Absent and empty are alike where the encoder writes neither.
	a := &User{UserName: "a"}
	for _, b := range []*User{
		{UserName: "a", Emails: []MultiValue{}},
		{UserName: "a", Enterprise: &EnterpriseUser{}},
		{UserName: "a", Enterprise: &EnterpriseUser{Manager: &Manager{}}},
		{UserName: "a", Extra: map[string]json.RawMessage{}},
	} {
		checkUserDiff(t, a, b)
		checkUserDiff(t, b, a)
	}
}

func TestDiffGroupsAgreesWithEncodings(t *testing.T) {
	g := userGen{rand.New(rand.NewPCG(2, 17))}
	group := func() *Group {
		gr := &Group{ID: "1", DisplayName: g.text(), ExternalID: g.text(), Extra: g.extra("urn:example:acme:1.0:Group")}
		for range g.r.IntN(3) {
			gr.Members = append(gr.Members, Member{Value: "m" + g.text(), Display: g.text(), Type: g.text()})
		}
		return gr
	}
	for range 20000 {
		a, b := group(), group()
		c := a.Clone()
		switch g.r.IntN(4) {
		case 0:
			c.DisplayName = b.DisplayName
		case 1:
			c.Members = b.Members
		case 2:
			c.Extra = b.Extra
		}
		checkGroupDiff(t, a, c)
	}
}

// diffFuzzUser is the user FuzzDiffUsers patches: every kind of attribute,
// an extension in Extra, a manager, a password.
func diffFuzzUser() *User {
	u := entraUser()
	u.Password = "s3cret"
	u.Addresses = []Address{{StreetAddress: "12 St James's Square", Locality: "London", Type: "work", Primary: true}}
	u.Roles = []MultiValue{{Value: "Admin", Primary: true}}
	u.Groups = []GroupRef{{Value: "g1", Display: "Engineering", Type: "direct"}}
	u.Enterprise.Manager = &Manager{Value: "m1"}
	u.Extra = map[string]json.RawMessage{"urn:ietf:params:scim:schemas:extension:Acme:2.0:User": json.RawMessage(`{"costCode":"X1","floors":[1,2]}`)}
	return u
}

// FuzzDiffUsers applies PATCH bodies to a user, and again to the result
// (a replayed PATCH, which changes nothing), and checks that the typed
// comparison agrees with the encodings' on both.
func FuzzDiffUsers(f *testing.F) {
	users, _ := ClientsPatchBodiesForTest()
	for _, b := range users {
		f.Add(b)
	}
	for _, op := range []string{
		`{"op":"add","path":"emails","value":[{"value":"x@contoso.com"}]}`,
		`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}`,
		`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":""}`,
		`{"op":"replace","value":{"password":"n3w","active":false}}`,
		`{"op":"remove","path":"roles[value eq \"Admin\"]"}`,
		`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:costCode","value":"X1"}`,
		`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:Acme:2.0:User","value":{}}`,
		`{"op":"replace","path":"addresses[type eq \"work\"].primary","value":false}`,
		`{"op":"replace","path":"name","value":{}}`,
	} {
		f.Add(patchBody(op))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		opt := patchOptions{maxOps: 50}
		ops, err := parsePatch(body, opt)
		if err != nil {
			return
		}
		old := diffFuzzUser()
		u := old.Clone()
		if applyUserPatch(u, ops, opt) != nil {
			return
		}
		checkUserDiff(t, old, u)
		again := u.Clone()
		if applyUserPatch(again, ops, opt) == nil {
			checkUserDiff(t, u, again)
		}
	})
}

// FuzzDiffGroups is FuzzDiffUsers for groups.
func FuzzDiffGroups(f *testing.F) {
	_, groups := ClientsPatchBodiesForTest()
	for _, b := range groups {
		f.Add(b)
	}
	f.Add(patchBody(`{"op":"add","path":"urn:example:acme:1.0:Group:badge","value":"7"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		opt := patchOptions{maxOps: 50}
		ops, err := parsePatch(body, opt)
		if err != nil {
			return
		}
		old := entraGroup()
		g := old.Clone()
		if applyGroupPatch(g, ops, opt) != nil {
			return
		}
		checkGroupDiff(t, old, g)
		again := g.Clone()
		if applyGroupPatch(again, ops, opt) == nil {
			checkGroupDiff(t, g, again)
		}
	})
}

// BenchmarkDiffUsers compares the typed comparison with the encodings'
// it replaced (two encodings and a scan), on a one-attribute change of
// Entra's user: whether anything changed, and the names an event lists.
func BenchmarkDiffUsers(b *testing.B) {
	old := entraUser()
	u := old.Clone()
	u.Title = "Guide"
	b.Run("impl=typed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var names []string
			if !diffUsers(old, u, nil) || !diffUsers(old, u, &names) || len(names) != 1 {
				b.Fatal(names)
			}
		}
	})
	b.Run("impl=encodings", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if differ, names := encodedDiff(appendUser, userPassword, old, u); !differ || len(names) != 1 {
				b.Fatal(names)
			}
		}
	})
}
