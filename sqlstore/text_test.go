package sqlstore

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
)

func TestFold(t *testing.T) {
	tests := []struct {
		a, b string
	}{
		{"BJensen", "bjensen"},
		{"already lower", "already lower"},
		{"ÉCOLE", "école"},
		{"\u212a", "K"}, // Kelvin sign
		{"ſ", "S"},      // long s
		{"ΣΑΣ", "σας"},
		{"ẞ", "ß"},
		{"", ""},
	}
	// ASCII keys read like lower(): the *_fold columns are legible.
	if got := fold("BJensen@Example.COM"); got != "bjensen@example.com" {
		t.Errorf("fold of ASCII = %q, want lower case", got)
	}
	for _, tt := range tests {
		if fold(tt.a) != fold(tt.b) || !strings.EqualFold(tt.a, tt.b) {
			t.Errorf("fold(%q) = %q, fold(%q) = %q", tt.a, fold(tt.a), tt.b, fold(tt.b))
		}
	}
	// Not equal under EqualFold, so not under fold either.
	for _, pair := range [][2]string{{"İ", "i"}, {"ı", "i"}, {"a", "á"}} {
		if fold(pair[0]) == fold(pair[1]) {
			t.Errorf("fold(%q) == fold(%q)", pair[0], pair[1])
		}
	}
}

func TestEscapes(t *testing.T) {
	tests := []struct {
		in, like, glob string
	}{
		{"plain", "plain", "plain"},
		{"100%", `100\%`, "100%"},
		{"a_b", `a\_b`, "a_b"},
		{`a\b`, `a\\b`, `a\b`},
		{"*?[]", "*?[]", "[*][?][[]]"},
		{`%_\*`, `\%\_\\*`, `%_\[*]`},
	}
	for _, tt := range tests {
		if got := likeEscape(tt.in); got != tt.like {
			t.Errorf("likeEscape(%q) = %q, want %q", tt.in, got, tt.like)
		}
		if got := globEscape(tt.in); got != tt.glob {
			t.Errorf("globEscape(%q) = %q, want %q", tt.in, got, tt.glob)
		}
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := scim.NewID()
		if !uuidRE.MatchString(id) {
			t.Fatalf("NewID() = %q, not a UUIDv4", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestRebind(t *testing.T) {
	pg, lite := &DB{dialect: PostgreSQL}, &DB{dialect: SQLite}
	q := "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
	if got, want := pg.rebind(q), "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"; got != want {
		t.Errorf("PostgreSQL: %q, want %q", got, want)
	}
	if got := lite.rebind(q); got != q {
		t.Errorf("SQLite: %q, want it unchanged", got)
	}
}

// TestCodecRoundTrip covers the shapes the database tests do not: the zero
// user, present-but-empty extensions and a null Extra value.
func TestCodecRoundTrip(t *testing.T) {
	users := map[string]*scim.User{
		"zero":              {},
		"empty enterprise":  {Enterprise: &scim.EnterpriseUser{}},
		"empty manager":     {Enterprise: &scim.EnterpriseUser{Manager: &scim.Manager{}}},
		"empty slices":      {Emails: []scim.MultiValue{}, Addresses: []scim.Address{}, Extra: map[string]json.RawMessage{}},
		"full":              fullUser("codec"),
		"extra with escape": {Extra: map[string]json.RawMessage{"k\"<>": json.RawMessage(`"\u2028 <x>"`)}},
	}
	for name, u := range users {
		t.Run(name, func(t *testing.T) {
			u = u.Clone()
			u.Password = "" // never stored
			b, err := encodeUser(u)
			if err != nil {
				t.Fatal(err)
			}
			// The columns hold the rest.
			got := scim.User{ID: u.ID, UserName: u.UserName, ExternalID: u.ExternalID, Active: u.Active, Meta: u.Meta}
			if err := decodeUser(b, &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(u, &got); d != "" {
				t.Errorf("round trip through %s (-want +got):\n%s", b, d)
			}
		})
	}
	g := &scim.Group{Extra: map[string]json.RawMessage{"a": json.RawMessage(" [1, 2] ")}}
	b, err := encodeGroup(g)
	if err != nil {
		t.Fatal(err)
	}
	var got scim.Group
	if err := decodeGroup(b, &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(g, &got); d != "" {
		t.Errorf("group round trip (-want +got):\n%s", d)
	}
	if err := decodeUser([]byte("{not json"), &scim.User{}); err == nil {
		t.Error("decodeUser accepted a broken document")
	}
}

func TestDiffMembers(t *testing.T) {
	m := func(vs ...string) []scim.Member {
		out := []scim.Member{}
		for _, v := range vs {
			out = append(out, scim.Member{Value: v})
		}
		return out
	}
	tests := []struct {
		name     string
		old, new []scim.Member
		ok       bool
		want     memberDiff
	}{
		{"unknown old", nil, m("a"), false, memberDiff{}},
		{"append", m("a", "b"), m("a", "b", "c"), true, memberDiff{added: m("c")}},
		{"remove middle", m("a", "b", "c"), m("a", "c"), true, memberDiff{removed: []any{"b"}}},
		{"remove and append", m("a", "b"), m("b", "x", "y"), true, memberDiff{removed: []any{"a"}, added: m("x", "y")}},
		{"from empty", m(), m("a"), true, memberDiff{added: m("a")}},
		{"to empty", m("a"), m(), true, memberDiff{removed: []any{"a"}}},
		{"changed display", m("a"), []scim.Member{{Value: "a", Display: "A"}}, true,
			memberDiff{changed: []scim.Member{{Value: "a", Display: "A"}}}},
		{"reordered", m("a", "b"), m("b", "a"), false, memberDiff{}},
		{"inserted before a kept one", m("a", "b"), m("a", "x", "b"), false, memberDiff{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := diffMembers(tt.old, tt.new)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(memberDiff{})); ok && d != "" {
				t.Errorf("diff (-want +got):\n%s", d)
			}
		})
	}
}

// TestSQLiteDSN opens a file whose name needs escaping in a URI and checks
// that the driver created exactly that file and applied the pragmas.
func TestSQLiteDSN(t *testing.T) {
	name := filepath.Join(t.TempDir(), "a b?c#d%.db")
	db, err := sql.Open("sqlite", SQLiteDSN(name))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var timeout int
	if err := db.QueryRowContext(t.Context(), "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != 10000 {
		t.Errorf("busy_timeout %d, want 10000", timeout)
	}
	if _, err := os.Stat(name); err != nil {
		t.Errorf("the database is not at %q: %v", name, err)
	}
}
