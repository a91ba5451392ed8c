package sqlstore

import (
	"encoding/json"

	"github.com/scimhost/scim"
)

// This file maps the parts of a resource that have no column of their own to
// and from the JSON in the doc column. The scim package's codec is the wire
// format and unexported; this one is the storage format, so it may differ
// from the wire (it has no schemas, no meta, and keeps Extra values as
// strings).
//
// Round trips are exact: a nil slice is omitted and an empty one is kept
// as [] (omitzero), so a stored user reads back equal to the one written,
// and Extra values keep their bytes, whitespace included, because they are
// stored as JSON strings rather than re-encoded (encoding/json compacts a
// json.RawMessage). The exception is invalid UTF-8, in a string or an
// Extra value, which encoding/json writes as U+FFFD (see putWritten).

type userDoc struct {
	Name              nameDoc           `json:"name,omitzero"`
	DisplayName       string            `json:"displayName,omitempty"`
	NickName          string            `json:"nickName,omitempty"`
	ProfileURL        string            `json:"profileUrl,omitempty"`
	Title             string            `json:"title,omitempty"`
	UserType          string            `json:"userType,omitempty"`
	PreferredLanguage string            `json:"preferredLanguage,omitempty"`
	Locale            string            `json:"locale,omitempty"`
	Timezone          string            `json:"timezone,omitempty"`
	Emails            []multiDoc        `json:"emails,omitzero"`
	PhoneNumbers      []multiDoc        `json:"phoneNumbers,omitzero"`
	IMs               []multiDoc        `json:"ims,omitzero"`
	Photos            []multiDoc        `json:"photos,omitzero"`
	Addresses         []addressDoc      `json:"addresses,omitzero"`
	Entitlements      []multiDoc        `json:"entitlements,omitzero"`
	Roles             []multiDoc        `json:"roles,omitzero"`
	X509Certificates  []multiDoc        `json:"x509Certificates,omitzero"`
	Enterprise        *enterpriseDoc    `json:"enterprise,omitzero"`
	Extra             map[string]string `json:"extra,omitzero"`
}

// nameDoc, multiDoc, addressDoc and managerDoc have the fields of their scim
// counterparts in the same order, so a conversion copies them.

type nameDoc struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

type multiDoc struct {
	Value   string `json:"value,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
	// NotPrimary keeps a "primary": false the client sent.
	NotPrimary bool `json:"notPrimary,omitempty"`
}

type addressDoc struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       bool   `json:"primary,omitempty"`
	NotPrimary    bool   `json:"notPrimary,omitempty"`
}

type enterpriseDoc struct {
	EmployeeNumber string      `json:"employeeNumber,omitempty"`
	CostCenter     string      `json:"costCenter,omitempty"`
	Organization   string      `json:"organization,omitempty"`
	Division       string      `json:"division,omitempty"`
	Department     string      `json:"department,omitempty"`
	Manager        *managerDoc `json:"manager,omitzero"`
}

type managerDoc struct {
	Value       string `json:"value,omitempty"`
	Ref         string `json:"$ref,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

type groupDoc struct {
	Extra map[string]string `json:"extra,omitzero"`
}

// convert maps a slice element by element, keeping nil apart from empty.
func convert[A, B any](s []A, f func(A) B) []B {
	if s == nil {
		return nil
	}
	out := make([]B, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

func toMultiDoc(v scim.MultiValue) multiDoc    { return multiDoc(v) }
func fromMultiDoc(v multiDoc) scim.MultiValue  { return scim.MultiValue(v) }
func toAddressDoc(v scim.Address) addressDoc   { return addressDoc(v) }
func fromAddressDoc(v addressDoc) scim.Address { return scim.Address(v) }
func toExtra(m map[string]json.RawMessage) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func fromExtra(m map[string]string) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		if v != "" {
			out[k] = json.RawMessage(v)
		} else {
			out[k] = nil
		}
	}
	return out
}

// encodeUser returns the doc column of u: everything but the attributes
// that have columns (id, userName, externalId, active, meta), the read-only
// groups (kept in scim_group_members) and the write-only password, which
// this store never keeps.
func encodeUser(u *scim.User) ([]byte, error) {
	d := userDoc{
		Name:              nameDoc(u.Name),
		DisplayName:       u.DisplayName,
		NickName:          u.NickName,
		ProfileURL:        u.ProfileURL,
		Title:             u.Title,
		UserType:          u.UserType,
		PreferredLanguage: u.PreferredLanguage,
		Locale:            u.Locale,
		Timezone:          u.Timezone,
		Emails:            convert(u.Emails, toMultiDoc),
		PhoneNumbers:      convert(u.PhoneNumbers, toMultiDoc),
		IMs:               convert(u.IMs, toMultiDoc),
		Photos:            convert(u.Photos, toMultiDoc),
		Addresses:         convert(u.Addresses, toAddressDoc),
		Entitlements:      convert(u.Entitlements, toMultiDoc),
		Roles:             convert(u.Roles, toMultiDoc),
		X509Certificates:  convert(u.X509Certificates, toMultiDoc),
		Extra:             toExtra(u.Extra),
	}
	if e := u.Enterprise; e != nil {
		d.Enterprise = &enterpriseDoc{
			EmployeeNumber: e.EmployeeNumber,
			CostCenter:     e.CostCenter,
			Organization:   e.Organization,
			Division:       e.Division,
			Department:     e.Department,
		}
		if m := e.Manager; m != nil {
			md := managerDoc(*m)
			d.Enterprise.Manager = &md
		}
	}
	return json.Marshal(d)
}

// decodeUser fills the attributes of u that live in the doc column.
func decodeUser(b []byte, u *scim.User) error {
	var d userDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	u.Name = scim.Name(d.Name)
	u.DisplayName = d.DisplayName
	u.NickName = d.NickName
	u.ProfileURL = d.ProfileURL
	u.Title = d.Title
	u.UserType = d.UserType
	u.PreferredLanguage = d.PreferredLanguage
	u.Locale = d.Locale
	u.Timezone = d.Timezone
	u.Emails = convert(d.Emails, fromMultiDoc)
	u.PhoneNumbers = convert(d.PhoneNumbers, fromMultiDoc)
	u.IMs = convert(d.IMs, fromMultiDoc)
	u.Photos = convert(d.Photos, fromMultiDoc)
	u.Addresses = convert(d.Addresses, fromAddressDoc)
	u.Entitlements = convert(d.Entitlements, fromMultiDoc)
	u.Roles = convert(d.Roles, fromMultiDoc)
	u.X509Certificates = convert(d.X509Certificates, fromMultiDoc)
	u.Extra = fromExtra(d.Extra)
	u.Enterprise = nil
	if e := d.Enterprise; e != nil {
		u.Enterprise = &scim.EnterpriseUser{
			EmployeeNumber: e.EmployeeNumber,
			CostCenter:     e.CostCenter,
			Organization:   e.Organization,
			Division:       e.Division,
			Department:     e.Department,
		}
		if m := e.Manager; m != nil {
			sm := scim.Manager(*m)
			u.Enterprise.Manager = &sm
		}
	}
	return nil
}

// encodeGroup returns the doc column of g: its Extra attributes; every
// other attribute has a column or, for members, a table.
func encodeGroup(g *scim.Group) ([]byte, error) {
	return json.Marshal(groupDoc{Extra: toExtra(g.Extra)})
}

func decodeGroup(b []byte, g *scim.Group) error {
	var d groupDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	g.Extra = fromExtra(d.Extra)
	return nil
}
