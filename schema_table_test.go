package scim

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// servedAttr is one attribute definition as /Schemas serves it.
type servedAttr struct {
	Name          string       `json:"name"`
	Type          string       `json:"type"`
	MultiValued   bool         `json:"multiValued"`
	Required      bool         `json:"required"`
	CaseExact     bool         `json:"caseExact"`
	Mutability    string       `json:"mutability"`
	Returned      string       `json:"returned"`
	Uniqueness    string       `json:"uniqueness"`
	SubAttributes []servedAttr `json:"subAttributes"`
}

// served renders s as /Schemas does and decodes its attributes.
func served(t *testing.T, s *resourceSchema) []servedAttr {
	t.Helper()
	var doc struct {
		ID         string       `json:"id"`
		Attributes []servedAttr `json:"attributes"`
	}
	if err := json.Unmarshal(appendSchema(nil, s, "https://x.example"), &doc); err != nil {
		t.Fatalf("%s: %v", s.id, err)
	}
	if doc.ID != s.id {
		t.Fatalf("served id %q, want %q", doc.ID, s.id)
	}
	return doc.Attributes
}

// compareServed reports each characteristic of a served attribute that
// differs from the table's definition d.
func compareServed(t *testing.T, where string, a servedAttr, d *attrDef) {
	t.Helper()
	if d == nil {
		t.Errorf("%s: served by /Schemas, unknown to the attribute table", where)
		return
	}
	uniq := a.Uniqueness
	if uniq == "" {
		uniq = "none"
	}
	got := fmt.Sprint(a.Type, a.MultiValued, a.Required, a.CaseExact && d.typ != typeComplex, a.Mutability, a.Returned, uniq)
	want := fmt.Sprint(attrTypeNames[d.typ], d.multi, d.required, d.caseExact && d.typ != typeComplex, mutabilityNames[d.mutability], returnedNames[d.returned], uniquenessNames[d.uniqueness])
	if got != want {
		t.Errorf("%s: /Schemas says %s, the table %s (type multiValued required caseExact mutability returned uniqueness)", where, got, want)
	}
	for _, sa := range a.SubAttributes {
		compareServed(t, where+"."+sa.Name, sa, d.sub(sa.Name))
	}
	if len(a.SubAttributes) != len(d.subs) {
		t.Errorf("%s: /Schemas serves %d sub-attributes, the table has %d", where, len(a.SubAttributes), len(d.subs))
	}
}

// TestSchemasMatchTable compares what /Schemas serves with the table the
// decoder, filters, sortBy, PATCH and projection consult: every served
// attribute has the table's characteristics, and every attribute the
// decoder reads into the model (besides the common id, externalId, meta
// and schemas, RFC 7643 §3.1) is served, sub-attributes included.
func TestSchemasMatchTable(t *testing.T) {
	x, err := compileExtensions([]Extension{{
		Schema: "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User", Resource: "User",
		Attributes: []Attribute{
			{Name: "costCenter"}, {Name: "badgeNumber", Type: TypeInteger, Uniqueness: UniquenessServer, Required: true},
			{Name: "badge", Type: TypeComplex, MultiValued: true, SubAttributes: []Attribute{{Name: "floor", Type: TypeInteger, Mutability: MutabilityImmutable}}},
			{Name: "link", Type: TypeReference, Returned: ReturnedAlways},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ext := x.user[0]
	for _, tc := range []struct {
		s      *resourceSchema
		lookup func(name string) *attrDef
	}{
		{userSchema, func(n string) *attrDef { return lookupUserAttr(AttrPath{URN: UserSchema, Name: n}) }},
		{enterpriseSchema, func(n string) *attrDef { return lookupUserAttr(AttrPath{URN: EnterpriseUserSchema, Name: n}) }},
		{groupSchema, func(n string) *attrDef { return lookupGroupAttr(AttrPath{URN: GroupSchema, Name: n}) }},
		{ext.schema, ext.schema.attr},
	} {
		for _, a := range served(t, tc.s) {
			compareServed(t, tc.s.id+":"+a.Name, a, tc.lookup(a.Name))
		}
	}

	// The decoder's attributes are all served.
	servedNames := map[string]servedAttr{}
	for _, s := range []*resourceSchema{userSchema, enterpriseSchema} {
		for _, a := range served(t, s) {
			name := a.Name
			if s == enterpriseSchema {
				name = EnterpriseUserSchema + ":" + name
			}
			servedNames[strings.ToLower(name)] = a
		}
	}
	for _, a := range served(t, groupSchema) {
		servedNames["group:"+strings.ToLower(a.Name)] = a
	}
	common := map[string]bool{"schemas": true, "id": true, "externalid": true, "meta": true, strings.ToLower(EnterpriseUserSchema): true}
	check := func(name string, subs []string) {
		if name == "" || name == "group:" || common[strings.ToLower(strings.TrimPrefix(name, "group:"))] {
			return
		}
		a, ok := servedNames[strings.ToLower(name)]
		if !ok {
			t.Errorf("the decoder reads %s, /Schemas does not serve it", name)
			return
		}
		for _, sub := range subs {
			found := false
			for _, sa := range a.SubAttributes {
				found = found || strings.EqualFold(sa.Name, sub)
			}
			if !found {
				t.Errorf("the decoder reads %s.%s, /Schemas does not serve it", name, sub)
			}
		}
	}
	for _, e := range userAttrs {
		check(e.qname, e.subs)
	}
	for _, e := range groupAttrs {
		check("group:"+e.name, e.subs)
	}
}

// TestServedSchemasFromTable compares /Schemas, now rendered from the
// attribute table, with elimity-com/scim's rendering of the same RFC 7643
// definitions, which it served before: the table loses nothing.
func TestServedSchemasFromTable(t *testing.T) {
	for _, s := range []*resourceSchema{userSchema, enterpriseSchema, groupSchema} {
		want, err := json.Marshal(s.def.ToMap())
		if err != nil {
			t.Fatal(err)
		}
		var w, g any
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(s.served, &g); err != nil {
			t.Fatalf("%s: %v: %s", s.id, err, s.served)
		}
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s (-elimity +table):\n%s", s.id, diff)
		}
	}
}
