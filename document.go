package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DocumentFormat is the format [MarshalUserDocument] and
// [MarshalGroupDocument] write.
//
// A document is the stable encoding of a User or Group for a host's
// document column (a jsonb or TEXT column beside the columns the host
// indexes), so that what the host has no column for (a phone number, an
// extension attribute, an attribute a client made up) is kept, and read
// back after the host or this package is upgraded: the Unmarshal functions
// of this and every later version of the package read every format up to
// theirs. json.Marshal of a *User is no such encoding: it writes Go field
// names, which change.
//
// Format 1 is a JSON object,
//
//	{"format":1,"resource":{...}}
//
// whose resource is the resource's SCIM JSON form (RFC 7643 §4.1 and §8.2
// for users, §4.2 and §8.4 for groups) as the handler writes it: id, every
// attribute, Extra's attributes as they were sent, and meta (resourceType,
// created, lastModified, version) without location. A host may query it
// with SQL as any SCIM resource (resource.userName, resource.emails). Not
// in a document: a user's password (write-only: keep a hash in a column of
// its own, or nothing), and a user's groups, which a store derives from
// the memberships it stores.
const DocumentFormat = 1

var errNilDocument = errors.New("nil resource")

// The projections of a document: every attribute but the derived ones.
var (
	userDocumentProjection  = Projection{Excluded: []AttrPath{{Name: "groups"}, {Name: "meta", Sub: "location"}}}
	groupDocumentProjection = Projection{Excluded: []AttrPath{{Name: "meta", Sub: "location"}}}
)

// MarshalUserDocument returns u's document (see [DocumentFormat]). The
// bytes are deterministic: the same user always encodes the same way. It
// fails only for a nil user.
func MarshalUserDocument(u *User) ([]byte, error) {
	if u == nil {
		return nil, fmt.Errorf("scim: MarshalUserDocument: %w", errNilDocument)
	}
	b := append(make([]byte, 0, 512), `{"format":1,"resource":`...)
	b = appendUser(b, u, userDocumentProjection, "")
	return append(b, '}'), nil
}

// MarshalGroupDocument returns g's document (see [DocumentFormat]), its
// members included. It fails only for a nil group.
func MarshalGroupDocument(g *Group) ([]byte, error) {
	if g == nil {
		return nil, fmt.Errorf("scim: MarshalGroupDocument: %w", errNilDocument)
	}
	b := append(make([]byte, 0, 256+64*len(g.Members)), `{"format":1,"resource":`...)
	b = appendGroup(b, g, groupDocumentProjection, "")
	return append(b, '}'), nil
}

// UnmarshalUserDocument reads a document MarshalUserDocument wrote, of any
// format up to [DocumentFormat], into a new User: ID, Meta and every
// attribute; Password and Groups are empty. It fails for bytes that are no
// such document, and for a document of a later format than this version
// of the package reads.
func UnmarshalUserDocument(data []byte) (*User, error) {
	res, head, err := openDocument(data)
	if err != nil {
		return nil, fmt.Errorf("scim: UnmarshalUserDocument: %w", err)
	}
	u, err := decodeUser(res, documentDecode)
	if err != nil {
		return nil, fmt.Errorf("scim: UnmarshalUserDocument: %w", err)
	}
	u.ID, u.Meta = head.ID, head.meta()
	return u, nil
}

// UnmarshalGroupDocument reads a document MarshalGroupDocument wrote, as
// UnmarshalUserDocument does.
func UnmarshalGroupDocument(data []byte) (*Group, error) {
	res, head, err := openDocument(data)
	if err != nil {
		return nil, fmt.Errorf("scim: UnmarshalGroupDocument: %w", err)
	}
	g, err := decodeGroup(res, documentDecode)
	if err != nil {
		return nil, fmt.Errorf("scim: UnmarshalGroupDocument: %w", err)
	}
	g.ID, g.Meta = head.ID, head.meta()
	return g, nil
}

// documentDecode reads documents as the handler reads requests, leniently
// (a document of an older format may hold what a stricter reading would
// refuse), with room for the deepest Extra a handler may have accepted.
var documentDecode = decodeOptions{maxDepth: 1 << 10}

// documentHead is what a document's resource holds that the request
// decoder ignores as read-only.
type documentHead struct {
	ID   string `json:"id"`
	Meta struct {
		Created      time.Time `json:"created"`
		LastModified time.Time `json:"lastModified"`
		Version      string    `json:"version"`
	} `json:"meta"`
}

func (h *documentHead) meta() Meta {
	v := h.Meta.Version
	if strings.HasPrefix(v, `W/"`) && strings.HasSuffix(v, `"`) && len(v) >= 4 {
		v = v[3 : len(v)-1]
	}
	return Meta{Created: h.Meta.Created, LastModified: h.Meta.LastModified, Version: v}
}

// openDocument checks a document's format and returns its resource and the
// resource's id and meta.
func openDocument(data []byte) (json.RawMessage, *documentHead, error) {
	var doc struct {
		Format   int             `json:"format"`
		Resource json.RawMessage `json:"resource"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("not a document: %w", err)
	}
	switch {
	case doc.Format == 0 || len(doc.Resource) == 0:
		return nil, nil, errors.New(`not a document: no "format" and "resource"`)
	case doc.Format > DocumentFormat:
		return nil, nil, fmt.Errorf("document format %d is newer than this version of the package reads (%d): upgrade github.com/scimhost/scim", doc.Format, DocumentFormat)
	case doc.Format < 0:
		return nil, nil, fmt.Errorf("not a document: format %d", doc.Format)
	}
	head := &documentHead{}
	if err := json.Unmarshal(doc.Resource, head); err != nil {
		return nil, nil, fmt.Errorf("not a document: %w", err)
	}
	return doc.Resource, head, nil
}
