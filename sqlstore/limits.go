package sqlstore

import (
	"fmt"
	"net/http"

	"github.com/scimhost/scim"
)

// MaxIndexedBytes is the longest value, in bytes of UTF-8, the store keeps
// of an attribute it indexes: a user's userName, externalId and email
// values, a group's displayName, externalId and member values. A longer
// value is refused with a 400 invalidValue *scim.Error naming the
// attribute and this limit, on both dialects, rather than failing in
// PostgreSQL's B-tree (whose entries are limited to about 2,700 bytes,
// tenant included; an incompressible 3,000-character value used to answer
// 500) or being accepted by one database and not the other. Real values
// are far shorter: Entra ID caps a userPrincipalName at 113 characters and
// a group's displayName at 256, and an email address has at most 254.
// Tenant ids, which share the index entries, should stay under 256 bytes.
const MaxIndexedBytes = 2048

func tooLong(attr string, v string) error {
	return &scim.Error{Status: http.StatusBadRequest, Type: scim.InvalidValue,
		Detail: fmt.Sprintf("%s is %d bytes long; this server stores at most %d bytes", attr, len(v), MaxIndexedBytes)}
}

func checkUserLengths(u *scim.User) error {
	switch {
	case len(u.UserName) > MaxIndexedBytes:
		return tooLong("userName", u.UserName)
	case len(u.ExternalID) > MaxIndexedBytes:
		return tooLong("externalId", u.ExternalID)
	}
	for _, e := range u.Emails {
		if len(e.Value) > MaxIndexedBytes {
			return tooLong("emails.value", e.Value)
		}
	}
	return nil
}

func checkGroupLengths(g *scim.Group) error {
	switch {
	case len(g.DisplayName) > MaxIndexedBytes:
		return tooLong("displayName", g.DisplayName)
	case len(g.ExternalID) > MaxIndexedBytes:
		return tooLong("externalId", g.ExternalID)
	}
	return checkMemberLengths(g.Members)
}

func checkMemberLengths(ms []scim.Member) error {
	for _, m := range ms {
		if len(m.Value) > MaxIndexedBytes {
			return tooLong("members.value", m.Value)
		}
	}
	return nil
}
