package scim

import (
	"encoding/json"
	"time"
)

// Schema URNs of the resources this package models (RFC 7643 §8.7.1).
const (
	UserSchema           = "urn:ietf:params:scim:schemas:core:2.0:User"
	EnterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	GroupSchema          = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// Meta is the part of a resource's "meta" attribute (RFC 7643 §3.1) that a Store keeps.
// The handler derives resourceType and location itself.
//
// The Store sets every field: Created once, LastModified and Version on every write.
// Version is opaque to the handler, which sends it as a weak ETag (W/"<Version>");
// an empty Version means the store does not version the resource, and then
// If-Match can never be satisfied.
type Meta struct {
	Created      time.Time
	LastModified time.Time
	Version      string
}

// User is a SCIM User (RFC 7643 §4.1) with the Enterprise User extension (§4.3).
//
// A string that is empty and a slice that is nil are absent: SCIM treats an
// unassigned attribute and one set to null alike (RFC 7643 §2.5), so the
// model does not tell them apart.
//
// The zero value is a valid, empty user. A User is a plain value: it is not
// safe for concurrent mutation, and a Store must not keep a pointer it was
// handed (copy it with [User.Clone]).
type User struct {
	// ID is the service provider's identifier, assigned by the Store on create.
	// It is the user's identity: a change of userName or email never changes it.
	ID string
	// ExternalID is the client's identifier (Entra's default mapping sends
	// mailNickname here; it is not necessarily a GUID). Case-exact.
	ExternalID string
	// UserName is required and unique, compared case-insensitively.
	UserName string

	Name              Name
	DisplayName       string
	NickName          string
	ProfileURL        string
	Title             string
	UserType          string
	PreferredLanguage string
	Locale            string
	Timezone          string

	// Active is whether the user may sign in. A create or replace that does not
	// send "active" makes the user active, as every client this package serves
	// expects; deactivation is always an explicit active=false. An unassigned
	// active means active, however it came to be unassigned: a PATCH
	// {"op":"remove","path":"active"} (RFC 7644 §3.5.2.2) leaves the user
	// active, as a PUT without active does, and responses say "active": true.
	Active bool

	// Password is write-only (RFC 7643 §4.1.1): it is decoded from requests and
	// handed to the Store, and never returned. A Store that does not manage
	// passwords ignores it.
	Password string

	Emails           []MultiValue
	PhoneNumbers     []MultiValue
	IMs              []MultiValue
	Photos           []MultiValue
	Addresses        []Address
	Entitlements     []MultiValue
	Roles            []MultiValue
	X509Certificates []MultiValue

	// Groups is read-only: the groups the user is a direct member of, filled
	// by the Store when it can. Values sent by a client are ignored.
	Groups []GroupRef

	// Enterprise holds the Enterprise User extension; nil when the user has none.
	Enterprise *EnterpriseUser

	// Extra holds the top-level attributes the model does not name, keyed as
	// the client sent them (for example a custom extension
	// "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"), each value the
	// raw JSON. They are stored and returned unchanged.
	Extra map[string]json.RawMessage

	Meta Meta
}

// Name is the components of a user's real name (RFC 7643 §4.1.1).
type Name struct {
	Formatted       string
	FamilyName      string
	GivenName       string
	MiddleName      string
	HonorificPrefix string
	HonorificSuffix string
}

// IsZero reports whether no component of the name is set.
func (n Name) IsZero() bool { return n == Name{} }

// MultiValue is one value of a multi-valued attribute with the standard
// sub-attributes (RFC 7643 §2.4): emails, phoneNumbers, ims, photos,
// entitlements, roles and x509Certificates.
type MultiValue struct {
	Value   string
	Display string
	Type    string
	// Primary marks the preferred value; at most one value of an attribute
	// has it (RFC 7643 §2.4).
	Primary bool
	// NotPrimary records that the client assigned "primary": false, which
	// RFC 7643 §2.5 distinguishes from leaving primary unassigned (only null
	// and [] are unassigned): it is stored and returned as sent. It is never
	// set together with Primary.
	NotPrimary bool
}

// Address is one value of a user's addresses (RFC 7643 §4.1.2).
type Address struct {
	Formatted     string
	StreetAddress string
	Locality      string
	Region        string
	PostalCode    string
	Country       string
	Type          string
	Primary       bool
	// NotPrimary is MultiValue.NotPrimary: "primary": false as sent.
	NotPrimary bool
}

// GroupRef is one value of a user's read-only "groups" attribute.
type GroupRef struct {
	Value   string // the group's id
	Ref     string // "$ref": the group's URI; the handler fills it when empty
	Display string
	Type    string // "direct" or "indirect"
}

// EnterpriseUser is the Enterprise User extension (RFC 7643 §4.3).
type EnterpriseUser struct {
	EmployeeNumber string
	CostCenter     string
	Organization   string
	Division       string
	Department     string
	// Manager is nil when the user has no manager.
	Manager *Manager
}

// IsZero reports whether no attribute of the extension is set.
func (e *EnterpriseUser) IsZero() bool {
	return e == nil || (*e == EnterpriseUser{})
}

// Manager is a reference to another User (RFC 7643 §4.3). Entra ID sends it in
// several shapes; the handler always returns it in this complex form.
type Manager struct {
	Value       string // the manager's id
	Ref         string // "$ref"
	DisplayName string // read-only
}

// Clone returns a deep copy of u; nil for nil.
func (u *User) Clone() *User {
	if u == nil {
		return nil
	}
	c := *u
	c.Emails = cloneSlice(u.Emails)
	c.PhoneNumbers = cloneSlice(u.PhoneNumbers)
	c.IMs = cloneSlice(u.IMs)
	c.Photos = cloneSlice(u.Photos)
	c.Addresses = cloneSlice(u.Addresses)
	c.Entitlements = cloneSlice(u.Entitlements)
	c.Roles = cloneSlice(u.Roles)
	c.X509Certificates = cloneSlice(u.X509Certificates)
	c.Groups = cloneSlice(u.Groups)
	if u.Enterprise != nil {
		e := *u.Enterprise
		if e.Manager != nil {
			m := *e.Manager
			e.Manager = &m
		}
		c.Enterprise = &e
	}
	c.Extra = cloneExtra(u.Extra)
	return &c
}

// PrimaryEmail returns the value of the email marked primary, else the first
// email of type "work", else the first email; "" when the user has none.
func (u *User) PrimaryEmail() string {
	for _, e := range u.Emails {
		if e.Primary {
			return e.Value
		}
	}
	for _, e := range u.Emails {
		if e.Type == "work" {
			return e.Value
		}
	}
	if len(u.Emails) > 0 {
		return u.Emails[0].Value
	}
	return ""
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

func cloneExtra(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	c := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		c[k] = append(json.RawMessage(nil), v...)
	}
	return c
}
