package scim

import (
	"reflect"
	"strings"
	"unsafe"
)

// attrKind is how the handler reads and writes one top-level attribute of
// the typed model. The simple kinds go through the accessor of the
// attribute's entry, so that every attribute of a kind shares one piece of
// code in the decoder, the encoder, the filter evaluator, sort and PATCH;
// each other kind is one attribute (or a few of one shape) with code of its
// own, reached by a switch on the kind.
type attrKind uint8

const (
	akNone             attrKind = iota // no attribute (the unknown index)
	akSchemas                          // the "schemas" list
	akString                           // a string; accessor str
	akBool                             // a boolean; accessor boolean
	akName                             // User.Name
	akMultiValues                      // []MultiValue; accessor multi
	akAddresses                        // User.Addresses
	akGroupRefs                        // User.Groups
	akEnterprise                       // the Enterprise extension's object as a whole
	akEnterpriseString                 // a string of the Enterprise extension; accessor ent
	akManager                          // the Enterprise manager
	akMembers                          // Group.Members
	akMeta                             // meta
)

// attrEntry is one top-level attribute of the resource R (User or Group):
// its name and kind, the field of a simple kind, and what init derives from
// them and from the schema (schema.go).
//
// The attribute tables userAttrs and groupAttrs are the one place that
// lists the attributes of the model, as encoding/json caches a type's
// fields. The decoder's name lookup, the encoder's field order and
// projection masks, the filter evaluator's field lookup and values, sort,
// and PATCH's path resolution and required attributes all derive from them;
// an entry's characteristics (type, caseExact, mutability, returned,
// required, sub-attributes) are the schema's, looked up by name, and the
// indices stay small integers, so that masks and arrays indexed by
// attribute keep the hot paths switch-free and allocation-free.
//
// To add a simple core attribute (a string or boolean the schema defines):
// add the field to User or Group, and one entry with its name, kind and
// field offset (unsafe.Offsetof) where the attribute goes in responses.
// Nothing else changes; TestAttrTableOneEntry then checks that it is served,
// decoded, encoded, projected, filtered, sorted and patched. A complex or
// multi-valued attribute of a new shape needs a kind and its code in each
// switch on the kind.
type attrEntry[R any] struct {
	// The fields the encoder reads for every attribute come first, in one
	// cache line.

	kind attrKind
	// unsetTrue says an unassigned boolean is true (active: see User.Active).
	unsetTrue bool
	member    attrKey // derived: `,"name":`, what the encoder writes before a value
	open      attrKey // derived: `,"name":[`, what it writes before the values of a multi-valued attribute
	// off locates the field of a simple kind: its offset in R, or in
	// EnterpriseUser for an Enterprise string. deriveAttrs checks that a
	// field of the kind's type and of the attribute's name is there, so that
	// the accessors below are as safe as a field selector.
	off   uintptr
	inner attrKey // derived: `"name":`, member first in an object

	name string // as the schema spells it
	urn  string // the extension's schema URN for an extension attribute; "" for core and common

	// Derived by deriveAttrs.

	qname string   // canonical name, URN-qualified for an extension attribute, as details name it
	def   *attrDef // the schema's definition; nil for the Enterprise object
	subs  []string // sub-attribute names in output order: bit i of a projection mask is subs[i]
}

// str, boolean, multi and ent are the accessors of the simple kinds:
// offsets rather than a function per attribute, which cost a call per
// attribute where the code they replace read a field.
func (e *attrEntry[R]) str(r *R) *string {
	return (*string)(unsafe.Add(unsafe.Pointer(r), e.off))
}

func (e *attrEntry[R]) boolean(r *R) *bool {
	return (*bool)(unsafe.Add(unsafe.Pointer(r), e.off))
}

func (e *attrEntry[R]) multi(r *R) *[]MultiValue {
	return (*[]MultiValue)(unsafe.Add(unsafe.Pointer(r), e.off))
}

func (e *attrEntry[R]) ent(x *EnterpriseUser) *string {
	return (*string)(unsafe.Add(unsafe.Pointer(x), e.off))
}

// readOnly reports whether a client's value of the attribute is ignored
// in a body and refused by PATCH (RFC 7643 §7).
func (e *attrEntry[R]) readOnly() bool {
	return e.kind == akSchemas || (e.def != nil && e.def.mutability == readOnly)
}

// requiredString reports whether the attribute is a string a client must
// assign (userName, a group's displayName); id is required too, but the
// server assigns it.
func (e *attrEntry[R]) requiredString() bool {
	return e.kind == akString && e.def.required && e.def.mutability == readWrite
}

// userAttrSpecs lists the top-level attributes of User, the Enterprise
// extension's included, in the order responses write them (meta last, after
// the attributes of Extra); index 0 is no attribute (uaUnknown).
var userAttrSpecs = [...]attrEntry[User]{
	{},
	{name: "schemas", kind: akSchemas},
	{name: "id", kind: akString, off: unsafe.Offsetof(User{}.ID)},
	{name: "externalId", kind: akString, off: unsafe.Offsetof(User{}.ExternalID)},
	{name: "userName", kind: akString, off: unsafe.Offsetof(User{}.UserName)},
	{name: "name", kind: akName},
	{name: "displayName", kind: akString, off: unsafe.Offsetof(User{}.DisplayName)},
	{name: "nickName", kind: akString, off: unsafe.Offsetof(User{}.NickName)},
	{name: "profileUrl", kind: akString, off: unsafe.Offsetof(User{}.ProfileURL)},
	{name: "title", kind: akString, off: unsafe.Offsetof(User{}.Title)},
	{name: "userType", kind: akString, off: unsafe.Offsetof(User{}.UserType)},
	{name: "preferredLanguage", kind: akString, off: unsafe.Offsetof(User{}.PreferredLanguage)},
	{name: "locale", kind: akString, off: unsafe.Offsetof(User{}.Locale)},
	{name: "timezone", kind: akString, off: unsafe.Offsetof(User{}.Timezone)},
	{name: "active", kind: akBool, off: unsafe.Offsetof(User{}.Active), unsetTrue: true},
	{name: "password", kind: akString, off: unsafe.Offsetof(User{}.Password)},
	{name: "emails", kind: akMultiValues, off: unsafe.Offsetof(User{}.Emails)},
	{name: "phoneNumbers", kind: akMultiValues, off: unsafe.Offsetof(User{}.PhoneNumbers)},
	{name: "ims", kind: akMultiValues, off: unsafe.Offsetof(User{}.IMs)},
	{name: "photos", kind: akMultiValues, off: unsafe.Offsetof(User{}.Photos)},
	{name: "addresses", kind: akAddresses},
	{name: "groups", kind: akGroupRefs},
	{name: "entitlements", kind: akMultiValues, off: unsafe.Offsetof(User{}.Entitlements)},
	{name: "roles", kind: akMultiValues, off: unsafe.Offsetof(User{}.Roles)},
	{name: "x509Certificates", kind: akMultiValues, off: unsafe.Offsetof(User{}.X509Certificates)},
	{name: EnterpriseUserSchema, kind: akEnterprise},
	{urn: EnterpriseUserSchema, name: "employeeNumber", kind: akEnterpriseString, off: unsafe.Offsetof(EnterpriseUser{}.EmployeeNumber)},
	{urn: EnterpriseUserSchema, name: "costCenter", kind: akEnterpriseString, off: unsafe.Offsetof(EnterpriseUser{}.CostCenter)},
	{urn: EnterpriseUserSchema, name: "organization", kind: akEnterpriseString, off: unsafe.Offsetof(EnterpriseUser{}.Organization)},
	{urn: EnterpriseUserSchema, name: "division", kind: akEnterpriseString, off: unsafe.Offsetof(EnterpriseUser{}.Division)},
	{urn: EnterpriseUserSchema, name: "department", kind: akEnterpriseString, off: unsafe.Offsetof(EnterpriseUser{}.Department)},
	{urn: EnterpriseUserSchema, name: "manager", kind: akManager},
	{name: "meta", kind: akMeta},
}

// groupAttrSpecs is userAttrSpecs for Group.
var groupAttrSpecs = [...]attrEntry[Group]{
	{},
	{name: "schemas", kind: akSchemas},
	{name: "id", kind: akString, off: unsafe.Offsetof(Group{}.ID)},
	{name: "externalId", kind: akString, off: unsafe.Offsetof(Group{}.ExternalID)},
	{name: "displayName", kind: akString, off: unsafe.Offsetof(Group{}.DisplayName)},
	{name: "members", kind: akMembers},
	{name: "meta", kind: akMeta},
}

// uattr names a top-level attribute of a User, Enterprise attributes
// included: it is the index of the attribute's entry in userAttrs, and the
// encoder's projection mask is indexed by it.
type uattr uint8

// gattr is uattr for Group.
type gattr uint8

const (
	uaUnknown    uattr = 0
	gaUnknown    gattr = 0
	numUserAttrs       = uattr(len(userAttrSpecs))
	// uaSchemas and gaSchemas are the first attributes, which the encoder
	// writes before the others (deriveAttrs checks).
	uaSchemas     uattr = 1
	gaSchemas     gattr = 1
	numGroupAttrs       = gattr(len(groupAttrSpecs))
)

// The derived tables, and the indices of the attributes the code names.
var (
	userAttrs = func() [numUserAttrs]attrEntry[User] {
		t := userAttrSpecs
		deriveAttrs(t[:], userDef)
		return t
	}()
	groupAttrs = func() [numGroupAttrs]attrEntry[Group] {
		t := groupAttrSpecs
		deriveAttrs(t[:], groupDef)
		return t
	}()

	uaEnterprise = userAttrIndex(akEnterprise, EnterpriseUserSchema)
	uaMeta       = userAttrIndex(akMeta, "meta")
	gaMembers    = groupAttrIndex(akMembers, "members")
	gaMeta       = groupAttrIndex(akMeta, "meta")

	// userCoreIndex and userEnterpriseIndex map the lower-case names of
	// the core (and common) and the Enterprise attributes to their
	// indices; groupIndex is userCoreIndex for Group.
	userCoreIndex, userEnterpriseIndex = userIndices()
	groupIndex                         = groupIndices()
)

func userAttrIndex(k attrKind, name string) uattr {
	return uattr(attrIndex(userAttrs[:], k, name))
}

func groupAttrIndex(k attrKind, name string) gattr {
	return gattr(attrIndex(groupAttrs[:], k, name))
}

func attrIndex[R any](t []attrEntry[R], k attrKind, name string) int {
	for i := range t {
		if t[i].kind == k && t[i].name == name {
			return i
		}
	}
	panic("scim: no attribute " + name + " in the attribute table")
}

func userIndices() (core, ent *nameIndex) {
	core, ent = &nameIndex{}, &nameIndex{}
	for i := uattr(1); i < numUserAttrs; i++ {
		switch e := &userAttrs[i]; {
		case e.kind == akEnterprise:
		case e.urn == "":
			core.add(strings.ToLower(e.name), uint8(i))
		case e.urn == EnterpriseUserSchema:
			ent.add(strings.ToLower(e.name), uint8(i))
		}
	}
	return core, ent
}

func groupIndices() *nameIndex {
	m := &nameIndex{}
	for i := gattr(1); i < numGroupAttrs; i++ {
		m.add(strings.ToLower(groupAttrs[i].name), uint8(i))
	}
	return m
}

// nameIndex maps lower-case attribute names to table indices: an
// open-addressing hash table whose hash reads three bytes and the length,
// which the decoder consults for every key of a body, faster than a map (a
// map's hash reads every byte) and than the switch on names it replaces.
type nameIndex struct {
	slots [nameIndexSize]struct {
		name string
		a    uint8 // 0: empty
	}
	n int
}

// nameIndexSize is a power of two well above the attributes of a table.
const nameIndexSize = 128

func nameHash[T text](k T) int {
	n := len(k)
	if n == 0 {
		return 0
	}
	return (n*31 + int(k[0])*7 + int(k[n/2])*3 + int(k[n-1])) & (nameIndexSize - 1)
}

// add adds name, which must be new, with a table's cap of half the slots
// keeping probes short; a table that breaks either panics at init.
func (x *nameIndex) add(name string, a uint8) {
	if x.n++; x.n > nameIndexSize/2 {
		panic("scim: too many attributes for a nameIndex")
	}
	for i := nameHash(name); ; i = (i + 1) & (nameIndexSize - 1) {
		if x.slots[i].a != 0 && x.slots[i].name == name {
			panic("scim: two attributes named " + name)
		}
		if x.slots[i].a == 0 {
			x.slots[i].name, x.slots[i].a = name, a
			return
		}
	}
}

// find returns the index of the lower-case name k, 0 when there is none.
func (x *nameIndex) find(k []byte) uint8 {
	for i := nameHash(k); ; i = (i + 1) & (nameIndexSize - 1) {
		s := &x.slots[i]
		if s.a == 0 || s.name == string(k) {
			return s.a
		}
	}
}

// userRequired and groupRequired are the string attributes a client must
// assign: a create, a replace and the result of a PATCH without one is
// refused.
var (
	userRequired  = requiredAttrs(userAttrs[:])
	groupRequired = requiredAttrs(groupAttrs[:])
)

func requiredAttrs[R any](t []attrEntry[R]) []*attrEntry[R] {
	var out []*attrEntry[R]
	for i := range t {
		if t[i].def != nil && t[i].requiredString() {
			out = append(out, &t[i])
		}
	}
	return out
}

// checkRequired returns the 400 invalidValue naming the first of the
// required attributes that r lacks, or nil.
func checkRequired[R any](required []*attrEntry[R], r *R) error {
	for _, e := range required {
		if *e.str(r) == "" {
			return errorf(400, InvalidValue, `attribute "`+e.qname+`" is required`)
		}
	}
	return nil
}

// userDef and groupDef find the schema's definition of an attribute.
func userDef(urn, name string) *attrDef {
	return lookupUserAttr(AttrPath{URN: urn, Name: name})
}

func groupDef(urn, name string) *attrDef {
	return lookupGroupAttr(AttrPath{URN: urn, Name: name})
}

// The sub-attributes of each complex attribute, in output order. A
// projection mask has bit i set for sub-attribute i.
var (
	nameSubs    = []string{"formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"}
	mvSubs      = []string{"value", "display", "type", "primary"}
	addressSubs = []string{"formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary"}
	refSubs     = []string{"value", "$ref", "display", "type"} // groups and members
	managerSubs = []string{"value", "$ref", "displayName"}
	metaSubs    = []string{"resourceType", "created", "lastModified", "location", "version"}
)

// kindSubs is the sub-attributes a complex kind's code writes, in the order
// it writes them.
var kindSubs = map[attrKind][]string{
	akName:        nameSubs,
	akMultiValues: mvSubs,
	akAddresses:   addressSubs,
	akGroupRefs:   refSubs,
	akMembers:     refSubs,
	akManager:     managerSubs,
	akMeta:        metaSubs,
}

// attrKey is a member key the encoder writes, padded to a fixed size: to
// append it is a copy of constant size, which the compiler makes a few
// moves, as it does for the constant keys of code written per attribute,
// rather than a call to memmove.
type attrKey struct {
	b [attrKeySize]byte
	n uint8
}

// attrKeySize holds every key of the model (the longest is
// `,"x509Certificates":[`, 22 bytes); newAttrKey panics at init for a
// longer one.
const attrKeySize = 24

func newAttrKey(s string) attrKey {
	var k attrKey
	if len(s) > attrKeySize {
		panic("scim: attribute key " + s + " is longer than attrKeySize")
	}
	k.n = uint8(copy(k.b[:], s))
	return k
}

// appendTo appends the key to b.
func (k *attrKey) appendTo(b []byte) []byte {
	n := len(b)
	b = append(b, k.b[:]...)
	return b[:n+int(k.n)]
}

// checkOffset returns what is wrong with the field an entry of kind k named
// name locates at off in R (EnterpriseUser for an Enterprise string), or "".
func checkOffset[R any](k attrKind, name string, off uintptr) string {
	var in reflect.Type
	var want reflect.Type
	switch k {
	case akString:
		in, want = reflect.TypeFor[R](), reflect.TypeFor[string]()
	case akBool:
		in, want = reflect.TypeFor[R](), reflect.TypeFor[bool]()
	case akMultiValues:
		in, want = reflect.TypeFor[R](), reflect.TypeFor[[]MultiValue]()
	case akEnterpriseString:
		in, want = reflect.TypeFor[EnterpriseUser](), reflect.TypeFor[string]()
	default:
		return ""
	}
	for i := range in.NumField() {
		if f := in.Field(i); f.Offset == off && f.Type == want && strings.EqualFold(f.Name, name) {
			return ""
		}
	}
	return "no field " + name + " of type " + want.String() + " at its offset in " + in.Name()
}

// deriveAttrs completes a table of specifications in place. It panics
// when an entry names no attribute of the schema or lacks the accessor of
// its kind, which any test of the package catches at once.
func deriveAttrs[R any](t []attrEntry[R], def func(urn, name string) *attrDef) {
	if t[1].kind != akSchemas || t[len(t)-1].kind != akMeta {
		panic("scim: an attribute table begins with schemas and ends with meta")
	}
	for i := 1; i < len(t); i++ {
		e := &t[i]
		e.qname = e.name
		if e.urn != "" {
			e.qname = e.urn + ":" + e.name
		}
		if e.kind != akEnterprise { // the encoder writes its URN itself
			e.member = newAttrKey(`,"` + e.name + `":`)
			e.inner = newAttrKey(`"` + e.name + `":`)
			e.open = newAttrKey(`,"` + e.name + `":[`)
		}
		e.subs = kindSubs[e.kind]
		if e.kind != akEnterprise {
			if e.def = def(e.urn, e.name); e.def == nil {
				panic("scim: attribute " + e.qname + " is not in the schema")
			}
		}
		if err := checkOffset[R](e.kind, e.name, e.off); err != "" {
			panic("scim: attribute " + e.qname + ": " + err)
		}
	}
}
