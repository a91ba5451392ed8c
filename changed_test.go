package scim

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// changedByMaps is changedAttributes by encoding/json, which it was
// before it scanned the encodings itself.
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

// changedAttributes is what the handler computed before diffUsers, and
// the reference diffUsers is tested against: it compares two encoded
// resources attribute by attribute and names the top-level attributes that
// differ, meta and schemas excepted. Both are the handler's own encodings,
// so an attribute's key and value are each written one way, and the raw
// texts compare.
func changedAttributes(before, after []byte) []string {
	var abuf, bbuf [24]encodedMember
	a, aok := topMembers(before, abuf[:0])
	b, bok := topMembers(after, bbuf[:0])
	if !aok || !bok {
		return nil
	}
	var changed []string
	note := func(key []byte) {
		if k := string(key[1 : len(key)-1]); k != "meta" && k != "schemas" {
			changed = append(changed, string(unquoteJSON(nil, key[1:len(key)-1])))
		}
	}
	for _, m := range b {
		if prev, ok := findMember(a, m.key); !ok || !bytes.Equal(prev, m.raw) {
			note(m.key)
		}
	}
	for _, m := range a {
		if _, ok := findMember(b, m.key); !ok {
			note(m.key)
		}
	}
	slices.Sort(changed)
	return changed
}

// encodedMember is a member of a JSON object: its key as written, quotes
// included, and its value's text.
type encodedMember struct{ key, raw []byte }

// topMembers appends the members of the JSON object b to ms; ok is false
// when b is not one.
func topMembers(b []byte, ms []encodedMember) (_ []encodedMember, ok bool) {
	r := newReader(b, 0)
	if k, err := r.peek(); err != nil || k != kindObject || r.open() != nil {
		return nil, false
	}
	for first := true; ; first = false {
		key, more, err := r.nextMemberRaw(first)
		if err != nil {
			return nil, false
		}
		if !more {
			return ms, true
		}
		raw, _, err := r.rawValue()
		if err != nil {
			return nil, false
		}
		ms = append(ms, encodedMember{key: key, raw: raw})
	}
}

func findMember(ms []encodedMember, key []byte) ([]byte, bool) {
	for _, m := range ms {
		if bytes.Equal(m.key, key) {
			return m.raw, true
		}
	}
	return nil, false
}
