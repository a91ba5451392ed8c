package scim

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file writes Users and Groups as JSON responses: hand-written
// appenders, no reflection, attribute names in RFC 7643's case, in the
// stable order of the attribute tables (attrtable.go). The rules, for hosts
// and for the handler:
//
//   - Absent values are omitted: no null, no "", no [], no {} (Entra ID
//     reads responses strictly and refuses nulls;
//     docs/clients.md#create-bodies-and-responses), and
//     a primary that is false is not written. Two exceptions: a user's
//     "active" is always written, true or false (docs/clients.md#users step 7: the
//     Validator fails when a disabled user lacks it), and a group's
//     "members" is written as [] when the client wants members and the group
//     has none, as Entra ID's own example response to a group create shows
//     (docs/clients.md#groups, step 1).
//   - "schemas" lists the core schema, the Enterprise schema when the
//     Enterprise object is in the body, and the custom extension schemas of
//     the Extra keys in the body: a URN key whose value is an object is a
//     schema's object; a URN key whose value is not an object is an
//     attribute qualified by its schema, everything before the key's last
//     colon.
//   - Extra keys are written after the Enterprise object, sorted, each value
//     as stored but without nulls; a value that is not valid JSON, or is
//     unassigned ("", [], {}), or whose key names an attribute of the model,
//     is skipped.
//   - password is never written (RFC 7643 §4.1.1, returned "never").
//   - $ref is built from baseURL when the model's is empty and baseURL is
//     not: baseURL+"/Groups/"+value for a user's groups and for members of
//     type "Group", baseURL+"/Users/"+value for other members and for the
//     manager. meta.location is baseURL+"/Users/"+id (relative when baseURL
//     is ""); ids are path-escaped.
//   - meta holds resourceType, created and lastModified (RFC 3339, UTC, at
//     the precision of the stored time; omitted when zero), location, and
//     version as a weak ETag W/"<Version>" when Version is set.
//
// Projection (RFC 7644 §3.4.2.5): "schemas" and "id" are always written.
// With Attributes set, only the named attributes are written; a
// sub-attribute (name.givenName, emails.value) writes the attribute with
// those sub-attributes only; naming the Enterprise URN writes all of its
// attributes. meta is returned by default like any other attribute, so
// attributes=id returns schemas and id alone, which is what Entra ID's
// "id eq X and manager eq Y&attributes=id" check expects (docs/clients.md#filters).
// Excluded removes attributes or sub-attributes, never id. Names compare
// case-insensitively; Enterprise attributes may be qualified or not.
// Extra keys are projected whole: a key is written when an attribute names
// it, a custom extension object when an attribute inside it is named, and
// an attribute of a named extension schema. Within the object of a
// declared extension (Options.Extensions; see withExtensions), attributes=urn:...:name keeps
// only the named members and excludedAttributes=urn:...:name removes them.

// userMask says, for each uattr, which parts of it to write: bit i for
// sub-attribute i of a complex attribute, bit 0 for a simple one, zero for
// none.
type userMask [numUserAttrs]uint16

// groupMask is userMask for Group.
type groupMask [numGroupAttrs]uint16

func fullMask(subs []string) uint16 {
	if len(subs) == 0 {
		return 1
	}
	return 1<<len(subs) - 1
}

// allUser and allGroup are the masks of the zero Projection: everything
// returned by default.
var (
	allUser  = compileUserMask(Projection{})
	allGroup = compileGroupMask(Projection{})
)

// userPathAttrs resolves a projection path to the range of uattrs it
// names (all the Enterprise attributes for the Enterprise URN) and the
// sub-attribute, -1 for the whole attribute, -2 for an unknown one.
func userPathAttrs(p AttrPath) (lo, hi uattr, sub int) {
	a := userAttrOfPath(p)
	switch {
	case a == uaUnknown:
		return 1, 0, -2 // empty range
	case a == uaEnterprise:
		if p.Sub != "" {
			var buf [maxKeyLen]byte
			lsub, _ := lowerASCII(&buf, p.Sub)
			if ea := enterpriseAttr(lsub); ea != uaUnknown {
				return ea, ea, -1
			}
			return 1, 0, -2
		}
		return uaEnterprise + 1, uaEnterprise + enterpriseAttrCount, -1
	case p.Sub == "":
		return a, a, -1
	}
	if i := indexFold(userAttrs[a].subs, p.Sub); i >= 0 {
		return a, a, i
	}
	return a, a, -2
}

// enterpriseAttrCount is how many Enterprise attributes follow the
// Enterprise object's entry in userAttrs.
var enterpriseAttrCount = func() uattr {
	n := uattr(0)
	for uaEnterprise+n+1 < numUserAttrs && userAttrs[uaEnterprise+n+1].urn == EnterpriseUserSchema {
		n++
	}
	return n
}()

func compileUserMask(p Projection) userMask {
	var m userMask
	compileMask(m[:], &userMaskBase, p, userPathAttrs)
	return m
}

func groupPathAttr(p AttrPath) (lo, hi gattr, sub int) {
	a := groupAttrOfPath(p)
	switch {
	case a == gaUnknown:
		return 1, 0, -2
	case p.Sub == "":
		return a, a, -1
	}
	if i := indexFold(groupAttrs[a].subs, p.Sub); i >= 0 {
		return a, a, i
	}
	return a, a, -2
}

func compileGroupMask(p Projection) groupMask {
	var m groupMask
	compileMask(m[:], &groupMaskBase, p, groupPathAttr)
	return m
}

// maskBase is what compileMask derives from an attribute table once: the
// mask of each attribute with all its sub-attributes, and the masks no
// projection changes.
type maskBase struct {
	full   []uint16
	forced []forcedMask
}

type forcedMask struct {
	a    int
	mask uint16
}

var (
	userMaskBase  = newMaskBase(userAttrs[:])
	groupMaskBase = newMaskBase(groupAttrs[:])
)

func newMaskBase[R any](t []attrEntry[R]) maskBase {
	var mb maskBase
	for a := range t {
		e := &t[a]
		mb.full = append(mb.full, fullMask(e.subs))
		switch {
		case e.kind == akSchemas || e.kind == akNone:
			mb.forced = append(mb.forced, forcedMask{a, 1}) // the encoder writes schemas first, always
		case e.kind == akEnterprise:
			mb.forced = append(mb.forced, forcedMask{a, 0}) // its attributes' masks say what to write
		case e.def.returned == returnedAlways: // id
			mb.forced = append(mb.forced, forcedMask{a, 1})
		case e.def.returned == returnedNever: // password
			mb.forced = append(mb.forced, forcedMask{a, 0})
		}
	}
	return mb
}

// compileMask fills m, indexed as the attribute table of mb, for p; resolve
// maps a path to the attributes it names (lo to hi, an empty range for
// none) and the sub-attribute (-1 for all, -2 for an unknown one).
func compileMask[A uattr | gattr](m []uint16, mb *maskBase, p Projection, resolve func(AttrPath) (lo, hi A, sub int)) {
	if len(p.Attributes) == 0 {
		copy(m, mb.full)
	} else {
		for _, x := range p.Attributes {
			lo, hi, sub := resolve(x)
			for a := lo; a <= hi && a >= lo; a++ {
				switch {
				case sub == -1:
					m[a] = mb.full[a]
				case sub >= 0:
					m[a] |= 1 << sub
				}
			}
		}
	}
	for _, x := range p.Excluded {
		lo, hi, sub := resolve(x)
		for a := lo; a <= hi && a >= lo; a++ {
			switch {
			case sub == -1:
				m[a] = 0
			case sub >= 0:
				m[a] &^= 1 << sub
			}
		}
	}
	for _, f := range mb.forced {
		m[f.a] = f.mask
	}
}

// appendUser appends u's JSON representation (RFC 7643 §4.1, §8.2) to b,
// honouring the projection p; baseURL (no trailing slash, may be "") builds
// meta.location and the $ref of groups and manager where the model has
// none. See the rules at the top of this file.
func appendUser(b []byte, u *User, p Projection, baseURL string) []byte {
	m := &allUser
	if len(p.Attributes) != 0 || len(p.Excluded) != 0 {
		pm := compileUserMask(p)
		m = &pm
	}
	var extras []extraEntry
	if len(u.Extra) != 0 {
		extras = collectExtra(u.Extra, p, func(k string) bool { return userAttrOf(k) != uaUnknown })
	}
	ent := enterpriseWritten(u.Enterprise, m, baseURL)

	b = append(b, `{"schemas":["`+UserSchema+`"`...)
	if ent {
		b = append(b, `,"`+EnterpriseUserSchema+`"`...)
	}
	listed := ""
	if ent {
		listed = EnterpriseUserSchema
	}
	b = appendExtraSchemas(b, extras, UserSchema, listed)
	b = append(b, ']')
	for _, r := range userRuns {
		switch r.kind {
		case akString:
			for a := r.lo; a < r.hi; a++ {
				// The tests before the calls skip absent attributes
				// as cheaply as code per attribute did.
				if e := &userAttrs[a]; m[a] != 0 {
					if v := *e.str(u); v != "" {
						b = appendField(b, &e.member, v)
					}
				}
			}
		case akBool:
			for a := r.lo; a < r.hi; a++ {
				if m[a] != 0 {
					e := &userAttrs[a]
					b = appendBool(b, &e.member, *e.boolean(u))
				}
			}
		case akMultiValues:
			for a := r.lo; a < r.hi; a++ {
				if e, mk := &userAttrs[a], m[a]; mk != 0 {
					if vs := *e.multi(u); len(vs) != 0 {
						b = appendMultiValues(b, &e.open, vs, mk)
					}
				}
			}
		case akName:
			if mk := m[r.lo]; mk != 0 && !u.Name.IsZero() {
				b = appendName(b, &u.Name, mk)
			}
		case akAddresses:
			b = appendAddresses(b, u.Addresses, m[r.lo])
		case akGroupRefs:
			b = appendGroupRefs(b, u.Groups, m[r.lo], baseURL)
		case akEnterprise:
			if ent {
				b = appendEnterprise(b, u.Enterprise, m, baseURL)
			}
		}
	}
	b = appendExtras(b, extras)
	if mk := m[uaMeta]; mk != 0 {
		b = appendMeta(b, "User", "/Users/", u.ID, &u.Meta, mk, baseURL)
	}
	return append(b, '}')
}

// appendGroup appends g's JSON representation (RFC 7643 §4.2, §8.4) to b,
// honouring the projection p; baseURL builds meta.location and the $ref of
// members where the model has none. See the rules at the top of this file.
func appendGroup(b []byte, g *Group, p Projection, baseURL string) []byte {
	m := &allGroup
	if len(p.Attributes) != 0 || len(p.Excluded) != 0 {
		pm := compileGroupMask(p)
		m = &pm
	}
	var extras []extraEntry
	if len(g.Extra) != 0 {
		extras = collectExtra(g.Extra, p, func(k string) bool { return groupAttrOf(k) != gaUnknown })
	}
	b = append(b, `{"schemas":["`+GroupSchema+`"`...)
	b = appendExtraSchemas(b, extras, GroupSchema, "")
	b = append(b, ']')
	for a := gaSchemas + 1; a < gaMeta; a++ {
		e := &groupAttrs[a]
		mk := m[a]
		if mk == 0 {
			continue
		}
		switch e.kind {
		case akString:
			b = appendField(b, &e.member, *e.str(g))
		case akBool:
			b = appendBool(b, &e.member, *e.boolean(g))
		case akMembers:
			n := len(b)
			b = appendMembers(b, g.Members, mk, baseURL)
			if len(b) == n {
				// Wanted but empty: [] rather than nothing, as Entra ID's
				// example response shows (docs/clients.md#groups).
				b = append(b, `,"members":[]`...)
			}
		}
	}
	b = appendExtras(b, extras)
	if mk := m[gaMeta]; mk != 0 {
		b = appendMeta(b, "Group", "/Groups/", g.ID, &g.Meta, mk, baseURL)
	}
	return append(b, '}')
}

// attrRun is a run of consecutive attributes of one kind in an attribute
// table, [lo, hi), which the encoder writes in one loop: a switch per run
// rather than one per attribute keeps the encoder as fast as the
// straight-line code per attribute it replaces.
type attrRun struct {
	kind   attrKind
	lo, hi uattr
}

// userRuns are the runs of userAttrs between schemas and meta, which
// appendUser writes in order; the Enterprise attributes are the
// Enterprise object's to write.
var userRuns = func() []attrRun {
	var runs []attrRun
	for a := uaSchemas + 1; a < uaMeta; a++ {
		k := userAttrs[a].kind
		if userAttrs[a].urn != "" {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].kind == k && runs[n-1].hi == a {
			runs[n-1].hi++
			continue
		}
		runs = append(runs, attrRun{kind: k, lo: a, hi: a + 1})
	}
	return runs
}()

// appendBool appends key (`,"name":`) and the boolean v, which is always
// written: the model cannot tell false from unset (User.Active).
func appendBool(b []byte, key *attrKey, v bool) []byte {
	b = key.appendTo(b)
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendField appends key (`,"name":`) and the string v, unless v is "".
func appendField(b []byte, key *attrKey, v string) []byte {
	if v == "" {
		return b
	}
	b = key.appendTo(b)
	return appendJSONString(b, v)
}

// appendSub appends one member of a nested object: key (`"name":`) and
// the string v, unless v is "" or bit is not in mask. start is where the
// object's members begin, to place the comma.
func appendSub(b []byte, start int, mask, bit uint16, key, v string) []byte {
	if v == "" || mask&bit == 0 {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, key...)
	return appendJSONString(b, v)
}

// appendPrimary appends "primary":true when v, "primary":false when
// notPrimary (a false the client assigned, RFC 7643 §2.5), when wanted.
func appendPrimary(b []byte, start int, mask, bit uint16, v, notPrimary bool) []byte {
	if !(v || notPrimary) || mask&bit == 0 {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	if v {
		return append(b, `"primary":true`...)
	}
	return append(b, `"primary":false`...)
}

// closeOrDrop ends the nested value opened at mark (whose members start at
// start) with end, or removes it when nothing was written into it.
func closeOrDrop(b []byte, mark, start int, end byte) []byte {
	if len(b) == start {
		return b[:mark]
	}
	return append(b, end)
}

func appendName(b []byte, n *Name, mask uint16) []byte {
	mark := len(b)
	b = append(b, `,"name":{`...)
	start := len(b)
	b = appendSub(b, start, mask, 1<<0, `"formatted":`, n.Formatted)
	b = appendSub(b, start, mask, 1<<1, `"familyName":`, n.FamilyName)
	b = appendSub(b, start, mask, 1<<2, `"givenName":`, n.GivenName)
	b = appendSub(b, start, mask, 1<<3, `"middleName":`, n.MiddleName)
	b = appendSub(b, start, mask, 1<<4, `"honorificPrefix":`, n.HonorificPrefix)
	b = appendSub(b, start, mask, 1<<5, `"honorificSuffix":`, n.HonorificSuffix)
	return closeOrDrop(b, mark, start, '}')
}

// appendMultiValues appends key (`,"emails":[`) and the values, each with
// the sub-attributes in mask, or nothing when no value has any.
func appendMultiValues(b []byte, key *attrKey, vs []MultiValue, mask uint16) []byte {
	if len(vs) == 0 || mask == 0 {
		return b
	}
	mark := len(b)
	b = key.appendTo(b)
	start := len(b)
	for i := range vs {
		v := &vs[i]
		em := len(b)
		if len(b) > start {
			b = append(b, ',')
		}
		b = append(b, '{')
		es := len(b)
		b = appendSub(b, es, mask, 1<<0, `"value":`, v.Value)
		b = appendSub(b, es, mask, 1<<1, `"display":`, v.Display)
		b = appendSub(b, es, mask, 1<<2, `"type":`, v.Type)
		b = appendPrimary(b, es, mask, 1<<3, v.Primary, v.NotPrimary)
		b = closeOrDrop(b, em, es, '}')
	}
	return closeOrDrop(b, mark, start, ']')
}

func appendAddresses(b []byte, as []Address, mask uint16) []byte {
	if len(as) == 0 || mask == 0 {
		return b
	}
	mark := len(b)
	b = append(b, `,"addresses":[`...)
	start := len(b)
	for i := range as {
		a := &as[i]
		em := len(b)
		if len(b) > start {
			b = append(b, ',')
		}
		b = append(b, '{')
		es := len(b)
		b = appendSub(b, es, mask, 1<<0, `"formatted":`, a.Formatted)
		b = appendSub(b, es, mask, 1<<1, `"streetAddress":`, a.StreetAddress)
		b = appendSub(b, es, mask, 1<<2, `"locality":`, a.Locality)
		b = appendSub(b, es, mask, 1<<3, `"region":`, a.Region)
		b = appendSub(b, es, mask, 1<<4, `"postalCode":`, a.PostalCode)
		b = appendSub(b, es, mask, 1<<5, `"country":`, a.Country)
		b = appendSub(b, es, mask, 1<<6, `"type":`, a.Type)
		b = appendPrimary(b, es, mask, 1<<7, a.Primary, a.NotPrimary)
		b = closeOrDrop(b, em, es, '}')
	}
	return closeOrDrop(b, mark, start, ']')
}

// appendRef appends "$ref" for a reference sub-attribute: ref when set,
// else baseURL+kind+value when both are set.
func appendRef(b []byte, start int, mask, bit uint16, ref, baseURL, kind, value string) []byte {
	if mask&bit == 0 || (ref == "" && (baseURL == "" || value == "")) {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, `"$ref":`...)
	if ref != "" {
		return appendJSONString(b, ref)
	}
	return appendJSONURL(b, baseURL, kind, value)
}

func appendGroupRefs(b []byte, gs []GroupRef, mask uint16, baseURL string) []byte {
	if len(gs) == 0 || mask == 0 {
		return b
	}
	mark := len(b)
	b = append(b, `,"groups":[`...)
	start := len(b)
	for i := range gs {
		g := &gs[i]
		em := len(b)
		if len(b) > start {
			b = append(b, ',')
		}
		b = append(b, '{')
		es := len(b)
		b = appendSub(b, es, mask, 1<<0, `"value":`, g.Value)
		b = appendRef(b, es, mask, 1<<1, g.Ref, baseURL, "/Groups/", g.Value)
		b = appendSub(b, es, mask, 1<<2, `"display":`, g.Display)
		b = appendSub(b, es, mask, 1<<3, `"type":`, g.Type)
		b = closeOrDrop(b, em, es, '}')
	}
	return closeOrDrop(b, mark, start, ']')
}

// memberKind is the endpoint a member's $ref points to.
func memberKind(typ string) string {
	if strings.EqualFold(typ, "Group") {
		return "/Groups/"
	}
	return "/Users/"
}

func appendMembers(b []byte, ms []Member, mask uint16, baseURL string) []byte {
	if len(ms) == 0 {
		return b
	}
	mark := len(b)
	b = append(b, `,"members":[`...)
	start := len(b)
	for i := range ms {
		m := &ms[i]
		em := len(b)
		if len(b) > start {
			b = append(b, ',')
		}
		b = append(b, '{')
		es := len(b)
		b = appendSub(b, es, mask, 1<<0, `"value":`, m.Value)
		b = appendRef(b, es, mask, 1<<1, m.Ref, baseURL, memberKind(m.Type), m.Value)
		b = appendSub(b, es, mask, 1<<2, `"display":`, m.Display)
		b = appendSub(b, es, mask, 1<<3, `"type":`, m.Type)
		b = closeOrDrop(b, em, es, '}')
	}
	return closeOrDrop(b, mark, start, ']')
}

// managerWritten reports whether appendManager writes anything for mg.
func managerWritten(mg *Manager, mask uint16, baseURL string) bool {
	return mg != nil && ((mask&1 != 0 && mg.Value != "") ||
		(mask&2 != 0 && (mg.Ref != "" || (baseURL != "" && mg.Value != ""))) ||
		(mask&4 != 0 && mg.DisplayName != ""))
}

// enterpriseWritten reports whether appendEnterprise writes anything, so
// that "schemas" can list the extension exactly when its object is there.
func enterpriseWritten(e *EnterpriseUser, m *userMask, baseURL string) bool {
	if e == nil {
		return false
	}
	for a := uaEnterprise + 1; a <= uaEnterprise+enterpriseAttrCount; a++ {
		switch ea := &userAttrs[a]; ea.kind {
		case akEnterpriseString:
			if m[a] != 0 && *ea.ent(e) != "" {
				return true
			}
		case akManager:
			if managerWritten(e.Manager, m[a], baseURL) {
				return true
			}
		}
	}
	return false
}

func appendEnterprise(b []byte, e *EnterpriseUser, m *userMask, baseURL string) []byte {
	mark := len(b)
	b = append(b, `,"`+EnterpriseUserSchema+`":{`...)
	start := len(b)
	for a := uaEnterprise + 1; a <= uaEnterprise+enterpriseAttrCount; a++ {
		ea, mask := &userAttrs[a], m[a]
		if mask == 0 {
			continue
		}
		switch ea.kind {
		case akEnterpriseString:
			if v := *ea.ent(e); v != "" {
				if len(b) > start {
					b = ea.member.appendTo(b)
				} else {
					b = ea.inner.appendTo(b)
				}
				b = appendJSONString(b, v)
			}
		case akManager:
			if !managerWritten(e.Manager, mask, baseURL) {
				continue
			}
			mg := e.Manager
			if len(b) > start {
				b = append(b, ',')
			}
			b = ea.inner.appendTo(b)
			b = append(b, '{')
			ms := len(b)
			b = appendSub(b, ms, mask, 1<<0, `"value":`, mg.Value)
			b = appendRef(b, ms, mask, 1<<1, mg.Ref, baseURL, "/Users/", mg.Value)
			b = appendSub(b, ms, mask, 1<<2, `"displayName":`, mg.DisplayName)
			b = append(b, '}')
		}
	}
	return closeOrDrop(b, mark, start, '}')
}

// appendMeta appends the meta attribute of a resource of the given type.
func appendMeta(b []byte, resourceType, kind, id string, meta *Meta, mask uint16, baseURL string) []byte {
	mark := len(b)
	b = append(b, `,"meta":{`...)
	start := len(b)
	b = appendSub(b, start, mask, 1<<0, `"resourceType":`, resourceType)
	b = appendTime(b, start, mask, 1<<1, `"created":`, meta.Created)
	b = appendTime(b, start, mask, 1<<2, `"lastModified":`, meta.LastModified)
	if mask&(1<<3) != 0 && id != "" {
		if len(b) > start {
			b = append(b, ',')
		}
		b = append(b, `"location":`...)
		b = appendJSONURL(b, baseURL, kind, id)
	}
	if mask&(1<<4) != 0 && meta.Version != "" {
		if len(b) > start {
			b = append(b, ',')
		}
		b = append(b, `"version":"W/\"`...)
		b = appendJSONStringTail(b, meta.Version)
		b = append(b[:len(b)-1], `\""`...)
	}
	return closeOrDrop(b, mark, start, '}')
}

func appendTime(b []byte, start int, mask, bit uint16, key string, t time.Time) []byte {
	if t.IsZero() || mask&bit == 0 {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, key...)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONStringTail appends s escaped and a closing quote: the end of a
// JSON string whose opening quote and first part b already holds.
func appendJSONStringTail(b []byte, s string) []byte {
	n := len(b)
	b = appendJSONString(b, s)
	copy(b[n:], b[n+1:])
	return b[:len(b)-1]
}

// appendJSONURL appends the JSON string base+kind+id, with id escaped as a
// path segment.
func appendJSONURL(b []byte, base, kind, id string) []byte {
	b = appendJSONString(b, base)
	b = append(b[:len(b)-1], kind...)
	if !pathSegmentSafe(id) {
		id = url.PathEscape(id)
	}
	return appendJSONStringTail(b, id)
}

// pathSegmentSafe reports whether s needs no escaping in a URI path
// segment (RFC 3986 pchar).
func pathSegmentSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// extraEntry is one Extra attribute to write.
type extraEntry struct {
	key string
	val []byte
}

// extraLimitDepth bounds the nesting of Extra values on output; values
// came through the decoder's limit, so only a Store's corruption hits it.
const extraLimitDepth = 1000

// collectExtra returns the Extra attributes to write, sorted by key: those
// the projection wants, whose key names no attribute of the model (known
// says which do), whose value is valid JSON and assigned; nulls removed.
func collectExtra(extra map[string]json.RawMessage, p Projection, known func(string) bool) []extraEntry {
	out := make([]extraEntry, 0, len(extra))
	for k, v := range extra {
		if known(k) || !extraWanted(k, p) {
			continue
		}
		r := newReader(v, extraLimitDepth)
		_, hasNull, err := r.rawValue()
		if err != nil || r.end() != nil {
			continue
		}
		if hasNull {
			v = appendWithoutNulls(nil, v)
		}
		if jsonEmpty(v) {
			continue
		}
		out = append(out, extraEntry{key: k, val: trimJSONSpace(v)})
	}
	slices.SortFunc(out, func(a, b extraEntry) int { return strings.Compare(a.key, b.key) })
	return out
}

func trimJSONSpace(v []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(v) > 0 && isSpace(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isSpace(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	return v
}

// extraWanted applies the projection to an Extra key (see the rules at the
// top of this file).
func extraWanted(key string, p Projection) bool {
	for _, x := range p.Excluded {
		if x.Sub == "" && pathCovers(x, key) {
			return false
		}
	}
	if len(p.Attributes) == 0 {
		return true
	}
	for _, a := range p.Attributes {
		// The attribute itself, an attribute of a named extension, or
		// an extension object holding the named attribute.
		if pathCovers(a, key) || (a.URN != "" && strings.EqualFold(a.URN, key)) {
			return true
		}
	}
	return false
}

// pathCovers reports whether the attribute path a names key, or names a
// schema URN that qualifies key, comparing without building the path's key.
func pathCovers(a AttrPath, key string) bool {
	// rest is what of key follows the path's key, if key starts with it.
	rest, ok := key, true
	if a.URN != "" {
		ok = len(rest) > len(a.URN) && rest[len(a.URN)] == ':' && strings.EqualFold(rest[:len(a.URN)], a.URN)
		if ok {
			rest = rest[len(a.URN)+1:]
		}
	}
	if !ok || len(rest) < len(a.Name) || !strings.EqualFold(rest[:len(a.Name)], a.Name) {
		return false
	}
	rest = rest[len(a.Name):]
	return rest == "" || (rest[0] == ':' && isURN(key[:len(key)-len(rest)]))
}

func hasURNPrefix(s string) bool {
	return len(s) >= 4 && strings.EqualFold(s[:4], "urn:")
}

// isURN reports whether s is a URN: "urn:" and more.
func isURN(s string) bool {
	return len(s) > 4 && hasURNPrefix(s)
}

// extraSchema returns the schema URN an Extra entry belongs to, or "".
func extraSchema(e extraEntry) string {
	if !isURN(e.key) {
		return ""
	}
	if e.val[0] == '{' {
		return e.key
	}
	if i := strings.LastIndexByte(e.key, ':'); isURN(e.key[:i]) {
		return e.key[:i]
	}
	return ""
}

// appendExtraSchemas appends to the schemas array the schema URNs of the
// extras, each once, except core and ext (already listed; ext may be "").
func appendExtraSchemas(b []byte, extras []extraEntry, core, ext string) []byte {
	// A few extras are compared pairwise, without allocating; many (a
	// hostile body may carry thousands) go through a map.
	const pairwise = 16
	var seen map[string]bool
	for i, e := range extras {
		s := extraSchema(e)
		if s == "" || equalFoldASCII(s, core) || (ext != "" && equalFoldASCII(s, ext)) {
			continue
		}
		if len(extras) <= pairwise {
			if slices.ContainsFunc(extras[:i], func(o extraEntry) bool { return equalFoldASCII(extraSchema(o), s) }) {
				continue
			}
		} else {
			ls := asciiLower(s)
			if seen[ls] {
				continue
			}
			if seen == nil {
				seen = make(map[string]bool)
			}
			seen[ls] = true
		}
		b = append(b, ',')
		b = appendJSONString(b, s)
	}
	return b
}

func appendExtras(b []byte, extras []extraEntry) []byte {
	for _, e := range extras {
		b = append(b, ',')
		b = appendJSONString(b, e.key)
		b = append(b, ':')
		b = append(b, e.val...)
	}
	return b
}

// maxCachedEncoding is the largest encoded user an EncodingCache keeps: a
// user with thousands of values is rare, and keeping it would double its
// memory for one read.
const maxCachedEncoding = 64 << 10

// appendCached appends the default projection of the user whose cache c
// is, as h encodes it under base: the cached bytes when c holds them for
// h and base, else what enc appends, which c then keeps with the user's
// version (its meta.version).
func (c *EncodingCache) appendCached(b []byte, h *Handler, base, version string, enc func([]byte) []byte) []byte {
	if e := c.hit(h, base); e != nil {
		return append(b, e.body...)
	}
	n := len(b)
	b = enc(b)
	c.fill(h, base, version, b[n:])
	return b
}

// fill keeps a copy of body, the encoding of the user whose version is
// version as h encodes it under base, and returns what c now holds; nil,
// keeping nothing, when body is larger than maxCachedEncoding.
func (c *EncodingCache) fill(h *Handler, base, version string, body []byte) *cachedEncoding {
	if len(body) > maxCachedEncoding {
		return nil
	}
	e := newCachedEncoding(h, base, version, slices.Clone(body))
	c.p.Store(e)
	return e
}

// hit returns what c holds when it is h's encoding under base, else nil.
func (c *EncodingCache) hit(h *Handler, base string) *cachedEncoding {
	if e := c.p.Load(); e != nil && e.owner == h.encOwner && e.base == base {
		return e
	}
	return nil
}

// onePageHeader is the size of the header of a ListResponse of one
// resource out of one from startIndex 1.
var onePageHeader = len(appendListHeader(nil, 1, 1, 1))

func newCachedEncoding(h *Handler, base, version string, body []byte) *cachedEncoding {
	pageLen := onePageHeader + len(body) + len("]}")
	// The three header values are parts of one string: one allocation
	// rather than three for each encoding a read or a PATCH keeps.
	var b [64]byte
	vals := append(b[:0], entityTag(version)...)
	etagEnd := len(vals)
	vals = strconv.AppendInt(vals, int64(len(body)), 10)
	lengthEnd := len(vals)
	vals = strconv.AppendInt(vals, int64(pageLen), 10)
	all := string(vals)
	return &cachedEncoding{owner: h.encOwner, base: base, body: body, etag: all[:etagEnd],
		length: all[etagEnd:lengthEnd], pageLength: all[lengthEnd:], pageLen: pageLen}
}
