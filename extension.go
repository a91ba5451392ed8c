package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Extension is a schema extension the host declares (RFC 7643 §3.3), such
// as the custom attributes an Entra ID admin maps into the application
// under urn:ietf:params:scim:schemas:extension:<App>:2.0:User. Pass them in
// [Options.Extensions].
//
// A declared extension is listed by /Schemas and in its resource type's
// schemaExtensions (/ResourceTypes). Its values are kept in User.Extra or
// Group.Extra under the extension's URN, as one JSON object with the
// declared names' case, whether a client sent them nested
// ({"urn:...:User": {"badgeNumber": 7}}), flat ("urn:...:User:badgeNumber")
// or by a PATCH path (with or without path): every store that keeps Extra
// keeps them, and [Extension.Lookup] reads them back as Go values. Each
// write is checked against the declaration before the host's policies run:
// a value of the wrong type, an attribute the extension does not declare,
// a missing required attribute, or a missing extension marked Required is
// 400 invalidValue naming the attribute, and so is a value outside
// CanonicalValues when the attribute is CanonicalOnly; a change to an
// immutable value that is set is 400 mutability; a [MutabilityReadOnly]
// attribute keeps its stored value, whatever the client sends.
//
// Filters, sortBy and attributes/excludedAttributes name the attributes
// qualified by the URN (`urn:...:User:badgeNumber gt 100`). The handler
// hands the store paths that carry the declaration ([AttrPath].Declared),
// so that [MatchUser] and [SortUsers] compare as declared: an integer or
// decimal as a number, a boolean as a boolean, a dateTime as an instant
// ("2026-01-02T15:04:05Z" equals "2026-01-02T16:04:05+01:00"; values are
// kept as sent), a string case-insensitively unless it is CaseExact. A
// comparison the type cannot answer is 400 invalidFilter naming the
// attribute: `badgeNumber gt "x"`, a dateTime compared with anything but
// an RFC 3339 dateTime, co, sw or ew on a number or a dateTime (RFC 7644
// §3.4.2.2 defines them on strings, and one instant has many spellings),
// an undeclared attribute of a declared extension.
//
// Responses follow each attribute's returned: a write-only or
// returned-never value is stored and never sent, a returned-request one
// only when attributes names it, a returned-always one even when
// excludedAttributes names it.
//
// Uniqueness server or global is enforced by a store that is an
// [ExtensionDeclarer] (memstore and sqlstore are): a write that would give
// a second resource of the tenant a value is 409 uniqueness naming the
// attribute, values compared as CaseExact says; global is enforced as
// server, within the tenant. With another store it is advertised only, as
// RFC 7643 §2.2 lets a service provider (NewHandler logs a warning).
// CanonicalValues are advertised, and enforced only with CanonicalOnly
// (RFC 7643 §2.3.1 lets a service provider accept other values).
// Extensions whose URN is not declared keep the default behaviour: they
// are stored in Extra as sent, untyped.
//
// An Extension is read by NewHandler, which copies it: changing it
// afterwards changes nothing.
type Extension struct {
	// Schema is the extension's URN, for example
	// "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User". It must
	// start with "urn:" and must not be a schema this package models.
	Schema string
	// Resource is "User" or "Group": the resource type the extension extends.
	Resource string
	// Name and Description are served by /Schemas; Name defaults to the
	// URN's last part.
	Name, Description string
	// Required is the schemaExtensions "required" of the resource type
	// (RFC 7643 §6): every resource created or replaced must carry the
	// extension.
	Required bool
	// Attributes are the extension's attributes; at least one.
	Attributes []Attribute
}

// Attribute is one attribute of an [Extension], with the characteristics of
// RFC 7643 §2.2. The zero values of its fields are the RFC's defaults: a
// single-valued, case-insensitive string a client may read and write, returned by default,
// with no uniqueness.
type Attribute struct {
	// Name is the attribute's name (RFC 7643 §2.1: a letter, then letters,
	// digits, "-" and "_"), in the case it is stored and returned in;
	// clients may send it in any case.
	Name string
	// Type is the attribute's data type; "" is [TypeString].
	Type AttributeType
	// SubAttributes are a complex attribute's sub-attributes, which are
	// themselves not complex. Only a TypeComplex attribute has them.
	SubAttributes []Attribute
	MultiValued   bool
	Description   string
	// Required makes a resource that carries the extension without this
	// attribute invalid.
	Required bool
	// CanonicalValues are advertised by /Schemas. They are not enforced
	// unless CanonicalOnly is set: RFC 7643 §2.3.1 lets a service
	// provider accept other values.
	CanonicalValues []string
	// CanonicalOnly makes a value outside CanonicalValues 400 invalidValue,
	// naming the attribute and the values allowed, compared as CaseExact
	// says. Only a string or reference attribute with CanonicalValues
	// may set it.
	CanonicalOnly bool
	// CaseExact makes the attribute's string values compare
	// case-sensitively, in filters (every operator), sortBy, uniqueness
	// and CanonicalOnly; otherwise they compare ignoring case (Unicode
	// simple case folding, as [FoldCase]).
	CaseExact bool
	// Mutability is "" ([MutabilityReadWrite]) or another AttributeMutability.
	Mutability AttributeMutability
	// Returned is "" ([ReturnedDefault]) or another AttributeReturned.
	Returned AttributeReturned
	// Uniqueness is "" ([UniquenessNone]) or another AttributeUniqueness;
	// server and global are enforced, within the tenant, by a store that
	// is an [ExtensionDeclarer]. It means nothing on a boolean or complex
	// attribute, whose sub-attributes may be unique instead.
	Uniqueness AttributeUniqueness
	// ReferenceTypes are a TypeReference attribute's referenceTypes
	// ("external", "uri", a resource type name); none means "external".
	ReferenceTypes []string
}

// AttributeType is an attribute's data type (RFC 7643 §2.3).
type AttributeType string

// The data types of RFC 7643 §2.3 an [Attribute] may have. Binary is not
// offered: no client this package serves sends it in an extension.
const (
	TypeString    AttributeType = "string"
	TypeBoolean   AttributeType = "boolean"
	TypeDecimal   AttributeType = "decimal"
	TypeInteger   AttributeType = "integer"
	TypeDateTime  AttributeType = "dateTime"
	TypeReference AttributeType = "reference"
	TypeComplex   AttributeType = "complex"
)

// AttributeMutability is an attribute's mutability (RFC 7643 §2.2).
type AttributeMutability string

// The mutabilities of RFC 7643 §2.2.
const (
	MutabilityReadWrite AttributeMutability = "readWrite"
	MutabilityReadOnly  AttributeMutability = "readOnly"
	MutabilityImmutable AttributeMutability = "immutable"
	MutabilityWriteOnly AttributeMutability = "writeOnly"
)

// AttributeReturned says when an attribute is returned (RFC 7643 §2.2).
type AttributeReturned string

// The values of "returned" in RFC 7643 §2.2.
const (
	ReturnedDefault AttributeReturned = "default"
	ReturnedAlways  AttributeReturned = "always"
	ReturnedNever   AttributeReturned = "never"
	ReturnedRequest AttributeReturned = "request"
)

// AttributeUniqueness is an attribute's uniqueness (RFC 7643 §2.2).
type AttributeUniqueness string

// The values of "uniqueness" in RFC 7643 §2.2.
const (
	UniquenessNone   AttributeUniqueness = "none"
	UniquenessServer AttributeUniqueness = "server"
	UniquenessGlobal AttributeUniqueness = "global"
)

// extension is a declared Extension compiled into the attribute table's
// form: the same attrDef the core schemas are described by.
type extension struct {
	// hides says an attribute is returned only on request, never, or is
	// writeOnly: every response is then projected.
	hides    bool
	urn      string
	resource string
	required bool
	schema   *resourceSchema
	// decls are the handler's copy of the declarations, which the paths
	// of its queries point to (AttrPath.Declared).
	decls []Attribute
}

// extensions are the Handler's declared extensions, per resource type.
type extensions struct {
	user, group []*extension
}

func (x *extensions) of(resource string) []*extension {
	if resource == "Group" {
		return x.group
	}
	return x.user
}

// withExtensions returns enc, which writes a user or a group, so that the
// objects of the declared extensions exts are projected member by member:
// attributes=urn:...:badgeNumber writes only that member of the object,
// excludedAttributes=urn:...:badgeNumber leaves it out. (Extra objects of
// undeclared extensions are projected whole, by the encoder.) extra
// returns a shallow copy of v and its Extra to change.
func withExtensions[T any](exts []*extension, enc func([]byte, T, Projection, string) []byte, extra func(T) (T, *map[string]json.RawMessage)) func([]byte, T, Projection, string) []byte {
	if len(exts) == 0 {
		return enc
	}
	return func(b []byte, v T, p Projection, base string) []byte {
		if len(p.Attributes)+len(p.Excluded) == 0 && !slices.ContainsFunc(exts, func(e *extension) bool { return e.hides }) {
			return enc(b, v, p, base)
		}
		var projected map[string]json.RawMessage
		_, m := extra(v)
		for k, raw := range *m {
			pv, changed := projectExtensionObject(exts, k, raw, p)
			if !changed {
				continue
			}
			if projected == nil {
				projected = maps.Clone(*m)
			}
			projected[k] = pv
		}
		if projected == nil {
			return enc(b, v, p, base)
		}
		c, cm := extra(v)
		*cm = projected
		return enc(b, c, p, base)
	}
}

func userExtra(u *User) (*User, *map[string]json.RawMessage) {
	c := *u
	return &c, &c.Extra
}

func groupExtra(g *Group) (*Group, *map[string]json.RawMessage) {
	c := *g
	return &c, &c.Extra
}

// compileExtensions checks the declarations NewHandler was given.
func compileExtensions(decls []Extension) (extensions, error) {
	var x extensions
	seen := map[string]bool{}
	for _, e := range decls {
		if !strings.HasPrefix(strings.ToLower(e.Schema), "urn:") || strings.ContainsAny(e.Schema, " \"") {
			return x, fmt.Errorf("scim: NewHandler: extension schema %q is not a URN", e.Schema)
		}
		switch strings.ToLower(e.Schema) {
		case strings.ToLower(UserSchema), strings.ToLower(EnterpriseUserSchema), strings.ToLower(GroupSchema):
			return x, fmt.Errorf("scim: NewHandler: extension schema %q is modelled by this package", e.Schema)
		}
		if seen[strings.ToLower(e.Schema)] {
			return x, fmt.Errorf("scim: NewHandler: extension schema %q declared twice", e.Schema)
		}
		seen[strings.ToLower(e.Schema)] = true
		if e.Resource != "User" && e.Resource != "Group" {
			return x, fmt.Errorf("scim: NewHandler: extension %q: Resource is %q, not \"User\" or \"Group\"", e.Schema, e.Resource)
		}
		if len(e.Attributes) == 0 {
			return x, fmt.Errorf("scim: NewHandler: extension %q declares no attributes", e.Schema)
		}
		if e.Name == "" {
			e.Name = e.Schema[strings.LastIndexByte(e.Schema, ':')+1:]
		}
		s := &resourceSchema{id: e.Schema, byName: map[string]*attrDef{}}
		for _, a := range e.Attributes {
			d, err := compileAttribute(a, false)
			if err != nil {
				return x, fmt.Errorf("scim: NewHandler: extension %q: %w", e.Schema, err)
			}
			if s.byName[strings.ToLower(d.name)] != nil {
				return x, fmt.Errorf("scim: NewHandler: extension %q: attribute %q declared twice", e.Schema, a.Name)
			}
			s.attrs = append(s.attrs, d)
			s.byName[strings.ToLower(d.name)] = d
		}
		s.served = appendDeclaredSchema(nil, e.Schema, e.Name, e.Description, s.attrs)
		ext := &extension{urn: e.Schema, resource: e.Resource, required: e.Required, schema: s, decls: cloneAttributes(e.Attributes)}
		for _, d := range s.attrs {
			ext.hides = ext.hides || d.returned == returnedNever || d.returned == returnedRequest || d.mutability == writeOnly
		}
		if e.Resource == "Group" {
			x.group = append(x.group, ext)
		} else {
			x.user = append(x.user, ext)
		}
	}
	return x, nil
}

func validAttrName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func compileAttribute(a Attribute, isSub bool) (*attrDef, error) {
	if !validAttrName(a.Name) {
		return nil, fmt.Errorf("attribute name %q is not a SCIM attribute name", a.Name)
	}
	d := &attrDef{
		name: a.Name, multi: a.MultiValued, caseExact: a.CaseExact, required: a.Required,
		description: a.Description, canonical: append([]string(nil), a.CanonicalValues...),
		referenceTypes: append([]string(nil), a.ReferenceTypes...), canonicalOnly: a.CanonicalOnly,
	}
	if a.CanonicalOnly && (len(a.CanonicalValues) == 0 || a.Type != "" && a.Type != TypeString && a.Type != TypeReference) {
		return nil, fmt.Errorf("attribute %q: CanonicalOnly needs CanonicalValues on a string or reference attribute", a.Name)
	}
	switch a.Type {
	case "", TypeString:
		d.typ = typeString
	case TypeBoolean:
		d.typ = typeBoolean
	case TypeDecimal:
		d.typ = typeDecimal
	case TypeInteger:
		d.typ = typeInteger
	case TypeDateTime:
		d.typ = typeDateTime
	case TypeReference:
		d.typ = typeReference
		if len(d.referenceTypes) == 0 {
			d.referenceTypes = []string{"external"}
		}
	case TypeComplex:
		if isSub {
			return nil, fmt.Errorf("attribute %q: a sub-attribute cannot be complex (RFC 7643 §2.3.8)", a.Name)
		}
		d.typ = typeComplex
	default:
		return nil, fmt.Errorf("attribute %q: unknown type %q", a.Name, a.Type)
	}
	switch a.Mutability {
	case "", MutabilityReadWrite:
	case MutabilityReadOnly:
		d.mutability = readOnly
	case MutabilityImmutable:
		d.mutability = immutable
	case MutabilityWriteOnly:
		d.mutability = writeOnly
	default:
		return nil, fmt.Errorf("attribute %q: unknown mutability %q", a.Name, a.Mutability)
	}
	switch a.Returned {
	case "", ReturnedDefault:
	case ReturnedAlways:
		d.returned = returnedAlways
	case ReturnedNever:
		d.returned = returnedNever
	case ReturnedRequest:
		d.returned = returnedRequest
	default:
		return nil, fmt.Errorf("attribute %q: unknown returned %q", a.Name, a.Returned)
	}
	switch a.Uniqueness {
	case "", UniquenessNone:
	case UniquenessServer:
		d.uniqueness = uniqueServer
	case UniquenessGlobal:
		d.uniqueness = uniqueGlobal
	default:
		return nil, fmt.Errorf("attribute %q: unknown uniqueness %q", a.Name, a.Uniqueness)
	}
	if len(a.SubAttributes) > 0 && d.typ != typeComplex {
		return nil, fmt.Errorf("attribute %q: only a complex attribute has sub-attributes", a.Name)
	}
	if d.typ == typeComplex && len(a.SubAttributes) == 0 {
		return nil, fmt.Errorf("attribute %q: a complex attribute needs sub-attributes", a.Name)
	}
	for _, sa := range a.SubAttributes {
		sd, err := compileAttribute(sa, true)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		if d.sub(sd.name) != nil {
			return nil, fmt.Errorf("attribute %q: sub-attribute %q declared twice", a.Name, sa.Name)
		}
		d.subs = append(d.subs, sd)
	}
	return d, nil
}

// normalizeExtensions checks the declared extensions in *extra, the
// attributes of a resource being written, against their declarations and
// rewrites each as one object under its URN with the declared names. old
// is the stored resource's Extra (nil on create), for read-only and
// immutable attributes.
func normalizeExtensions(exts []*extension, extra *map[string]json.RawMessage, old map[string]json.RawMessage) error {
	for _, e := range exts {
		if err := e.normalize(extra, old); err != nil {
			return err
		}
	}
	if len(*extra) == 0 {
		*extra = nil
	}
	return nil
}

func (e *extension) normalize(extra *map[string]json.RawMessage, old map[string]json.RawMessage) error {
	members := map[string]any{} // declared name → value
	for k, raw := range *extra {
		var obj map[string]any
		switch {
		case strings.EqualFold(k, e.urn):
			v, err := decodeExtValue(raw)
			if err != nil {
				return errorf(http.StatusBadRequest, InvalidValue, e.urn+" is not valid JSON")
			}
			o, ok := v.(map[string]any)
			if !ok {
				return errorf(http.StatusBadRequest, InvalidValue, e.urn+" must be an object of the extension's attributes")
			}
			obj = o
		case len(k) > len(e.urn)+1 && strings.EqualFold(k[:len(e.urn)], e.urn) && k[len(e.urn)] == ':':
			// A flat key the decoder did not fold (it folds those it reads).
			v, err := decodeExtValue(raw)
			if err != nil {
				return errorf(http.StatusBadRequest, InvalidValue, k+" is not valid JSON")
			}
			obj = map[string]any{k[len(e.urn)+1:]: v}
		default:
			continue
		}
		delete(*extra, k)
		for name, v := range obj {
			d := e.schema.attr(name)
			if d == nil {
				return errorf(http.StatusBadRequest, InvalidValue, e.urn+":"+name+" is not an attribute of the schema "+e.urn)
			}
			if v == nil {
				continue
			}
			cv, err := checkExtValue(d, v, e.urn+":"+d.name)
			if err != nil {
				return err
			}
			if cv != nil {
				members[d.name] = cv
			}
		}
	}
	var stored map[string]any
	for k, raw := range old {
		if strings.EqualFold(k, e.urn) {
			if v, err := decodeExtValue(raw); err == nil {
				stored, _ = v.(map[string]any)
			}
		}
	}
	for _, d := range e.schema.attrs {
		was, had := stored[d.name]
		switch d.mutability {
		case readOnly:
			delete(members, d.name)
			if had {
				members[d.name] = was
			}
		case immutable:
			if now, ok := members[d.name]; had && ok && !jsonEqual(now, was) || had && !ok {
				return errorf(http.StatusBadRequest, Mutability, e.urn+":"+d.name+" is immutable: it cannot be changed once set")
			}
		}
		if _, ok := members[d.name]; d.required && !ok && len(members) > 0 {
			return errorf(http.StatusBadRequest, InvalidValue, e.urn+":"+d.name+" is required")
		}
	}
	if len(members) == 0 {
		if e.required {
			return errorf(http.StatusBadRequest, InvalidValue, "the extension "+e.urn+" is required")
		}
		return nil
	}
	b := []byte{'{'}
	for _, d := range e.schema.attrs {
		v, ok := members[d.name]
		if !ok {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, d.name)
		b = append(b, ':')
		b = appendJSONValue(b, v)
	}
	b = append(b, '}')
	if *extra == nil {
		*extra = map[string]json.RawMessage{}
	}
	(*extra)[e.urn] = b
	return nil
}

// sameString compares two values of the string attribute d as its
// caseExact says.
func sameString(d *attrDef, a, b string) bool {
	if d.caseExact {
		return a == b
	}
	return strings.EqualFold(a, b)
}

// quotedList is `"a", "b" or "c"`.
func quotedList(vs []string) string {
	var b strings.Builder
	for i, v := range vs {
		switch {
		case i == 0:
		case i == len(vs)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(v))
	}
	return b.String()
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// decodeExtValue decodes one JSON value as encoding/json decodes it into
// an any with UseNumber (objects map[string]any, arrays []any, numbers
// json.Number; invalid UTF-8 becomes U+FFFD, a repeated key keeps its last
// value), on the package's own reader: it costs an allocation per string,
// number, array and object and nothing else.
func decodeExtValue(raw json.RawMessage) (any, error) {
	r := newReader(raw, maxExtDepth)
	v, err := readExtValue(&r)
	if err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return v, nil
}

// maxExtDepth is encoding/json's nesting limit: values reach here already
// limited by the request decoder, or from a store.
const maxExtDepth = 10000

func readExtValue(r *reader) (any, error) {
	k, err := r.peek()
	if err != nil {
		return nil, err
	}
	switch k {
	case kindString:
		s, err := r.readString()
		return string(s), err
	case kindNumber:
		start := r.pos
		if err := r.scanNumber(); err != nil {
			return nil, err
		}
		return json.Number(r.data[start:r.pos]), nil
	case kindBool, kindNull:
		k, b, err := r.scanLiteral()
		if err != nil || k == kindNull {
			return nil, err
		}
		return b, nil
	case kindArray:
		if err := r.open(); err != nil {
			return nil, err
		}
		a := []any{}
		for first := true; ; first = false {
			ok, err := r.nextElem(first)
			if err != nil {
				return nil, err
			}
			if !ok {
				return a, nil
			}
			v, err := readExtValue(r)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	m := map[string]any{}
	for first := true; ; first = false {
		key, ok, err := r.nextMember(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return m, nil
		}
		name := string(key)
		v, err := readExtValue(r)
		if err != nil {
			return nil, err
		}
		m[name] = v
	}
}

// appendJSONValue appends v, a value as decodeExtValue returns it, as
// json.Marshal encodes it: object members sorted by name, strings escaped
// as appendJSONString escapes them.
func appendJSONValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case string:
		return appendJSONString(b, v)
	case json.Number:
		return append(b, v...)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONValue(b, v[k])
		}
		return append(b, '}')
	}
	// Not a decoded value (Set's callers pass Go values through
	// json.Marshal first): unreachable.
	return append(b, "null"...)
}

// checkExtValue checks a decoded JSON value against d and returns it with
// the declared names of a complex value's sub-attributes; nil for a value
// that is unassigned ([] or an object with nothing set).
func checkExtValue(d *attrDef, v any, path string) (any, error) {
	if d.multi {
		arr, ok := v.([]any)
		if !ok {
			return nil, errorf(http.StatusBadRequest, InvalidValue, path+" is multi-valued: its value must be an array")
		}
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			if e == nil {
				continue
			}
			cv, err := checkSingleExtValue(d, e, path)
			if err != nil {
				return nil, err
			}
			if cv != nil {
				out = append(out, cv)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	return checkSingleExtValue(d, v, path)
}

func checkSingleExtValue(d *attrDef, v any, path string) (any, error) {
	bad := func(what string) error {
		return errorf(http.StatusBadRequest, InvalidValue, path+" must be "+what)
	}
	switch d.typ {
	case typeString, typeReference, typeBinary:
		s, ok := v.(string)
		if !ok {
			return nil, bad("a string")
		}
		if d.canonicalOnly && !slices.ContainsFunc(d.canonical, func(c string) bool { return sameString(d, c, s) }) {
			return nil, bad("one of " + quotedList(d.canonical))
		}
	case typeBoolean:
		if _, ok := v.(bool); !ok {
			return nil, bad("a boolean")
		}
	case typeInteger:
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad("an integer")
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			return nil, bad("an integer")
		}
	case typeDecimal:
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad("a decimal number")
		}
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			return nil, bad("a decimal number")
		}
	case typeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, bad("a dateTime string")
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, bad(`a dateTime (RFC 3339, such as "2026-01-02T15:04:05Z")`)
		}
	case typeComplex:
		o, ok := v.(map[string]any)
		if !ok {
			return nil, bad("an object")
		}
		out := make(map[string]any, len(o))
		for name, sv := range o {
			sd := d.sub(name)
			if sd == nil {
				return nil, errorf(http.StatusBadRequest, InvalidValue, path+"."+name+" is not a sub-attribute of "+path)
			}
			if sv == nil {
				continue
			}
			cv, err := checkExtValue(sd, sv, path+"."+sd.name)
			if err != nil {
				return nil, err
			}
			if cv != nil {
				out[sd.name] = cv
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	return v, nil
}

// Lookup returns the value of the extension's attribute name (any case) in
// extra, a User's or Group's Extra as the handler stores it, converted by
// the attribute's declared type: string, int64, float64, bool, time.Time
// (dateTime), or for a complex attribute a map[string]any of its
// sub-attributes' values; a multi-valued attribute is a []any of those.
// ok is false when the attribute is not declared, not set, or not of its
// declared type (a value written around the handler). It is safe for
// concurrent use and does not modify extra.
func (e Extension) Lookup(extra map[string]json.RawMessage, name string) (v any, ok bool) {
	a := e.attribute(name)
	if a == nil {
		return nil, false
	}
	d, err := compileAttribute(*a, false)
	if err != nil {
		return nil, false
	}
	for k, raw := range extra {
		if !strings.EqualFold(k, e.Schema) {
			continue
		}
		o, err := decodeExtValue(raw)
		if err != nil {
			return nil, false
		}
		m, _ := o.(map[string]any)
		if x, found := jsonMember(m, d.name); found && x != nil {
			return typedExtValue(d, x)
		}
	}
	return nil, false
}

// Set sets the extension's attribute name to v in *extra, in the form the
// handler stores it, for a host or a store that writes a resource itself.
// v is a Go value of the attribute's type as Lookup returns it (an int or
// int64 for an integer, a float64 for a decimal, a time.Time or an RFC 3339
// string for a dateTime, a []any or a []string for a multi-valued
// attribute); nil removes the attribute. The error names the attribute
// when v does not fit the declaration.
func (e Extension) Set(extra *map[string]json.RawMessage, name string, v any) error {
	a := e.attribute(name)
	if a == nil {
		return fmt.Errorf("scim: %s:%s is not an attribute of the extension", e.Schema, name)
	}
	d, err := compileAttribute(*a, false)
	if err != nil {
		return err
	}
	if t, ok := v.(time.Time); ok {
		v = t.Format(time.RFC3339Nano)
	}
	var obj map[string]any
	for k, raw := range *extra {
		if strings.EqualFold(k, e.Schema) {
			if o, err := decodeExtValue(raw); err == nil {
				obj, _ = o.(map[string]any)
			}
			delete(*extra, k)
		}
	}
	if obj == nil {
		obj = map[string]any{}
	}
	delete(obj, d.name)
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("scim: %s:%s: %w", e.Schema, d.name, err)
		}
		jv, err := decodeExtValue(b)
		if err != nil {
			return fmt.Errorf("scim: %s:%s: %w", e.Schema, d.name, err)
		}
		cv, err := checkExtValue(d, jv, e.Schema+":"+d.name)
		if err != nil {
			var se *Error
			if errors.As(err, &se) {
				return fmt.Errorf("scim: %s", se.Detail)
			}
			return err
		}
		if cv != nil {
			obj[d.name] = cv
		}
	}
	if len(obj) == 0 {
		if len(*extra) == 0 {
			*extra = nil
		}
		return nil
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	if *extra == nil {
		*extra = map[string]json.RawMessage{}
	}
	(*extra)[e.Schema] = b
	return nil
}

func (e Extension) attribute(name string) *Attribute {
	for i := range e.Attributes {
		if strings.EqualFold(e.Attributes[i].Name, name) {
			return &e.Attributes[i]
		}
	}
	return nil
}

func typedExtValue(d *attrDef, x any) (any, bool) {
	if d.multi {
		arr, ok := x.([]any)
		if !ok {
			return nil, false
		}
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			v, ok := typedSingle(d, e)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	}
	return typedSingle(d, x)
}

func typedSingle(d *attrDef, x any) (any, bool) {
	switch d.typ {
	case typeString, typeReference, typeBinary:
		s, ok := x.(string)
		return s, ok
	case typeBoolean:
		b, ok := x.(bool)
		return b, ok
	case typeInteger:
		n, ok := x.(json.Number)
		if !ok {
			return nil, false
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case typeDecimal:
		n, ok := x.(json.Number)
		if !ok {
			return nil, false
		}
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	case typeDateTime:
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return t, err == nil
	case typeComplex:
		o, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		out := make(map[string]any, len(o))
		for name, sv := range o {
			sd := d.sub(name)
			if sd == nil || sv == nil {
				continue
			}
			v, ok := typedExtValue(sd, sv)
			if !ok {
				return nil, false
			}
			out[sd.name] = v
		}
		return out, true
	}
	return nil, false
}

// appendDeclaredSchema renders a Schema resource (RFC 7643 §7) without its
// meta, from the attribute table.
func appendDeclaredSchema(b []byte, id, name, desc string, attrs []*attrDef) []byte {
	b = append(b, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Schema"],"id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, name)
	b = append(b, `,"description":`...)
	b = appendJSONString(b, desc)
	b = append(b, `,"attributes":[`...)
	for i, d := range attrs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendAttrDef(b, d)
	}
	return append(b, "]}"...)
}

var attrTypeNames = [...]string{
	typeString: "string", typeBoolean: "boolean", typeDecimal: "decimal", typeInteger: "integer",
	typeDateTime: "dateTime", typeBinary: "binary", typeReference: "reference", typeComplex: "complex",
}

var mutabilityNames = [...]string{readWrite: "readWrite", readOnly: "readOnly", immutable: "immutable", writeOnly: "writeOnly"}

var returnedNames = [...]string{returnedDefault: "default", returnedAlways: "always", returnedNever: "never", returnedRequest: "request"}

var uniquenessNames = [...]string{uniqueNone: "none", uniqueServer: "server", uniqueGlobal: "global"}

// appendAttrDef renders one attribute definition (RFC 7643 §7).
func appendAttrDef(b []byte, d *attrDef) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, d.name)
	b = append(b, `,"type":"`...)
	b = append(b, attrTypeNames[d.typ]...)
	b = append(b, `","multiValued":`...)
	b = strconv.AppendBool(b, d.multi)
	b = append(b, `,"description":`...)
	b = appendJSONString(b, d.description)
	b = append(b, `,"required":`...)
	b = strconv.AppendBool(b, d.required)
	// As elimity-com/scim rendered the core schemas: caseExact and
	// uniqueness say nothing of a complex or boolean attribute.
	simple := d.typ != typeComplex && d.typ != typeBoolean
	if simple {
		b = append(b, `,"caseExact":`...)
		b = strconv.AppendBool(b, d.caseExact)
	}
	if len(d.canonical) > 0 {
		b = append(b, `,"canonicalValues":[`...)
		for i, c := range d.canonical {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, c)
		}
		b = append(b, ']')
	}
	b = append(b, `,"mutability":"`...)
	b = append(b, mutabilityNames[d.mutability]...)
	b = append(b, `","returned":"`...)
	b = append(b, returnedNames[d.returned]...)
	b = append(b, '"')
	if simple {
		b = append(b, `,"uniqueness":"`...)
		b = append(b, uniquenessNames[d.uniqueness]...)
		b = append(b, '"')
	}
	if len(d.referenceTypes) > 0 {
		b = append(b, `,"referenceTypes":[`...)
		for i, r := range d.referenceTypes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, r)
		}
		b = append(b, ']')
	}
	if len(d.subs) > 0 {
		b = append(b, `,"subAttributes":[`...)
		for i, s := range d.subs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAttrDef(b, s)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// projectExtensionObject applies the members the projection names inside
// the extension object held under key (attributes=urn:...:badgeNumber
// keeps only badgeNumber of that object; excludedAttributes removes it).
// Any other value, or a projection that names none of its members, is
// returned as it is. Members keep their names; the object written is
// re-encoded only when a member was dropped.
func projectExtensionObject(exts []*extension, key string, v []byte, p Projection) ([]byte, bool) {
	if !isURN(key) || len(v) == 0 || trimJSONSpace(v)[0] != '{' {
		return v, false
	}
	i := slices.IndexFunc(exts, func(e *extension) bool { return strings.EqualFold(e.urn, key) })
	if i < 0 {
		return v, false
	}
	e := exts[i]
	var keep, drop []string
	whole := len(p.Attributes) == 0
	for _, a := range p.Attributes {
		switch {
		case pathCovers(a, key):
			whole = true
		case a.URN != "" && strings.EqualFold(a.URN, key):
			keep = append(keep, a.Name)
		}
	}
	if len(keep) == 0 {
		whole = true
	}
	for _, x := range p.Excluded {
		if x.Sub == "" && x.URN != "" && strings.EqualFold(x.URN, key) {
			drop = append(drop, x.Name)
		}
	}
	if whole && len(drop) == 0 && !e.hides {
		return v, false
	}
	o, err := decodeExtValue(v)
	m, ok := o.(map[string]any)
	if err != nil || !ok {
		return v, false
	}
	named := func(list []string, name string) bool {
		return slices.ContainsFunc(list, func(k string) bool { return strings.EqualFold(k, name) })
	}
	changed := false
	for name := range m {
		wanted := (whole || named(keep, name)) && !named(drop, name)
		if d := e.schema.attr(name); d != nil {
			// RFC 7643 §2.2: returned and writeOnly decide first.
			switch {
			case d.returned == returnedNever || d.mutability == writeOnly:
				wanted = false
			case d.returned == returnedAlways:
				wanted = true
			case d.returned == returnedRequest:
				wanted = named(keep, name)
			}
		}
		if !wanted {
			delete(m, name)
			changed = true
		}
	}
	if !changed {
		return v, false
	}
	b, err := json.Marshal(m)
	if err != nil {
		return v, false
	}
	return b, true
}

// validateFilter refuses the comparisons on declared extension attributes
// that their type cannot answer, as validateFilter does for the core
// schemas (RFC 7644 §3.4.2.2: 400 invalidFilter): an attribute the
// extension does not declare, a number compared with anything but a
// number, a boolean with anything but eq/ne and true/false, a dateTime
// with anything but an RFC 3339 dateTime, co/sw/ew on a number or a
// dateTime. The comparisons inside a value path's brackets are checked
// against the attribute's sub-attributes.
func (x *extensions) validateFilter(f Filter, resource string) error {
	exts := x.of(resource)
	if len(exts) == 0 || f == nil {
		return nil
	}
	switch f := f.(type) {
	case *LogicalExpr:
		if f == nil {
			return nil
		}
		if err := x.validateFilter(f.Left, resource); err != nil {
			return err
		}
		return x.validateFilter(f.Right, resource)
	case *NotExpr:
		if f == nil {
			return nil
		}
		return x.validateFilter(f.Filter, resource)
	case *ValuePathExpr:
		if f == nil {
			return nil
		}
		d, err := resolveExtPath(exts, f.Path)
		if d == nil || err != nil {
			return err
		}
		return validateExtElemFilter(f.Filter, d, f.Path)
	case *AttrExpr:
		if f == nil {
			return nil
		}
		d, err := resolveExtPath(exts, f.Path)
		if d == nil || err != nil {
			return err
		}
		return validateExtComparison(f, d)
	}
	return nil
}

// validateExtElemFilter checks the filter in the brackets of a value path
// on the declared attribute d (named p), whose paths name d's
// sub-attributes ("value" for a multi-valued simple attribute).
func validateExtElemFilter(f Filter, d *attrDef, p AttrPath) error {
	switch f := f.(type) {
	case *LogicalExpr:
		if f == nil {
			return nil
		}
		if err := validateExtElemFilter(f.Left, d, p); err != nil {
			return err
		}
		return validateExtElemFilter(f.Right, d, p)
	case *NotExpr:
		if f == nil {
			return nil
		}
		return validateExtElemFilter(f.Filter, d, p)
	case *AttrExpr:
		if f == nil || f.Path.URN != "" {
			return nil
		}
		if d.typ != typeComplex {
			if !strings.EqualFold(f.Path.Name, "value") || f.Path.Sub != "" {
				return nil
			}
			return validateExtComparison(f, d)
		}
		sd := d.sub(f.Path.Name)
		if sd == nil {
			return errorf(http.StatusBadRequest, InvalidFilter, fmt.Sprintf("%s is not a sub-attribute of %s", f.Path.Name, p))
		}
		return validateExtComparison(f, sd)
	}
	return nil
}

// validateExtComparison checks one comparison on the declared attribute d.
func validateExtComparison(f *AttrExpr, d *attrDef) error {
	if f.Op == OpPr || f.Value.Kind == KindNull {
		return nil
	}
	bad := func(why string) error {
		return errorf(http.StatusBadRequest, InvalidFilter, fmt.Sprintf("%s: %s %s", f, f.Path, why))
	}
	textual := f.Op == OpCo || f.Op == OpSw || f.Op == OpEw
	switch d.typ {
	case typeInteger, typeDecimal:
		if f.Value.Kind != KindNumber || textual {
			return bad("is a number: compare it with a number, by eq, ne, gt, ge, lt or le")
		}
	case typeBoolean:
		if f.Value.Kind != KindBool || (f.Op != OpEq && f.Op != OpNe) {
			return bad("is a boolean: compare it with true or false, by eq or ne")
		}
	case typeDateTime:
		// co, sw and ew compare text (RFC 7644 §3.4.2.2), which a
		// dateTime does not have: one instant has many spellings.
		if f.Value.Kind != KindString || textual {
			return bad(`is a dateTime: compare it with an RFC 3339 dateTime such as "2026-01-02T15:04:05Z", by eq, ne, gt, ge, lt or le`)
		}
		if _, err := time.Parse(time.RFC3339Nano, f.Value.Text); err != nil {
			return bad(fmt.Sprintf(`is a dateTime, and %q is not one: use RFC 3339, such as "2026-01-02T15:04:05Z"`, f.Value.Text))
		}
	case typeComplex:
		v := d.sub("value")
		if v == nil {
			return bad("is complex: compare one of its sub-attributes")
		}
		return validateExtComparison(f, v)
	}
	return nil
}

// typeFilter returns f with the paths that name declared extension
// attributes of resource carrying their declarations, so that the
// evaluator compares them as declared (a value path's brackets follow the
// declaration of its attribute); f itself when it names none: a parsed
// filter is shared and never modified.
func (x *extensions) typeFilter(f Filter, resource string) Filter {
	exts := x.of(resource)
	if len(exts) == 0 {
		return f
	}
	t, _ := typeFilterNode(exts, f)
	return t
}

// typeFilterNode is typeFilter of one node; changed reports a copy.
func typeFilterNode(exts []*extension, f Filter) (_ Filter, changed bool) {
	switch f := f.(type) {
	case *LogicalExpr:
		if f == nil {
			return f, false
		}
		l, lc := typeFilterNode(exts, f.Left)
		r, rc := typeFilterNode(exts, f.Right)
		if !lc && !rc {
			return f, false
		}
		return &LogicalExpr{Op: f.Op, Left: l, Right: r}, true
	case *NotExpr:
		if f == nil {
			return f, false
		}
		in, c := typeFilterNode(exts, f.Filter)
		if !c {
			return f, false
		}
		return &NotExpr{Filter: in}, true
	case *AttrExpr:
		if f == nil {
			return f, false
		}
		if d := declaredAttr(exts, f.Path); d != nil {
			c := *f
			c.Path.Declared = d
			return &c, true
		}
	case *ValuePathExpr:
		if f == nil {
			return f, false
		}
		if d := declaredAttr(exts, f.Path); d != nil {
			c := *f
			c.Path.Declared = d
			return &c, true
		}
	}
	return f, false
}

// typeQuery returns q with its filter and sortBy typed for resource, for
// a search across resource types, whose query was parsed for neither.
func (x *extensions) typeQuery(q Query, resource string) Query {
	if q.Filter != nil {
		q.Filter = x.typeFilter(q.Filter, resource)
	}
	q.SortBy = x.typePath(q.SortBy, resource)
	return q
}

// sortPath checks a sortBy that names a declared extension attribute of
// resource, as validateSort does the core schemas' (400 invalidValue: an
// attribute the extension does not declare, a complex attribute without a
// "value" sub-attribute), and returns it typed.
func (x *extensions) sortPath(by AttrPath, resource string) (AttrPath, error) {
	d, err := resolveExtPath(x.of(resource), by)
	if err != nil {
		return by, errorf(http.StatusBadRequest, InvalidValue, "sortBy "+strconv.Quote(by.String())+" is not an attribute of the schema "+by.URN)
	}
	if d != nil && d.typ == typeComplex && d.sub("value") == nil {
		return by, errorf(http.StatusBadRequest, InvalidValue, "sortBy "+strconv.Quote(by.String())+" is a complex attribute: name one of its sub-attributes")
	}
	return x.typePath(by, resource), nil
}

// typePath returns p carrying its declaration when it names a declared
// extension attribute of resource.
func (x *extensions) typePath(p AttrPath, resource string) AttrPath {
	if d := declaredAttr(x.of(resource), p); d != nil {
		p.Declared = d
	}
	return p
}

// declaredAttr returns the handler's declaration of the extension
// attribute (or sub-attribute) p names; nil when p names none.
func declaredAttr(exts []*extension, p AttrPath) *Attribute {
	for _, e := range exts {
		if p.URN == "" || !strings.EqualFold(p.URN, e.urn) {
			continue
		}
		for i := range e.decls {
			if a := &e.decls[i]; strings.EqualFold(a.Name, p.Name) {
				if p.Sub != "" {
					return a.subAttribute(p.Sub)
				}
				return a
			}
		}
	}
	return nil
}

// cloneAttributes copies as deeply as a declaration goes.
func cloneAttributes(as []Attribute) []Attribute {
	out := slices.Clone(as)
	for i := range out {
		a := &out[i]
		a.SubAttributes = cloneAttributes(a.SubAttributes)
		a.CanonicalValues = slices.Clone(a.CanonicalValues)
		a.ReferenceTypes = slices.Clone(a.ReferenceTypes)
	}
	return out
}

// attrType is a's Type in the attribute table's terms; 0 for a type
// NewHandler would refuse.
func (a *Attribute) attrType() attrType {
	switch a.Type {
	case "", TypeString:
		return typeString
	case TypeBoolean:
		return typeBoolean
	case TypeDecimal:
		return typeDecimal
	case TypeInteger:
		return typeInteger
	case TypeDateTime:
		return typeDateTime
	case TypeReference:
		return typeReference
	case TypeComplex:
		return typeComplex
	}
	return 0
}

// subAttribute returns a's sub-attribute name (any case), or nil.
func (a *Attribute) subAttribute(name string) *Attribute {
	for i := range a.SubAttributes {
		if strings.EqualFold(a.SubAttributes[i].Name, name) {
			return &a.SubAttributes[i]
		}
	}
	return nil
}

// Path returns the attribute path of the extension's attribute name (any
// case; "name.sub" for a sub-attribute of a complex attribute) carrying its
// declaration, as the handler puts it in the filters and sortBy it hands a
// store: [MatchUser], [MatchGroup], [SortUsers] and [SortGroups] then
// compare its values by the declared type and caseExact. ok is false when
// the extension does not declare the attribute. A store or a test that
// builds its own queries on declared attributes uses it; a path parsed
// without the declarations compares Extra values by their JSON type, and
// strings ignoring case.
func (e Extension) Path(name string) (p AttrPath, ok bool) {
	attr, sub, _ := strings.Cut(name, ".")
	a := e.attribute(attr)
	if a == nil {
		return AttrPath{}, false
	}
	d := &cloneAttributes([]Attribute{*a})[0]
	p = AttrPath{URN: e.Schema, Name: d.Name, Declared: d}
	if sub != "" {
		if p.Declared = d.subAttribute(sub); p.Declared == nil {
			return AttrPath{}, false
		}
		p.Sub = p.Declared.Name
	}
	return p, true
}

// resolveExtPath returns the declared attribute (or sub-attribute) p
// names when p is qualified by a declared extension's URN; nil when it is
// not. The error is 400 invalidFilter for a name the extension does not
// declare.
func resolveExtPath(exts []*extension, p AttrPath) (*attrDef, error) {
	for _, e := range exts {
		if p.URN == "" || !strings.EqualFold(p.URN, e.urn) {
			continue
		}
		d := e.schema.attr(p.Name)
		if d != nil && p.Sub != "" {
			d = d.sub(p.Sub)
		}
		if d == nil {
			return nil, errorf(http.StatusBadRequest, InvalidFilter, fmt.Sprintf("%s is not an attribute of the schema %s", p, e.urn))
		}
		return d, nil
	}
	return nil, nil
}

// mergeJSONObjects returns the object base with the members of over set
// over it; over when base is not an object.
func mergeJSONObjects(base, over json.RawMessage) json.RawMessage {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(over, &o); err != nil {
		return over
	}
	for name, v := range o {
		base = setJSONPath(base, []string{name}, v)
	}
	if base == nil {
		return json.RawMessage("{}")
	}
	return base
}

// ExtensionDeclarer is an optional capability of a [Store]: it is told the
// declared extensions, to enforce what only a store can enforce
// atomically, the uniqueness of extension attributes (RFC 7643 §2.2).
// NewHandler calls DeclareExtensions once, with a copy of
// Options.Extensions (none: nil), before it serves; an error fails
// NewHandler. A later call replaces the declarations of an earlier one.
//
// A store that has it makes every create, replace and update (UpdateUser,
// UpdateGroup) that would give a resource a value of an attribute whose
// Uniqueness is [UniquenessServer] or [UniquenessGlobal] that another
// resource of the same type and tenant holds fail with a [*ConflictError]
// whose Attribute is [UniqueValue].Attribute (the client's 409 uniqueness
// names it), storing nothing. The check and the write are one atomic
// step: of two concurrent writes of one value, exactly one succeeds.
// [Extension.UniqueValues] returns the values to compare, as equal when
// caseExact says. Global uniqueness is enforced as server uniqueness: a
// store sees no further than its tenant.
//
// Without it the handler advertises uniqueness and enforces none (the
// store may still refuse a duplicate with its own index, returning
// ErrConflict). memstore and sqlstore implement it.
type ExtensionDeclarer interface {
	DeclareExtensions(exts []Extension) error
}

// declareExtensions tells a store that is an [ExtensionDeclarer] the
// declared extensions, and warns when one declares uniqueness the store
// cannot be told of.
func (h *Handler) declareExtensions(store Store, decls []Extension) error {
	d, ok := store.(ExtensionDeclarer)
	if !ok {
		for _, e := range decls {
			for i := range e.Attributes {
				a := &e.Attributes[i]
				if unique(a) || slices.ContainsFunc(a.SubAttributes, func(s Attribute) bool { return unique(&s) }) {
					h.log.Warn("scim: the store is not a scim.ExtensionDeclarer: uniqueness of extension attributes is advertised, not enforced",
						"store", fmt.Sprintf("%T", store), "attribute", e.Schema+":"+a.Name)
					return nil
				}
			}
		}
		return nil
	}
	var exts []Extension
	for _, e := range decls {
		e.Attributes = cloneAttributes(e.Attributes)
		exts = append(exts, e)
	}
	if err := d.DeclareExtensions(exts); err != nil {
		return fmt.Errorf("scim: NewHandler: the store refused the extensions: %w", err)
	}
	return nil
}

// UniqueValue is one value of an extension attribute declared unique, in
// the form two values are compared in.
type UniqueValue struct {
	// Attribute is the attribute's URN-qualified name with the declared
	// case, "urn:...:User:badgeNumber" ("urn:...:User:badge.code" for a
	// sub-attribute of a complex attribute).
	Attribute string
	// Key is the value as uniqueness compares it: a string as sent when
	// caseExact, else [FoldCase] of it; an integer or decimal in its
	// shortest decimal form (1.50 and 1.5 are one key); a dateTime as its
	// instant in UTC. Two values conflict when Attribute and Key are
	// equal.
	Key string
}

// UniqueValues returns the values in extra (a User's or Group's Extra as
// the handler stores it) of the extension's attributes whose Uniqueness is
// server or global: each value of a multi-valued attribute, and of a
// complex attribute the values of its unique sub-attributes, once. A
// boolean or complex attribute is never unique itself (/Schemas does not
// say uniqueness of them). Values that do not fit the declaration are
// skipped.
func (e Extension) UniqueValues(extra map[string]json.RawMessage) []UniqueValue {
	if !slices.ContainsFunc(e.Attributes, func(a Attribute) bool {
		return unique(&a) || slices.ContainsFunc(a.SubAttributes, func(s Attribute) bool { return unique(&s) })
	}) {
		return nil // without decoding extra
	}
	var obj map[string]any
	for k, raw := range extra {
		if strings.EqualFold(k, e.Schema) {
			if o, err := decodeExtValue(raw); err == nil {
				obj, _ = o.(map[string]any)
			}
			break
		}
	}
	if obj == nil {
		return nil
	}
	var out []UniqueValue
	add := func(a *Attribute, name string, v any) {
		if k, ok := uniqueKey(a, v); ok {
			u := UniqueValue{Attribute: e.Schema + ":" + name, Key: k}
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	each := func(v any, fn func(any)) {
		if arr, ok := v.([]any); ok {
			for _, x := range arr {
				fn(x)
			}
			return
		}
		fn(v)
	}
	for i := range e.Attributes {
		a := &e.Attributes[i]
		v, ok := jsonMember(obj, a.Name)
		if !ok || v == nil {
			continue
		}
		if a.Type != TypeComplex {
			if unique(a) {
				each(v, func(x any) { add(a, a.Name, x) })
			}
			continue
		}
		for j := range a.SubAttributes {
			sa := &a.SubAttributes[j]
			if !unique(sa) {
				continue
			}
			each(v, func(x any) {
				if o, ok := x.(map[string]any); ok {
					if sv, ok := jsonMember(o, sa.Name); ok {
						each(sv, func(y any) { add(sa, a.Name+"."+sa.Name, y) })
					}
				}
			})
		}
	}
	return out
}

// unique reports whether uniqueness is enforced on a: server or global,
// on a simple type other than boolean.
func unique(a *Attribute) bool {
	return (a.Uniqueness == UniquenessServer || a.Uniqueness == UniquenessGlobal) &&
		a.Type != TypeBoolean && a.Type != TypeComplex
}

// uniqueKey is UniqueValue.Key of the value v of a.
func uniqueKey(a *Attribute, v any) (string, bool) {
	switch a.attrType() {
	case typeString, typeReference:
		s, ok := v.(string)
		if !ok || s == "" {
			return "", false
		}
		if a.CaseExact {
			return s, true
		}
		return FoldCase(s), true
	case typeInteger:
		n, ok := v.(json.Number)
		if !ok {
			return "", false
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		return strconv.FormatInt(i, 10), err == nil
	case typeDecimal:
		n, ok := v.(json.Number)
		if !ok {
			return "", false
		}
		f, err := strconv.ParseFloat(string(n), 64)
		return strconv.FormatFloat(f, 'g', -1, 64), err == nil
	case typeDateTime:
		s, ok := v.(string)
		if !ok {
			return "", false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return t.UTC().Format(time.RFC3339Nano), err == nil
	}
	return "", false
}
