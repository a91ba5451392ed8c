package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Request bodies from the RFCs and from docs/clients.md, shared with the fuzz
// targets as seeds.
const (
	// rfcFullUser is RFC 7643 §8.2 with the Enterprise extension of §8.3
	// (the certificate value shortened).
	rfcFullUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "externalId": "701984",
  "userName": "bjensen@example.com",
  "name": {
    "formatted": "Ms. Barbara J Jensen, III",
    "familyName": "Jensen",
    "givenName": "Barbara",
    "middleName": "Jane",
    "honorificPrefix": "Ms.",
    "honorificSuffix": "III"
  },
  "displayName": "Babs Jensen",
  "nickName": "Babs",
  "profileUrl": "https://login.example.com/bjensen",
  "emails": [
    {
      "value": "bjensen@example.com",
      "type": "work",
      "primary": true
    },
    {
      "value": "babs@jensen.org",
      "type": "home"
    }
  ],
  "addresses": [
    {
      "type": "work",
      "streetAddress": "100 Universal City Plaza",
      "locality": "Hollywood",
      "region": "CA",
      "postalCode": "91608",
      "country": "USA",
      "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
      "primary": true
    },
    {
      "type": "home",
      "streetAddress": "456 Hollywood Blvd",
      "locality": "Hollywood",
      "region": "CA",
      "postalCode": "91608",
      "country": "USA",
      "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA"
    }
  ],
  "phoneNumbers": [
    {
      "value": "555-555-5555",
      "type": "work"
    },
    {
      "value": "555-555-4444",
      "type": "mobile"
    }
  ],
  "ims": [
    {
      "value": "someaimhandle",
      "type": "aim"
    }
  ],
  "photos": [
    {
      "value":
        "https://photos.example.com/profilephoto/72930000000Ccne/F",
      "type": "photo"
    },
    {
      "value":
        "https://photos.example.com/profilephoto/72930000000Ccne/T",
      "type": "thumbnail"
    }
  ],
  "userType": "Employee",
  "title": "Tour Guide",
  "preferredLanguage": "en-US",
  "locale": "en-US",
  "timezone": "America/Los_Angeles",
  "active":true,
  "password": "t1meMa$heen",
  "groups": [
    {
      "value": "e9e30dba-f08f-4109-8486-d5c6a331660a",
      "$ref":
"https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a",
      "display": "Tour Guides"
    },
    {
      "value": "fc348aa8-3835-40eb-a20b-c726e15c55b5",
      "$ref":
"https://example.com/v2/Groups/fc348aa8-3835-40eb-a20b-c726e15c55b5",
      "display": "Employees"
    }
  ],
  "x509Certificates": [
    {
      "value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"
    }
  ],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984",
    "costCenter": "4130",
    "organization": "Universal Studios",
    "division": "Theme Park",
    "department": "Tour Operations",
    "manager": {
      "value": "26118915-6090-4610-87e4-49d8ca9f808d",
      "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
      "displayName": "John Smith"
    }
  },
  "meta": {
    "resourceType": "User",
    "created": "2010-01-23T04:56:22Z",
    "lastModified": "2011-05-13T04:42:34Z",
    "version": "W\/\"3694e05e9dff591\"",
    "location":
"https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
  }
}`

	// rfcMinimalUser is RFC 7643 §8.1.
	rfcMinimalUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "userName": "bjensen@example.com",
  "meta": {
    "resourceType": "User",
    "created": "2010-01-23T04:56:22Z",
    "lastModified": "2011-05-13T04:42:34Z",
    "version": "W\/\"3694e05e9dff590\"",
    "location":
     "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
  }
}`

	// rfcGroup is RFC 7643 §8.4.
	rfcGroup = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
  "displayName": "Tour Guides",
  "members": [
    {
      "value": "2819c223-7f76-453a-919d-413861904646",
      "$ref":
"https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
      "display": "Babs Jensen"
    },
    {
      "value": "902c246b-6245-4190-8e05-00816be7344a",
      "$ref":
"https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a",
      "display": "Mandy Pepperidge"
    }
  ],
  "meta": {
    "resourceType": "Group",
    "created": "2010-01-23T04:56:22Z",
    "lastModified": "2011-05-13T04:42:34Z",
    "version": "W\/\"3694e05e9dff592\"",
    "location":
"https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a"
  }
}`

	// entraLegacyUser is the older tutorial's POST
	// (docs/clients.md#create-bodies-and-responses, azure-docs 2019 tutorial):
	// explicit nulls and the misspelled extension URN "...:2.0User".
	entraLegacyUser = `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
    "active": true,
    "addresses": null,
    "displayName": "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081",
    "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
    "meta": {"resourceType": "User"},
    "name": {"familyName": "familyName", "givenName": "givenName"},
    "phoneNumbers": null,
    "preferredLanguage": null,
    "title": null,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": null, "manager": null}
}`

	// entraMappedUser carries every attribute of Entra ID's default
	// mapping (docs/clients.md#attribute-mappings), "active" as the string its Switch
	// expression yields, and the manager as a bare id.
	entraMappedUser = `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": "jyoung",
    "userName": "jyoung@contoso.com",
    "active": "True",
    "displayName": "Jane Young",
    "title": "Engineer",
    "emails": [{"primary": true, "type": "work", "value": "jyoung@contoso.com"}, {"type": "other", "value": "smtp:jane@contoso.com"}],
    "name": {"formatted": "Jane Young", "familyName": "Young", "givenName": "Jane"},
    "phoneNumbers": [{"type": "work", "value": "+1 425 555 0100"}, {"type": "mobile", "value": "+1 425 555 0101"}, {"type": "fax", "value": "+1 425 555 0102"}],
    "addresses": [{"type": "work", "streetAddress": "1 Microsoft Way", "locality": "Redmond", "region": "WA", "postalCode": "98052", "country": "US", "primary": true}, {"type": "other", "formatted": "Building 4"}],
    "roles": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "{\"id\":\"7f4b\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}],
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1042", "department": "Tech Infrastructure", "manager": "271"},
    "meta": {"resourceType": "User"}
}`

	// entraCreateGroup is Entra ID's group POST (docs/clients.md#groups).
	entraCreateGroup = `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
    "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    "displayName": "displayName",
    "meta": {"resourceType": "Group"}
}`

	// oktaCreateUser is Okta's POST (docs/clients.md#okta): password,
	// an empty groups array, locale.
	oktaCreateUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "userName": "test.user@okta.local",
  "name": {"givenName": "Test", "familyName": "User"},
  "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
  "displayName": "Test User",
  "locale": "en-US",
  "externalId": "00ujl29u0le5T6Aj10h7",
  "groups": [],
  "password": "1mz050nq",
  "active": true
}`

	// oktaReplaceUser is Okta's PUT: the full object read back, with id,
	// meta and groups (docs/clients.md#okta).
	oktaReplaceUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
  "userName": "test.user@okta.local",
  "name": {"givenName": "Another", "familyName": "User"},
  "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
  "displayName": "Another User",
  "locale": "en-US",
  "externalId": "00ujl29u0le5T6Aj10h7",
  "groups": [{"value": "g1", "display": "Everyone"}],
  "password": "1mz050nq",
  "active": true,
  "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-01T00:00:00Z"}
}`

	// oktaCreateGroup is Okta's Push Groups POST (docs/clients.md#okta).
	oktaCreateGroup = `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []}`

	// oktaReplaceGroup is a PUT /Groups carrying members with display
	// (docs/clients.md#okta, ory/polis#3136) and Entra's "$ref": null
	// (docs/clients.md#patch-bodies).
	oktaReplaceGroup = `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "abf4dd94", "displayName": "Test SCIMv2",
  "members": [{"value": "b1c794f24f4c49f4b5d503a4cb2686ea", "display": "SCIM 2 Group A"}, {"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}`
)

// wantRFCFullUser is rfcFullUser decoded: id, meta, groups and
// manager.displayName ignored, password kept.
func wantRFCFullUser() *User {
	return &User{
		ExternalID: "701984",
		UserName:   "bjensen@example.com",
		Name: Name{
			Formatted:       "Ms. Barbara J Jensen, III",
			FamilyName:      "Jensen",
			GivenName:       "Barbara",
			MiddleName:      "Jane",
			HonorificPrefix: "Ms.",
			HonorificSuffix: "III",
		},
		DisplayName:       "Babs Jensen",
		NickName:          "Babs",
		ProfileURL:        "https://login.example.com/bjensen",
		Title:             "Tour Guide",
		UserType:          "Employee",
		PreferredLanguage: "en-US",
		Locale:            "en-US",
		Timezone:          "America/Los_Angeles",
		Active:            true,
		Password:          "t1meMa$heen",
		Emails: []MultiValue{
			{Value: "bjensen@example.com", Type: "work", Primary: true},
			{Value: "babs@jensen.org", Type: "home"},
		},
		PhoneNumbers: []MultiValue{
			{Value: "555-555-5555", Type: "work"},
			{Value: "555-555-4444", Type: "mobile"},
		},
		IMs: []MultiValue{{Value: "someaimhandle", Type: "aim"}},
		Photos: []MultiValue{
			{Value: "https://photos.example.com/profilephoto/72930000000Ccne/F", Type: "photo"},
			{Value: "https://photos.example.com/profilephoto/72930000000Ccne/T", Type: "thumbnail"},
		},
		Addresses: []Address{
			{
				Formatted:     "100 Universal City Plaza\nHollywood, CA 91608 USA",
				StreetAddress: "100 Universal City Plaza",
				Locality:      "Hollywood",
				Region:        "CA",
				PostalCode:    "91608",
				Country:       "USA",
				Type:          "work",
				Primary:       true,
			},
			{
				Formatted:     "456 Hollywood Blvd\nHollywood, CA 91608 USA",
				StreetAddress: "456 Hollywood Blvd",
				Locality:      "Hollywood",
				Region:        "CA",
				PostalCode:    "91608",
				Country:       "USA",
				Type:          "home",
			},
		},
		X509Certificates: []MultiValue{{Value: "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}},
		Enterprise: &EnterpriseUser{
			EmployeeNumber: "701984",
			CostCenter:     "4130",
			Organization:   "Universal Studios",
			Division:       "Theme Park",
			Department:     "Tour Operations",
			Manager: &Manager{
				Value: "26118915-6090-4610-87e4-49d8ca9f808d",
				Ref:   "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
			},
		},
	}
}

// lenient and strict are the two modes of the handler.
var (
	lenient = decodeOptions{}
	strict  = decodeOptions{strict: true}
)

// checkOutput fails t unless out is one valid JSON object without null,
// and, when noEmpty, without "", [] or {} anywhere except a group's
// "members": [].
func checkOutput(t testing.TB, out []byte, noEmpty bool) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("output is not valid JSON: %s", out)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding output: %v", err)
	}
	if _, ok := v.(map[string]any); !ok {
		t.Fatalf("output is not an object: %s", out)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case nil:
			t.Errorf("output has null at %s: %s", path, out)
		case string:
			if noEmpty && v == "" {
				t.Errorf("output has an empty string at %s: %s", path, out)
			}
		case []any:
			if noEmpty && len(v) == 0 && path != ".members" {
				t.Errorf("output has an empty array at %s: %s", path, out)
			}
			for _, e := range v {
				walk(path+"[]", e)
			}
		case map[string]any:
			if noEmpty && len(v) == 0 {
				t.Errorf("output has an empty object at %s: %s", path, out)
			}
			for k, e := range v {
				walk(path+"."+k, e)
			}
		}
	}
	walk("", v)
}

// scimError returns err as a *Error, failing t when it is not a 400 one.
func scimError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *Error", err, err)
	}
	if e.Status != 400 {
		t.Errorf("status = %d, want 400", e.Status)
	}
	return e
}

func TestDecodeUserRFCExamples(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *User
	}{
		{"RFC 7643 §8.2 full user with §8.3 enterprise extension", rfcFullUser, wantRFCFullUser()},
		{"RFC 7643 §8.1 minimal user", rfcMinimalUser, &User{UserName: "bjensen@example.com", Active: true}},
		{
			"Entra tutorial POST",
			entraCreateUser,
			&User{
				ExternalID: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
				UserName:   "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
				Active:     true,
				Emails:     []MultiValue{{Value: "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com", Type: "work", Primary: true}},
				Name:       Name{Formatted: "givenName familyName", FamilyName: "familyName", GivenName: "givenName"},
			},
		},
		{
			"Entra legacy POST with nulls and a misspelled schema URN",
			entraLegacyUser,
			&User{
				ExternalID:  "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
				UserName:    "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
				Active:      true,
				DisplayName: "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081",
				Emails:      []MultiValue{{Value: "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com", Type: "work", Primary: true}},
				Name:        Name{FamilyName: "familyName", GivenName: "givenName"},
			},
		},
		{
			"Entra default mapping with string booleans and a bare manager id",
			entraMappedUser,
			&User{
				ExternalID:  "jyoung",
				UserName:    "jyoung@contoso.com",
				Active:      true,
				DisplayName: "Jane Young",
				Title:       "Engineer",
				Emails: []MultiValue{
					{Value: "jyoung@contoso.com", Type: "work", Primary: true},
					{Value: "smtp:jane@contoso.com", Type: "other"},
				},
				Name: Name{Formatted: "Jane Young", FamilyName: "Young", GivenName: "Jane"},
				PhoneNumbers: []MultiValue{
					{Value: "+1 425 555 0100", Type: "work"},
					{Value: "+1 425 555 0101", Type: "mobile"},
					{Value: "+1 425 555 0102", Type: "fax"},
				},
				Addresses: []Address{
					{StreetAddress: "1 Microsoft Way", Locality: "Redmond", Region: "WA", PostalCode: "98052", Country: "US", Type: "work", Primary: true},
					{Formatted: "Building 4", Type: "other"},
				},
				Roles: []MultiValue{{Value: `{"id":"7f4b","value":"Admin","displayName":"Admin"}`, Type: "WindowsAzureActiveDirectoryRole", Primary: true}},
				Enterprise: &EnterpriseUser{
					EmployeeNumber: "1042",
					Department:     "Tech Infrastructure",
					Manager:        &Manager{Value: "271"},
				},
			},
		},
		{
			"Okta POST keeps the password and ignores groups",
			oktaCreateUser,
			&User{
				ExternalID:  "00ujl29u0le5T6Aj10h7",
				UserName:    "test.user@okta.local",
				Name:        Name{GivenName: "Test", FamilyName: "User"},
				Emails:      []MultiValue{{Value: "test.user@okta.local", Type: "work", Primary: true}},
				DisplayName: "Test User",
				Locale:      "en-US",
				Password:    "1mz050nq",
				Active:      true,
			},
		},
		{
			"Okta PUT ignores id, meta and groups",
			oktaReplaceUser,
			&User{
				ExternalID:  "00ujl29u0le5T6Aj10h7",
				UserName:    "test.user@okta.local",
				Name:        Name{GivenName: "Another", FamilyName: "User"},
				Emails:      []MultiValue{{Value: "test.user@okta.local", Type: "work", Primary: true}},
				DisplayName: "Another User",
				Locale:      "en-US",
				Password:    "1mz050nq",
				Active:      true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeUser([]byte(tt.body), lenient)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decodeUser (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeUserAttributes(t *testing.T) {
	tests := []struct {
		name string
		body string // members of the object besides "userName": "u"
		want User   // UserName and Active are filled in
	}{
		{"externalId", `"externalId": "e1"`, User{ExternalID: "e1"}},
		{"name, every sub-attribute", `"name": {"formatted": "F", "familyName": "Fa", "givenName": "G", "middleName": "M", "honorificPrefix": "P", "honorificSuffix": "S"}`,
			User{Name: Name{Formatted: "F", FamilyName: "Fa", GivenName: "G", MiddleName: "M", HonorificPrefix: "P", HonorificSuffix: "S"}}},
		{"displayName", `"displayName": "D"`, User{DisplayName: "D"}},
		{"nickName", `"nickName": "N"`, User{NickName: "N"}},
		{"profileUrl", `"profileUrl": "https://x/p"`, User{ProfileURL: "https://x/p"}},
		{"title", `"title": "T"`, User{Title: "T"}},
		{"userType", `"userType": "Employee"`, User{UserType: "Employee"}},
		{"preferredLanguage", `"preferredLanguage": "da, en-gb;q=0.8"`, User{PreferredLanguage: "da, en-gb;q=0.8"}},
		{"locale", `"locale": "en-US"`, User{Locale: "en-US"}},
		{"timezone", `"timezone": "Europe/Paris"`, User{Timezone: "Europe/Paris"}},
		{"active false", `"active": false`, User{}},
		{"password", `"password": "p"`, User{Password: "p"}},
		{"emails, every sub-attribute", `"emails": [{"value": "a@x", "display": "A", "type": "work", "primary": true}, {"value": "b@x"}]`,
			User{Emails: []MultiValue{{Value: "a@x", Display: "A", Type: "work", Primary: true}, {Value: "b@x"}}}},
		{"phoneNumbers", `"phoneNumbers": [{"value": "55555555555", "type": "work"}]`, User{PhoneNumbers: []MultiValue{{Value: "55555555555", Type: "work"}}}},
		{"ims", `"ims": [{"value": "h", "type": "xmpp", "primary": false}]`, User{IMs: []MultiValue{{Value: "h", Type: "xmpp", NotPrimary: true}}}},
		{"photos", `"photos": [{"value": "https://x/p.jpg", "type": "photo", "display": "me"}]`, User{Photos: []MultiValue{{Value: "https://x/p.jpg", Type: "photo", Display: "me"}}}},
		{"addresses, every sub-attribute", `"addresses": [{"formatted": "F", "streetAddress": "S", "locality": "L", "region": "R", "postalCode": "P", "country": "C", "type": "work", "primary": true}]`,
			User{Addresses: []Address{{Formatted: "F", StreetAddress: "S", Locality: "L", Region: "R", PostalCode: "P", Country: "C", Type: "work", Primary: true}}}},
		{"entitlements", `"entitlements": [{"value": "e", "display": "E", "type": "License", "primary": true}]`,
			User{Entitlements: []MultiValue{{Value: "e", Display: "E", Type: "License", Primary: true}}}},
		{"roles", `"roles": [{"value": "r"}, {"value": "s", "primary": true}]`, User{Roles: []MultiValue{{Value: "r"}, {Value: "s", Primary: true}}}},
		{"x509Certificates", `"x509Certificates": [{"value": "MIIB"}]`, User{X509Certificates: []MultiValue{{Value: "MIIB"}}}},
		{"enterprise object, every attribute", `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1", "costCenter": "2", "organization": "3", "division": "4", "department": "5", "manager": {"value": "m", "$ref": "../Users/m", "displayName": "ignored"}}`,
			User{Enterprise: &EnterpriseUser{EmployeeNumber: "1", CostCenter: "2", Organization: "3", Division: "4", Department: "5", Manager: &Manager{Value: "m", Ref: "../Users/m"}}}},
		{"enterprise attributes URN-qualified at the top level", `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "x", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": {"value": "m"}`,
			User{Enterprise: &EnterpriseUser{Department: "x", Manager: &Manager{Value: "m"}}}},
		{"enterprise attribute unqualified", `"costCenter": "9"`, User{Enterprise: &EnterpriseUser{CostCenter: "9"}}},
		{"qualified key and object merge", `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division": "d", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"organization": "o"}`,
			User{Enterprise: &EnterpriseUser{Division: "d", Organization: "o"}}},
		{"core attribute URN-qualified", `"urn:ietf:params:scim:schemas:core:2.0:User:displayName": "D"`, User{DisplayName: "D"}},
		{"empty enterprise object is no extension", `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {}`, User{}},
		{"unknown sub-attributes are dropped", `"name": {"givenName": "G", "nick": "x"}, "emails": [{"value": "a", "$ref": "x", "extra": {"deep": [1]}}]`,
			User{Name: Name{GivenName: "G"}, Emails: []MultiValue{{Value: "a"}}}},
		{"read-only attributes are ignored", `"id": "x", "meta": {"version": 3}, "schemas": "whatever", "groups": [{"value": "g"}], "urn:ietf:params:scim:schemas:core:2.0:User:id": 7`, User{}},
		{"values with every sub-attribute absent are dropped", `"emails": [{}, null, {"value": null}, {"primary": false}], "addresses": [{}]`, User{}},
		{"escapes are decoded", `"displayName": "\"Babs\" \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 \u2028"`, User{DisplayName: "\"Babs\" \\ / \b\f\n\r\t é 😀 \u2028"}},
		{"unpaired surrogates and invalid UTF-8 become U+FFFD", "\"title\": \"\\ud800 \\udc00 \xff\"", User{Title: "\uFFFD \uFFFD \uFFFD"}},
		{"last duplicate wins", `"title": "a", "title": "b", "TITLE": "c"`, User{Title: "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeUser([]byte(`{"userName": "u", `+tt.body+`}`), lenient)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.UserName = "u"
			want.Active = tt.name != "active false"
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("decodeUser (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeCaseInsensitiveKeys(t *testing.T) {
	body := `{"USERNAME": "u", "Name": {"GIVENNAME": "G", "familyname": "F"}, "EMAILS": [{"Value": "a@x", "TYPE": "work", "Primary": true}],
		"Active": false, "ADDRESSES": [{"StreetAddress": "S", "POSTALCODE": "P"}], "x509certificates": [{"VALUE": "c"}],
		"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"EmployeeNumber": "7", "MANAGER": {"VALUE": "m", "$REF": "r"}},
		"Urn:Ietf:Params:Scim:Schemas:Core:2.0:User:NickName": "n"}`
	want := &User{
		UserName:         "u",
		Name:             Name{GivenName: "G", FamilyName: "F"},
		Emails:           []MultiValue{{Value: "a@x", Type: "work", Primary: true}},
		Addresses:        []Address{{StreetAddress: "S", PostalCode: "P"}},
		X509Certificates: []MultiValue{{Value: "c"}},
		NickName:         "n",
		Enterprise:       &EnterpriseUser{EmployeeNumber: "7", Manager: &Manager{Value: "m", Ref: "r"}},
	}
	got, err := decodeUser([]byte(body), lenient)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decodeUser (-want +got):\n%s", diff)
	}

	g, err := decodeGroup([]byte(`{"DISPLAYNAME": "G", "Members": [{"VALUE": "u1", "Display": "U", "TYPE": "User", "$Ref": "r"}], "ExternalID": "e"}`), lenient)
	if err != nil {
		t.Fatal(err)
	}
	wantG := &Group{DisplayName: "G", ExternalID: "e", Members: []Member{{Value: "u1", Display: "U", Type: "User", Ref: "r"}}}
	if diff := cmp.Diff(wantG, g); diff != "" {
		t.Errorf("decodeGroup (-want +got):\n%s", diff)
	}
}

func TestDecodeNullIsAbsent(t *testing.T) {
	body := `{"userName": "u", "externalId": null, "name": null, "active": null, "emails": null, "addresses": null, "password": null,
		"phoneNumbers": [null], "roles": [{"value": null, "type": null, "primary": null}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": null,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": null, "department": null, "custom": null,
		"name": {"givenName": null, "familyName": "F"}}`
	got, err := decodeUser([]byte(body), strict)
	if err != nil {
		t.Fatal(err)
	}
	want := &User{UserName: "u", Active: true, Name: Name{FamilyName: "F"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decodeUser (-want +got):\n%s", diff)
	}

	g, err := decodeGroup([]byte(`{"displayName": "G", "externalId": null, "members": [null, {"value": "u1", "$ref": null}]}`), strict)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Group{DisplayName: "G", Members: []Member{{Value: "u1"}}}, g); diff != "" {
		t.Errorf("decodeGroup (-want +got):\n%s", diff)
	}
}

func TestDecodeExtra(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]json.RawMessage
	}{
		{
			"custom extension object kept byte for byte",
			`{"userName": "u", "urn:ietf:params:scim:schemas:extension:Acme:2.0:User": {"costCode" : "C1",  "level": 3.50e1, "tags": ["a", {"b": true}]}}`,
			map[string]json.RawMessage{"urn:ietf:params:scim:schemas:extension:Acme:2.0:User": json.RawMessage(`{"costCode" : "C1",  "level": 3.50e1, "tags": ["a", {"b": true}]}`)},
		},
		{
			"URN-qualified custom attribute kept in its extension's object",
			`{"userName": "u", "urn:ietf:params:scim:schemas:extension:Acme:2.0:User:costCode": "C1"}`,
			map[string]json.RawMessage{"urn:ietf:params:scim:schemas:extension:Acme:2.0:User": json.RawMessage(`{"costCode":"C1"}`)},
		},
		{
			"unknown plain attributes of every type",
			`{"userName": "u", "seat": 12, "vip": false, "Badge": "\u0041b", "list": [1, 2]}`,
			map[string]json.RawMessage{"seat": json.RawMessage(`12`), "vip": json.RawMessage(`false`), "Badge": json.RawMessage(`"\u0041b"`), "list": json.RawMessage(`[1, 2]`)},
		},
		{
			"unassigned values are not kept",
			`{"userName": "u", "a": null, "b": "", "c": [], "d": {}, "e": [ ], "f": [null], "g": {"x": null}}`,
			nil,
		},
		{
			"nulls inside are removed",
			`{"userName": "u", "a": {"x": null, "y": [1, null, {"z": null, "w": 2}]}}`,
			map[string]json.RawMessage{"a": json.RawMessage(`{"y":[1,{"w":2}]}`)},
		},
		{
			"keys differing in case: the last wins",
			`{"userName": "u", "seat": 1, "SEAT": 2, "Seat": 3}`,
			map[string]json.RawMessage{"Seat": json.RawMessage(`3`)},
		},
		{
			"a later null removes",
			`{"userName": "u", "seat": 1, "Seat": null}`,
			nil,
		},
		{
			"unknown enterprise attribute qualified at the top level",
			`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge": "b"}`,
			map[string]json.RawMessage{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge": json.RawMessage(`"b"`)},
		},
		{
			"escaped key decoded",
			`{"userName": "u", "caf\u00e9": 1}`,
			map[string]json.RawMessage{"café": json.RawMessage(`1`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := decodeUser([]byte(tt.body), lenient)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, u.Extra); diff != "" {
				t.Errorf("Extra (-want +got):\n%s", diff)
			}
			// The kept bytes come back unchanged.
			out := appendUser(nil, u, Projection{}, "")
			checkOutput(t, out, false)
			for k, v := range tt.want {
				key := appendJSONString(nil, k)
				if !bytes.Contains(out, append(append(key, ':'), v...)) {
					t.Errorf("output lacks %s:%s: %s", key, v, out)
				}
			}
			u2, err := decodeUser(out, lenient)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(u.Extra, u2.Extra); diff != "" {
				t.Errorf("Extra after a round trip (-first +second):\n%s", diff)
			}
		})
	}

	g, err := decodeGroup([]byte(`{"displayName": "G", "urn:ietf:params:scim:schemas:extension:Acme:2.0:Group": {"k": 1}}`), lenient)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]json.RawMessage{"urn:ietf:params:scim:schemas:extension:Acme:2.0:Group": json.RawMessage(`{"k": 1}`)}, g.Extra); diff != "" {
		t.Errorf("group Extra (-want +got):\n%s", diff)
	}
}

func TestDecodeStringBooleans(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		want       func(*User) bool
		strictFail string // detail in strict mode
	}{
		{"active False", `"active": "False"`, func(u *User) bool { return !u.Active },
			`attribute "active": expected a boolean, found a string (strict mode does not accept "True" or "False" strings)`},
		{"active TRUE", `"active": "TRUE"`, func(u *User) bool { return u.Active },
			`attribute "active": expected a boolean, found a string (strict mode does not accept "True" or "False" strings)`},
		{"active false lower case", `"active": "false"`, func(u *User) bool { return !u.Active },
			`attribute "active": expected a boolean, found a string (strict mode does not accept "True" or "False" strings)`},
		{"emails primary True", `"emails": [{"value": "a", "primary": "True"}]`, func(u *User) bool { return u.Emails[0].Primary },
			`attribute "emails.primary": expected a boolean, found a string (strict mode does not accept "True" or "False" strings)`},
		{"addresses primary False", `"addresses": [{"region": "a", "primary": "False"}]`, func(u *User) bool { return !u.Addresses[0].Primary },
			`attribute "addresses.primary": expected a boolean, found a string (strict mode does not accept "True" or "False" strings)`},
		{"roles primary tRuE", `"roles": [{"value": "r", "primary": "tRuE"}]`, func(u *User) bool { return u.Roles[0].Primary },
			`attribute "roles.primary": expected a boolean, found a string (strict mode does not accept "True" or "False" strings)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(`{"userName": "u", ` + tt.body + `}`)
			u, err := decodeUser(body, lenient)
			if err != nil {
				t.Fatalf("lenient: %v", err)
			}
			if !tt.want(u) {
				t.Errorf("lenient: wrong value: %+v", u)
			}
			_, err = decodeUser(body, strict)
			e := scimError(t, err)
			if e.Type != InvalidValue || e.Detail != tt.strictFail {
				t.Errorf("strict: got %s %q, want invalidValue %q", e.Type, e.Detail, tt.strictFail)
			}
		})
	}
}

func TestDecodeManagerShapes(t *testing.T) {
	const ext = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	tests := []struct {
		name       string
		manager    string
		want       *Manager
		strictFail string // "" when strict mode accepts it too
	}{
		{"complex form", `{"value": "271", "$ref": "https://x/Users/271"}`, &Manager{Value: "271", Ref: "https://x/Users/271"}, ""},
		{"value only", `{"value": "271"}`, &Manager{Value: "271"}, ""},
		{"displayName ignored", `{"value": "271", "displayName": "Boss"}`, &Manager{Value: "271"}, ""},
		{"empty object", `{}`, nil, ""},
		{"empty value", `{"value": ""}`, nil, ""},
		{"null", `null`, nil, ""},
		{"bare id", `"271"`, &Manager{Value: "271"},
			`attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": expected an object, found a string (strict mode does not accept a bare manager id)`},
		{"empty string", `""`, nil,
			`attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": expected an object, found a string (strict mode does not accept a bare manager id)`},
		{"array", `[{"$ref": "http://x/scim/Users/271", "value": "271"}]`, &Manager{Value: "271", Ref: "http://x/scim/Users/271"},
			`attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": expected an object, found an array (strict mode does not accept a manager array)`},
		{"array, first element wins", `[null, {"value": "1"}, {"value": "2"}]`, &Manager{Value: "1"},
			`attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": expected an object, found an array (strict mode does not accept a manager array)`},
		{"empty array", `[]`, nil,
			`attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": expected an object, found an array (strict mode does not accept a manager array)`},
	}
	for _, tt := range tests {
		for _, form := range []string{"object", "qualified", "unqualified"} {
			t.Run(tt.name+"/"+form, func(t *testing.T) {
				var body string
				switch form {
				case "object":
					body = `{"userName": "u", ` + ext + `: {"department": "d", "manager": ` + tt.manager + `}}`
				case "qualified":
					body = `{"userName": "u", "department": "d", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": ` + tt.manager + `}`
				default:
					body = `{"userName": "u", "department": "d", "Manager": ` + tt.manager + `}`
				}
				u, err := decodeUser([]byte(body), lenient)
				if err != nil {
					t.Fatalf("lenient: %v", err)
				}
				if diff := cmp.Diff(&EnterpriseUser{Department: "d", Manager: tt.want}, u.Enterprise); diff != "" {
					t.Errorf("lenient (-want +got):\n%s", diff)
				}
				u, err = decodeUser([]byte(body), strict)
				if tt.strictFail == "" {
					if err != nil {
						t.Fatalf("strict: %v", err)
					}
					if diff := cmp.Diff(&EnterpriseUser{Department: "d", Manager: tt.want}, u.Enterprise); diff != "" {
						t.Errorf("strict (-want +got):\n%s", diff)
					}
					return
				}
				e := scimError(t, err)
				if e.Type != InvalidValue || e.Detail != tt.strictFail {
					t.Errorf("strict: got %s %q, want invalidValue %q", e.Type, e.Detail, tt.strictFail)
				}
			})
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	const mgr = `attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`
	tests := []struct {
		name   string
		body   string
		opt    decodeOptions
		group  bool
		typ    ErrorType
		detail string
	}{
		{"empty body", ``, lenient, false, InvalidSyntax, "the request body is empty; expected a JSON object"},
		{"blank body", " \n\t", lenient, false, InvalidSyntax, "the request body is empty; expected a JSON object"},
		{"array body", `[{"userName": "u"}]`, lenient, false, InvalidSyntax, "the request body must be a JSON object, found an array"},
		{"string body", `"u"`, lenient, false, InvalidSyntax, "the request body must be a JSON object, found a string"},
		{"null body", `null`, lenient, true, InvalidSyntax, "the request body must be a JSON object, found null"},
		{"truncated", `{"userName":"a"`, lenient, false, InvalidSyntax, "the request body is not valid JSON: unexpected end of input at offset 15"},
		{"trailing comma", `{"userName":"a",}`, lenient, false, InvalidSyntax, "the request body is not valid JSON: unexpected character '}' at offset 16"},
		{"single quotes", `{'userName':'a'}`, lenient, false, InvalidSyntax, "the request body is not valid JSON: unexpected byte 0x27 at offset 1"},
		{"missing colon", `{"userName" "a"}`, lenient, false, InvalidSyntax, `the request body is not valid JSON: unexpected character '"' at offset 12`},
		{"missing comma", `{"userName":"a" "title":"t"}`, lenient, false, InvalidSyntax, `the request body is not valid JSON: unexpected character '"' at offset 16`},
		{"control character", "{\"userName\":\"a\x01\"}", lenient, false, InvalidSyntax, "the request body is not valid JSON: control character in a string at offset 14"},
		{"bad escape", `{"userName":"\q"}`, lenient, false, InvalidSyntax, `the request body is not valid JSON: invalid escape in a string at offset 14`},
		{"bad unicode escape", `{"userName":"\u12G4"}`, lenient, false, InvalidSyntax, `the request body is not valid JSON: invalid \u escape in a string at offset 17`},
		{"bad literal", `{"userName":"a","active":tru}`, lenient, false, InvalidSyntax, "the request body is not valid JSON: unexpected character '}' at offset 28"},
		{"leading zero", `{"userName":"a","x":01}`, lenient, false, InvalidSyntax, "the request body is not valid JSON: unexpected character '1' at offset 21"},
		{"bad fraction", `{"userName":"a","x":1.}`, lenient, false, InvalidSyntax, "the request body is not valid JSON: unexpected character '}' at offset 22"},
		{"trailing data", `{"userName":"a"} {}`, lenient, false, InvalidSyntax, "the request body has data after the JSON value, at offset 17"},
		{"syntax error wins over an earlier invalid value", `{"userName":1,"title":x}`, lenient, false, InvalidSyntax, "the request body is not valid JSON: unexpected character 'x' at offset 22"},
		{"too deep", `{"userName":"a","x":` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`, lenient, false, InvalidSyntax,
			"the request body nests deeper than the limit of 32 levels (at offset 51)"},
		{"deeper than a custom limit", `{"userName":"a","emails":[{"value":"x"}]}`, decodeOptions{maxDepth: 2}, false, InvalidSyntax,
			"the request body nests deeper than the limit of 2 levels (at offset 26)"},
		{"missing userName", `{"name":{"givenName":"G"}}`, lenient, false, InvalidValue, `attribute "userName" is required`},
		{"empty userName", `{"userName":""}`, lenient, false, InvalidValue, `attribute "userName" is required`},
		{"null userName", `{"userName":null}`, lenient, false, InvalidValue, `attribute "userName" is required`},
		{"userName number", `{"userName":42}`, lenient, false, InvalidValue, `attribute "userName": expected a string, found a number`},
		{"first invalid value wins", `{"userName":true,"title":2}`, lenient, false, InvalidValue, `attribute "userName": expected a string, found a boolean`},
		{"name not an object", `{"userName":"a","name":"Babs"}`, lenient, false, InvalidValue, `attribute "name": expected an object, found a string`},
		{"givenName number", `{"userName":"a","name":{"givenName":1}}`, lenient, false, InvalidValue, `attribute "name.givenName": expected a string, found a number`},
		{"emails string", `{"userName":"a","emails":"a@x"}`, lenient, false, InvalidValue, `attribute "emails": expected an array of objects, found a string`},
		{"emails single object in strict mode", `{"userName":"a","emails":{"value":"a@x"}}`, strict, false, InvalidValue,
			`attribute "emails": expected an array of objects, found a single object (strict mode does not read it as an array of one, compatibility rule single-object-as-array)`},
		{"emails array of strings", `{"userName":"a","emails":["a@x"]}`, lenient, false, InvalidValue, `attribute "emails": expected an array of objects, found an array containing a string`},
		{"email value number", `{"userName":"a","emails":[{"value":1}]}`, lenient, false, InvalidValue, `attribute "emails.value": expected a string, found a number`},
		{"email primary number", `{"userName":"a","emails":[{"value":"x","primary":1}]}`, lenient, false, InvalidValue, `attribute "emails.primary": expected a boolean, found a number`},
		{"two primary emails", `{"userName":"a","emails":[{"value":"x","primary":true},{"value":"y","primary":"True"}]}`, lenient, false, InvalidValue,
			`attribute "emails": more than one value has "primary" set to true`},
		{"two primary addresses", `{"userName":"a","addresses":[{"type":"work","primary":true},{"type":"home","primary":true}]}`, lenient, false, InvalidValue,
			`attribute "addresses": more than one value has "primary" set to true`},
		{"addresses number", `{"userName":"a","addresses":5}`, lenient, false, InvalidValue, `attribute "addresses": expected an array of objects, found a number`},
		{"postalCode number", `{"userName":"a","addresses":[{"postalCode":91608}]}`, lenient, false, InvalidValue, `attribute "addresses.postalCode": expected a string, found a number`},
		{"active number", `{"userName":"a","active":1}`, lenient, false, InvalidValue, `attribute "active": expected a boolean, found a number`},
		{"active other string", `{"userName":"a","active":"yes"}`, lenient, false, InvalidValue, `attribute "active": expected a boolean, found a string other than "true" or "false"`},
		{"active string in strict mode", `{"userName":"a","active":"True"}`, strict, false, InvalidValue,
			`attribute "active": expected a boolean, found a string (strict mode does not accept "True" or "False" strings)`},
		{"enterprise object a string", `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}`, lenient, false, InvalidValue,
			`attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": expected an object, found a string`},
		{"employeeNumber number", `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":701984}}`, lenient, false, InvalidValue,
			`attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": expected a string, found a number`},
		{"manager number", `{"userName":"a","manager":271}`, lenient, false, InvalidValue, mgr + `": expected an object, found a number`},
		{"manager array of ids", `{"userName":"a","manager":["271"]}`, lenient, false, InvalidValue, mgr + `": expected an array of objects, found an array containing a string`},
		{"manager $ref without value", `{"userName":"a","manager":{"$ref":"../Users/1"}}`, lenient, false, InvalidValue, mgr + `.value" is required when a manager is set`},
		{"manager value number", `{"userName":"a","manager":{"value":1}}`, lenient, false, InvalidValue, mgr + `.value": expected a string, found a number`},
		{"manager bare id in strict mode", `{"userName":"a","manager":"271"}`, strict, false, InvalidValue,
			mgr + `": expected an object, found a string (strict mode does not accept a bare manager id)`},
		{"group without displayName", `{"members":[]}`, lenient, true, InvalidValue, `attribute "displayName" is required`},
		{"group displayName array", `{"displayName":["G"]}`, lenient, true, InvalidValue, `attribute "displayName": expected a string, found an array`},
		{"members object in strict mode", `{"displayName":"G","members":{"value":"u"}}`, strict, true, InvalidValue,
			`attribute "members": expected an array of objects, found a single object (strict mode does not read it as an array of one, compatibility rule single-object-as-array)`},
		{"member id string", `{"displayName":"G","members":["u"]}`, lenient, true, InvalidValue, `attribute "members": expected an array of objects, found an array containing a string`},
		{"member without value", `{"displayName":"G","members":[{"display":"U"}]}`, lenient, true, InvalidValue, `attribute "members.value" is required in every member`},
		{"member type number", `{"displayName":"G","members":[{"value":"u","type":1}]}`, lenient, true, InvalidValue, `attribute "members.type": expected a string, found a number`},
		{"group truncated", `{"displayName":"G","members":[`, lenient, true, InvalidSyntax, "the request body is not valid JSON: unexpected end of input at offset 30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.group {
				var g *Group
				g, err = decodeGroup([]byte(tt.body), tt.opt)
				if g != nil {
					t.Errorf("decodeGroup returned a group with an error: %+v", g)
				}
			} else {
				var u *User
				u, err = decodeUser([]byte(tt.body), tt.opt)
				if u != nil {
					t.Errorf("decodeUser returned a user with an error: %+v", u)
				}
			}
			e := scimError(t, err)
			if e.Type != tt.typ || e.Detail != tt.detail {
				t.Errorf("got %s %q\nwant %s %q", e.Type, e.Detail, tt.typ, tt.detail)
			}
			if !json.Valid([]byte(tt.body)) && tt.typ != InvalidSyntax {
				t.Errorf("invalid JSON must be invalidSyntax")
			}
		})
	}
}

func TestDecodeDepthLimit(t *testing.T) {
	nest := func(n int) string { // an object n levels deep in all
		return `{"userName":"u","x":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`
	}
	tests := []struct {
		name     string
		body     string
		maxDepth int
		ok       bool
	}{
		{"32 levels under the default", nest(32), 0, true},
		{"33 levels under the default", nest(33), 0, false},
		{"negative limit means the default", nest(32), -1, true},
		{"3 levels under 3", `{"userName":"u","emails":[{"value":"x"}]}`, 3, true},
		{"4 levels under 3", `{"userName":"u","emails":[{"value":"x"}],"ext":{"a":{"b":{}}}}`, 3, false},
		{"deep ignored attribute", `{"userName":"u","meta":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`, 0, false},
		{"one million brackets", `{"userName":"u","x":` + strings.Repeat("[", 1_000_000) + `}`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeUser([]byte(tt.body), decodeOptions{maxDepth: tt.maxDepth})
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := scimError(t, err)
			if e.Type != InvalidSyntax || !strings.Contains(e.Detail, "nests deeper than the limit of") {
				t.Errorf("got %s %q, want the depth limit", e.Type, e.Detail)
			}
		})
	}
}

func TestDecodeGroup(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *Group
	}{
		{"RFC 7643 §8.4", rfcGroup, &Group{
			DisplayName: "Tour Guides",
			Members: []Member{
				{Value: "2819c223-7f76-453a-919d-413861904646", Ref: "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646", Display: "Babs Jensen"},
				{Value: "902c246b-6245-4190-8e05-00816be7344a", Ref: "https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a", Display: "Mandy Pepperidge"},
			},
		}},
		{"Entra POST", entraCreateGroup, &Group{ExternalID: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", DisplayName: "displayName"}},
		{"Okta POST", oktaCreateGroup, &Group{DisplayName: "Test SCIMv2"}},
		{"Okta PUT with members", oktaReplaceGroup, &Group{DisplayName: "Test SCIMv2", Members: []Member{
			{Value: "b1c794f24f4c49f4b5d503a4cb2686ea", Display: "SCIM 2 Group A"},
			{Value: "f648f8d5ea4e4cd38e9c"},
		}}},
		{"nested group member and qualified key", `{"urn:ietf:params:scim:schemas:core:2.0:Group:displayName": "G", "members": [{"value": "g2", "type": "Group"}]}`,
			&Group{DisplayName: "G", Members: []Member{{Value: "g2", Type: "Group"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, opt := range []decodeOptions{lenient, strict} {
				got, err := decodeGroup([]byte(tt.body), opt)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("decodeGroup strict=%v (-want +got):\n%s", opt.strict, diff)
				}
			}
		})
	}
}

// readOnlyCleared is u as a decode of its encoding gives it back: the
// attributes a client cannot set are gone.
func readOnlyCleared(u *User) *User {
	c := u.Clone()
	c.ID, c.Meta, c.Groups, c.Password = "", Meta{}, nil, ""
	if c.Enterprise != nil && c.Enterprise.Manager != nil {
		c.Enterprise.Manager.DisplayName = ""
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	for _, tt := range []struct{ name, body string }{
		{"RFC full user", rfcFullUser},
		{"RFC minimal user", rfcMinimalUser},
		{"Entra tutorial", entraCreateUser},
		{"Entra legacy", entraLegacyUser},
		{"Entra mapping", entraMappedUser},
		{"Okta create", oktaCreateUser},
		{"Okta replace", oktaReplaceUser},
		{"extra attributes", `{"userName":"u","urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"a":[1,{"b":"c"}]},"z":1,"A":"\u003c"}`},
		{"escapes", `{"userName":"<a&b>\u2028\u2029\"\\\u0000","title":"\ud83d\ude00"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u1, err := decodeUser([]byte(tt.body), lenient)
			if err != nil {
				t.Fatal(err)
			}
			for _, base := range []string{"", "https://x.example/scim/v2"} {
				out := appendUser(nil, u1, Projection{}, base)
				checkOutput(t, out, true)
				u2, err := decodeUser(out, strict)
				if err != nil {
					t.Fatalf("decoding %s: %v", out, err)
				}
				want := readOnlyCleared(u1)
				if base != "" && want.Enterprise != nil && want.Enterprise.Manager != nil && want.Enterprise.Manager.Ref == "" {
					want.Enterprise.Manager.Ref = base + "/Users/" + want.Enterprise.Manager.Value
				}
				if diff := cmp.Diff(want, u2); diff != "" {
					t.Errorf("base %q: decode(encode(u)) (-want +got):\n%s\n%s", base, diff, out)
				}
			}
		})
	}
	for _, tt := range []struct{ name, body string }{
		{"RFC group", rfcGroup},
		{"Entra group", entraCreateGroup},
		{"Okta group", oktaReplaceGroup},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g1, err := decodeGroup([]byte(tt.body), lenient)
			if err != nil {
				t.Fatal(err)
			}
			out := appendGroup(nil, g1, Projection{}, "")
			checkOutput(t, out, true)
			g2, err := decodeGroup(out, strict)
			if err != nil {
				t.Fatalf("decoding %s: %v", out, err)
			}
			if diff := cmp.Diff(g1, g2); diff != "" {
				t.Errorf("decode(encode(g)) (-want +got):\n%s\n%s", diff, out)
			}
		})
	}
}

// goldenUser has every attribute of the model set.
func goldenUser() *User {
	u := wantRFCFullUser()
	u.ID = "2819c223-7f76-453a-919d-413861904646"
	u.Entitlements = []MultiValue{{Value: "e1", Display: "E", Type: "License"}}
	u.Roles = []MultiValue{{Value: "r1", Primary: true}}
	u.Groups = []GroupRef{
		{Value: "e9e30dba", Display: "Tour Guides", Type: "direct"},
		{Value: "fc348aa8", Ref: "https://elsewhere/Groups/fc348aa8"},
	}
	u.Enterprise.Manager.Ref = ""
	u.Enterprise.Manager.DisplayName = "John Smith"
	u.Extra = map[string]json.RawMessage{
		"urn:ietf:params:scim:schemas:extension:Acme:2.0:User": json.RawMessage(`{"costCode":"C1"}`),
		"badge": json.RawMessage(`7`),
	}
	u.Meta = Meta{
		Created:      time.Date(2010, 1, 23, 4, 56, 22, 0, time.UTC),
		LastModified: time.Date(2011, 5, 13, 6, 42, 34, 500_000_000, time.FixedZone("CEST", 2*3600)),
		Version:      "a330bc54f0671c9",
	}
	return u
}

func TestAppendUserGolden(t *testing.T) {
	const want = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","urn:ietf:params:scim:schemas:extension:Acme:2.0:User"],` +
		`"id":"2819c223-7f76-453a-919d-413861904646","externalId":"701984","userName":"bjensen@example.com",` +
		`"name":{"formatted":"Ms. Barbara J Jensen, III","familyName":"Jensen","givenName":"Barbara","middleName":"Jane","honorificPrefix":"Ms.","honorificSuffix":"III"},` +
		`"displayName":"Babs Jensen","nickName":"Babs","profileUrl":"https://login.example.com/bjensen","title":"Tour Guide","userType":"Employee",` +
		`"preferredLanguage":"en-US","locale":"en-US","timezone":"America/Los_Angeles","active":true,` +
		`"emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],` +
		`"phoneNumbers":[{"value":"555-555-5555","type":"work"},{"value":"555-555-4444","type":"mobile"}],` +
		`"ims":[{"value":"someaimhandle","type":"aim"}],` +
		`"photos":[{"value":"https://photos.example.com/profilephoto/72930000000Ccne/F","type":"photo"},{"value":"https://photos.example.com/profilephoto/72930000000Ccne/T","type":"thumbnail"}],` +
		`"addresses":[{"formatted":"100 Universal City Plaza\nHollywood, CA 91608 USA","streetAddress":"100 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"USA","type":"work","primary":true},` +
		`{"formatted":"456 Hollywood Blvd\nHollywood, CA 91608 USA","streetAddress":"456 Hollywood Blvd","locality":"Hollywood","region":"CA","postalCode":"91608","country":"USA","type":"home"}],` +
		`"groups":[{"value":"e9e30dba","$ref":"https://example.com/v2/Groups/e9e30dba","display":"Tour Guides","type":"direct"},{"value":"fc348aa8","$ref":"https://elsewhere/Groups/fc348aa8"}],` +
		`"entitlements":[{"value":"e1","display":"E","type":"License"}],"roles":[{"value":"r1","primary":true}],` +
		`"x509Certificates":[{"value":"MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","costCenter":"4130","organization":"Universal Studios","division":"Theme Park","department":"Tour Operations",` +
		`"manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d","$ref":"https://example.com/v2/Users/26118915-6090-4610-87e4-49d8ca9f808d","displayName":"John Smith"}},` +
		`"badge":7,"urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"costCode":"C1"},` +
		`"meta":{"resourceType":"User","created":"2010-01-23T04:56:22Z","lastModified":"2011-05-13T04:42:34.5Z",` +
		`"location":"https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646","version":"W/\"a330bc54f0671c9\""}}`
	u := goldenUser()
	got := appendUser(nil, u, Projection{}, "https://example.com/v2")
	if string(got) != want {
		t.Errorf("appendUser:\n got %s\nwant %s", got, want)
	}
	checkOutput(t, got, true)
	if bytes.Contains(got, []byte("t1meMa$heen")) || bytes.Contains(got, []byte("password")) {
		t.Errorf("the password was written: %s", got)
	}
	// Appending keeps what b holds.
	if got := appendUser([]byte("prefix"), u, Projection{}, "https://example.com/v2"); string(got) != "prefix"+want {
		t.Errorf("appendUser to a non-empty slice: %s", got)
	}
}

func TestAppendGroupGolden(t *testing.T) {
	g := &Group{
		ID:          "e9e30dba-f08f-4109-8486-d5c6a331660a",
		ExternalID:  "8aa1a0c0",
		DisplayName: "Tour Guides",
		Members: []Member{
			{Value: "2819c223", Display: "Babs Jensen"},
			{Value: "g2", Type: "Group"},
			{Value: "u3", Ref: "https://elsewhere/Users/u3", Type: "User"},
		},
		Extra: map[string]json.RawMessage{"urn:ietf:params:scim:schemas:extension:Acme:2.0:Group:tier": json.RawMessage(`"gold"`)},
		Meta:  Meta{Created: time.Date(2010, 1, 23, 4, 56, 22, 123_000_000, time.UTC), Version: "7"},
	}
	const want = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","urn:ietf:params:scim:schemas:extension:Acme:2.0:Group"],` +
		`"id":"e9e30dba-f08f-4109-8486-d5c6a331660a","externalId":"8aa1a0c0","displayName":"Tour Guides",` +
		`"members":[{"value":"2819c223","$ref":"https://example.com/v2/Users/2819c223","display":"Babs Jensen"},` +
		`{"value":"g2","$ref":"https://example.com/v2/Groups/g2","type":"Group"},{"value":"u3","$ref":"https://elsewhere/Users/u3","type":"User"}],` +
		`"urn:ietf:params:scim:schemas:extension:Acme:2.0:Group:tier":"gold",` +
		`"meta":{"resourceType":"Group","created":"2010-01-23T04:56:22.123Z","location":"https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a","version":"W/\"7\""}}`
	got := appendGroup(nil, g, Projection{}, "https://example.com/v2")
	if string(got) != want {
		t.Errorf("appendGroup:\n got %s\nwant %s", got, want)
	}
	checkOutput(t, got, true)
}

// TestAppendManyExtensions writes more Extra attributes than
// appendExtraSchemas compares pairwise: 20 custom extensions, each as an
// object and as a qualified attribute in another case. Each schema is
// listed once, in the order of the sorted keys.
func TestAppendManyExtensions(t *testing.T) {
	g := &Group{DisplayName: "G", Extra: map[string]json.RawMessage{}}
	var keys []string
	for i := range 20 {
		n := strconv.Itoa(i)
		g.Extra["urn:x:"+n] = json.RawMessage(`{"a":1}`)
		g.Extra["URN:X:"+n+":b"] = json.RawMessage(`2`)
		keys = append(keys, "urn:x:"+n, "URN:X:"+n+":b")
	}
	slices.Sort(keys)
	want := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"`
	body := ""
	for _, k := range keys {
		if strings.HasPrefix(k, "URN") { // sorted first: their schemas are listed
			want += `,"` + k[:strings.LastIndexByte(k, ':')] + `"`
			body += `,"` + k + `":2`
		} else {
			body += `,"` + k + `":{"a":1}`
		}
	}
	want += `],"displayName":"G"` + body + `}`
	got := appendGroup(nil, g, Projection{Excluded: []AttrPath{{Name: "members"}, {Name: "meta"}}}, "")
	if string(got) != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	checkOutput(t, got, true)
}

func TestAppendDetails(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"a new user: active false is written, no meta times, relative location",
			appendUser(nil, &User{ID: "1", UserName: "u"}, Projection{}, ""),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"u","active":false,"meta":{"resourceType":"User","location":"/Users/1"}}`},
		{"no id: no location",
			appendUser(nil, &User{UserName: "u", Active: true}, Projection{}, "https://x"),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u","active":true,"meta":{"resourceType":"User"}}`},
		{"ids are path-escaped in URLs, not in values",
			appendUser(nil, &User{ID: "a/b c", UserName: "u", Enterprise: &EnterpriseUser{Manager: &Manager{Value: "m?1"}}}, Projection{}, "https://x"),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"a/b c","userName":"u","active":false,` +
				`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m?1","$ref":"https://x/Users/m%3F1"}},"meta":{"resourceType":"User","location":"https://x/Users/a%2Fb%20c"}}`},
		{"empty values are omitted, and an all-empty enterprise is not listed",
			appendUser(nil, &User{ID: "1", UserName: "u", Emails: []MultiValue{{}}, Enterprise: &EnterpriseUser{Manager: &Manager{}}, Extra: map[string]json.RawMessage{"a": json.RawMessage(`null`), "b": json.RawMessage(`""`), "c": json.RawMessage(` [ ] `), "d": json.RawMessage(`{bad`), "e": json.RawMessage(`{"x":null}`)}}, Projection{}, ""),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"u","active":false,"meta":{"resourceType":"User","location":"/Users/1"}}`},
		{"Extra keys naming model attributes are not written twice",
			appendUser(nil, &User{ID: "1", UserName: "u", Extra: map[string]json.RawMessage{"USERNAME": json.RawMessage(`"x"`), "password": json.RawMessage(`"p"`), "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": json.RawMessage(`{"a":1}`)}}, Projection{}, ""),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"u","active":false,"meta":{"resourceType":"User","location":"/Users/1"}}`},
		{"an Extra enterprise attribute lists the enterprise schema",
			appendUser(nil, &User{ID: "1", UserName: "u", Extra: map[string]json.RawMessage{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge": json.RawMessage(`"b"`)}}, Projection{Attributes: []AttrPath{{Name: "userName"}, {URN: EnterpriseUserSchema, Name: "badge"}}}, ""),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"1","userName":"u","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge":"b"}`},
		{"an empty group writes members: []",
			appendGroup(nil, &Group{ID: "g", DisplayName: "G"}, Projection{}, ""),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g","displayName":"G","members":[],"meta":{"resourceType":"Group","location":"/Groups/g"}}`},
		{"members excluded",
			appendGroup(nil, &Group{ID: "g", DisplayName: "G", Members: []Member{{Value: "u"}}}, Projection{Excluded: []AttrPath{{Name: "members"}}}, ""),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g","displayName":"G","meta":{"resourceType":"Group","location":"/Groups/g"}}`},
		{"escaping as encoding/json does",
			appendUser(nil, &User{UserName: "<a&b>\u2028\"\\\x01\xff"}, Projection{Attributes: []AttrPath{{Name: "userName"}}}, ""),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\u003ca\u0026b\u003e\u2028\"\\\u0001\ufffd"}`},
		{"version with a quote",
			appendGroup(nil, &Group{ID: "g", DisplayName: "G", Meta: Meta{Version: `x"y`}}, Projection{Attributes: []AttrPath{{Name: "meta", Sub: "version"}}}, ""),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g","meta":{"version":"W/\"x\"y\""}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Errorf("\n got %s\nwant %s", tt.got, tt.want)
			}
			checkOutput(t, tt.got, !strings.Contains(tt.name, "empty group"))
		})
	}
}

func TestProjection(t *testing.T) {
	u := &User{
		ID:       "1",
		UserName: "bjensen",
		Name:     Name{GivenName: "Barbara", FamilyName: "Jensen"},
		Title:    "Guide",
		Active:   true,
		Password: "secret",
		Emails:   []MultiValue{{Value: "a@x", Type: "work", Primary: true}, {Type: "home"}},
		Groups:   []GroupRef{{Value: "g1", Display: "G"}},
		Enterprise: &EnterpriseUser{
			Department: "Ops",
			Manager:    &Manager{Value: "m1", DisplayName: "Boss"},
		},
		Extra: map[string]json.RawMessage{
			"urn:ietf:params:scim:schemas:extension:Acme:2.0:User":           json.RawMessage(`{"costCode":"C1","tier":2}`),
			"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:seat":      json.RawMessage(`12`),
			"urn:ietf:params:scim:schemas:extension:Other:2.0:User:nickname": json.RawMessage(`"n"`),
			"badge": json.RawMessage(`"b"`),
		},
		Meta: Meta{Version: "3"},
	}
	const (
		core = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"`
		ent  = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
		acme = `"urn:ietf:params:scim:schemas:extension:Acme:2.0:User"`
	)
	attrs := func(paths ...AttrPath) Projection { return Projection{Attributes: paths} }
	excl := func(paths ...AttrPath) Projection { return Projection{Excluded: paths} }
	tests := []struct {
		name string
		p    Projection
		want string
	}{
		{"attributes=id: schemas and id only", attrs(AttrPath{Name: "id"}), core + `],"id":"1"}`},
		{"attributes=userName, any case", attrs(AttrPath{Name: "USERNAME"}), core + `],"id":"1","userName":"bjensen"}`},
		{"core URN-qualified", attrs(AttrPath{URN: "urn:ietf:params:scim:schemas:core:2.0:user", Name: "title"}), core + `],"id":"1","title":"Guide"}`},
		{"sub-attribute name.givenName", attrs(AttrPath{Name: "name", Sub: "givenName"}), core + `],"id":"1","name":{"givenName":"Barbara"}}`},
		{"sub-attribute emails.value drops values without one", attrs(AttrPath{Name: "emails", Sub: "value"}), core + `],"id":"1","emails":[{"value":"a@x"}]}`},
		{"two sub-attributes of emails", attrs(AttrPath{Name: "emails", Sub: "type"}, AttrPath{Name: "emails", Sub: "PRIMARY"}), core + `],"id":"1","emails":[{"type":"work","primary":true},{"type":"home"}]}`},
		{"password is never returned, even when asked for", attrs(AttrPath{Name: "password"}, AttrPath{Name: "active"}), core + `],"id":"1","active":true}`},
		{"groups with $ref", attrs(AttrPath{Name: "groups"}), core + `],"id":"1","groups":[{"value":"g1","$ref":"https://x/Groups/g1","display":"G"}]}`},
		{"enterprise attribute qualified", attrs(AttrPath{URN: EnterpriseUserSchema, Name: "department"}), core + `,` + ent + `],"id":"1","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops"}}`},
		{"enterprise attribute unqualified", attrs(AttrPath{Name: "manager"}), core + `,` + ent + `],"id":"1","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1","$ref":"https://x/Users/m1","displayName":"Boss"}}}`},
		{"manager.value", attrs(AttrPath{URN: EnterpriseUserSchema, Name: "manager", Sub: "value"}), core + `,` + ent + `],"id":"1","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}}}`},
		{"whole enterprise schema", attrs(AttrPath{Name: EnterpriseUserSchema}), core + `,` + ent + `],"id":"1","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops","manager":{"value":"m1","$ref":"https://x/Users/m1","displayName":"Boss"}}}`},
		{"enterprise schema split at its last colon", attrs(AttrPath{URN: "urn:ietf:params:scim:schemas:extension:enterprise:2.0", Name: "User"}), core + `,` + ent + `],"id":"1","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops","manager":{"value":"m1","$ref":"https://x/Users/m1","displayName":"Boss"}}}`},
		{"meta.version", attrs(AttrPath{Name: "meta", Sub: "version"}), core + `],"id":"1","meta":{"version":"W/\"3\""}}`},
		{"Extra plain key", attrs(AttrPath{Name: "Badge"}), core + `],"id":"1","badge":"b"}`},
		{"Extra custom extension schema", attrs(AttrPath{Name: "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"}),
			core + `,` + acme + `],"id":"1","urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"costCode":"C1","tier":2},"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:seat":12}`},
		{"Extra attribute inside an extension object", attrs(AttrPath{URN: "urn:ietf:params:scim:schemas:extension:Acme:2.0:User", Name: "costCode"}),
			core + `,` + acme + `],"id":"1","urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"costCode":"C1","tier":2}}`},
		{"unknown attribute asked for", attrs(AttrPath{Name: "nosuch"}, AttrPath{Name: "name", Sub: "nosuch"}), core + `],"id":"1"}`},
		{"excluded emails and name.familyName and meta", excl(AttrPath{Name: "emails"}, AttrPath{Name: "name", Sub: "familyName"}, AttrPath{Name: "meta"}, AttrPath{Name: "groups"}),
			core + `,` + ent + `,` + acme + `,"urn:ietf:params:scim:schemas:extension:Other:2.0:User"],"id":"1","userName":"bjensen","name":{"givenName":"Barbara"},"title":"Guide","active":true,` +
				`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops","manager":{"value":"m1","$ref":"https://x/Users/m1","displayName":"Boss"}},` +
				`"badge":"b","urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"costCode":"C1","tier":2},"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:seat":12,"urn:ietf:params:scim:schemas:extension:Other:2.0:User:nickname":"n"}`},
		{"excluded id is still returned; excluded enterprise and extensions", excl(AttrPath{Name: "id"}, AttrPath{Name: EnterpriseUserSchema}, AttrPath{Name: "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"},
			AttrPath{URN: "urn:ietf:params:scim:schemas:extension:Other:2.0:User", Name: "nickname"}, AttrPath{Name: "BADGE"}, AttrPath{Name: "emails"}, AttrPath{Name: "groups"}, AttrPath{Name: "name"}, AttrPath{Name: "meta"}),
			core + `],"id":"1","userName":"bjensen","title":"Guide","active":true}`},
		{"excluded sub-attribute of the manager", excl(AttrPath{Name: "manager", Sub: "$ref"}, AttrPath{Name: "manager", Sub: "displayName"}, AttrPath{Name: "meta"}, AttrPath{Name: "emails"}, AttrPath{Name: "groups"},
			AttrPath{Name: "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"}, AttrPath{Name: "urn:ietf:params:scim:schemas:extension:Other:2.0:User"}, AttrPath{Name: "badge"}),
			core + `,` + ent + `],"id":"1","userName":"bjensen","name":{"familyName":"Jensen","givenName":"Barbara"},"title":"Guide","active":true,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops","manager":{"value":"m1"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendUser(nil, u, tt.p, "https://x")
			if string(got) != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
			checkOutput(t, got, true)
		})
	}

	g := &Group{ID: "g", ExternalID: "e", DisplayName: "G", Members: []Member{{Value: "u1", Display: "U"}, {Value: "g2", Type: "Group"}}, Meta: Meta{Version: "1"}}
	groupTests := []struct {
		name string
		p    Projection
		want string
	}{
		{"excludedAttributes=members, as Entra reads groups", excl(AttrPath{Name: "members"}),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g","externalId":"e","displayName":"G","meta":{"resourceType":"Group","location":"/Groups/g","version":"W/\"1\""}}`},
		{"attributes=id", attrs(AttrPath{Name: "id"}), `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g"}`},
		{"members.value", attrs(AttrPath{Name: "members", Sub: "value"}), `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g","members":[{"value":"u1"},{"value":"g2"}]}`},
		{"members.display drops members without one, and URN-qualified displayName", attrs(AttrPath{Name: "members", Sub: "display"}, AttrPath{URN: GroupSchema, Name: "displayName"}),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g","displayName":"G","members":[{"display":"U"}]}`},
		{"excluded members.$ref and meta", excl(AttrPath{Name: "members", Sub: "$ref"}, AttrPath{Name: "meta"}),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g","externalId":"e","displayName":"G","members":[{"value":"u1","display":"U"},{"value":"g2","type":"Group"}]}`},
	}
	for _, tt := range groupTests {
		t.Run("group/"+tt.name, func(t *testing.T) {
			got := appendGroup(nil, g, tt.p, "")
			if string(got) != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
			checkOutput(t, got, true)
		})
	}
}

func TestSetUserAttr(t *testing.T) {
	base := func() *User {
		return &User{
			ID:       "1",
			UserName: "u",
			Active:   true,
			Name:     Name{GivenName: "G", FamilyName: "F"},
			Emails:   []MultiValue{{Value: "a@x", Type: "work"}},
			Enterprise: &EnterpriseUser{
				Department: "D",
				Manager:    &Manager{Value: "m1", DisplayName: "Boss"},
			},
			Extra: map[string]json.RawMessage{
				"urn:ietf:params:scim:schemas:extension:Acme:2.0:User": json.RawMessage(`{"costCode":"C1"}`),
				"badge": json.RawMessage(`"b"`),
			},
		}
	}
	tests := []struct {
		name   string
		path   AttrPath
		raw    string
		opt    decodeOptions
		change func(u *User) // applied to base() to give the expected user
		before func(u *User) // applied to base() before the call, when set
		typ    ErrorType     // error expected when set
		detail string
	}{
		{name: "title", path: AttrPath{Name: "title"}, raw: `"Boss"`, change: func(u *User) { u.Title = "Boss" }},
		{name: "userName any case", path: AttrPath{Name: "USERNAME"}, raw: `"v"`, change: func(u *User) { u.UserName = "v" }},
		{name: "core URN-qualified", path: AttrPath{URN: UserSchema, Name: "nickName"}, raw: `"n"`, change: func(u *User) { u.NickName = "n" }},
		{name: "active string False", path: AttrPath{Name: "active"}, raw: `"False"`, change: func(u *User) { u.Active = false }},
		{name: "active null is true", path: AttrPath{Name: "active"}, raw: `null`, change: func(u *User) {}},
		{name: "name replaced whole", path: AttrPath{Name: "name"}, raw: `{"formatted":"X"}`, change: func(u *User) { u.Name = Name{Formatted: "X"} }},
		{name: "name.givenName", path: AttrPath{Name: "name", Sub: "GivenName"}, raw: `"H"`, change: func(u *User) { u.Name.GivenName = "H" }},
		{name: "name.familyName null", path: AttrPath{Name: "name", Sub: "familyName"}, raw: `null`, change: func(u *User) { u.Name.FamilyName = "" }},
		{name: "emails replaced", path: AttrPath{Name: "emails"}, raw: `[{"value":"b@x","primary":true}]`, change: func(u *User) { u.Emails = []MultiValue{{Value: "b@x", Primary: true}} }},
		{name: "emails removed with []", path: AttrPath{Name: "emails"}, raw: `[]`, change: func(u *User) { u.Emails = nil }},
		{name: "password", path: AttrPath{Name: "password"}, raw: `"p"`, change: func(u *User) { u.Password = "p" }},
		{name: "id ignored", path: AttrPath{Name: "id"}, raw: `"2"`, change: func(u *User) {}},
		{name: "meta.version ignored", path: AttrPath{Name: "meta", Sub: "version"}, raw: `"2"`, change: func(u *User) {}},
		{name: "groups ignored", path: AttrPath{Name: "groups"}, raw: `[{"value":"g"}]`, change: func(u *User) {}},
		{name: "department qualified", path: AttrPath{URN: EnterpriseUserSchema, Name: "department"}, raw: `"Tech Infrastructure"`, change: func(u *User) { u.Enterprise.Department = "Tech Infrastructure" }},
		{name: "employeeNumber unqualified", path: AttrPath{Name: "employeeNumber"}, raw: `"7"`, change: func(u *User) { u.Enterprise.EmployeeNumber = "7" }},
		{name: "enterprise attribute as a sub of the URN", path: AttrPath{Name: EnterpriseUserSchema, Sub: "division"}, raw: `"V"`, change: func(u *User) { u.Enterprise.Division = "V" }},
		{name: "manager bare id", path: AttrPath{URN: EnterpriseUserSchema, Name: "manager"}, raw: `"271"`, change: func(u *User) { u.Enterprise.Manager = &Manager{Value: "271"} }},
		{name: "manager array", path: AttrPath{Name: "manager"}, raw: `[{"$ref":"r","value":"271"}]`, change: func(u *User) { u.Enterprise.Manager = &Manager{Value: "271", Ref: "r"} }},
		{name: "manager removed with an empty string", path: AttrPath{Name: "manager"}, raw: `""`, change: func(u *User) { u.Enterprise.Manager = nil }},
		{name: "manager.value", path: AttrPath{Name: "manager", Sub: "value"}, raw: `"m2"`, change: func(u *User) { u.Enterprise.Manager.Value = "m2" }},
		{name: "manager.value null removes the manager", path: AttrPath{Name: "manager", Sub: "value"}, raw: `null`, change: func(u *User) { u.Enterprise.Manager = nil }},
		{name: "manager.$ref", path: AttrPath{Name: "manager", Sub: "$ref"}, raw: `"../Users/m1"`, change: func(u *User) { u.Enterprise.Manager.Ref = "../Users/m1" }},
		{name: "manager.$ref without a manager sets none", path: AttrPath{Name: "manager", Sub: "$REF"}, raw: `"r"`, change: func(u *User) {},
			before: func(u *User) { u.Enterprise.Manager = nil }},
		{name: "manager.displayName ignored", path: AttrPath{Name: "manager", Sub: "displayName"}, raw: `"X"`, change: func(u *User) {}},
		{name: "enterprise object replaced whole", path: AttrPath{Name: EnterpriseUserSchema}, raw: `{"costCenter":"9"}`, change: func(u *User) { u.Enterprise = &EnterpriseUser{CostCenter: "9"} }},
		{name: "enterprise emptied is nil", path: AttrPath{Name: EnterpriseUserSchema}, raw: `{}`, change: func(u *User) { u.Enterprise = nil }},
		{name: "last enterprise attribute removed is nil", path: AttrPath{Name: "department"}, raw: `null`, change: func(u *User) { u.Enterprise.Department = "" }},
		{name: "unknown attribute kept in Extra", path: AttrPath{Name: "seat"}, raw: ` 12 `, change: func(u *User) { u.Extra["seat"] = json.RawMessage(`12`) }},
		{name: "unknown attribute replaced in any case", path: AttrPath{Name: "BADGE"}, raw: `"c"`, change: func(u *User) { delete(u.Extra, "badge"); u.Extra["BADGE"] = json.RawMessage(`"c"`) }},
		{name: "unknown attribute removed by null", path: AttrPath{Name: "badge"}, raw: `null`, change: func(u *User) { delete(u.Extra, "badge") }},
		{name: "unknown sub-attribute in an Extra object", path: AttrPath{Name: "badge", Sub: "color"}, raw: `"red"`, change: func(u *User) { u.Extra["badge"] = json.RawMessage(`{"color":"red"}`) }},
		{name: "custom extension attribute set in its object", path: AttrPath{URN: "urn:ietf:params:scim:schemas:extension:Acme:2.0:User", Name: "tier"}, raw: `{"a":null,"b":2}`,
			change: func(u *User) {
				u.Extra["urn:ietf:params:scim:schemas:extension:Acme:2.0:User"] = json.RawMessage(`{"costCode":"C1","tier":{"b":2}}`)
			}},
		{name: "custom extension attribute replaced in its object", path: AttrPath{URN: "urn:ietf:params:scim:schemas:extension:ACME:2.0:User", Name: "COSTCODE"}, raw: `"C2"`,
			change: func(u *User) {
				u.Extra["urn:ietf:params:scim:schemas:extension:Acme:2.0:User"] = json.RawMessage(`{"COSTCODE":"C2"}`)
			}},
		{name: "custom extension's last attribute removed", path: AttrPath{URN: "urn:ietf:params:scim:schemas:extension:Acme:2.0:User", Name: "costCode"}, raw: `null`,
			change: func(u *User) { delete(u.Extra, "urn:ietf:params:scim:schemas:extension:Acme:2.0:User") }},
		{name: "custom extension sub-attribute", path: AttrPath{URN: "urn:ietf:params:scim:schemas:extension:New:2.0:User", Name: "a", Sub: "b"}, raw: `1`,
			change: func(u *User) {
				u.Extra["urn:ietf:params:scim:schemas:extension:New:2.0:User"] = json.RawMessage(`{"a":{"b":1}}`)
			}},
		{name: "unknown enterprise attribute keyed flat", path: AttrPath{URN: EnterpriseUserSchema, Name: "badge"}, raw: `"x"`,
			change: func(u *User) {
				u.Extra["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge"] = json.RawMessage(`"x"`)
			}},

		{name: "userName null", path: AttrPath{Name: "userName"}, raw: `null`, typ: InvalidValue, detail: `attribute "userName" is required`},
		{name: "wrong type", path: AttrPath{Name: "emails"}, raw: `"a@x"`, typ: InvalidValue, detail: `attribute "emails": expected an array of objects, found a string`},
		{name: "two primaries", path: AttrPath{Name: "roles"}, raw: `[{"value":"a","primary":true},{"value":"b","primary":true}]`, typ: InvalidValue, detail: `attribute "roles": more than one value has "primary" set to true`},
		{name: "strict string boolean", path: AttrPath{Name: "active"}, raw: `"False"`, opt: strict, typ: InvalidValue,
			detail: `attribute "active": expected a boolean, found a string (strict mode does not accept "True" or "False" strings)`},
		{name: "strict bare manager", path: AttrPath{Name: "manager"}, raw: `"271"`, opt: strict, typ: InvalidValue,
			detail: `attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": expected an object, found a string (strict mode does not accept a bare manager id)`},
		{name: "malformed value", path: AttrPath{Name: "title"}, raw: `"x`, typ: InvalidSyntax, detail: "the request body is not valid JSON: unexpected end of input at offset 2"},
		{name: "malformed Extra value", path: AttrPath{Name: "seat"}, raw: `[1,]`, typ: InvalidSyntax, detail: "the request body is not valid JSON: unexpected character ']' at offset 3"},
		{name: "trailing data", path: AttrPath{Name: "title"}, raw: `"x" "y"`, typ: InvalidSyntax, detail: "the request body has data after the JSON value, at offset 4"},
		{name: "trailing data after an ignored value", path: AttrPath{Name: "id"}, raw: `1 2`, typ: InvalidSyntax, detail: "the request body has data after the JSON value, at offset 2"},
		{name: "empty value", path: AttrPath{Name: "title"}, raw: ``, typ: InvalidSyntax, detail: "the request body is not valid JSON: unexpected end of input at offset 0"},
		{name: "sub of a simple attribute", path: AttrPath{Name: "title", Sub: "x"}, raw: `"x"`, typ: InvalidPath, detail: `attribute "title" has no sub-attributes`},
		{name: "unknown sub of name", path: AttrPath{Name: "name", Sub: "nick"}, raw: `"x"`, typ: InvalidPath, detail: `attribute "name.nick" is not defined`},
		{name: "sub of a multi-valued attribute", path: AttrPath{Name: "emails", Sub: "value"}, raw: `"x"`, typ: InvalidPath,
			detail: `attribute "emails.value": a sub-attribute of a multi-valued attribute is set through a value filter`},
		{name: "unknown sub of manager", path: AttrPath{Name: "manager", Sub: "id"}, raw: `"x"`, typ: InvalidPath,
			detail: `attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.id" is not defined`},
		{name: "unknown enterprise sub of the URN", path: AttrPath{Name: EnterpriseUserSchema, Sub: "badge"}, raw: `"x"`, typ: InvalidPath,
			detail: `attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge" is not defined`},
		{name: "too deep", path: AttrPath{Name: "seat"}, raw: `[[[]]]`, opt: decodeOptions{maxDepth: 2}, typ: InvalidSyntax,
			detail: "the request body nests deeper than the limit of 2 levels (at offset 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := base
			if tt.before != nil {
				start = func() *User { u := base(); tt.before(u); return u }
			}
			u := start()
			err := setUserAttr(u, tt.path, json.RawMessage(tt.raw), tt.opt)
			if tt.typ != "" {
				e := scimError(t, err)
				if e.Type != tt.typ || e.Detail != tt.detail {
					t.Errorf("got %s %q\nwant %s %q", e.Type, e.Detail, tt.typ, tt.detail)
				}
				if diff := cmp.Diff(start(), u); diff != "" {
					t.Errorf("the user changed on error (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := start()
			tt.change(want)
			if want.Enterprise.IsZero() {
				want.Enterprise = nil
			}
			if diff := cmp.Diff(want, u); diff != "" {
				t.Errorf("setUserAttr (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetUserAttrDoesNotAlias(t *testing.T) {
	orig := &User{UserName: "u", Enterprise: &EnterpriseUser{Department: "D", Manager: &Manager{Value: "m"}}}
	keep := orig.Enterprise
	u := *orig // a shallow copy shares Enterprise with orig
	if err := setUserAttr(&u, AttrPath{Name: "department"}, json.RawMessage(`"E"`), lenient); err != nil {
		t.Fatal(err)
	}
	if err := setUserAttr(&u, AttrPath{Name: "manager", Sub: "value"}, json.RawMessage(`"n"`), lenient); err != nil {
		t.Fatal(err)
	}
	orig.Extra = map[string]json.RawMessage{"seat": json.RawMessage(`1`)}
	u.Extra = orig.Extra
	if err := setUserAttr(&u, AttrPath{Name: "seat"}, json.RawMessage(`2`), lenient); err != nil {
		t.Fatal(err)
	}
	if string(orig.Extra["seat"]) != "1" || string(u.Extra["seat"]) != "2" {
		t.Errorf("setUserAttr wrote through a shared Extra map: %s %s", orig.Extra["seat"], u.Extra["seat"])
	}
	if keep.Department != "D" || keep.Manager.Value != "m" {
		t.Errorf("setUserAttr wrote through a shared pointer: %+v %+v", keep, keep.Manager)
	}
	if u.Enterprise.Department != "E" || u.Enterprise.Manager.Value != "n" {
		t.Errorf("setUserAttr did not set: %+v %+v", u.Enterprise, u.Enterprise.Manager)
	}
}

func TestSetGroupAttr(t *testing.T) {
	base := func() *Group {
		return &Group{ID: "g", DisplayName: "G", Members: []Member{{Value: "u1"}}, Extra: map[string]json.RawMessage{"tier": json.RawMessage(`1`)}}
	}
	tests := []struct {
		name   string
		path   AttrPath
		raw    string
		change func(g *Group)
		typ    ErrorType
		detail string
	}{
		{name: "displayName", path: AttrPath{Name: "DisplayName"}, raw: `"H"`, change: func(g *Group) { g.DisplayName = "H" }},
		{name: "qualified externalId", path: AttrPath{URN: GroupSchema, Name: "externalId"}, raw: `"e"`, change: func(g *Group) { g.ExternalID = "e" }},
		{name: "members replaced", path: AttrPath{Name: "members"}, raw: `[{"value":"u2","display":"U","$ref":null}]`, change: func(g *Group) { g.Members = []Member{{Value: "u2", Display: "U"}} }},
		{name: "members emptied", path: AttrPath{Name: "members"}, raw: `[]`, change: func(g *Group) { g.Members = nil }},
		{name: "id ignored", path: AttrPath{Name: "id"}, raw: `"h"`, change: func(g *Group) {}},
		{name: "Extra", path: AttrPath{Name: "tier"}, raw: `2`, change: func(g *Group) { g.Extra["tier"] = json.RawMessage(`2`) }},
		{name: "displayName null", path: AttrPath{Name: "displayName"}, raw: `null`, typ: InvalidValue, detail: `attribute "displayName" is required`},
		{name: "member without value", path: AttrPath{Name: "members"}, raw: `[{"display":"U"}]`, typ: InvalidValue, detail: `attribute "members.value" is required in every member`},
		{name: "members.value", path: AttrPath{Name: "members", Sub: "value"}, raw: `"u"`, typ: InvalidPath,
			detail: `attribute "members.value": a sub-attribute of a multi-valued attribute is set through a value filter`},
		{name: "displayName.x", path: AttrPath{Name: "displayName", Sub: "x"}, raw: `"u"`, typ: InvalidPath, detail: `attribute "displayName" has no sub-attributes`},
		{name: "members.x", path: AttrPath{Name: "members", Sub: "x"}, raw: `"u"`, typ: InvalidPath, detail: `attribute "members.x" is not defined`},
		{name: "malformed", path: AttrPath{Name: "displayName"}, raw: `x`, typ: InvalidSyntax, detail: "the request body is not valid JSON: unexpected character 'x' at offset 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := base()
			err := setGroupAttr(g, tt.path, json.RawMessage(tt.raw), lenient)
			if tt.typ != "" {
				e := scimError(t, err)
				if e.Type != tt.typ || e.Detail != tt.detail {
					t.Errorf("got %s %q\nwant %s %q", e.Type, e.Detail, tt.typ, tt.detail)
				}
				if diff := cmp.Diff(base(), g); diff != "" {
					t.Errorf("the group changed on error (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := base()
			tt.change(want)
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("setGroupAttr (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAttributeTables checks the codec's attribute tables against the RFC
// 7643 schema definitions of schema.go, so that neither drifts.
func TestAttributeTables(t *testing.T) {
	check := func(t *testing.T, defs []*attrDef, name func(*attrDef) string, info func(string) (string, []string, bool)) {
		for _, d := range defs {
			canon, subs, ok := info(name(d))
			if !ok {
				t.Errorf("attribute %q is not in the codec's table", name(d))
				continue
			}
			if canon != name(d) {
				t.Errorf("canonical name %q, schema says %q", canon, name(d))
			}
			var want []string
			for _, s := range d.subs {
				want = append(want, s.name)
			}
			if diff := cmp.Diff(want, subs, cmp.Transformer("sort", func(s []string) []string {
				c := append([]string(nil), s...)
				slices.Sort(c)
				return c
			})); diff != "" {
				t.Errorf("sub-attributes of %q (-schema +codec):\n%s", name(d), diff)
			}
		}
	}
	userInfo := func(key string) (string, []string, bool) {
		a := userAttrOf(key)
		if a == uaUnknown {
			return "", nil, false
		}
		return userAttrs[a].qname, userAttrs[a].subs, true
	}
	groupInfo := func(key string) (string, []string, bool) {
		a := groupAttrOf(key)
		if a == gaUnknown {
			return "", nil, false
		}
		return groupAttrs[a].name, groupAttrs[a].subs, true
	}
	plain := func(d *attrDef) string { return d.name }
	t.Run("user", func(t *testing.T) { check(t, userSchema.attrs, plain, userInfo) })
	t.Run("common on user", func(t *testing.T) { check(t, commonAttrs.attrs, plain, userInfo) })
	t.Run("enterprise", func(t *testing.T) {
		check(t, enterpriseSchema.attrs, func(d *attrDef) string { return EnterpriseUserSchema + ":" + d.name }, userInfo)
	})
	t.Run("group", func(t *testing.T) { check(t, groupSchema.attrs, plain, groupInfo) })
	t.Run("common on group", func(t *testing.T) { check(t, commonAttrs.attrs, plain, groupInfo) })
	t.Run("codec names are schema names", func(t *testing.T) {
		for a := uattr(1); a < numUserAttrs; a++ {
			info := userAttrs[a]
			if a == uaEnterprise {
				continue // a schema, not an attribute
			}
			urn, name := splitURN(info.qname)
			d := lookupUserAttr(AttrPath{URN: urn, Name: name})
			if d == nil {
				t.Errorf("%q is not in the schema", info.name)
				continue
			}
			for _, sub := range info.subs {
				if d.sub(sub) == nil {
					t.Errorf("%q.%q is not in the schema", info.name, sub)
				}
			}
		}
		for a := gattr(1); a < numGroupAttrs; a++ {
			info := groupAttrs[a]
			d := lookupGroupAttr(AttrPath{Name: info.name})
			if d == nil {
				t.Errorf("%q is not in the group schema", info.name)
				continue
			}
			for _, sub := range info.subs {
				if d.sub(sub) == nil {
					t.Errorf("%q.%q is not in the group schema", info.name, sub)
				}
			}
		}
	})
	t.Run("returned", func(t *testing.T) {
		// The encoder always writes id and never password, as the
		// schema says.
		uaID := userAttrIndex(akString, "id")
		if d := lookupUserAttr(AttrPath{Name: "id"}); d.returned != returnedAlways || allUser[uaID] == 0 {
			t.Errorf("id: returned %v, mask %b", d.returned, allUser[uaID])
		}
		uaPassword := userAttrIndex(akString, "password")
		if d := lookupUserAttr(AttrPath{Name: "password"}); d.returned != returnedNever || allUser[uaPassword] != 0 {
			t.Errorf("password: returned %v, mask %b", d.returned, allUser[uaPassword])
		}
	})
}

func TestAppendUserAllocs(t *testing.T) {
	u := benchUser(t)
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		buf = appendUser(buf[:0], u, Projection{}, "https://app.example.com/scim/v2")
	})
	if allocs != 0 {
		t.Errorf("appendUser allocates %v times with a buffer of enough capacity, want 0", allocs)
	}
}
