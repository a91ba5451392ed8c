package scim

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// changedByMaps is what changedAttributes computed before it scanned the
// encodings itself: both round-tripped through encoding/json.
func changedByMaps(before, after []byte) []string {
	var a, b map[string]json.RawMessage
	if json.Unmarshal(before, &a) != nil || json.Unmarshal(after, &b) != nil {
		return nil
	}
	var changed []string
	for k, v := range b {
		if k != "meta" && k != "schemas" && !bytes.Equal(a[k], v) {
			changed = append(changed, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok && k != "meta" && k != "schemas" {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	return changed
}

func TestChangedAttributesAgreesWithMaps(t *testing.T) {
	base := func() *User {
		return &User{ID: "1", UserName: "ada", Active: true, Name: Name{GivenName: "Ada"},
			Emails: []MultiValue{{Value: "ada@contoso.com", Primary: true}},
			Extra:  map[string]json.RawMessage{"urn:example:x:1.0:User": json.RawMessage(`{"badge":"7"}`)}}
	}
	for _, tc := range []struct {
		name   string
		change func(*User)
	}{
		{"nothing", func(*User) {}},
		{"meta only", func(u *User) { u.Meta.Version = "9" }},
		{"displayName added", func(u *User) { u.DisplayName = "Ada L" }},
		{"active", func(u *User) { u.Active = false }},
		{"name sub-attribute", func(u *User) { u.Name.FamilyName = "Lovelace" }},
		{"emails removed", func(u *User) { u.Emails = nil }},
		{"enterprise added", func(u *User) { u.Enterprise = &EnterpriseUser{Department: "R&D \"1\""} }},
		{"extension changed", func(u *User) {
			u.Extra = map[string]json.RawMessage{"urn:example:x:1.0:User": json.RawMessage(`{"badge":"8"}`)}
		}},
		{"several", func(u *User) { u.UserName, u.Title, u.Name = "lovelace", "Countess", Name{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, u := base(), base()
			tc.change(u)
			b, a := appendUser(nil, old, Projection{}, ""), appendUser(nil, u, Projection{}, "")
			if diff := cmp.Diff(changedByMaps(b, a), changedAttributes(b, a)); diff != "" {
				t.Errorf("changedAttributes (-maps +scan):\n%s", diff)
			}
		})
	}
}

// BenchmarkChangedAttributes compares the scan with the encoding/json
// maps it replaced, on a one-attribute change of Entra's user.
func BenchmarkChangedAttributes(b *testing.B) {
	old := &User{ID: "2819c223-7f76-453a-919d-413861904646", ExternalID: "ada", UserName: "ada@contoso.com", Active: true,
		Name:   Name{Formatted: "Test User", FamilyName: "User", GivenName: "Test"},
		Emails: []MultiValue{{Value: "ada@contoso.com", Type: "work", Primary: true}}}
	u := old.Clone()
	u.DisplayName = "Ada"
	before, after := appendUser(nil, old, Projection{}, ""), appendUser(nil, u, Projection{}, "")
	for _, impl := range []struct {
		name string
		f    func(a, b []byte) []string
	}{{"scan", changedAttributes}, {"maps", changedByMaps}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got := impl.f(before, after); len(got) != 1 {
					b.Fatal(got)
				}
			}
		})
	}
}
