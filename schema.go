package scim

import (
	"strings"

	"github.com/elimity-com/scim/schema"
)

// This file turns elimity-com/scim's RFC 7643 schema definitions into the
// attribute table the decoder, the filter evaluator, PATCH, projection and
// /Schemas consult: type, multi-valuedness, caseExact, mutability, returned,
// uniqueness, canonical values and descriptions, looked up
// case-insensitively. The elimity types stay behind it. A host's declared
// extensions (extension.go) compile into the same attrDef.

type attrType uint8

const (
	typeString attrType = iota
	typeBoolean
	typeDecimal
	typeInteger
	typeDateTime
	typeBinary
	typeReference
	typeComplex
)

type mutability uint8

const (
	readWrite mutability = iota
	readOnly
	immutable
	writeOnly
)

type uniqueness uint8

const (
	uniqueNone uniqueness = iota
	uniqueServer
	uniqueGlobal
)

type returned uint8

const (
	returnedDefault returned = iota
	returnedAlways
	returnedNever
	returnedRequest
)

// attrDef is one attribute's characteristics (RFC 7643 §2.2, §7).
type attrDef struct {
	name       string // canonical case, e.g. "userName"
	typ        attrType
	multi      bool
	caseExact  bool
	required   bool
	mutability mutability
	returned   returned
	uniqueness uniqueness
	subs       []*attrDef
	// What /Schemas says besides the characteristics above.
	description    string
	canonical      []string
	referenceTypes []string
	// canonicalOnly refuses values outside canonical (declared extension
	// attributes that ask for it).
	canonicalOnly bool
}

// sub returns the sub-attribute named name (any case), or nil.
func (a *attrDef) sub(name string) *attrDef {
	for _, s := range a.subs {
		if strings.EqualFold(s.name, name) {
			return s
		}
	}
	return nil
}

// resourceSchema is one schema's attribute table.
type resourceSchema struct {
	id     string
	attrs  []*attrDef
	byName map[string]*attrDef // lower-case name → def
	// def is elimity's definition the core schemas' tables are built
	// from; a declared extension has none. served is the Schema resource
	// without meta, rendered from attrs once: what /Schemas serves.
	def    schema.Schema
	served []byte
}

// attr returns the top-level attribute named name (any case), or nil.
func (s *resourceSchema) attr(name string) *attrDef {
	if d, ok := s.byName[name]; ok {
		return d
	}
	return s.byName[strings.ToLower(name)]
}

var (
	commonAttrs      = newSchema("", schema.Schema{Attributes: schema.CommonAttributes()})
	userSchema       = newSchema(UserSchema, schema.CoreUserSchema())
	enterpriseSchema = newSchema(EnterpriseUserSchema, schema.ExtensionEnterpriseUser())
	groupSchema      = newSchema(GroupSchema, schema.CoreGroupSchema())
)

func newSchema(id string, def schema.Schema) *resourceSchema {
	s := &resourceSchema{id: id, byName: map[string]*attrDef{}, def: def}
	for _, a := range def.Attributes {
		d := newAttrDef(a)
		s.attrs = append(s.attrs, d)
		s.byName[strings.ToLower(d.name)] = d
	}
	if id != "" {
		s.served = appendDeclaredSchema(nil, id, def.Name.Value(), def.Description.Value(), s.attrs)
	}
	return s
}

func newAttrDef(a schema.CoreAttribute) *attrDef {
	d := &attrDef{
		name:      a.Name(),
		multi:     a.MultiValued(),
		caseExact: a.CaseExact(),
		required:  a.Required(),

		description: a.Description(),
		canonical:   a.CanonicalValues(),
	}
	for _, r := range a.ReferenceTypes() {
		d.referenceTypes = append(d.referenceTypes, string(r))
	}
	switch a.AttributeType() {
	case "boolean":
		d.typ = typeBoolean
	case "decimal":
		d.typ = typeDecimal
	case "integer":
		d.typ = typeInteger
	case "dateTime":
		d.typ = typeDateTime
	case "binary":
		d.typ = typeBinary
	case "reference":
		d.typ = typeReference
	case "complex":
		d.typ = typeComplex
	}
	switch a.Mutability() {
	case "readOnly":
		d.mutability = readOnly
	case "immutable":
		d.mutability = immutable
	case "writeOnly":
		d.mutability = writeOnly
	}
	switch a.Returned() {
	case "always":
		d.returned = returnedAlways
	case "never":
		d.returned = returnedNever
	case "request":
		d.returned = returnedRequest
	}
	switch a.Uniqueness() {
	case "server":
		d.uniqueness = uniqueServer
	case "global":
		d.uniqueness = uniqueGlobal
	}
	for _, sa := range a.SubAttributes() {
		d.subs = append(d.subs, newAttrDef(sa))
	}
	return d
}

// lookupUserAttr finds the definition of a User attribute path's top-level
// attribute: core, common (id, externalId, meta) or Enterprise. It returns
// nil for an attribute the model does not know.
func lookupUserAttr(p AttrPath) *attrDef {
	switch {
	case p.URN == "" || strings.EqualFold(p.URN, UserSchema):
		if d := userSchema.attr(p.Name); d != nil {
			return d
		}
		if d := commonAttrs.attr(p.Name); d != nil {
			return d
		}
		if p.URN == "" {
			return enterpriseSchema.attr(p.Name)
		}
	case strings.EqualFold(p.URN, EnterpriseUserSchema):
		return enterpriseSchema.attr(p.Name)
	}
	return nil
}

// lookupGroupAttr is lookupUserAttr for Group.
func lookupGroupAttr(p AttrPath) *attrDef {
	if p.URN != "" && !strings.EqualFold(p.URN, GroupSchema) {
		return nil
	}
	if d := groupSchema.attr(p.Name); d != nil {
		return d
	}
	return commonAttrs.attr(p.Name)
}
