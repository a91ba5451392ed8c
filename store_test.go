package scim_test

import (
	"testing"

	"github.com/scimhost/scim"
)

func TestProjectionWants(t *testing.T) {
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	parse := func(list ...string) []scim.AttrPath {
		var out []scim.AttrPath
		for _, s := range list {
			p, err := scim.ParseAttrPath(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}
	tests := []struct {
		name string
		p    scim.Projection
		attr string
		want bool
	}{
		{"zero projection wants everything", scim.Projection{}, "members", true},
		{"excluded", scim.Projection{Excluded: parse("members")}, "members", false},
		{"excluded in another case", scim.Projection{Excluded: parse("MEMBERS")}, "members", false},
		{"excluding a sub-attribute keeps the attribute", scim.Projection{Excluded: parse("name.givenName")}, "name", true},
		{"id is always wanted", scim.Projection{Attributes: parse("userName"), Excluded: parse("id")}, "id", true},
		{"not listed", scim.Projection{Attributes: parse("id")}, "members", false},
		{"listed through a sub-attribute", scim.Projection{Attributes: parse("emails.value")}, "emails", true},
		{"extension attribute qualified", scim.Projection{Attributes: parse(ent + ":manager")}, ent + ":manager", true},
		{"extension attribute unqualified", scim.Projection{Attributes: parse("manager")}, ent + ":manager", true},
		{"whole extension schema", scim.Projection{Attributes: parse(ent)}, ent + ":manager", true},
		{"whole extension schema, core attribute", scim.Projection{Attributes: parse(ent)}, "groups", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Wants(tt.attr); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.attr, got, tt.want)
			}
		})
	}
}
