package scim

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// cursor is the position an RFC 9865 cursor carries: a store key (with a
// UserKeysetLister or GroupKeysetLister) or an index (without one).
type cursor struct {
	key      string
	offset   int
	backward bool
	expires  time.Time
}

// cursorVersion is the first byte of every cursor, so that a later format
// is told apart.
const cursorVersion = 1

// Flags of a cursor's payload.
const (
	cursorBackward = 1 << iota
	// cursorKeyset marks a cursor that carries a store key rather than an
	// index, so that one kind is never read as the other (by replicas over
	// stores of different capabilities).
	cursorKeyset
)

// newCursorAEAD returns the AES-256-GCM that seals cursors, keyed by
// HMAC-SHA256(key, label), so that the key a host gives serves this purpose
// only.
func newCursorAEAD(key []byte) cipher.AEAD {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("scimhost RFC 9865 cursor key"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic("scim: AES-256 key: " + err.Error()) // a 32-byte key cannot fail
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("scim: GCM: " + err.Error())
	}
	return aead
}

// sealCursor returns the cursor c for the list query q of resource type
// resource in ctx's tenant, encrypted and authenticated with AES-256-GCM
// whose additional data binds it to that query, tenant and resource type,
// in unpadded base64url. A client can neither read the store's key in it nor
// change it, nor use it elsewhere.
func (h *Handler) sealCursor(ctx context.Context, resource string, q Query, c cursor, keyset bool) string {
	payload := make([]byte, 0, 24+len(c.key))
	var flags byte
	if c.backward {
		flags |= cursorBackward
	}
	if keyset {
		flags |= cursorKeyset
	}
	payload = append(payload, flags)
	payload = binary.AppendVarint(payload, c.expires.Unix())
	payload = binary.AppendUvarint(payload, uint64(c.offset))
	payload = append(payload, c.key...)
	ns := h.cursorAEAD.NonceSize()
	b := make([]byte, 1+ns, 1+ns+len(payload)+h.cursorAEAD.Overhead())
	b[0] = cursorVersion
	_, _ = rand.Read(b[1:]) // crypto/rand.Read never fails since Go 1.24
	b = h.cursorAEAD.Seal(b, b[1:1+ns], payload, cursorAAD(ctx, resource, q))
	return base64.RawURLEncoding.EncodeToString(b)
}

// cursorAAD is what a cursor is bound to: the tenant, the resource type,
// the filter it pages through and the order.
func cursorAAD(ctx context.Context, resource string, q Query) []byte {
	t, _ := TenantFrom(ctx)
	var b []byte
	order := q.SortBy.String()
	if q.Descending {
		order += " descending"
	}
	for _, s := range [...]string{t.ID, resource, filterText(q.Filter), order} {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	return b
}

func filterText(f Filter) string {
	if f == nil {
		return ""
	}
	return f.String()
}

// openCursor checks and decodes a cursor a client sent for q; keyset says
// what kind of position the handler expects.
func (h *Handler) openCursor(ctx context.Context, resource string, q Query, s string, keyset bool) (cursor, error) {
	var c cursor
	invalid := func(why string) error {
		return errorf(http.StatusBadRequest, InvalidCursor, "cursor is invalid: "+why+"; send an empty cursor for the first page and the nextCursor or previousCursor of a response for the others (RFC 9865)")
	}
	ns := h.cursorAEAD.NonceSize()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 1+ns+h.cursorAEAD.Overhead() || b[0] != cursorVersion {
		return c, invalid("it is not a cursor this server issued")
	}
	payload, err := h.cursorAEAD.Open(nil, b[1:1+ns], b[1+ns:], cursorAAD(ctx, resource, q))
	if err != nil || len(payload) < 1 || (payload[0]&cursorKeyset != 0) != keyset {
		return c, invalid("it was not issued for this query, resource type and tenant by this server")
	}
	rest := payload[1:]
	exp, n := binary.Varint(rest)
	if n <= 0 {
		return c, invalid("it is malformed")
	}
	rest = rest[n:]
	off, n := binary.Uvarint(rest)
	if n <= 0 || off > 1<<31 {
		return c, invalid("it is malformed")
	}
	c.backward = payload[0]&cursorBackward != 0
	c.offset = int(off)
	c.key = string(rest[n:])
	c.expires = time.Unix(exp, 0)
	if time.Now().After(c.expires) {
		return c, errorf(http.StatusBadRequest, ExpiredCursor, fmt.Sprintf("cursor has expired: a cursor lasts %s (cursorTimeout in /ServiceProviderConfig); start again with an empty cursor", h.opts.CursorTimeout))
	}
	return c, nil
}

// cursorPage is one page of a cursor walk, as the handler answers it.
type cursorPage[T any] struct {
	resources  []T
	total      int
	next, prev string // sealed cursors; "" for none
}

// listByCursor serves a cursor request: raw is the cursor the client sent
// ("" for the first page).
func (rt *resourceType[T]) listByCursor(ctx context.Context, q Query, raw string) (cursorPage[T], error) {
	h := rt.h
	// A sorted walk pages by index: the key order is the store's creation
	// order, not the client's sort (RFC 9865 §2.2 asks for sorted pages).
	keyset := rt.keyset != nil && q.SortBy.Name == ""
	var c cursor
	if raw != "" {
		var err error
		if c, err = h.openCursor(ctx, rt.name, q, raw, keyset); err != nil {
			return cursorPage[T]{}, err
		}
	}
	expires := time.Now().Add(h.opts.CursorTimeout)
	seal := func(n cursor) string {
		n.expires = expires
		return h.sealCursor(ctx, rt.name, q, n, keyset)
	}
	var out cursorPage[T]
	if keyset {
		p, err := rt.keyset(ctx, q, Keyset{Key: c.key, Backward: c.backward})
		if err != nil {
			return out, err
		}
		if len(p.Resources) > q.Count {
			p.Resources = p.Resources[:q.Count]
		}
		out.resources, out.total = p.Resources, p.TotalResults
		if len(p.Resources) > 0 {
			forwardMore := p.More
			backMore := c.key != ""
			if c.backward {
				forwardMore, backMore = c.key != "", p.More
			}
			if forwardMore {
				out.next = seal(cursor{key: p.Last})
			}
			if backMore {
				out.prev = seal(cursor{key: p.First, backward: true})
			}
		}
		return out, nil
	}
	// Without the keyset capability, or sorted, a cursor is an index.
	q.StartIndex = c.offset + 1
	p, err := rt.list(ctx, q)
	if err != nil {
		return out, err
	}
	if len(p.Resources) > q.Count {
		p.Resources = p.Resources[:q.Count]
	}
	out.resources, out.total = p.Resources, p.TotalResults
	if end := c.offset + len(p.Resources); end < p.TotalResults && len(p.Resources) > 0 {
		out.next = seal(cursor{offset: end})
	}
	if c.offset > 0 {
		out.prev = seal(cursor{offset: max(0, c.offset-q.Count)})
	}
	return out, nil
}

// appendCursorList appends a ListResponse of a cursor page (RFC 9865 §3):
// no startIndex, nextCursor and previousCursor when there are such pages.
func appendCursorList[T any](b []byte, p cursorPage[T], appendItem func([]byte, T) []byte) []byte {
	b = append(b, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(p.total), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(len(p.resources)), 10)
	if p.next != "" {
		b = append(b, `,"nextCursor":`...)
		b = appendJSONString(b, p.next)
	}
	if p.prev != "" {
		b = append(b, `,"previousCursor":`...)
		b = appendJSONString(b, p.prev)
	}
	b = append(b, `,"Resources":[`...)
	for i, v := range p.resources {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, v)
	}
	return append(b, "]}"...)
}
