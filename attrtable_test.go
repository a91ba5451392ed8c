package scim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestAttrTableOneEntry checks that the attribute tables and the schemas
// /Schemas serves describe the same attributes, and that every attribute of
// a table is decodable, encodable, projectable, filterable, sortable and
// patchable through its one entry: every simple attribute by a round trip
// through its accessor, every other by its lookups. An attribute added to a
// table is covered without a change here.
func TestAttrTableOneEntry(t *testing.T) {
	t.Run("every served attribute has an entry", func(t *testing.T) {
		for _, c := range []struct {
			s      *resourceSchema
			urn    string
			lookup func(urn, name string) *attrDef
			entry  func(urn, name string) (*attrDef, bool)
		}{
			{userSchema, "", userDef, userEntryDef},
			{enterpriseSchema, EnterpriseUserSchema, userDef, userEntryDef},
			{commonAttrs, "", userDef, userEntryDef},
			{groupSchema, "", groupDef, groupEntryDef},
			{commonAttrs, "", groupDef, groupEntryDef},
		} {
			names := map[string]bool{}
			if c.s.id != "" {
				for _, a := range served(t, c.s) {
					names[a.Name] = true
				}
			}
			for _, d := range c.s.attrs {
				if c.s.id != "" && !names[d.name] {
					t.Errorf("%s %s: in the schema, not served", c.s.id, d.name)
				}
				def, ok := c.entry(c.urn, d.name)
				if !ok || def != c.lookup(c.urn, d.name) || def != d {
					t.Errorf("%s %s: served, but the attribute table has no entry with its definition", c.s.id, d.name)
				}
			}
		}
	})
	t.Run("every entry is served", func(t *testing.T) {
		for i := 1; i < int(numUserAttrs); i++ {
			if e := &userAttrs[i]; e.kind != akEnterprise && e.def != userDef(e.urn, e.name) {
				t.Errorf("user %s: no served definition", e.qname)
			}
		}
		for i := 1; i < int(numGroupAttrs); i++ {
			if e := &groupAttrs[i]; e.def != groupDef(e.urn, e.name) {
				t.Errorf("group %s: no served definition", e.qname)
			}
		}
	})
	t.Run("accessors reach the field of their name", func(t *testing.T) {
		for i := 1; i < int(numUserAttrs); i++ {
			e := &userAttrs[i]
			var u User
			var e0 EnterpriseUser
			var target any = &u
			switch e.kind {
			case akString:
				*e.str(&u) = "x"
			case akBool:
				*e.boolean(&u) = true
			case akMultiValues:
				*e.multi(&u) = []MultiValue{{}}
			case akEnterpriseString:
				*e.ent(&e0) = "x"
				target = &e0
			default:
				continue
			}
			if f := changedField(target); !strings.EqualFold(f, e.name) {
				t.Errorf("the accessor of %s sets the field %q", e.qname, f)
			}
		}
		for i := 1; i < int(numGroupAttrs); i++ {
			e := &groupAttrs[i]
			var g Group
			switch e.kind {
			case akString:
				*e.str(&g) = "x"
			case akBool:
				*e.boolean(&g) = true
			default:
				continue
			}
			if f := changedField(&g); !strings.EqualFold(f, e.name) {
				t.Errorf("the accessor of %s sets the field %q", e.qname, f)
			}
		}
	})
	for i := uattr(1); i < numUserAttrs; i++ {
		e := &userAttrs[i]
		t.Run("user "+e.qname, func(t *testing.T) {
			p := AttrPath{URN: e.urn, Name: e.name}
			if e.kind == akEnterprise {
				p = AttrPath{URN: e.name}
			}
			if a := userAttrOf(e.qname); a != i {
				t.Errorf("userAttrOf(%q) = %d, want %d", e.qname, a, i)
			}
			if a := userAttrOf(strings.ToUpper(e.qname)); a != i {
				t.Errorf("userAttrOf(%q) = %d, want %d", strings.ToUpper(e.qname), a, i)
			}
			if e.urn == "" && e.kind != akEnterprise {
				if a := userAttrOf(UserSchema + ":" + e.name); a != i {
					t.Errorf("userAttrOf(%q) = %d, want %d", UserSchema+":"+e.name, a, i)
				}
			}
			if e.kind == akEnterprise {
				return
			}
			if fd := userField(p); fd == nil || fd.attr != uint8(i) || fd.def != e.def {
				t.Errorf("userField(%v) = %+v, want the entry's", p, fd)
			}
			wantMask := e.def.returned != returnedNever
			if m := compileUserMask(Projection{Attributes: []AttrPath{p}}); (m[i] != 0) != wantMask {
				t.Errorf("attributes=%s: mask %b, want written %v", e.qname, m[i], wantMask)
			}
			if e.kind == akString || e.kind == akBool || e.kind == akEnterpriseString {
				roundTrip(t, e.qname, e.kind == akBool, e.unsetTrue, e.readOnly(), e.def.returned == returnedNever, userCodec(e))
			}
		})
	}
	for i := gattr(1); i < numGroupAttrs; i++ {
		e := &groupAttrs[i]
		t.Run("group "+e.qname, func(t *testing.T) {
			if a := groupAttrOf(e.qname); a != i {
				t.Errorf("groupAttrOf(%q) = %d, want %d", e.qname, a, i)
			}
			p := AttrPath{Name: e.name}
			if fd := groupField(p); fd == nil || fd.attr != uint8(i) || fd.def != e.def {
				t.Errorf("groupField(%v) = %+v, want the entry's", p, fd)
			}
			if m := compileGroupMask(Projection{Attributes: []AttrPath{p}}); m[i] == 0 {
				t.Errorf("attributes=%s: not written", e.qname)
			}
			if e.kind == akString || e.kind == akBool {
				roundTrip(t, e.qname, e.kind == akBool, e.unsetTrue, e.readOnly(), e.def.returned == returnedNever, groupCodec(e))
			}
		})
	}
}

// changedField returns the name of the one field of the struct *p that is
// not zero.
func changedField(p any) string {
	v := reflect.ValueOf(p).Elem()
	name := ""
	for i := range v.NumField() {
		if !v.Field(i).IsZero() {
			if name != "" {
				return name + "+" + v.Type().Field(i).Name
			}
			name = v.Type().Field(i).Name
		}
	}
	return name
}

func userEntryDef(urn, name string) (*attrDef, bool) {
	var buf [maxKeyLen]byte
	a := userAttrOf(pathKeyIn(&buf, AttrPath{URN: urn, Name: name}))
	return userAttrs[a].def, a != uaUnknown
}

func groupEntryDef(urn, name string) (*attrDef, bool) {
	var buf [maxKeyLen]byte
	a := groupAttrOf(pathKeyIn(&buf, AttrPath{URN: urn, Name: name}))
	return groupAttrs[a].def, a != gaUnknown
}

// attrCodec is what roundTrip does with one simple attribute of a
// resource: decode a body holding value v (JSON), encode a resource whose
// attribute is v and find it in the JSON, filter and patch.
type attrCodec struct {
	decode func(body map[string]any) (got string, err error)
	encode func(v string) (written any, found bool)
	match  func(f Filter, v string) bool
	patch  func(v json.RawMessage) (got string, err error)
	sort   func(vs ...string) []string
}

// roundTrip checks one simple attribute named name; values are written as
// strings ("true" for a boolean).
func roundTrip(t *testing.T, name string, boolean, unsetTrue, readOnly, never bool, c attrCodec) {
	t.Helper()
	v, raw := "x-"+name, json.RawMessage(strconv.Quote("x-"+name))
	var jv any = v
	if boolean {
		b := !unsetTrue
		v, raw, jv = strconv.FormatBool(b), json.RawMessage(strconv.FormatBool(b)), b
	}
	got, err := c.decode(map[string]any{name: jv})
	switch {
	case err != nil:
		t.Errorf("decode: %v", err)
	case readOnly && got == v:
		t.Errorf("decode: the read-only value %s was kept", v)
	case !readOnly && got != v:
		t.Errorf("decode: got %q, want %q", got, v)
	}
	written, found := c.encode(v)
	switch {
	case never && found:
		t.Errorf("encode: a value never returned was written: %v", written)
	case !never && (!found || fmt.Sprint(written) != v):
		t.Errorf("encode: wrote %v (found %v), want %s", written, found, v)
	}
	f, err := ParseFilter(name + " eq " + string(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.match(f, v); got == never {
		t.Errorf("filter %s eq %s: %v", name, raw, got)
	}
	got, err = c.patch(raw)
	switch {
	case readOnly && err == nil:
		t.Errorf("patch of the read-only attribute was accepted")
	case !readOnly && (err != nil || got != v):
		t.Errorf("patch: got %q, %v; want %q", got, err, v)
	}
	if !boolean && !never {
		if got := fmt.Sprint(c.sort("b", "a")); got != "[a b]" {
			t.Errorf("sortBy=%s: %s, want [a b]", name, got)
		}
	}
}

func userCodec(e *attrEntry[User]) attrCodec {
	get := func(u *User) string {
		switch e.kind {
		case akEnterpriseString:
			if u.Enterprise == nil {
				return ""
			}
			return *e.ent(u.Enterprise)
		case akBool:
			return strconv.FormatBool(*e.boolean(u))
		}
		return *e.str(u)
	}
	with := func(v string) *User {
		u := &User{UserName: "u", Active: true, Enterprise: &EnterpriseUser{}}
		switch e.kind {
		case akEnterpriseString:
			*e.ent(u.Enterprise) = v
		case akBool:
			*e.boolean(u) = v == "true"
		default:
			*e.str(u) = v
		}
		return u
	}
	return attrCodec{
		decode: func(body map[string]any) (string, error) {
			if _, ok := body["userName"]; !ok {
				body["userName"] = "u"
			}
			b, _ := json.Marshal(body)
			u, err := decodeUser(b, decodeOptions{})
			if err != nil {
				return "", err
			}
			return get(u), nil
		},
		encode: func(v string) (any, bool) {
			var doc map[string]any
			if err := json.Unmarshal(appendUser(nil, with(v), Projection{}, ""), &doc); err != nil {
				return err, false
			}
			obj := doc
			if e.urn != "" {
				obj, _ = doc[e.urn].(map[string]any)
			}
			x, ok := obj[e.name]
			return x, ok
		},
		match: func(f Filter, v string) bool { return MatchUser(f, with(v)) },
		patch: func(raw json.RawMessage) (string, error) {
			u := with("")
			body := patchBody(`{"op":"replace","path":` + strconv.Quote(e.qname) + `,"value":` + string(raw) + `}`)
			if err := ApplyPatchForTest(u, body, false); err != nil {
				return "", err
			}
			return get(u), nil
		},
		sort: func(vs ...string) []string {
			var us []*User
			for _, v := range vs {
				us = append(us, with(v))
			}
			SortUsers(us, AttrPath{URN: e.urn, Name: e.name}, false)
			var out []string
			for _, u := range us {
				out = append(out, get(u))
			}
			return out
		},
	}
}

func groupCodec(e *attrEntry[Group]) attrCodec {
	get := func(g *Group) string {
		if e.kind == akBool {
			return strconv.FormatBool(*e.boolean(g))
		}
		return *e.str(g)
	}
	with := func(v string) *Group {
		g := &Group{DisplayName: "g"}
		if e.kind == akBool {
			*e.boolean(g) = v == "true"
		} else {
			*e.str(g) = v
		}
		return g
	}
	return attrCodec{
		decode: func(body map[string]any) (string, error) {
			if _, ok := body["displayName"]; !ok {
				body["displayName"] = "g"
			}
			b, _ := json.Marshal(body)
			g, err := decodeGroup(b, decodeOptions{})
			if err != nil {
				return "", err
			}
			return get(g), nil
		},
		encode: func(v string) (any, bool) {
			var doc map[string]any
			if err := json.Unmarshal(appendGroup(nil, with(v), Projection{}, ""), &doc); err != nil {
				return err, false
			}
			x, ok := doc[e.name]
			return x, ok
		},
		match: func(f Filter, v string) bool { return MatchGroup(f, with(v)) },
		patch: func(raw json.RawMessage) (string, error) {
			g := with("")
			if g.DisplayName == "" {
				g.DisplayName = "g"
			}
			opt := patchOptions{}
			ops, err := parsePatch(patchBody(`{"op":"replace","path":`+strconv.Quote(e.qname)+`,"value":`+string(raw)+`}`), opt)
			if err != nil {
				return "", err
			}
			if err := applyGroupPatch(g, ops, opt); err != nil {
				return "", err
			}
			return get(g), nil
		},
		sort: func(vs ...string) []string {
			var gs []*Group
			for _, v := range vs {
				gs = append(gs, with(v))
			}
			SortGroups(gs, AttrPath{Name: e.name}, false)
			var out []string
			for _, g := range gs {
				out = append(out, get(g))
			}
			return out
		},
	}
}
