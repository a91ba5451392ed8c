package scim_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
)

func documentUser() *scim.User {
	created := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)
	return &scim.User{
		ID: "2819c223-7f76-453a-919d-413861904646", ExternalID: "bjensen", UserName: "bjensen@example.com",
		Name:        scim.Name{Formatted: "Ms. Barbara J Jensen III", FamilyName: "Jensen", GivenName: "Barbara"},
		DisplayName: "Babs Jensen", Title: "Tour Guide", Locale: "en-US", Active: true,
		Password:     "t1meMa$heen",
		Emails:       []scim.MultiValue{{Value: "bjensen@example.com", Type: "work", Primary: true}, {Value: "babs@jensen.org", Type: "home"}},
		PhoneNumbers: []scim.MultiValue{{Value: "555-555-8377", Type: "work"}},
		Addresses:    []scim.Address{{Type: "work", StreetAddress: "100 Universal City Plaza", Locality: "Hollywood", Region: "CA", PostalCode: "91608", Country: "USA", Primary: true}},
		Groups:       []scim.GroupRef{{Value: "e9e30dba-f08f-4109-8486-d5c6a331660a", Display: "Tour Guides"}},
		Enterprise:   &scim.EnterpriseUser{EmployeeNumber: "701984", Department: "Tour Operations", Manager: &scim.Manager{Value: "26118915-6090-4610-87e4-49d8ca9f808d"}},
		Extra: map[string]json.RawMessage{
			"urn:ietf:params:scim:schemas:extension:acme:2.0:User": json.RawMessage(`{"costCode":"CC-17","level":7}`),
			"nickname2": json.RawMessage(`"Babs"`),
		},
		Meta: scim.Meta{Created: created, LastModified: created.Add(time.Hour), Version: "3"},
	}
}

func documentGroup() *scim.Group {
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	return &scim.Group{
		ID: "e9e30dba-f08f-4109-8486-d5c6a331660a", ExternalID: "a1b2", DisplayName: "Tour Guides",
		Members: []scim.Member{
			{Value: "2819c223-7f76-453a-919d-413861904646", Display: "Babs Jensen", Type: "User"},
			{Value: "902c246b-6245-4190-8e05-00816be7344a", Ref: "https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a", Type: "User"},
		},
		Extra: map[string]json.RawMessage{"urn:example:acme:2.0:Group": json.RawMessage(`{"region":"EMEA"}`)},
		Meta:  scim.Meta{Created: created, LastModified: created, Version: "1"},
	}
}

// The golden documents: format 1 as it is written. A change here breaks
// every host's stored documents; UnmarshalUserDocument must go on reading
// these bytes in every later version.
const (
	goldenUser  = `{"format":1,"resource":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","urn:ietf:params:scim:schemas:extension:acme:2.0:User"],"id":"2819c223-7f76-453a-919d-413861904646","externalId":"bjensen","userName":"bjensen@example.com","name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara"},"displayName":"Babs Jensen","title":"Tour Guide","locale":"en-US","active":true,"emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],"phoneNumbers":[{"value":"555-555-8377","type":"work"}],"addresses":[{"streetAddress":"100 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"USA","type":"work","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}},"nickname2":"Babs","urn:ietf:params:scim:schemas:extension:acme:2.0:User":{"costCode":"CC-17","level":7},"meta":{"resourceType":"User","created":"2024-05-01T12:00:00.123456789Z","lastModified":"2024-05-01T13:00:00.123456789Z","version":"W/\"3\""}}}`
	goldenGroup = `{"format":1,"resource":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","urn:example:acme:2.0:Group"],"id":"e9e30dba-f08f-4109-8486-d5c6a331660a","externalId":"a1b2","displayName":"Tour Guides","members":[{"value":"2819c223-7f76-453a-919d-413861904646","display":"Babs Jensen","type":"User"},{"value":"902c246b-6245-4190-8e05-00816be7344a","$ref":"https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a","type":"User"}],"urn:example:acme:2.0:Group":{"region":"EMEA"},"meta":{"resourceType":"Group","created":"2024-05-01T12:00:00Z","lastModified":"2024-05-01T12:00:00Z","version":"W/\"1\""}}}`
)

func TestUserDocument(t *testing.T) {
	u := documentUser()
	b, err := scim.MarshalUserDocument(u)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != goldenUser {
		t.Errorf("MarshalUserDocument:\n got %s\nwant %s", b, goldenUser)
	}
	if !json.Valid(b) {
		t.Errorf("not JSON: %s", b)
	}
	got, err := scim.UnmarshalUserDocument([]byte(goldenUser))
	if err != nil {
		t.Fatal(err)
	}
	// Everything comes back but the password and the derived groups.
	want := u.Clone()
	want.Password, want.Groups = "", nil
	if diff := cmp.Diff(want, got, cmp.Transformer("extra", normRaw)); diff != "" {
		t.Errorf("UnmarshalUserDocument (-want +got):\n%s", diff)
	}
	again, err := scim.MarshalUserDocument(got)
	if err != nil || string(again) != goldenUser {
		t.Errorf("a round trip changed the document:\n got %s\nwant %s (%v)", again, goldenUser, err)
	}
}

func TestGroupDocument(t *testing.T) {
	g := documentGroup()
	b, err := scim.MarshalGroupDocument(g)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != goldenGroup {
		t.Errorf("MarshalGroupDocument:\n got %s\nwant %s", b, goldenGroup)
	}
	got, err := scim.UnmarshalGroupDocument([]byte(goldenGroup))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(g, got, cmp.Transformer("extra", normRaw)); diff != "" {
		t.Errorf("UnmarshalGroupDocument (-want +got):\n%s", diff)
	}
}

// TestDocumentRoundTrips: users and groups of every shape come back as
// they went in.
func TestDocumentRoundTrips(t *testing.T) {
	users := []*scim.User{
		{UserName: "bare"},
		{UserName: "inactive", Active: false, ID: "1"},
		{UserName: "ünïcödé \"quoted\" \\ \u2028", DisplayName: "<b>&amp;</b>", Active: true},
		{UserName: "extra-only", Extra: map[string]json.RawMessage{"x": json.RawMessage(`{"deep":[1,{"a":[true,false]}]}`)}},
		documentUser(),
	}
	for _, u := range users {
		b, err := scim.MarshalUserDocument(u)
		if err != nil {
			t.Fatal(err)
		}
		got, err := scim.UnmarshalUserDocument(b)
		if err != nil {
			t.Fatalf("UnmarshalUserDocument(%s): %v", b, err)
		}
		want := u.Clone()
		want.Password, want.Groups = "", nil
		if diff := cmp.Diff(want, got, cmp.Transformer("extra", normRaw)); diff != "" {
			t.Errorf("round trip of %q (-want +got):\n%s", u.UserName, diff)
		}
	}
	groups := []*scim.Group{{DisplayName: "empty"}, {DisplayName: "nested", Members: []scim.Member{{Value: "g1", Type: "Group"}}}, documentGroup()}
	for _, g := range groups {
		b, _ := scim.MarshalGroupDocument(g)
		got, err := scim.UnmarshalGroupDocument(b)
		if err != nil {
			t.Fatalf("UnmarshalGroupDocument(%s): %v", b, err)
		}
		if diff := cmp.Diff(g, got, cmp.Transformer("extra", normRaw)); diff != "" {
			t.Errorf("round trip of %q (-want +got):\n%s", g.DisplayName, diff)
		}
	}
}

func TestDocumentErrors(t *testing.T) {
	if _, err := scim.MarshalUserDocument(nil); err == nil {
		t.Error("MarshalUserDocument(nil): no error")
	}
	if _, err := scim.MarshalGroupDocument(nil); err == nil {
		t.Error("MarshalGroupDocument(nil): no error")
	}
	cases := []struct{ name, doc, want string }{
		{"not JSON", `{`, "not a document"},
		{"json.Marshal of a User", `{"UserName":"x","Active":true}`, `no "format"`},
		{"a bare SCIM resource", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x"}`, `no "format"`},
		{"a later format", `{"format":2,"resource":{"userName":"x"}}`, "document format 2 is newer than this version of the package reads (1)"},
		{"no userName", `{"format":1,"resource":{"id":"1"}}`, "userName"},
		{"a resource that is no object", `{"format":1,"resource":[1]}`, "not a document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scim.UnmarshalUserDocument([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("UnmarshalUserDocument(%s): %v, want an error with %q", tc.doc, err, tc.want)
			}
		})
	}
}

// normRaw re-encodes Extra's raw values, which the codec compacts.
func normRaw(m map[string]json.RawMessage) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		var x any
		_ = json.Unmarshal(v, &x)
		b, _ := json.Marshal(x)
		out[k] = string(b)
	}
	return out
}

// FuzzUserDocument: reading any bytes never panics, and a document that
// reads back encodes to the same bytes again (the encoding is a fixed
// point after one round).
func FuzzUserDocument(f *testing.F) {
	f.Add([]byte(goldenUser))
	f.Add([]byte(`{"format":1,"resource":{"userName":"x","emails":[{"value":"a","primary":"True"}]}}`))
	f.Add([]byte(`{"format":1,"resource":{"userName":"x","meta":{"version":"W/\"\""}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := scim.UnmarshalUserDocument(data)
		if err != nil {
			return
		}
		b, err := scim.MarshalUserDocument(u)
		if err != nil {
			t.Fatal(err)
		}
		u2, err := scim.UnmarshalUserDocument(b)
		if err != nil {
			t.Fatalf("a document we wrote does not read back: %v\n%s", err, b)
		}
		b2, _ := scim.MarshalUserDocument(u2)
		if string(b) != string(b2) {
			t.Fatalf("not a fixed point:\n%s\n%s", b, b2)
		}
	})
}
