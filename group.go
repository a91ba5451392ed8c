package scim

import "encoding/json"

// Group is a SCIM Group (RFC 7643 §4.2).
//
// The zero value is a valid, empty group. Like [User] it is a plain value:
// a Store copies what it keeps ([Group.Clone]).
type Group struct {
	// ID is the service provider's identifier, assigned by the Store on create.
	ID string
	// ExternalID is the client's identifier (Entra sends the group's objectId).
	ExternalID string
	// DisplayName is required. RFC 7643 does not make it unique, but Entra ID
	// matches groups by it, so the stores in this module keep it unique
	// (case-insensitively) and answer ErrConflict.
	DisplayName string
	// Members are the group's direct members. A Store that was asked for a
	// group without members (see [Projection]) may leave it nil.
	Members []Member
	// Extra holds attributes the model does not name, kept and returned
	// unchanged, as for [User.Extra].
	Extra map[string]json.RawMessage
	Meta  Meta
}

// Member is one member of a group.
type Member struct {
	Value   string // the member's id
	Ref     string // "$ref": the member's URI; the handler fills it when empty
	Display string
	Type    string // "User" or "Group"
}

// Clone returns a deep copy of g; nil for nil.
func (g *Group) Clone() *Group {
	if g == nil {
		return nil
	}
	c := *g
	c.Members = cloneSlice(g.Members)
	c.Extra = cloneExtra(g.Extra)
	return &c
}
