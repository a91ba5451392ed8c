package scim

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
)

// This file decodes request bodies (POST and PUT) and single attribute
// values (PATCH) into the typed model, in one pass over the bytes with the
// reader of jsonscan.go.
//
// The rules, for hosts and for the handler:
//
//   - Attribute names match case-insensitively at every level (RFC 7643
//     §2.1), ASCII only, as attribute names are ASCII (RFC 7643 §2.1
//     ATTRNAME). Top-level keys may be qualified with the core schema URN
//     ("urn:ietf:params:scim:schemas:core:2.0:User:userName") or the
//     Enterprise URN ("...:enterprise:2.0:User:department"); an Enterprise
//     attribute may also be sent unqualified ("department"), as
//     lookupUserAttr resolves it.
//   - null is the same as leaving the attribute out (RFC 7643 §2.5), and so
//     are "", [] and {}. Values of a multi-valued attribute whose
//     sub-attributes are all absent are dropped.
//   - Read-only and immutable attributes sent by a client are ignored (RFC
//     7643 §7): id, meta, schemas (any URNs, misspelled ones included),
//     groups, manager.displayName. password (write-only) is kept.
//   - A top-level key that names no attribute of the model is kept in Extra,
//     keyed as sent, its value the raw JSON as sent, with nulls removed (so
//     that a response never carries null). Unknown sub-attributes of a
//     known complex attribute (name, emails[], the Enterprise object,
//     manager, members[]) are dropped: the typed model has no place for
//     them.
//   - When a key appears twice, in the same case or not, the last one wins;
//     the Enterprise object and URN-qualified Enterprise keys merge,
//     attribute by attribute.
//   - Malformed JSON, a body that is not one JSON object, data after it, or
//     nesting deeper than decodeOptions.maxDepth is 400 invalidSyntax ("the
//     request body message structure was invalid", RFC 7644 §3.12). A value
//     of the wrong type, a missing userName (displayName for groups), or a
//     multi-valued attribute with more than one primary value is 400
//     invalidValue ("the value specified was not compatible with the
//     operation or attribute type"). A syntax error anywhere wins over an
//     invalidValue earlier in the body; otherwise the first problem is
//     reported. Details name the attribute (sub-attributes dotted,
//     Enterprise attributes URN-qualified) or the byte offset.
//   - A multi-valued attribute is an array. A lone object is read as an
//     array of one (rule single-object-as-array: OneLogin sends emails so),
//     and a bare string as members as one member id (rule member-bare-id:
//     Microsoft's reference tests send it); strict mode refuses both.
//   - The Enterprise object may be keyed by the pre-RFC URN
//     "urn:scim:schemas:extension:enterprise:2.0" (rule
//     legacy-enterprise-urn: OneLogin); responses always use RFC 7643's.
//     Strict mode refuses it, and managerId, and members' displayName.
//   - A top-level key qualified by a custom extension's URN whose value is
//     not an object ("urn:...:Contoso:2.0:User:costCenter": "42") is an
//     attribute of that extension: it is kept inside the extension's object
//     in Extra, as PATCH keeps it (RFC 7643 §3.3), and returned there. The
//     extension's object sent in the same body after such keys is merged
//     with them, its members winning.
//   - At most one value of a multi-valued attribute may have primary true
//     (RFC 7643 §2.4); more is 400 invalidValue.
//
// Leniencies, on unless decodeOptions.strict: the compatibility rules
// string-booleans (stringBool) and manager-shapes (manager), named with
// their sources in entra.go; member-ref-null (members) holds in every mode.

// decodeOptions are the handler's knobs for decoding.
type decodeOptions struct {
	strict    bool // turn off the client leniencies (the handler's strict mode)
	maxDepth  int  // maximum JSON nesting depth; 0 (or less) means defaultMaxDepth
	maxValues int  // maximum values of one multi-valued attribute; 0 (or less) means no limit
}

// Lower-case schema URNs, for matching keys after lowerASCII.
const (
	lowerUserSchema       = "urn:ietf:params:scim:schemas:core:2.0:user"
	lowerEnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"
	lowerGroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:group"
	// lowerLegacyEnterprise is the Enterprise URN of the SCIM 2.0 drafts,
	// which OneLogin still sends (rule legacy-enterprise-urn).
	lowerLegacyEnterprise = "urn:scim:schemas:extension:enterprise:2.0"
)

// isLegacyEnterpriseKey reports whether key is the pre-RFC Enterprise URN
// or an attribute qualified by it.
func isLegacyEnterpriseKey[T text](key T) bool {
	var buf [maxKeyLen]byte
	k, ok := lowerASCII(&buf, key)
	if !ok {
		return false
	}
	if string(k) == lowerLegacyEnterprise {
		return true
	}
	_, ok = cutPrefixColon(k, lowerLegacyEnterprise)
	return ok
}

// maxKeyLen is the longest key that can name an attribute (the longest is
// the URN-qualified "...:enterprise:2.0:User:employeeNumber"); longer keys
// are unknown without further ado.
const maxKeyLen = 96

// text is a key as the decoder reads it or as a path names it.
type text interface{ ~string | ~[]byte }

// lowerASCII lower-cases the ASCII letters of s into buf; ok is false when s
// does not fit.
func lowerASCII[T text](buf *[maxKeyLen]byte, s T) (lower []byte, ok bool) {
	if len(s) > len(buf) {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(s)], true
}

// cutPrefixColon returns what follows prefix+":" in s.
func cutPrefixColon(s []byte, prefix string) ([]byte, bool) {
	if len(s) > len(prefix) && s[len(prefix)] == ':' && string(s[:len(prefix)]) == prefix {
		return s[len(prefix)+1:], true
	}
	return nil, false
}

// userAttrOf returns the attribute a top-level key names, matching as the
// package comment says, or uaUnknown.
func userAttrOf[T text](key T) uattr {
	var buf [maxKeyLen]byte
	k, ok := lowerASCII(&buf, key)
	if !ok {
		return uaUnknown
	}
	if len(k) > 4 && string(k[:4]) == "urn:" {
		if rest, ok := cutPrefixColon(k, lowerUserSchema); ok {
			return coreUserAttr(rest)
		}
		if string(k) == lowerEnterpriseSchema {
			return uaEnterprise
		}
		if rest, ok := cutPrefixColon(k, lowerEnterpriseSchema); ok {
			return enterpriseAttr(rest)
		}
		if string(k) == lowerLegacyEnterprise {
			return uaEnterprise
		}
		if rest, ok := cutPrefixColon(k, lowerLegacyEnterprise); ok {
			return enterpriseAttr(rest)
		}
		return uaUnknown
	}
	if a := coreUserAttr(k); a != uaUnknown {
		return a
	}
	return enterpriseAttr(k)
}

// coreUserAttr looks up a lower-case attribute name of the core User schema
// or the common attributes.
func coreUserAttr(k []byte) uattr {
	return uattr(userCoreIndex.find(k))
}

// enterpriseAttr looks up a lower-case attribute name of the Enterprise
// User extension.
func enterpriseAttr(k []byte) uattr {
	return uattr(userEnterpriseIndex.find(k))
}

// groupAttrOf is userAttrOf for Group.
func groupAttrOf[T text](key T) gattr {
	var buf [maxKeyLen]byte
	k, ok := lowerASCII(&buf, key)
	if !ok {
		return gaUnknown
	}
	if len(k) > 4 && string(k[:4]) == "urn:" {
		rest, ok := cutPrefixColon(k, lowerGroupSchema)
		if !ok {
			return gaUnknown
		}
		k = rest
	}
	return gattr(groupIndex.find(k))
}

// decoder decodes one body or value. Syntax errors stop it at once;
// invalidValue problems are recorded in err (the first one) while reading
// goes on, so that a syntax error later in the body still wins.
type decoder struct {
	reader
	strict    bool
	maxValues int // 0: no limit
	values    int // elements seen in the current multi-valued attribute
	// lone says arrayOf found a single object where an array belongs, which
	// element returns as the only element (rule single-object-as-array).
	lone bool
	err  error
	buf  [maxKeyLen]byte
	// extraIndex maps the lower-cased Extra keys of the resource being
	// decoded to the keys as stored, so that keys differing only in case
	// replace each other in constant time.
	extraIndex map[string]string
}

func newDecoder(data []byte, opt decodeOptions) decoder {
	return decoder{reader: newReader(data, opt.maxDepth), strict: opt.strict, maxValues: max(opt.maxValues, 0)}
}

// fail records an invalidValue problem.
func (d *decoder) fail(detail string) {
	if d.err == nil {
		d.err = errorf(400, InvalidValue, detail)
	}
}

// attrName joins an attribute and a sub-attribute for a detail.
func attrName(attr, sub string) string {
	if sub == "" {
		return attr
	}
	return attr + "." + sub
}

// mismatch records that the value of attr.sub has the wrong type, and
// skips it.
func (d *decoder) mismatch(attr, sub, want string, found jsonKind) error {
	d.fail(`attribute "` + attrName(attr, sub) + `": expected ` + want + `, found ` + found.phrase())
	return d.skipValue()
}

// lower lower-cases a member key for a switch; keys too long to name an
// attribute come back as "".
func (d *decoder) lower(key []byte) []byte {
	k, _ := lowerASCII(&d.buf, key)
	return k
}

// openBody checks that the body is a JSON object and enters it.
func (d *decoder) openBody() error {
	d.skipWS()
	if d.pos >= len(d.data) {
		return errorf(400, InvalidSyntax, "the request body is empty; expected a JSON object")
	}
	k, err := d.peek()
	if err != nil {
		return err
	}
	if k != kindObject {
		return errorf(400, InvalidSyntax, "the request body must be a JSON object, found "+k.phrase())
	}
	return d.open()
}

// finish checks for trailing data and returns the error to report, if any.
func (d *decoder) finish() error {
	if err := d.end(); err != nil {
		return err
	}
	return d.err
}

// str decodes a string; null is "".
func (d *decoder) str(attr, sub string) (string, error) {
	k, err := d.peek()
	if err != nil {
		return "", err
	}
	switch k {
	case kindString:
		b, err := d.readString()
		if err != nil {
			return "", err
		}
		return string(b), nil
	case kindNull:
		_, _, err = d.scanLiteral()
		return "", err
	}
	return "", d.mismatch(attr, sub, "a string", k)
}

// boolean decodes a boolean; present is false for null (and after a
// recorded problem).
func (d *decoder) boolean(attr, sub string) (v, present bool, err error) {
	k, err := d.peek()
	if err != nil {
		return false, false, err
	}
	switch k {
	case kindBool:
		_, v, err = d.scanLiteral()
		return v, err == nil, err
	case kindNull:
		_, _, err = d.scanLiteral()
		return false, false, err
	case kindString:
		b, err := d.readString()
		if err != nil {
			return false, false, err
		}
		if d.strict {
			d.fail(`attribute "` + attrName(attr, sub) + `": expected a boolean, found a string (strict mode does not accept "True" or "False" strings)`)
			return false, false, nil
		}
		if v, ok := stringBool(b); ok {
			return v, true, nil
		}
		d.fail(`attribute "` + attrName(attr, sub) + `": expected a boolean, found a string other than "true" or "false"`)
		return false, false, nil
	}
	return false, false, d.mismatch(attr, sub, "a boolean", k)
}

// stringBool implements the compatibility rule string-booleans: where the
// schema says boolean, the strings "true" and "false" in any case are
// accepted for true and false. Entra ID's default mapping of active is the
// expression Switch([IsSoftDeleted], , "False", "True", "True", "False"),
// which yields strings (docs/clients.md#attribute-mappings), and its PATCH
// without the aadOptscim062020 flag disables a user with "value": "False"
// (docs/clients.md#patch-bodies); the rule covers primary as well
// (roles[primary eq "True"]).
// Strict mode turns it off.
func stringBool(s []byte) (v, ok bool) {
	switch len(s) {
	case 4:
		return true, (s[0]|0x20) == 't' && (s[1]|0x20) == 'r' && (s[2]|0x20) == 'u' && (s[3]|0x20) == 'e'
	case 5:
		return false, (s[0]|0x20) == 'f' && (s[1]|0x20) == 'a' && (s[2]|0x20) == 'l' && (s[3]|0x20) == 's' && (s[4]|0x20) == 'e'
	}
	return false, false
}

// arrayOf checks that the next value is an array (or null, reported as
// ok false) for a multi-valued attribute, and enters it.
func (d *decoder) arrayOf(attr string) (ok bool, err error) {
	k, err := d.peek()
	if err != nil {
		return false, err
	}
	switch k {
	case kindArray:
		return true, d.open()
	case kindNull:
		_, _, err = d.scanLiteral()
		return false, err
	case kindObject:
		if d.strict {
			d.fail(`attribute "` + attr + `": expected an array of objects, found a single object (strict mode does not read it as an array of one, compatibility rule ` + ruleSingleObject + `)`)
			return false, d.skipValue()
		}
		// Compatibility rule single-object-as-array: element returns
		// this object as the only element.
		d.lone = true
		return true, nil
	}
	return false, d.mismatch(attr, "", "an array of objects", k)
}

// element advances to the next element of a multi-valued attribute's
// array. It returns more false at the end, and object false for an element
// to pass over: null (absent) or one of the wrong type (recorded).
func (d *decoder) element(attr string, first bool) (more, object bool, err error) {
	if d.lone {
		if !first {
			d.lone = false
			return false, false, nil
		}
		d.values = 1
		return true, true, d.open()
	}
	more, err = d.nextElem(first)
	if !more || err != nil {
		return false, false, err
	}
	if first {
		d.values = 0
	}
	if d.values++; d.maxValues > 0 && d.values == d.maxValues+1 {
		d.fail(fmt.Sprintf(`attribute "%s" has more than %d values; the limit is %d`, attr, d.maxValues, d.maxValues))
	}
	k, err := d.peek()
	if err != nil {
		return false, false, err
	}
	switch k {
	case kindObject:
		return true, true, d.open()
	case kindNull:
		_, _, err = d.scanLiteral()
		return true, false, err
	}
	d.fail(`attribute "` + attr + `": expected an array of objects, found an array containing ` + k.phrase())
	return true, false, d.skipValue()
}

// tooManyPrimary records the RFC 7643 §2.4 violation.
func (d *decoder) tooManyPrimary(attr string) {
	d.fail(`attribute "` + attr + `": more than one value has "primary" set to true`)
}

// multiValues decodes emails, phoneNumbers, ims, photos, entitlements,
// roles or x509Certificates.
func (d *decoder) multiValues(attr string) ([]MultiValue, error) {
	ok, err := d.arrayOf(attr)
	if !ok || err != nil {
		return nil, err
	}
	var out []MultiValue
	primaries := 0
	for first := true; ; first = false {
		more, obj, err := d.element(attr, first)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		if !obj {
			continue
		}
		var v MultiValue
		for f := true; ; f = false {
			key, ok, err := d.nextMember(f)
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			switch string(d.lower(key)) {
			case "value":
				v.Value, err = d.str(attr, "value")
			case "display":
				v.Display, err = d.str(attr, "display")
			case "type":
				v.Type, err = d.str(attr, "type")
			case "primary":
				var present bool
				v.Primary, present, err = d.boolean(attr, "primary")
				v.NotPrimary = present && !v.Primary
			default:
				err = d.skipValue()
			}
			if err != nil {
				return nil, err
			}
		}
		if v != (MultiValue{}) && v != (MultiValue{NotPrimary: true}) {
			if v.Primary {
				primaries++
			}
			out = append(out, v)
		}
	}
	if primaries > 1 {
		d.tooManyPrimary(attr)
	}
	return out, nil
}

// addresses decodes the addresses attribute.
func (d *decoder) addresses() ([]Address, error) {
	const attr = "addresses"
	ok, err := d.arrayOf(attr)
	if !ok || err != nil {
		return nil, err
	}
	var out []Address
	primaries := 0
	for first := true; ; first = false {
		more, obj, err := d.element(attr, first)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		if !obj {
			continue
		}
		var a Address
		for f := true; ; f = false {
			key, ok, err := d.nextMember(f)
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			switch string(d.lower(key)) {
			case "formatted":
				a.Formatted, err = d.str(attr, "formatted")
			case "streetaddress":
				a.StreetAddress, err = d.str(attr, "streetAddress")
			case "locality":
				a.Locality, err = d.str(attr, "locality")
			case "region":
				a.Region, err = d.str(attr, "region")
			case "postalcode":
				a.PostalCode, err = d.str(attr, "postalCode")
			case "country":
				a.Country, err = d.str(attr, "country")
			case "type":
				a.Type, err = d.str(attr, "type")
			case "primary":
				var present bool
				a.Primary, present, err = d.boolean(attr, "primary")
				a.NotPrimary = present && !a.Primary
			default:
				err = d.skipValue()
			}
			if err != nil {
				return nil, err
			}
		}
		if a != (Address{}) && a != (Address{NotPrimary: true}) {
			if a.Primary {
				primaries++
			}
			out = append(out, a)
		}
	}
	if primaries > 1 {
		d.tooManyPrimary(attr)
	}
	return out, nil
}

// objectOf checks that the next value is an object (or null, reported as
// ok false) for a single-valued complex attribute, and enters it.
func (d *decoder) objectOf(attr string) (ok bool, err error) {
	k, err := d.peek()
	if err != nil {
		return false, err
	}
	switch k {
	case kindObject:
		return true, d.open()
	case kindNull:
		_, _, err = d.scanLiteral()
		return false, err
	}
	return false, d.mismatch(attr, "", "an object", k)
}

// name decodes the name attribute.
func (d *decoder) name() (Name, error) {
	const attr = "name"
	var n Name
	ok, err := d.objectOf(attr)
	if !ok || err != nil {
		return n, err
	}
	for first := true; ; first = false {
		key, ok, err := d.nextMember(first)
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		if err := d.nameSub(&n, d.lower(key)); err != nil {
			return n, err
		}
	}
}

// nameSub decodes the name sub-attribute sub (lower case) into n; an
// unknown one is skipped.
func (d *decoder) nameSub(n *Name, sub []byte) (err error) {
	const attr = "name"
	switch string(sub) {
	case "formatted":
		n.Formatted, err = d.str(attr, "formatted")
	case "familyname":
		n.FamilyName, err = d.str(attr, "familyName")
	case "givenname":
		n.GivenName, err = d.str(attr, "givenName")
	case "middlename":
		n.MiddleName, err = d.str(attr, "middleName")
	case "honorificprefix":
		n.HonorificPrefix, err = d.str(attr, "honorificPrefix")
	case "honorificsuffix":
		n.HonorificSuffix, err = d.str(attr, "honorificSuffix")
	default:
		err = d.skipValue()
	}
	return err
}

const managerAttr = EnterpriseUserSchema + ":manager"

// manager decodes the Enterprise manager attribute; nil is no manager.
//
// It implements the compatibility rule manager-shapes: besides the RFC 7643
// §4.3 complex form {"value": id, "$ref": uri}, it accepts the bare id string
// ("manager": "271"), which is what Entra ID sends (docs/clients.md#patch-bodies,
// the manager 1: SCIM-SDK#541 and #686, confirmed by Microsoft staff in
// Q&A 188003), and an array whose first element is the complex form
// ([{"$ref": "...", "value": "271"}], the manager 2: the Entra tutorial's
// older example). An empty string, object or array is no manager. Strict mode
// accepts the complex form only. Whatever the shape, the result is a
// Manager{Value, Ref}, and responses always use the complex form, which is
// the only one Entra ID reads back (docs/clients.md#patch-bodies, the
// manager 3).
func (d *decoder) manager() (*Manager, error) {
	k, err := d.peek()
	if err != nil {
		return nil, err
	}
	switch k {
	case kindNull:
		_, _, err = d.scanLiteral()
		return nil, err
	case kindObject:
		return d.managerObject()
	case kindString:
		if d.strict {
			d.fail(`attribute "` + managerAttr + `": expected an object, found a string (strict mode does not accept a bare manager id)`)
			return nil, d.skipValue()
		}
		s, err := d.str(managerAttr, "")
		if s == "" || err != nil {
			return nil, err
		}
		return &Manager{Value: s}, nil
	case kindArray:
		if d.strict {
			d.fail(`attribute "` + managerAttr + `": expected an object, found an array (strict mode does not accept a manager array)`)
			return nil, d.skipValue()
		}
		if err := d.open(); err != nil {
			return nil, err
		}
		var m *Manager
		taken := false
		for first := true; ; first = false {
			more, err := d.nextElem(first)
			if err != nil {
				return nil, err
			}
			if !more {
				return m, nil
			}
			ek, err := d.peek()
			if err != nil {
				return nil, err
			}
			switch {
			case ek == kindObject && !taken:
				taken = true
				m, err = d.managerObject()
			case ek == kindObject || ek == kindNull:
				// Only the first element counts: a user has one manager.
				err = d.skipValue()
			default:
				d.fail(`attribute "` + managerAttr + `": expected an array of objects, found an array containing ` + ek.phrase())
				err = d.skipValue()
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return nil, d.mismatch(managerAttr, "", "an object", k)
}

// managerObject decodes the complex form of manager at r.pos (a '{').
func (d *decoder) managerObject() (*Manager, error) {
	ok, err := d.objectOf(managerAttr)
	if !ok || err != nil {
		return nil, err
	}
	var m Manager
	for first := true; ; first = false {
		key, ok, err := d.nextMember(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch string(d.lower(key)) {
		case "value":
			m.Value, err = d.str(managerAttr, "value")
		case "managerid":
			// Compatibility rule manager-shapes: OneLogin's managerId is
			// the value.
			if d.strict {
				d.fail(`attribute "` + managerAttr + `.managerId" is not defined; the sub-attribute is value (strict mode does not read OneLogin's managerId, compatibility rule ` + ruleManagerShapes + `)`)
				err = d.skipValue()
			} else if s, e := d.str(managerAttr, "value"); e != nil || s != "" {
				m.Value, err = s, e
			}
		case "$ref":
			m.Ref, err = d.str(managerAttr, "$ref")
		default: // displayName is read-only (RFC 7643 §4.3): ignored
			err = d.skipValue()
		}
		if err != nil {
			return nil, err
		}
	}
	return checkManager(d, m), nil
}

// checkManager turns an empty manager into nil and requires a value.
func checkManager(d *decoder, m Manager) *Manager {
	if m.Value == "" {
		if m.Ref != "" {
			d.fail(`attribute "` + managerAttr + `.value" is required when a manager is set`)
		}
		return nil
	}
	return &m
}

// members decodes a group's members.
//
// Members sent as {"value": id, "display": name} and a "$ref": null in a
// member are accepted in every mode: display is a sub-attribute of members
// in RFC 7643's schema and null is unassigned (RFC 7643 §2.5). Entra ID
// sends [{"$ref": null, "value": "..."}] (docs/clients.md#patch-bodies) and
// Okta sends display (docs/clients.md#okta).
func (d *decoder) members() ([]Member, error) {
	const attr = "members"
	if k, err := d.peek(); err != nil {
		return nil, err
	} else if k == kindString {
		// Compatibility rule member-bare-id: "value": "u1" is the member u1.
		if d.strict {
			d.fail(`attribute "members": expected an array of objects, found a string (strict mode does not read a bare member id, compatibility rule ` + ruleMemberBareID + `)`)
			return nil, d.skipValue()
		}
		s, err := d.str(attr, "value")
		if s == "" || err != nil {
			return nil, err
		}
		return []Member{{Value: s}}, nil
	}
	ok, err := d.arrayOf(attr)
	if !ok || err != nil {
		return nil, err
	}
	var out []Member
	for first := true; ; first = false {
		more, obj, err := d.element(attr, first)
		if err != nil {
			return nil, err
		}
		if !more {
			return out, nil
		}
		if !obj {
			continue
		}
		var m Member
		for f := true; ; f = false {
			key, ok, err := d.nextMember(f)
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			switch string(d.lower(key)) {
			case "value":
				m.Value, err = d.str(attr, "value")
			case "$ref":
				m.Ref, err = d.str(attr, "$ref")
			case "display":
				m.Display, err = d.str(attr, "display")
			case "displayname":
				// Compatibility rule member-display-name.
				if d.strict {
					d.fail(`attribute "members.displayName" is not defined; the sub-attribute is display (strict mode turns off the compatibility rule ` + ruleMemberDisplayName + `)`)
					err = d.skipValue()
				} else if s, e := d.str(attr, "display"); e != nil || s != "" {
					m.Display, err = s, e
				}
			case "type":
				m.Type, err = d.str(attr, "type")
			default:
				err = d.skipValue()
			}
			if err != nil {
				return nil, err
			}
		}
		switch {
		case m == (Member{}):
		case m.Value == "":
			d.fail(`attribute "members.value" is required in every member`)
		default:
			out = append(out, m)
		}
	}
}

// enterprise returns u's Enterprise extension, creating it.
func enterprise(u *User) *EnterpriseUser {
	if u.Enterprise == nil {
		u.Enterprise = &EnterpriseUser{}
	}
	return u.Enterprise
}

// enterpriseObject decodes the Enterprise extension object into u,
// attribute by attribute; null removes the extension.
func (d *decoder) enterpriseObject(u *User) error {
	if k, err := d.peek(); err != nil || k == kindNull {
		if err == nil {
			_, _, err = d.scanLiteral()
			u.Enterprise = nil
		}
		return err
	}
	if ok, err := d.objectOf(EnterpriseUserSchema); !ok || err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := d.nextMember(first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		a := enterpriseAttr(d.lower(key))
		if a == uaUnknown {
			err = d.skipValue()
		} else {
			err = d.userAttr(u, a)
		}
		if err != nil {
			return err
		}
	}
}

// userAttr decodes the value of attribute a into u.
func (d *decoder) userAttr(u *User, a uattr) (err error) {
	e := &userAttrs[a]
	if e.readOnly() {
		// id, meta, schemas and groups are read-only or immutable: a
		// client's values are ignored (RFC 7643 §7), as Okta's PUT sends
		// them back (docs/clients.md#okta).
		return d.skipValue()
	}
	switch e.kind {
	case akString, akBool:
		return decodeSimple(d, e, u)
	case akName:
		u.Name, err = d.name()
	case akMultiValues:
		*e.multi(u), err = d.multiValues(e.name)
	case akAddresses:
		u.Addresses, err = d.addresses()
	case akEnterprise:
		err = d.enterpriseObject(u)
	case akEnterpriseString:
		var s string
		s, err = d.str(e.qname, "")
		if s != "" || u.Enterprise != nil {
			*e.ent(enterprise(u)) = s
		}
	case akManager:
		var m *Manager
		m, err = d.manager()
		if m != nil || u.Enterprise != nil {
			enterprise(u).Manager = m
		}
	default:
		err = d.skipValue()
	}
	return err
}

// decodeSimple decodes the value of a string or boolean attribute e into r.
func decodeSimple[R any](d *decoder, e *attrEntry[R], r *R) (err error) {
	switch e.kind {
	case akString:
		*e.str(r), err = d.str(e.qname, "")
	case akBool:
		var v, present bool
		v, present, err = d.boolean(e.qname, "")
		*e.boolean(r) = v || (!present && e.unsetTrue)
	default:
		err = d.skipValue()
	}
	return err
}

// extra reads the value of the unknown key into *m; core is the resource's
// core schema URN.
func (d *decoder) extra(m *map[string]json.RawMessage, key []byte, core string) error {
	// key aliases the reader's scratch space: copy it before reading on.
	k := string(key)
	lower := asciiLower(k)
	raw, hasNull, err := d.rawValue()
	if err != nil {
		return err
	}
	v := cleanExtra(raw, hasNull)
	if urn, name := splitURN(k); urn != "" && name != "" && !isObject(raw) && hasURNPrefix(urn) {
		// An extension's attribute sent flat lives in the extension's
		// object, as setExtra keeps it for PATCH (RFC 7643 §3.3).
		putExtraAt(m, AttrPath{URN: urn, Name: name}, strings.EqualFold(urn, core), v)
		return nil
	}
	if d.extraIndex == nil {
		d.extraIndex = make(map[string]string)
	}
	if old, ok := d.extraIndex[lower]; ok {
		delete(*m, old)
		delete(d.extraIndex, lower)
	} else if old, ok := findFold(*m, k); ok && v != nil && isURN(k) && isObject(raw) {
		// An extension object after some of its attributes sent flat:
		// both are the extension's, the object's members winning.
		v = mergeJSONObjects((*m)[old], v)
		delete(*m, old)
	}
	if v == nil {
		return nil
	}
	if *m == nil {
		*m = make(map[string]json.RawMessage)
	}
	(*m)[k] = v
	d.extraIndex[lower] = k
	return nil
}

// cleanExtra copies a kept value, without its nulls; nil when it is
// unassigned (null, "", [] or {}).
func cleanExtra(raw []byte, hasNull bool) json.RawMessage {
	var v json.RawMessage
	if hasNull {
		v = appendWithoutNulls(nil, raw)
	} else {
		v = append(json.RawMessage(nil), raw...)
	}
	if jsonEmpty(v) {
		return nil
	}
	return v
}

// asciiLower lower-cases the ASCII letters of s.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// equalFoldASCII compares two keys as attribute names compare.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// decodeUser decodes a POST or PUT /Users body; see the rules at the top
// of this file. Every error is a 400 *Error.
func decodeUser(body []byte, opt decodeOptions) (*User, error) {
	d := newDecoder(body, opt)
	u := &User{Active: true}
	if err := d.openBody(); err != nil {
		return nil, err
	}
	for first := true; ; first = false {
		key, ok, err := d.nextMember(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if a := userAttrOf(key); a != uaUnknown {
			if d.strict && isLegacyEnterpriseKey(key) {
				d.fail(`"` + string(key) + `" is qualified by the pre-RFC Enterprise URN; RFC 7643 §4.3's is ` + EnterpriseUserSchema + ` (strict mode turns off the compatibility rule ` + ruleLegacyEnterprise + `)`)
			}
			err = d.userAttr(u, a)
		} else {
			err = d.extra(&u.Extra, key, UserSchema)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	if err := checkRequired(userRequired, u); err != nil {
		return nil, err
	}
	if u.Enterprise.IsZero() {
		u.Enterprise = nil
	}
	if len(u.Extra) == 0 {
		u.Extra = nil
	}
	return u, nil
}

// decodeGroup decodes a POST or PUT /Groups body, by the rules of
// decodeUser.
func decodeGroup(body []byte, opt decodeOptions) (*Group, error) {
	d := newDecoder(body, opt)
	g := &Group{}
	if err := d.openBody(); err != nil {
		return nil, err
	}
	for first := true; ; first = false {
		key, ok, err := d.nextMember(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if a := groupAttrOf(key); a != gaUnknown {
			err = d.groupAttr(g, a)
		} else {
			err = d.extra(&g.Extra, key, GroupSchema)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	if err := checkRequired(groupRequired, g); err != nil {
		return nil, err
	}
	if len(g.Extra) == 0 {
		g.Extra = nil
	}
	return g, nil
}

// groupAttr decodes the value of attribute a into g.
func (d *decoder) groupAttr(g *Group, a gattr) (err error) {
	switch e := &groupAttrs[a]; {
	case e.readOnly(): // id, meta, schemas: ignored (RFC 7643 §7)
		return d.skipValue()
	case e.kind == akMembers:
		g.Members, err = d.members()
		return err
	default:
		return decodeSimple(d, e, g)
	}
}

// pathKeyIn writes the top-level key the path p names ("urn:...:name" or
// "name") into buf, without allocating; a key too long for buf names no
// attribute of the model and comes back as nil.
func pathKeyIn(buf *[maxKeyLen]byte, p AttrPath) []byte {
	if p.URN == "" {
		if len(p.Name) > len(buf) {
			return nil
		}
		return buf[:copy(buf[:], p.Name)]
	}
	n := len(p.URN) + 1 + len(p.Name)
	if n > len(buf) {
		return nil
	}
	copy(buf[:], p.URN)
	buf[len(p.URN)] = ':'
	copy(buf[len(p.URN)+1:], p.Name)
	return buf[:n]
}

// userAttrOfPath returns the attribute the path p names, ignoring p.Sub.
func userAttrOfPath(p AttrPath) uattr {
	if p.URN == "" {
		return userAttrOf(p.Name) // the key is the name: no copy
	}
	var buf [maxKeyLen]byte
	return userAttrOf(pathKeyIn(&buf, p))
}

// groupAttrOfPath is userAttrOfPath for Group.
func groupAttrOfPath(p AttrPath) gattr {
	if p.URN == "" {
		return groupAttrOf(p.Name)
	}
	var buf [maxKeyLen]byte
	return groupAttrOf(pathKeyIn(&buf, p))
}

func invalidPath(detail string) error {
	return errorf(400, InvalidPath, detail)
}

// setUserAttr sets one attribute of u, named by p (a top-level attribute,
// a sub-attribute of name or manager, an Enterprise attribute, or an
// attribute the model does not know, kept in Extra), from the raw JSON
// value, by the rules of decodeUser: null (or "", [], {}) makes the
// attribute absent, which for active means true; read-only attributes (id,
// meta, schemas, groups, manager.displayName) are ignored, leaving u
// unchanged. A complex value (name, manager, the Enterprise object)
// replaces the attribute whole: to change one sub-attribute, name it in p.
// A sub-attribute of a multi-valued attribute cannot be set without a value
// filter, which is the PATCH layer's to apply: that, and a sub-attribute
// the schema does not define, is 400 invalidPath. On any error u is
// unchanged, and u is never changed through memory it shares with another
// value (a shallow copy). Every error is a 400 *Error.
//
// An unknown attribute qualified by a custom extension URN
// ("urn:...:Acme:2.0:User:costCode") is set inside that extension's object
// in Extra, unless Extra already keeps it under its URN-qualified key.
func setUserAttr(u *User, p AttrPath, raw json.RawMessage, opt decodeOptions) error {
	d := newDecoder(raw, opt)
	a := userAttrOfPath(p)
	if a == uaUnknown {
		return d.setExtra(&u.Extra, p, isURNOf(p.URN, UserSchema))
	}
	tmp := *u
	if tmp.Enterprise != nil {
		e := *tmp.Enterprise
		tmp.Enterprise = &e
	}
	var err error
	switch {
	case p.Sub == "" && a == uaEnterprise:
		tmp.Enterprise = nil
		err = d.enterpriseObject(&tmp)
	case p.Sub == "":
		err = d.userAttr(&tmp, a)
	default:
		err = d.userSubAttr(&tmp, a, p.Sub)
	}
	if err != nil {
		return err
	}
	if err := d.finish(); err != nil {
		return err
	}
	if e := &userAttrs[a]; e.requiredString() && *e.str(&tmp) == "" {
		return errorf(400, InvalidValue, `attribute "`+e.name+`" is required`)
	}
	if tmp.Enterprise.IsZero() {
		tmp.Enterprise = nil
	}
	*u = tmp
	return nil
}

// isURNOf reports whether urn is empty or the core schema's.
func isURNOf(urn, core string) bool {
	return urn == "" || strings.EqualFold(urn, core)
}

// userSubAttr decodes the value of the sub-attribute sub of a into u.
func (d *decoder) userSubAttr(u *User, a uattr, sub string) error {
	info := &userAttrs[a]
	var buf [maxKeyLen]byte
	lsub, _ := lowerASCII(&buf, sub)
	if info.readOnly() {
		return d.skipValue() // as in userAttr
	}
	switch info.kind {
	case akEnterprise:
		// {Name: "urn:...:enterprise:2.0:User", Sub: "department"}
		if ea := enterpriseAttr(lsub); ea != uaUnknown {
			return d.userAttr(u, ea)
		}
		return invalidPath(`attribute "` + EnterpriseUserSchema + ":" + sub + `" is not defined`)
	case akName:
		if indexFold(nameSubs, sub) < 0 {
			break
		}
		return d.nameSub(&u.Name, lsub)
	case akManager:
		var m Manager
		if e := u.Enterprise; e != nil && e.Manager != nil {
			m = *e.Manager
		}
		var err error
		switch string(lsub) {
		case "value":
			m.Value, err = d.str(managerAttr, "value")
		case "managerid":
			if d.strict {
				return invalidPath(`attribute "` + managerAttr + "." + sub + `" is not defined (strict mode does not read OneLogin's managerId, compatibility rule ` + ruleManagerShapes + `)`)
			}
			m.Value, err = d.str(managerAttr, "value")
		case "$ref":
			m.Ref, err = d.str(managerAttr, "$ref")
		case "displayname":
			return d.skipValue() // read-only
		default:
			return invalidPath(`attribute "` + managerAttr + "." + sub + `" is not defined`)
		}
		if err != nil {
			return err
		}
		// Without a value there is no manager, whatever $ref says.
		var mp *Manager
		if m.Value != "" {
			mp = &m
		}
		if mp != nil || u.Enterprise != nil {
			enterprise(u).Manager = mp
		}
		return nil
	}
	switch {
	case info.subs == nil:
		return invalidPath(`attribute "` + info.qname + `" has no sub-attributes`)
	case indexFold(info.subs, sub) < 0:
		return invalidPath(`attribute "` + info.qname + "." + sub + `" is not defined`)
	}
	return invalidPath(`attribute "` + info.qname + "." + sub + `": a sub-attribute of a multi-valued attribute is set through a value filter`)
}

// indexFold returns the index of name in names, compared as attribute
// names, or -1.
func indexFold(names []string, name string) int {
	for i, n := range names {
		if equalFoldASCII(n, name) {
			return i
		}
	}
	return -1
}

// setGroupAttr is setUserAttr for Group: displayName (required),
// externalId, members (a sub-attribute of members needs a value filter),
// and unknown attributes in Extra; id, meta and schemas are ignored.
func setGroupAttr(g *Group, p AttrPath, raw json.RawMessage, opt decodeOptions) error {
	d := newDecoder(raw, opt)
	a := groupAttrOfPath(p)
	if a == gaUnknown {
		return d.setExtra(&g.Extra, p, isURNOf(p.URN, GroupSchema))
	}
	tmp := *g
	e := &groupAttrs[a]
	var err error
	switch {
	case e.readOnly():
		err = d.skipValue()
	case p.Sub == "":
		err = d.groupAttr(&tmp, a)
	case e.subs == nil:
		err = invalidPath(`attribute "` + e.name + `" has no sub-attributes`)
	case indexFold(e.subs, p.Sub) >= 0:
		err = invalidPath(`attribute "` + e.name + "." + p.Sub + `": a sub-attribute of a multi-valued attribute is set through a value filter`)
	default:
		err = invalidPath(`attribute "` + e.name + "." + p.Sub + `" is not defined`)
	}
	if err != nil {
		return err
	}
	if err := d.finish(); err != nil {
		return err
	}
	if e := &groupAttrs[a]; e.requiredString() && *e.str(&tmp) == "" {
		return errorf(400, InvalidValue, `attribute "`+e.name+`" is required`)
	}
	*g = tmp
	return nil
}

// setExtra sets the unknown attribute p in *m from the value being
// decoded. core says p.URN is empty or the resource's core schema, so that
// p.Name is a top-level key.
func (d *decoder) setExtra(dst *map[string]json.RawMessage, p AttrPath, core bool) error {
	raw, hasNull, err := d.rawValue()
	if err != nil {
		return err
	}
	if err := d.finish(); err != nil {
		return err
	}
	putExtraAt(dst, p, core, cleanExtra(raw, hasNull))
	return nil
}

// putExtraAt sets the unknown attribute p in *dst to v (nil removes it),
// copying the map on write; core says p.URN is empty or the resource's
// core schema.
func putExtraAt(dst *map[string]json.RawMessage, p AttrPath, core bool, v json.RawMessage) {
	// Copy on write, as for Enterprise in setUserAttr: a shallow copy of
	// the resource must not see the change.
	m := maps.Clone(*dst)
	key, path := p.Name, []string(nil)
	if !core {
		key = p.URN + ":" + p.Name
		if _, ok := findFold(m, key); !ok && !strings.EqualFold(p.URN, EnterpriseUserSchema) {
			// A custom extension's attribute lives in the
			// extension's object (RFC 7643 §3.3).
			key, path = p.URN, []string{p.Name}
		}
	}
	if p.Sub != "" {
		path = append(path, p.Sub)
	}
	if len(path) > 0 {
		// Changing a member keeps the object's key as it is.
		if old, ok := findFold(m, key); ok {
			key = old
		}
		v = setJSONPath(m[key], path, v)
	}
	putExtra(&m, key, v)
	*dst = m
}

// findFold finds the key of m equal to key as attribute names compare.
func findFold(m map[string]json.RawMessage, key string) (string, bool) {
	if _, ok := m[key]; ok {
		return key, true
	}
	for k := range m {
		if equalFoldASCII(k, key) {
			return k, true
		}
	}
	return "", false
}

// putExtra sets m[key] = v (removing the attribute when v is nil),
// replacing a key that differs only in case.
func putExtra(m *map[string]json.RawMessage, key string, v json.RawMessage) {
	if old, ok := findFold(*m, key); ok {
		delete(*m, old)
	}
	if v == nil {
		if len(*m) == 0 {
			*m = nil
		}
		return
	}
	if *m == nil {
		*m = make(map[string]json.RawMessage)
	}
	(*m)[key] = v
}

// setJSONPath returns the object obj with the member at path (names
// compared as attribute names) set to v, or removed when v is nil; obj that
// is not an object counts as {}. It returns nil when the result is {}.
func setJSONPath(obj json.RawMessage, path []string, v json.RawMessage) json.RawMessage {
	if len(path) == 0 {
		return v
	}
	var old json.RawMessage
	out := []byte{'{'}
	r := newReader(obj, len(obj)+1)
	if k, err := r.peek(); err == nil && k == kindObject && r.open() == nil {
		for first := true; ; first = false {
			rawKey, ok, err := r.nextMemberRaw(first)
			if err != nil || !ok {
				break
			}
			val, _, err := r.rawValue()
			if err != nil {
				break
			}
			kr := newReader(rawKey, 1)
			name, err := kr.readString()
			if err == nil && equalFoldASCII(string(name), path[0]) {
				old = val
				continue
			}
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, rawKey...)
			out = append(out, ':')
			out = append(out, val...)
		}
	}
	if nv := setJSONPath(old, path[1:], v); nv != nil {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendJSONString(out, path[0])
		out = append(out, ':')
		out = append(out, nv...)
	}
	if len(out) == 1 {
		return nil
	}
	return append(out, '}')
}
