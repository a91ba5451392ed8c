package scim

// This file is the in-memory filter evaluator and sorter (RFC 7644
// §3.4.2.2, §3.4.2.3). memstore uses it for every list, and a host's Store
// may use it for what its database cannot express (load the candidates,
// keep those MatchUser accepts).
//
// The rules the RFC leaves open, decided here once for every caller:
//
//   - An absent attribute (an empty string, an empty list, a zero Name, a nil
//     Enterprise or Manager, an Extra attribute that is missing or JSON null)
//     has no value: every comparison with it is false, except ne.
//   - "a ne v" is exactly "not (a eq v)". For a multi-valued attribute that
//     means no value equals v (not "some value differs"), and for an absent
//     attribute it is true. The two spellings of a question then never give
//     different answers, which is what a client that negates a filter expects.
//   - A comparison the attribute's type cannot answer is false for every
//     operator, ne included: gt on a boolean, a string that is not an RFC 3339
//     dateTime against meta.created, a boolean against a string attribute,
//     co/sw/ew on a dateTime, a complex attribute without a "value"
//     sub-attribute compared with a value, an unknown sub-attribute.
//   - "a eq null" is "not (a pr)", and "a ne null" is "a pr".
//   - A boolean of the model (active, primary) always has a value: the model
//     cannot tell false from unset.
//   - meta.resourceType is "User" or "Group"; meta.location is not known to
//     the evaluator (the handler derives it) and is absent; password is
//     never returned and is absent to filters.
//   - A string attribute compared with a number compares the number's text
//     (`employeeNumber eq 12345` finds "12345"); a boolean attribute accepts
//     "true" and "false" in any case, as Entra ID writes them.
//   - A nil Filter anywhere in the tree stands for no condition: it matches.
//
// Case-insensitive comparison is Unicode simple case folding, the relation
// strings.EqualFold uses, for every operator: eq, co, sw, ew and the ordering
// of gt/ge/lt/le and of sorting. The helpers below fold rune by rune without
// allocating; lower-casing the strings instead would allocate and would
// disagree with EqualFold on runes such as 'ſ' (which folds to 's' but
// lower-cases to itself).

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// MatchUser reports whether u matches f, a filter on the User schema, with
// the Enterprise User extension and u.Extra. A nil f matches every user; a
// nil u matches nothing. It never panics, whatever the shape of f, and it
// does not modify f or u. It does not allocate for a comparison with a
// string, boolean or dateTime attribute of the model; attributes in u.Extra
// are decoded from their JSON on each call.
//
// Comparisons follow RFC 7644 §3.4.2.2 and each attribute's type and
// caseExact in the User schema: `userName eq "X"` ignores case, `id eq "X"`
// does not; a multi-valued attribute matches when any value does; a complex
// attribute compared directly compares its "value" sub-attribute, so
// `emails co "@example.com"`, `members eq "<id>"` and Entra ID's
// `manager eq "<id>"` work; meta.created and meta.lastModified compare as
// times. An attribute in Extra compares by its JSON type, strings ignoring
// case, unless its path carries the declaration of an extension attribute
// ([AttrPath].Declared, as in the filters the handler hands a store): then
// by the declared type and caseExact, a dateTime as an instant. The rules
// RFC 7644 leaves open (ne on an absent attribute, comparisons a type
// cannot answer) are listed at the top of filter_eval.go.
//
// A value path such as emails[type eq "work" and value eq "x"] is true when
// one element satisfies the whole bracketed filter. Entra ID's
// `emails[type eq "work"].value eq "x"` means the same and reaches the
// evaluator in that form.
func MatchUser(f Filter, u *User) bool {
	if u == nil {
		return false
	}
	return subject{u: u}.match(f)
}

// MatchGroup is [MatchUser] for groups: f is a filter on the Group schema
// and g.Extra. `members eq "<id>"` asks whether id is a member.
func MatchGroup(f Filter, g *Group) bool {
	if g == nil {
		return false
	}
	return subject{g: g}.match(f)
}

// SortUsers sorts us by the attribute by, as RFC 7644 §3.4.2.3 says: by the
// attribute's value, or for a multi-valued attribute by the value marked
// primary, else the first; strings compare case-insensitively unless the
// schema (or by.Declared, for an extension attribute) makes them
// caseExact, and a declared dateTime sorts by instant; users without a value come last when
// ascending and first when descending (descending is the exact reverse of
// ascending, as SQL's default NULLS LAST/FIRST). The sort is stable: users
// with equal values keep their order, in both directions. A zero by leaves
// us unchanged. Nil users sort as users without a value.
//
// An attribute the schema does not know sorts as absent everywhere; the
// handler refuses such a sortBy with 400 invalidValue before it reaches a
// store, so a store that sorts with SortUsers never sees one.
func SortUsers(us []*User, by AttrPath, descending bool) {
	if by.Name == "" || len(us) < 2 {
		return
	}
	sortSubjects(us, by, descending, func(u *User) subject { return subject{u: u} })
}

// SortGroups is [SortUsers] for groups.
func SortGroups(gs []*Group, by AttrPath, descending bool) {
	if by.Name == "" || len(gs) < 2 {
		return
	}
	sortSubjects(gs, by, descending, func(g *Group) subject { return subject{g: g} })
}

// validateSort checks a sortBy parameter before the handler asks a store to
// sort. resource is "User" or "Group". It accepts an attribute of the
// resource's schemas (core, common, and for User the Enterprise extension),
// a complex attribute only through one of its sub-attributes or, when it has
// one, its "value" (emails, members, manager), and any attribute qualified by
// another schema URN (a custom extension, sorted from Extra). A zero by is
// valid: no sort.
//
// The error is a *Error 400 with scimType invalidValue: RFC 7644 gives sortBy
// no scimType of its own, and invalidValue is the one for "the value
// specified was not compatible with ... the resource schema" (invalidPath is
// about PATCH paths, invalidFilter about the filter parameter).
func validateSort(by AttrPath, resource string) error {
	if by.URN == "" && by.Name == "" && by.Sub == "" {
		return nil
	}
	var fd *fieldDef
	var core bool // by.URN is empty or names a schema of the resource
	switch resource {
	case "User":
		fd = userField(by)
		core = by.URN == "" || strings.EqualFold(by.URN, UserSchema) || strings.EqualFold(by.URN, EnterpriseUserSchema)
	case "Group":
		fd = groupField(by)
		core = by.URN == "" || strings.EqualFold(by.URN, GroupSchema)
	default:
		return errors.New("scim: validateSort: unknown resource type " + strconv.Quote(resource))
	}
	bad := func(why string) error {
		return errorf(400, InvalidValue, "sortBy "+strconv.Quote(by.String())+" "+why)
	}
	if by.Name == "" {
		return bad("names no attribute")
	}
	if fd == nil {
		if core {
			return bad("is not an attribute of " + resource)
		}
		return nil
	}
	def := fd.def
	if def.returned == returnedNever {
		return bad("is never returned and cannot be sorted on")
	}
	if def.typ != typeComplex {
		if by.Sub != "" {
			return bad("is not an attribute of " + resource + ": " + def.name + " has no sub-attributes")
		}
		return nil
	}
	if by.Sub != "" {
		if def.sub(by.Sub) == nil {
			return bad("is not an attribute of " + resource)
		}
		return nil
	}
	if def.sub("value") == nil {
		return bad("is a complex attribute: name one of its sub-attributes, such as " + def.name + "." + def.subs[0].name)
	}
	return nil
}

// subject is the resource a filter is evaluated against: exactly one of u
// and g is set. A concrete type rather than an interface keeps the closures
// handed to its methods on the stack.
type subject struct {
	u *User
	g *Group
}

func (s subject) match(f Filter) bool {
	switch f := f.(type) {
	case nil:
		return true
	case *AttrExpr:
		if f == nil {
			return true
		}
		return s.matchAttr(f.Path, f.Op, f.Value)
	case *LogicalExpr:
		if f == nil {
			return true
		}
		switch f.Op {
		case OpAnd:
			return s.match(f.Left) && s.match(f.Right)
		case OpOr:
			return s.match(f.Left) || s.match(f.Right)
		}
		return false
	case *NotExpr:
		if f == nil {
			return true
		}
		return !s.match(f.Filter)
	case *ValuePathExpr:
		if f == nil {
			return true
		}
		return s.matchValuePath(f)
	}
	return false
}

// field resolves p's top-level attribute in the subject's schemas; nil
// means the attribute is not modelled and lives, if anywhere, in Extra.
func (s subject) field(p AttrPath) *fieldDef {
	if s.u != nil {
		return userField(p)
	}
	return groupField(p)
}

func (s subject) extra() map[string]json.RawMessage {
	if s.u != nil {
		return s.u.Extra
	}
	return s.g.Extra
}

// coreURN reports whether urn is the subject's core schema, whose attributes
// are top-level in Extra.
func (s subject) coreURN(urn string) bool {
	if s.u != nil {
		return strings.EqualFold(urn, UserSchema)
	}
	return strings.EqualFold(urn, GroupSchema)
}

func (s subject) matchAttr(p AttrPath, op Operator, v Value) bool {
	fd := s.field(p)
	if fd == nil {
		return s.matchExtra(p, op, v)
	}
	if fd.def.typ != typeComplex {
		if p.Sub != "" {
			return false
		}
		c, ok := newComparison(op, v, fd.def.typ, true)
		if !ok {
			return false
		}
		if fd.kind == akSchemas {
			return c.result(s.eachSchema(c.test))
		}
		return c.result(c.test(s.scalar(fd)))
	}
	var sub *fieldDef
	switch {
	case p.Sub != "":
		if sub = fd.sub(p.Sub); sub == nil {
			return false
		}
	case op == OpPr || (v.Kind == KindNull && (op == OpEq || op == OpNe)):
		// The complex attribute itself: present when it has a non-empty value.
		present := s.eachElem(fd, complexElem.nonEmpty)
		return (op == OpNe || op == OpPr) == present
	default:
		if sub = fd.sub("value"); sub == nil {
			return false
		}
	}
	c, ok := newComparison(op, v, sub.def.typ, true)
	if !ok {
		return false
	}
	return c.result(s.eachElem(fd, func(e complexElem) bool { return c.test(e.sub(sub)) }))
}

func (s subject) matchValuePath(f *ValuePathExpr) bool {
	fd := s.field(f.Path)
	if fd == nil {
		return s.eachExtra(f.Path, func(x any) bool {
			if a, ok := x.([]any); ok {
				for _, e := range a {
					if matchJSONElem(f.Filter, f.Path.Declared, e) {
						return true
					}
				}
				return false
			}
			return x != nil && matchJSONElem(f.Filter, f.Path.Declared, x)
		})
	}
	if fd.def.typ != typeComplex || f.Path.Sub != "" {
		return false
	}
	return s.eachElem(fd, func(e complexElem) bool {
		return e.nonEmpty() && matchElem(f.Filter, fd, e)
	})
}

// matchElem evaluates a value path's bracketed filter against one element
// of the complex attribute fd; its attribute paths name sub-attributes.
func matchElem(f Filter, fd *fieldDef, e complexElem) bool {
	switch f := f.(type) {
	case nil:
		return true
	case *AttrExpr:
		if f == nil {
			return true
		}
		if f.Path.URN != "" || f.Path.Sub != "" {
			return false
		}
		sub := fd.sub(f.Path.Name)
		if sub == nil {
			return false
		}
		c, ok := newComparison(f.Op, f.Value, sub.def.typ, true)
		if !ok {
			return false
		}
		return c.result(c.test(e.sub(sub)))
	case *LogicalExpr:
		if f == nil {
			return true
		}
		switch f.Op {
		case OpAnd:
			return matchElem(f.Left, fd, e) && matchElem(f.Right, fd, e)
		case OpOr:
			return matchElem(f.Left, fd, e) || matchElem(f.Right, fd, e)
		}
		return false
	case *NotExpr:
		if f == nil {
			return true
		}
		return !matchElem(f.Filter, fd, e)
	case *ValuePathExpr:
		// RFC 7644's grammar does not nest value paths.
		return f == nil
	}
	return false
}

// ---- the attributes of the model ----

// field identifies a sub-attribute of the model, so that the evaluator
// switches on a small integer rather than on names; a top-level attribute
// is its entry in the attribute table (attrtable.go).
type field uint8

// Sub-attributes of complex attributes.
const (
	sNone field = iota
	sValue
	sDisplay
	sType
	sPrimary
	sRef
	sDisplayName
	sFormatted
	sStreetAddress
	sLocality
	sRegion
	sPostalCode
	sCountry
	sFamilyName
	sGivenName
	sMiddleName
	sHonorificPrefix
	sHonorificSuffix
	sResourceType
	sCreated
	sLastModified
	sLocation
	sVersion
)

var subFields = map[string]field{
	"value": sValue, "display": sDisplay, "type": sType, "primary": sPrimary, "$ref": sRef,
	"displayName": sDisplayName, "formatted": sFormatted, "streetAddress": sStreetAddress,
	"locality": sLocality, "region": sRegion, "postalCode": sPostalCode, "country": sCountry,
	"familyName": sFamilyName, "givenName": sGivenName, "middleName": sMiddleName,
	"honorificPrefix": sHonorificPrefix, "honorificSuffix": sHonorificSuffix,
	"resourceType": sResourceType, "created": sCreated, "lastModified": sLastModified,
	"location": sLocation, "version": sVersion,
}

// fieldDef is an attribute of the schema table with where the model keeps
// it: a top-level attribute's entry in the attribute table of its resource
// (attr, kind), a sub-attribute's field.
type fieldDef struct {
	def   *attrDef
	attr  uint8    // the index in userAttrs or groupAttrs
	kind  attrKind // that entry's kind
	never bool     // returned never (password): absent to filters and sort
	// off is that entry's field offset, copied here so that reading a
	// scalar per resource is one load from the definition in hand.
	off  uintptr
	id   field // a sub-attribute's field
	subs []*fieldDef
}

// sub returns the sub-attribute named name (any case), or nil.
func (d *fieldDef) sub(name string) *fieldDef {
	for _, s := range d.subs {
		if strings.EqualFold(s.def.name, name) {
			return s
		}
	}
	return nil
}

// fieldTable maps lower-case attribute names to their definitions.
type fieldTable map[string]*fieldDef

// newFieldTable returns the table of the attributes of t qualified by urn
// ("" for the core and common attributes).
func newFieldTable[R any](t []attrEntry[R], urn string) fieldTable {
	ft := fieldTable{}
	for i := range t {
		e := &t[i]
		if e.def == nil || e.urn != urn {
			continue // no attribute, or the Enterprise object
		}
		d := &fieldDef{def: e.def, attr: uint8(i), kind: e.kind, never: e.def.returned == returnedNever, off: e.off}
		for _, sa := range e.def.subs {
			d.subs = append(d.subs, &fieldDef{def: sa, id: subFields[sa.name]})
		}
		ft[strings.ToLower(e.name)] = d
	}
	return ft
}

var (
	userFields       = newFieldTable(userAttrs[:], "")
	enterpriseFields = newFieldTable(userAttrs[:], EnterpriseUserSchema)
	groupFields      = newFieldTable(groupAttrs[:], "")
)

// find looks name up without the allocation of lower-casing a mixed-case
// name ("userName"): the evaluator looks attributes up once per resource it
// scans.
func (t fieldTable) find(name string) *fieldDef {
	var buf [32]byte
	if len(name) > len(buf) {
		return t[strings.ToLower(name)]
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= utf8.RuneSelf {
			return t[strings.ToLower(name)]
		}
		buf[i] = foldByteASCII(c)
	}
	return t[string(buf[:len(name)])]
}

// userField is lookupUserAttr for the evaluator.
func userField(p AttrPath) *fieldDef {
	switch {
	case p.URN == "" || strings.EqualFold(p.URN, UserSchema):
		if d := userFields.find(p.Name); d != nil {
			return d
		}
		if p.URN == "" {
			return enterpriseFields.find(p.Name)
		}
	case strings.EqualFold(p.URN, EnterpriseUserSchema):
		return enterpriseFields.find(p.Name)
	}
	return nil
}

// groupField is lookupGroupAttr for the evaluator.
func groupField(p AttrPath) *fieldDef {
	if p.URN != "" && !strings.EqualFold(p.URN, GroupSchema) {
		return nil
	}
	return groupFields.find(p.Name)
}

// ---- values of the typed model ----

// valueKind is the type of an attrValue.
type valueKind uint8

const (
	valAbsent valueKind = iota
	valString
	valBool
	valTime
	valNumber // JSON numbers in Extra; s holds the text
)

// attrValue is one value of a simple attribute or sub-attribute.
type attrValue struct {
	kind  valueKind
	exact bool // caseExact, for strings
	b     bool
	s     string
	t     time.Time
}

// present reports whether v is a value: an empty string and a zero time are
// absent in this model.
func (v attrValue) present() bool {
	switch v.kind {
	case valString, valNumber:
		return v.s != ""
	case valBool:
		return true
	case valTime:
		return !v.t.IsZero()
	}
	return false
}

func stringValue(s string, fd *fieldDef) attrValue {
	return attrValue{kind: valString, s: s, exact: fd.def.caseExact}
}

func boolValue(b bool) attrValue { return attrValue{kind: valBool, b: b} }

func timeValue(t time.Time) attrValue { return attrValue{kind: valTime, t: t} }

// scalar returns the value of the simple, single-valued attribute fd.
// password is absent: it is never returned, so never compared.
func (s subject) scalar(fd *fieldDef) attrValue {
	if fd.never {
		return attrValue{}
	}
	if g := s.g; g != nil {
		switch fd.kind {
		case akString:
			return stringValue(*(*string)(fd.field(unsafe.Pointer(g))), fd)
		case akBool:
			return boolValue(*(*bool)(fd.field(unsafe.Pointer(g))))
		}
		return attrValue{}
	}
	switch fd.kind {
	case akString:
		return stringValue(*(*string)(fd.field(unsafe.Pointer(s.u))), fd)
	case akBool:
		return boolValue(*(*bool)(fd.field(unsafe.Pointer(s.u))))
	case akEnterpriseString:
		if x := s.u.Enterprise; x != nil {
			return stringValue(*(*string)(fd.field(unsafe.Pointer(x))), fd)
		}
	}
	return attrValue{}
}

// field returns a pointer to the field of the resource (the Enterprise
// object for an Enterprise string) at r that the definition's entry
// locates, of the type its kind says (checked at init by deriveAttrs).
func (d *fieldDef) field(r unsafe.Pointer) unsafe.Pointer {
	return unsafe.Add(r, d.off)
}

// eachSchema calls fn with each URN of the subject's "schemas": its core
// schema, the Enterprise extension when set, and the URN keys of Extra. It
// reports whether fn returned true for one.
func (s subject) eachSchema(fn func(attrValue) bool) bool {
	str := func(urn string) attrValue { return attrValue{kind: valString, s: urn} }
	if s.u != nil {
		if fn(str(UserSchema)) {
			return true
		}
		if !s.u.Enterprise.IsZero() && fn(str(EnterpriseUserSchema)) {
			return true
		}
	} else if fn(str(GroupSchema)) {
		return true
	}
	for k := range s.extra() {
		if isURN(k) && fn(str(k)) {
			return true
		}
	}
	return false
}

// complexElem is one value of a complex attribute of the model: exactly one
// pointer is set. Pointers into the resource keep it allocation-free.
type complexElem struct {
	mv   *MultiValue
	addr *Address
	gref *GroupRef
	mem  *Member
	mgr  *Manager
	name *Name
	meta *Meta
	rt   string // meta.resourceType, with meta
}

// nonEmpty reports whether e has a value: a complex value is present when
// one of its sub-attributes is.
func (e complexElem) nonEmpty() bool {
	switch {
	case e.mv != nil:
		return *e.mv != MultiValue{}
	case e.addr != nil:
		return *e.addr != Address{}
	case e.gref != nil:
		return *e.gref != GroupRef{}
	case e.mem != nil:
		return *e.mem != Member{}
	case e.mgr != nil:
		return *e.mgr != Manager{}
	case e.name != nil:
		return !e.name.IsZero()
	case e.meta != nil:
		return true // meta.resourceType always has a value
	}
	return false
}

// primary reports whether e is marked primary.
func (e complexElem) primary() bool {
	switch {
	case e.mv != nil:
		return e.mv.Primary
	case e.addr != nil:
		return e.addr.Primary
	}
	return false
}

// sub returns e's sub-attribute sd (a sub-attribute of e's attribute).
func (e complexElem) sub(sd *fieldDef) attrValue {
	switch {
	case e.mv != nil:
		switch sd.id {
		case sValue:
			return stringValue(e.mv.Value, sd)
		case sDisplay:
			return stringValue(e.mv.Display, sd)
		case sType:
			return stringValue(e.mv.Type, sd)
		case sPrimary:
			return boolValue(e.mv.Primary)
		}
	case e.addr != nil:
		a := e.addr
		switch sd.id {
		case sFormatted:
			return stringValue(a.Formatted, sd)
		case sStreetAddress:
			return stringValue(a.StreetAddress, sd)
		case sLocality:
			return stringValue(a.Locality, sd)
		case sRegion:
			return stringValue(a.Region, sd)
		case sPostalCode:
			return stringValue(a.PostalCode, sd)
		case sCountry:
			return stringValue(a.Country, sd)
		case sType:
			return stringValue(a.Type, sd)
		case sPrimary:
			return boolValue(a.Primary)
		}
	case e.gref != nil:
		switch sd.id {
		case sValue:
			return stringValue(e.gref.Value, sd)
		case sRef:
			return stringValue(e.gref.Ref, sd)
		case sDisplay:
			return stringValue(e.gref.Display, sd)
		case sType:
			return stringValue(e.gref.Type, sd)
		}
	case e.mem != nil:
		switch sd.id {
		case sValue:
			return stringValue(e.mem.Value, sd)
		case sRef:
			return stringValue(e.mem.Ref, sd)
		case sDisplay:
			return stringValue(e.mem.Display, sd)
		case sType:
			return stringValue(e.mem.Type, sd)
		}
	case e.mgr != nil:
		switch sd.id {
		case sValue:
			return stringValue(e.mgr.Value, sd)
		case sRef:
			return stringValue(e.mgr.Ref, sd)
		case sDisplayName:
			return stringValue(e.mgr.DisplayName, sd)
		}
	case e.name != nil:
		n := e.name
		switch sd.id {
		case sFormatted:
			return stringValue(n.Formatted, sd)
		case sFamilyName:
			return stringValue(n.FamilyName, sd)
		case sGivenName:
			return stringValue(n.GivenName, sd)
		case sMiddleName:
			return stringValue(n.MiddleName, sd)
		case sHonorificPrefix:
			return stringValue(n.HonorificPrefix, sd)
		case sHonorificSuffix:
			return stringValue(n.HonorificSuffix, sd)
		}
	case e.meta != nil:
		switch sd.id {
		case sResourceType:
			return stringValue(e.rt, sd)
		case sCreated:
			return timeValue(e.meta.Created)
		case sLastModified:
			return timeValue(e.meta.LastModified)
		case sVersion:
			return stringValue(e.meta.Version, sd)
		}
	}
	return attrValue{}
}

// eachElem calls fn with each value of the complex attribute fd and
// reports whether fn returned true for one. A singular attribute has one
// element, possibly empty; an unset manager has none.
func (s subject) eachElem(fd *fieldDef, fn func(complexElem) bool) bool {
	if g := s.g; g != nil {
		switch fd.kind {
		case akMembers:
			for i := range g.Members {
				if fn(complexElem{mem: &g.Members[i]}) {
					return true
				}
			}
		case akMeta:
			return fn(complexElem{meta: &g.Meta, rt: "Group"})
		}
		return false
	}
	u := s.u
	var mvs []MultiValue
	switch fd.kind {
	case akName:
		return fn(complexElem{name: &u.Name})
	case akMeta:
		return fn(complexElem{meta: &u.Meta, rt: "User"})
	case akManager:
		if u.Enterprise != nil && u.Enterprise.Manager != nil {
			return fn(complexElem{mgr: u.Enterprise.Manager})
		}
		return false
	case akAddresses:
		for i := range u.Addresses {
			if fn(complexElem{addr: &u.Addresses[i]}) {
				return true
			}
		}
		return false
	case akGroupRefs:
		for i := range u.Groups {
			if fn(complexElem{gref: &u.Groups[i]}) {
				return true
			}
		}
		return false
	case akMultiValues:
		mvs = *userAttrs[fd.attr].multi(u)
	}
	for i := range mvs {
		if fn(complexElem{mv: &mvs[i]}) {
			return true
		}
	}
	return false
}

// ---- comparisons ----

// comparison is one AttrExpr's operator and value, prepared for testing the
// attribute's values one at a time: the expression is true when test is true
// for some value, or, when negate is set, for none.
type comparison struct {
	op     Operator // OpPr tests presence; ne and null are rewritten
	negate bool
	text   string    // the value's text, when strOK or numOK
	b      bool      // the boolean, when boolOK
	t      time.Time // the instant, when timeOK
	strOK  bool      // the value compares with strings
	numOK  bool      // ... with numbers
	boolOK bool      // ... with booleans
	timeOK bool      // ... with dateTimes
}

// newComparison prepares op and v for an attribute of type typ; when typed
// is false the type is unknown (an Extra attribute) and each value's JSON
// type decides. ok is false when no value of that type can satisfy the
// expression, ne included.
func newComparison(op Operator, v Value, typ attrType, typed bool) (c comparison, ok bool) {
	switch op {
	case OpPr:
		return comparison{op: OpPr}, true
	case OpEq, OpNe, OpCo, OpSw, OpEw, OpGt, OpGe, OpLt, OpLe:
	default:
		return c, false
	}
	if v.Kind == KindNull {
		switch op {
		case OpEq:
			return comparison{op: OpPr, negate: true}, true
		case OpNe:
			return comparison{op: OpPr}, true
		}
		return c, false
	}
	c.op = op
	if op == OpNe {
		c.op, c.negate = OpEq, true
	}
	c.text = v.Text
	ordering := c.op != OpCo && c.op != OpSw && c.op != OpEw
	switch v.Kind {
	case KindString:
		c.strOK = true
	case KindNumber:
		c.strOK = true
		c.numOK = ordering
	case KindBool:
	default:
		return c, false
	}
	// Only a boolean attribute (or one of unknown type) reads the value as
	// a boolean; parsing it for every string comparison would be waste.
	if (v.Kind == KindBool || v.Kind == KindString) && c.op == OpEq && (!typed || typ == typeBoolean) {
		c.b, c.boolOK = parseBool(v.Text)
	}
	if !typed {
		return c, c.strOK || c.numOK || c.boolOK
	}
	switch typ {
	case typeString, typeReference, typeBinary:
		c.numOK, c.boolOK = false, false
		return c, c.strOK
	case typeBoolean:
		c.strOK, c.numOK = false, false
		return c, c.boolOK
	case typeDateTime:
		if v.Kind != KindString || !ordering {
			return c, false
		}
		t, err := parseFilterTime(v.Text)
		if err != nil {
			return c, false
		}
		c.t, c.timeOK = t, true
		c.strOK, c.boolOK, c.numOK = false, false, false
		return c, true
	case typeDecimal, typeInteger:
		c.strOK, c.boolOK = false, false
		return c, c.numOK
	}
	return c, false
}

// filterTimes caches the dateTimes of filter values: a store's scan
// evaluates the same comparison on every resource, and parsing its value
// each time cost more than the comparison (Okta's incremental import,
// meta.lastModified gt "...", is such a scan). A few hundred entries cover
// the values in use; past that, values are parsed without caching.
var filterTimes struct {
	sync.Map // string → time.Time
	n        atomic.Int32
}

const maxFilterTimes = 512

func parseFilterTime(s string) (time.Time, error) {
	if t, ok := filterTimes.Load(s); ok {
		return t.(time.Time), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil && filterTimes.n.Load() < maxFilterTimes {
		if _, loaded := filterTimes.LoadOrStore(s, t); !loaded {
			filterTimes.n.Add(1)
		}
	}
	return t, err
}

func parseBool(s string) (b, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// result turns "some value passed test" into the expression's value.
func (c *comparison) result(hit bool) bool { return hit != c.negate }

// test reports whether one value satisfies the comparison.
func (c *comparison) test(x attrValue) bool {
	if !x.present() {
		return false
	}
	if c.op == OpPr {
		return true
	}
	switch x.kind {
	case valString:
		if !c.strOK {
			return false
		}
		return compareStrings(c.op, x.s, c.text, x.exact)
	case valBool:
		return c.boolOK && x.b == c.b
	case valTime:
		return c.timeOK && ordered(c.op, x.t.Compare(c.t))
	case valNumber:
		if !c.numOK {
			return false
		}
		n, ok := compareNumbers(x.s, c.text)
		return ok && ordered(c.op, n)
	}
	return false
}

// ordered applies an ordering operator to the result of a three-way
// comparison of the attribute's value with the filter's.
func ordered(op Operator, n int) bool {
	switch op {
	case OpEq:
		return n == 0
	case OpGt:
		return n > 0
	case OpGe:
		return n >= 0
	case OpLt:
		return n < 0
	case OpLe:
		return n <= 0
	}
	return false
}

func compareStrings(op Operator, s, v string, exact bool) bool {
	if exact {
		switch op {
		case OpEq:
			return s == v
		case OpCo:
			return strings.Contains(s, v)
		case OpSw:
			return strings.HasPrefix(s, v)
		case OpEw:
			return strings.HasSuffix(s, v)
		}
		return ordered(op, strings.Compare(s, v))
	}
	switch op {
	case OpEq:
		return strings.EqualFold(s, v)
	case OpCo:
		return foldContains(s, v)
	case OpSw:
		return foldHasPrefix(s, v)
	case OpEw:
		return foldHasSuffix(s, v)
	}
	return ordered(op, foldCompare(s, v))
}

// compareNumbers compares two JSON numbers: exactly when both are integers
// that fit in 64 bits, as float64 otherwise. ok is false when one is not a
// number.
func compareNumbers(a, b string) (n int, ok bool) {
	if x, err := strconv.ParseInt(a, 10, 64); err == nil {
		if y, err := strconv.ParseInt(b, 10, 64); err == nil {
			return cmp.Compare(x, y), true
		}
	}
	x, err := strconv.ParseFloat(a, 64)
	if err != nil {
		return 0, false
	}
	y, err := strconv.ParseFloat(b, 64)
	if err != nil {
		return 0, false
	}
	return cmp.Compare(x, y), true
}

// ---- attributes in Extra (raw JSON) ----

// matchExtra compares an attribute kept in Extra. When p carries the
// declaration of an extension attribute (the handler's filters do), its
// values compare by the declared type and caseExact: a dateTime as an
// instant, a caseExact string case-sensitively. Otherwise each value's
// JSON type decides, and strings ignore case.
func (s subject) matchExtra(p AttrPath, op Operator, v Value) bool {
	c, ok := newExtComparison(op, v, p.Declared)
	if !ok {
		return false
	}
	return c.result(s.eachExtra(p, func(x any) bool { return testJSON(&c, p.Declared, x) }))
}

// newExtComparison is newComparison for an Extra attribute declared as d,
// or of unknown type when d is nil. A complex attribute compares its
// "value" sub-attribute.
func newExtComparison(op Operator, v Value, d *Attribute) (comparison, bool) {
	if d != nil && d.Type == TypeComplex {
		d = d.subAttribute("value")
	}
	if d == nil {
		return newComparison(op, v, 0, false)
	}
	return newComparison(op, v, d.attrType(), true)
}

// testJSON reports whether a decoded JSON value satisfies c: an array when
// one element does, an object through its "value" member (or, for pr, any
// member). d is the value's declaration, nil when unknown.
func testJSON(c *comparison, d *Attribute, x any) bool {
	switch x := x.(type) {
	case []any:
		for _, e := range x {
			if testJSON(c, d, e) {
				return true
			}
		}
	case map[string]any:
		if c.op == OpPr {
			return jsonPresent(x)
		}
		if v, ok := jsonMember(x, "value"); ok {
			if d != nil {
				if d = d.subAttribute("value"); d == nil {
					return false
				}
			}
			return testJSON(c, d, v)
		}
	default:
		return c.test(jsonTyped(d, x))
	}
	return false
}

// jsonTyped converts a decoded JSON primitive declared as d (nil: by its
// JSON type): a string of a caseExact attribute compares case-sensitively,
// a dateTime's text is its instant. A value that does not fit the
// declaration (written around the handler) is absent.
func jsonTyped(d *Attribute, x any) attrValue {
	if d == nil {
		return jsonScalar(x)
	}
	switch d.attrType() {
	case typeString, typeReference, typeBinary:
		if s, ok := x.(string); ok {
			return attrValue{kind: valString, s: s, exact: d.CaseExact}
		}
	case typeDateTime:
		if s, ok := x.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return timeValue(t)
			}
		}
	case typeInteger, typeDecimal:
		if n, ok := x.(json.Number); ok {
			return attrValue{kind: valNumber, s: string(n)}
		}
	case typeBoolean:
		if b, ok := x.(bool); ok {
			return boolValue(b)
		}
	}
	return attrValue{}
}

// jsonScalar converts a decoded JSON primitive; objects and arrays are
// absent.
func jsonScalar(x any) attrValue {
	switch x := x.(type) {
	case string:
		return attrValue{kind: valString, s: x}
	case json.Number:
		return attrValue{kind: valNumber, s: string(x)}
	case bool:
		return boolValue(x)
	}
	return attrValue{}
}

// jsonPresent reports whether a decoded JSON value has a value, as pr asks.
func jsonPresent(x any) bool {
	switch x := x.(type) {
	case []any:
		for _, e := range x {
			if jsonPresent(e) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, e := range x {
			if jsonPresent(e) {
				return true
			}
		}
		return false
	}
	return jsonScalar(x).present()
}

// jsonMember returns the member of o named name, compared
// case-insensitively as SCIM attribute names are.
func jsonMember(o map[string]any, name string) (any, bool) {
	if v, ok := o[name]; ok {
		return v, true
	}
	for k, v := range o {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// decodeJSON decodes an Extra value as encoding/json does with UseNumber
// (see decodeExtValue, which reads it on the package's own reader).
func decodeJSON(raw json.RawMessage) (any, bool) {
	v, err := decodeExtValue(raw)
	return v, err == nil
}

// eachExtra calls fn with each value in Extra that p names, and reports
// whether fn returned true for one. An attribute qualified by an extension
// URN is a member of the object Extra holds under that URN (or, as some
// clients send it, a key that is the whole qualified name); an unqualified
// one, or one qualified by the core schema, is a top-level key, else a
// member of any extension object.
func (s subject) eachExtra(p AttrPath, fn func(any) bool) bool {
	extra := s.extra()
	if len(extra) == 0 {
		return false
	}
	sub := func(x any) bool {
		if p.Sub == "" {
			return fn(x)
		}
		switch x := x.(type) {
		case map[string]any:
			if v, ok := jsonMember(x, p.Sub); ok {
				return fn(v)
			}
		case []any:
			for _, e := range x {
				if o, ok := e.(map[string]any); ok {
					if v, ok := jsonMember(o, p.Sub); ok && fn(v) {
						return true
					}
				}
			}
		}
		return false
	}
	member := func(raw json.RawMessage) bool {
		o, ok := decodeJSON(raw)
		if !ok {
			return false
		}
		if m, ok := o.(map[string]any); ok {
			if v, ok := jsonMember(m, p.Name); ok {
				return sub(v)
			}
		}
		return false
	}
	if p.URN != "" && !s.coreURN(p.URN) {
		for k, raw := range extra {
			switch {
			case strings.EqualFold(k, p.URN):
				if member(raw) {
					return true
				}
			case isQualified(k, p.URN, p.Name):
				if v, ok := decodeJSON(raw); ok && sub(v) {
					return true
				}
			}
		}
		return false
	}
	found := false
	for k, raw := range extra {
		if strings.EqualFold(k, p.Name) {
			found = true
			if v, ok := decodeJSON(raw); ok && sub(v) {
				return true
			}
		}
	}
	if found || p.URN != "" {
		return false
	}
	for k, raw := range extra {
		if isURN(k) && member(raw) {
			return true
		}
	}
	return false
}

// isQualified reports whether k is urn + ":" + name, ignoring case, without
// building that string.
func isQualified(k, urn, name string) bool {
	return len(k) == len(urn)+1+len(name) &&
		strings.EqualFold(k[:len(urn)], urn) && k[len(urn)] == ':' &&
		strings.EqualFold(k[len(urn)+1:], name)
}

// matchJSONElem evaluates a value path's bracketed filter against one
// element of an Extra attribute: an object's members, or, for a primitive,
// the element itself as "value". d is the attribute's declaration, nil
// when unknown.
func matchJSONElem(f Filter, d *Attribute, e any) bool {
	switch f := f.(type) {
	case nil:
		return true
	case *AttrExpr:
		if f == nil {
			return true
		}
		if f.Path.URN != "" {
			return false
		}
		var sd *Attribute // the declaration of the element's member
		if d != nil {
			if sd = d; d.Type == TypeComplex {
				sd = d.subAttribute(f.Path.Name)
			}
			if sd == nil || f.Path.Sub != "" {
				return false
			}
		}
		c, ok := newExtComparison(f.Op, f.Value, sd)
		if !ok {
			return false
		}
		var x any
		switch o := e.(type) {
		case map[string]any:
			x, _ = jsonMember(o, f.Path.Name)
		case []any:
		default:
			if strings.EqualFold(f.Path.Name, "value") {
				x = o
			}
		}
		if f.Path.Sub != "" {
			o, _ := x.(map[string]any)
			x, _ = jsonMember(o, f.Path.Sub)
		}
		return c.result(testJSON(&c, sd, x))
	case *LogicalExpr:
		if f == nil {
			return true
		}
		switch f.Op {
		case OpAnd:
			return matchJSONElem(f.Left, d, e) && matchJSONElem(f.Right, d, e)
		case OpOr:
			return matchJSONElem(f.Left, d, e) || matchJSONElem(f.Right, d, e)
		}
		return false
	case *NotExpr:
		if f == nil {
			return true
		}
		return !matchJSONElem(f.Filter, d, e)
	case *ValuePathExpr:
		return f == nil
	}
	return false
}

// ---- sorting ----

func sortSubjects[T any](rs []T, by AttrPath, descending bool, subj func(T) subject) {
	type keyed struct {
		r T
		k attrValue
	}
	ks := make([]keyed, len(rs))
	for i, r := range rs {
		ks[i] = keyed{r: r, k: subj(r).sortValue(by)}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		n := compareSortValues(a.k, b.k)
		if descending {
			return -n
		}
		return n
	})
	for i := range ks {
		rs[i] = ks[i].r
	}
}

// sortValue is the value the subject sorts by: for a multi-valued attribute
// the primary value, else the first (RFC 7644 §3.4.2.3); a complex
// attribute without a sub-attribute sorts by its "value".
func (s subject) sortValue(by AttrPath) attrValue {
	if s.u == nil && s.g == nil {
		return attrValue{}
	}
	fd := s.field(by)
	if fd == nil {
		var x attrValue
		s.eachExtra(by, func(v any) bool {
			x = jsonSortValue(by.Declared, v)
			return x.present()
		})
		return x
	}
	if fd.def.typ != typeComplex {
		if by.Sub != "" {
			return attrValue{}
		}
		if fd.kind == akSchemas {
			var x attrValue
			s.eachSchema(func(v attrValue) bool {
				x = v
				return true
			})
			return x
		}
		return s.scalar(fd)
	}
	sub := fd.sub("value")
	if by.Sub != "" {
		sub = fd.sub(by.Sub)
	}
	if sub == nil {
		return attrValue{}
	}
	var first, primary complexElem
	var haveFirst bool
	s.eachElem(fd, func(e complexElem) bool {
		if !haveFirst {
			first, haveFirst = e, true
		}
		if e.primary() {
			primary = e
			return true
		}
		return false
	})
	if primary != (complexElem{}) {
		return primary.sub(sub)
	}
	if haveFirst {
		return first.sub(sub)
	}
	return attrValue{}
}

// jsonSortValue is sortValue for a decoded Extra value declared as d (nil:
// of unknown type): a declared dateTime sorts by instant, a caseExact
// string case-sensitively.
func jsonSortValue(d *Attribute, v any) attrValue {
	switch v := v.(type) {
	case []any:
		var first any
		for i, e := range v {
			if i == 0 {
				first = e
			}
			if o, ok := e.(map[string]any); ok {
				if p, _ := jsonMember(o, "primary"); p == true {
					return jsonSortValue(d, o)
				}
			}
		}
		return jsonSortValue(d, first)
	case map[string]any:
		x, _ := jsonMember(v, "value")
		if _, nested := x.(map[string]any); nested {
			return attrValue{}
		}
		if d != nil {
			if d = d.subAttribute("value"); d == nil {
				return attrValue{}
			}
		}
		return jsonSortValue(d, x)
	}
	return jsonTyped(d, v)
}

// compareSortValues orders two sort keys ascending: absent values last;
// values of different JSON types (only possible in Extra) by type.
func compareSortValues(a, b attrValue) int {
	ap, bp := a.present(), b.present()
	switch {
	case !ap && !bp:
		return 0
	case !ap:
		return 1
	case !bp:
		return -1
	}
	if a.kind != b.kind {
		return cmp.Compare(a.kind, b.kind)
	}
	switch a.kind {
	case valString:
		if a.exact && b.exact {
			return strings.Compare(a.s, b.s)
		}
		return foldCompare(a.s, b.s)
	case valBool:
		switch {
		case a.b == b.b:
			return 0
		case b.b:
			return -1
		}
		return 1
	case valTime:
		return a.t.Compare(b.t)
	case valNumber:
		if n, ok := compareNumbers(a.s, b.s); ok {
			return n
		}
		return strings.Compare(a.s, b.s)
	}
	return 0
}

// ---- case-insensitive string helpers ----

// foldCanon maps r to a representative of its case-folding orbit (the set
// of runes strings.EqualFold treats as equal to r): ASCII letters to lower
// case, other runes to the smallest rune of the orbit, lowered when that is
// an ASCII letter (KELVIN SIGN → k, ſ → s). Two runes fold equal exactly
// when their representatives are equal, so comparing representatives gives
// an order consistent with EqualFold.
func foldCanon(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	if 'A' <= least && least <= 'Z' {
		least += 'a' - 'A'
	}
	return least
}

func foldByteASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	return c
}

// foldPrefixLen reports whether s begins with prefix under case folding,
// and the length in bytes of that beginning of s (which may differ from
// len(prefix): KELVIN SIGN is three bytes, k one).
func foldPrefixLen(s, prefix string) (int, bool) {
	i, j := 0, 0
	for j < len(prefix) {
		if i >= len(s) {
			return 0, false
		}
		if a, b := s[i], prefix[j]; a|b < utf8.RuneSelf {
			if foldByteASCII(a) != foldByteASCII(b) {
				return 0, false
			}
			i++
			j++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		q, m := utf8.DecodeRuneInString(prefix[j:])
		if r != q && foldCanon(r) != foldCanon(q) {
			return 0, false
		}
		i += n
		j += m
	}
	return i, true
}

// foldHasPrefix is strings.HasPrefix under case folding.
func foldHasPrefix(s, prefix string) bool {
	_, ok := foldPrefixLen(s, prefix)
	return ok
}

// foldHasSuffix is strings.HasSuffix under case folding.
func foldHasSuffix(s, suffix string) bool {
	i, j := len(s), len(suffix)
	for j > 0 {
		if i == 0 {
			return false
		}
		if a, b := s[i-1], suffix[j-1]; a|b < utf8.RuneSelf {
			if foldByteASCII(a) != foldByteASCII(b) {
				return false
			}
			i--
			j--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s[:i])
		q, m := utf8.DecodeLastRuneInString(suffix[:j])
		if r != q && foldCanon(r) != foldCanon(q) {
			return false
		}
		i -= n
		j -= m
	}
	return true
}

// foldContains is strings.Contains under case folding.
func foldContains(s, sub string) bool {
	if sub == "" {
		return true
	}
	first := sub[0]
	for i := 0; i < len(s); {
		c := s[i]
		// An ASCII byte of s can fold-match only the same letter; a non-ASCII
		// one needs the full check (KELVIN SIGN matches "k").
		if c >= utf8.RuneSelf || first >= utf8.RuneSelf || foldByteASCII(c) == foldByteASCII(first) {
			if foldHasPrefix(s[i:], sub) {
				return true
			}
		}
		if c < utf8.RuneSelf {
			i++
		} else {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
		}
	}
	return false
}

// foldCompare is strings.Compare under case folding: 0 exactly when
// strings.EqualFold(a, b).
func foldCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if x, y := a[i], b[j]; x|y < utf8.RuneSelf {
			if x, y = foldByteASCII(x), foldByteASCII(y); x != y {
				return cmp.Compare(x, y)
			}
			i++
			j++
			continue
		}
		r, n := utf8.DecodeRuneInString(a[i:])
		q, m := utf8.DecodeRuneInString(b[j:])
		if r != q {
			if r, q = foldCanon(r), foldCanon(q); r != q {
				return cmp.Compare(r, q)
			}
		}
		i += n
		j += m
	}
	return cmp.Compare(len(a)-i, len(b)-j)
}

// validateFilter refuses what RFC 7644 §3.4.2.2 says must fail rather than
// match nothing: gt, ge, lt and le on a boolean or binary attribute
// ("SHALL cause a failed response (HTTP status code 400) with scimType
// invalidFilter"). resource is "User" or "Group"; attributes the schema does
// not know pass, as the evaluator looks them up in Extra.
func validateFilter(f Filter, resource string) error {
	lookup := lookupUserAttr
	if resource == "Group" {
		lookup = lookupGroupAttr
	}
	var walk func(f Filter, parent *attrDef) error
	walk = func(f Filter, parent *attrDef) error {
		switch x := f.(type) {
		case *LogicalExpr:
			if x == nil {
				return nil
			}
			if err := walk(x.Left, parent); err != nil {
				return err
			}
			return walk(x.Right, parent)
		case *NotExpr:
			if x == nil {
				return nil
			}
			return walk(x.Filter, parent)
		case *ValuePathExpr:
			if x == nil {
				return nil
			}
			return walk(x.Filter, lookup(x.Path))
		case *AttrExpr:
			if x == nil || (x.Op != OpGt && x.Op != OpGe && x.Op != OpLt && x.Op != OpLe) {
				return nil
			}
			var d *attrDef
			if parent != nil {
				d = parent.sub(x.Path.Name)
			} else if d = lookup(x.Path); d != nil && x.Path.Sub != "" {
				d = d.sub(x.Path.Sub)
			}
			if d != nil && (d.typ == typeBoolean || d.typ == typeBinary) {
				return errorf(400, InvalidFilter, fmt.Sprintf("operator %s is not defined for %s, a %s attribute: use eq or ne",
					x.Op, x.Path, map[attrType]string{typeBoolean: "boolean", typeBinary: "binary"}[d.typ]))
			}
		}
		return nil
	}
	return walk(f, nil)
}
