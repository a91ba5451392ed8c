package scim_test

import (
	"strings"
	"testing"
	"unicode"

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

func TestFoldCaseAgreesWithEqualFold(t *testing.T) {
	for _, tt := range []struct {
		a, b  string
		equal bool
	}{
		{"Ada@Contoso.com", "ada@contoso.COM", true},
		{"ſam", "SAM", true},            // LATIN SMALL LETTER LONG S folds with s
		{"\u212Aelvin", "kelvin", true}, // KELVIN SIGN folds with k
		{"İstanbul", "istanbul", false}, // not under simple folding
		{"straße", "STRASSE", false},    // not under simple folding
		{"a\xffb", "A\uFFFDB", true},    // invalid UTF-8 reads as U+FFFD
	} {
		if got := scim.FoldCase(tt.a) == scim.FoldCase(tt.b); got != tt.equal || strings.EqualFold(tt.a, tt.b) != tt.equal {
			t.Errorf("FoldCase(%q) == FoldCase(%q) is %v, want %v (EqualFold says %v)", tt.a, tt.b, got, tt.equal, strings.EqualFold(tt.a, tt.b))
		}
	}
	// Every rune's key is EqualFold to it, and its whole orbit shares the key.
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r == 0x10000 {
			r = 0x1E900 // past the planes without case, to the last cased block
		}
		if r > 0x1E95F {
			break
		}
		s := string(r)
		k := scim.FoldCase(s)
		if !strings.EqualFold(k, s) {
			t.Fatalf("FoldCase(%U) = %q, not EqualFold to it", r, k)
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if scim.FoldCase(string(f)) != k {
				t.Fatalf("%U and %U fold together but get keys %q and %q", r, f, k, scim.FoldCase(string(f)))
			}
		}
	}
	if s := "already-lower@example.com"; testing.AllocsPerRun(10, func() { scim.FoldCase(s) }) != 0 {
		t.Error("FoldCase allocates for a lower-case ASCII string")
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := scim.NewID()
		if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) || strings.ToLower(id) != id {
			t.Fatalf("NewID() = %q, not a lower-case UUIDv4", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}
