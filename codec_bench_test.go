package scim

import (
	"encoding/json"
	"testing"
	"time"
)

// entraCreateUser is the user POST body of Microsoft's SCIM tutorial
// (docs/clients.md#create-bodies-and-responses): what Entra ID sends for
// every user it creates.
const entraCreateUser = `{
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
    "active": true,
    "emails": [{
        "primary": true,
        "type": "work",
        "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}`

// baselineUser is a plain tagged struct of the shape of entraCreateUser:
// what json.Unmarshal and json.Marshal cost for the same data is the
// yardstick of the codec's benchmarks.
type baselineUser struct {
	Schemas    []string `json:"schemas"`
	ID         string   `json:"id,omitempty"`
	ExternalID string   `json:"externalId,omitempty"`
	UserName   string   `json:"userName"`
	Active     bool     `json:"active"`
	Emails     []struct {
		Primary bool   `json:"primary,omitempty"`
		Type    string `json:"type,omitempty"`
		Value   string `json:"value,omitempty"`
	} `json:"emails,omitempty"`
	Meta struct {
		ResourceType string `json:"resourceType,omitempty"`
		Created      string `json:"created,omitempty"`
		LastModified string `json:"lastModified,omitempty"`
		Location     string `json:"location,omitempty"`
		Version      string `json:"version,omitempty"`
	} `json:"meta"`
	Name struct {
		Formatted  string `json:"formatted,omitempty"`
		FamilyName string `json:"familyName,omitempty"`
		GivenName  string `json:"givenName,omitempty"`
	} `json:"name"`
	Roles []struct {
		Value string `json:"value,omitempty"`
	} `json:"roles,omitempty"`
}

func BenchmarkDecodeUser(b *testing.B) {
	body := []byte(entraCreateUser)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeUser(body, decodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeUserBaseline(b *testing.B) {
	body := []byte(entraCreateUser)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var u baselineUser
		if err := json.Unmarshal(body, &u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeUserViaMap is the alternative the brief suggested: one
// json.Unmarshal into map[string]json.RawMessage, then each value decoded
// into its field. It is kept to show why decode.go does not do that.
func BenchmarkDecodeUserViaMap(b *testing.B) {
	body := []byte(entraCreateUser)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			b.Fatal(err)
		}
		var u baselineUser
		for k, v := range m {
			var err error
			switch k {
			case "schemas":
				err = json.Unmarshal(v, &u.Schemas)
			case "externalId":
				err = json.Unmarshal(v, &u.ExternalID)
			case "userName":
				err = json.Unmarshal(v, &u.UserName)
			case "active":
				err = json.Unmarshal(v, &u.Active)
			case "emails":
				err = json.Unmarshal(v, &u.Emails)
			case "meta":
				err = json.Unmarshal(v, &u.Meta)
			case "name":
				err = json.Unmarshal(v, &u.Name)
			case "roles":
				err = json.Unmarshal(v, &u.Roles)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchUser is entraCreateUser as the store returns it.
func benchUser(tb testing.TB) *User {
	u, err := decodeUser([]byte(entraCreateUser), decodeOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	u.ID = "2819c223-7f76-453a-919d-413861904646"
	u.Meta = Meta{
		Created:      time.Date(2024, 5, 1, 10, 20, 30, 123456789, time.UTC),
		LastModified: time.Date(2024, 5, 2, 11, 0, 0, 0, time.UTC),
		Version:      "3",
	}
	return u
}

func BenchmarkAppendUser(b *testing.B) {
	u := benchUser(b)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendUser(buf[:0], u, Projection{}, "https://app.example.com/scim/v2")
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkMarshalUserBaseline(b *testing.B) {
	u := benchUser(b)
	var bu baselineUser
	if err := json.Unmarshal(appendUser(nil, u, Projection{}, "https://app.example.com/scim/v2"), &bu); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		var err error
		if out, err = json.Marshal(&bu); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(out)))
}

// BenchmarkDecodeUserFull decodes RFC 7643's full user: every attribute,
// the Enterprise extension, and read-only attributes to skip.
func BenchmarkDecodeUserFull(b *testing.B) {
	body := []byte(rfcFullUser)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeUser(body, decodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendUserFull(b *testing.B) {
	u := goldenUser()
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendUser(buf[:0], u, Projection{}, "https://app.example.com/scim/v2")
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkAppendUserProjected is a user written under
// attributes=userName,emails.value,urn:...:enterprise:2.0:User:manager.
func BenchmarkAppendUserProjected(b *testing.B) {
	u := goldenUser()
	p := Projection{Attributes: []AttrPath{
		{Name: "userName"}, {Name: "emails", Sub: "value"}, {URN: EnterpriseUserSchema, Name: "manager"},
	}}
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendUser(buf[:0], u, p, "https://app.example.com/scim/v2")
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkAppendGroupExcludedMembers is the group read Entra ID sends
// (excludedAttributes=members) on a group of 1,000 members.
func BenchmarkAppendGroupExcludedMembers(b *testing.B) {
	g := &Group{ID: "e9e30dba-f08f-4109-8486-d5c6a331660a", DisplayName: "Tour Guides", Meta: Meta{Version: "12"}}
	for i := range 1000 {
		g.Members = append(g.Members, Member{Value: "2819c223-7f76-453a-919d-" + string(rune('a'+i%26))})
	}
	p := Projection{Excluded: []AttrPath{{Name: "members"}}}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendGroup(buf[:0], g, p, "https://app.example.com/scim/v2")
	}
	b.SetBytes(int64(len(buf)))
}
