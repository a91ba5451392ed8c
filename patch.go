package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// This file parses PATCH requests (RFC 7644 §3.5.2) and applies them to the
// typed model. It is pure: no I/O, no Store. The handler (patch_handler.go)
// parses the body once with parsePatch, then hands a copy of the stored
// resource to applyUserPatch or applyGroupPatch inside its one
// read-modify-write; an error leaves the resource as it was, so a PATCH
// changes everything it asks for or nothing.
//
// The semantics, for hosts and for the handler (the compatibility rules
// named here are listed in entra.go; Options.Strict turns them off):
//
//   - The body is a JSON object whose "schemas" contains
//     urn:ietf:params:scim:api:messages:2.0:PatchOp and whose "Operations"
//     is a non-empty array; member names match in any case, and other
//     members are ignored. Every client in docs/clients.md sends the schema, so it
//     is required in every mode. More than Options.MaxPatchOperations
//     operations is 413, as RFC 7644 §3.7.4 answers a Bulk request over its
//     maxOperations.
//   - An operation is {"op", "path", "value"}. op is add, remove or replace
//     (any case: rule op-name-case). A path that is absent, null or "" is no
//     path. add and replace need a "value"; a value that is null, "", [] or
//     {} adds nothing, and replaces with nothing, which clears.
//   - add (§3.5.2.1): a simple attribute is set; a single-valued complex
//     attribute (name, the Enterprise object, a custom extension's object)
//     gets the sub-attributes given, keeping the others; a multi-valued
//     attribute gets the values given, a value equal to one it has (same
//     value and type; for addresses the same sub-attributes) merging into
//     that one rather than repeating it, so a replayed add changes nothing.
//     A member the group has stays as it is: the sub-attributes of members
//     are immutable. The manager is a reference, set whole.
//   - replace (§3.5.2.3): as add, except that a multi-valued attribute
//     without a filter has all its values replaced.
//   - remove (§3.5.2.2): needs a path (noTarget without one). It clears the
//     attribute, the sub-attribute, or the values a filter selects; a
//     filter that selects nothing removes nothing (clients replay removes).
//     A "value" on a remove of a multi-valued attribute lists the values to
//     remove, each removing the values whose sub-attributes equal all those
//     it sets (rule remove-members-by-value): never every value, in any
//     mode; strict mode refuses such a remove.
//   - A path with a value filter (`emails[type eq "work"].value`) works on
//     the values the filter selects: add merges into them, replace replaces
//     them (a filter's equalities that the new value leaves unset are kept),
//     and with a sub-attribute both set that sub-attribute. When the filter
//     selects nothing, add and replace create the value the filter's
//     equalities describe (rule value-path-creates), so several adds on
//     addresses[type eq "work"].x build one address; strict mode, and a
//     filter that describes no value (`value co "x"`), answer 400 noTarget,
//     as RFC 7644 §3.5.2.3 does. A sub-attribute of a multi-valued attribute
//     without a filter (`emails.type`) is the sub-attribute of every value.
//   - primary true set on one value clears it on the others (RFC 7643 §2.4);
//     two values made primary by one operation is 400 invalidValue.
//   - Mutability (RFC 7644 §3.5.2): id, meta, schemas, groups and
//     manager.displayName are read-only, and the sub-attributes of members
//     are immutable, so an operation on them is 400 mutability, except an
//     id equal to the resource's own (Okta's group rename echoes it), which
//     changes nothing. Inside a value without a path, "schemas" and "meta"
//     are ignored. active cannot be removed (absent would mean active).
//   - The result is validated as a create is: userName (displayName for a
//     group) is required, and at most one value of a multi-valued attribute
//     is primary.
//   - Errors are *Error 400: invalidSyntax for the body and the operations'
//     shape, invalidPath for a path, noTarget, mutability, invalidValue for
//     a value. The detail starts with the 1-based operation and its path:
//     `operation 2 (replace "emails[type eq \"work\"].value"): ...`.

// patchOpSchema is the URN of a PATCH request body (RFC 7644 §3.5.2).
const patchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

type patchKind uint8

const (
	patchAdd patchKind = iota + 1
	patchRemove
	patchReplace
)

func (k patchKind) String() string {
	switch k {
	case patchAdd:
		return "add"
	case patchRemove:
		return "remove"
	case patchReplace:
		return "replace"
	}
	return ""
}

// patchOp is one parsed operation.
type patchOp struct {
	index   int // 1-based position in Operations
	kind    patchKind
	rawPath string // as sent, for details; "" when there is none
	path    Path
	hasPath bool
	// value is the raw JSON of "value", nil when the operation has none.
	value json.RawMessage
}

// describe names the operation for an error detail.
func (o *patchOp) describe() string {
	if strings.TrimSpace(o.rawPath) == "" {
		return "operation " + strconv.Itoa(o.index) + " (" + o.kind.String() + ", no path)"
	}
	return "operation " + strconv.Itoa(o.index) + " (" + o.kind.String() + " " + strconv.Quote(o.rawPath) + ")"
}

// wrap prefixes an error's detail with the operation it is about.
func (o *patchOp) wrap(err error) error {
	e := toError(err)
	return &Error{Status: e.Status, Type: e.Type, Detail: o.describe() + ": " + e.Detail, Err: e.Err}
}

// patchOptions are what parsing and applying depend on.
type patchOptions struct {
	decode decodeOptions // strict turns the compatibility rules off
	maxOps int           // 0 means DefaultMaxPatchOperations
}

func (o patchOptions) strict() bool { return o.decode.strict }

// parsePatch parses a PATCH request body into its operations, by the rules
// at the top of this file. Every error is a *Error: 400 (invalidSyntax,
// invalidPath) or 413 for too many operations. The operations' values
// alias body.
func parsePatch(body []byte, opt patchOptions) ([]patchOp, error) {
	maxOps := opt.maxOps
	if maxOps <= 0 {
		maxOps = DefaultMaxPatchOperations
	}
	r := newReader(body, opt.decode.maxDepth)
	r.skipWS()
	if r.pos >= len(r.data) {
		return nil, errorf(400, InvalidSyntax, "the request body is empty; expected a PatchOp message")
	}
	k, err := r.peek()
	if err != nil {
		return nil, err
	}
	if k != kindObject {
		return nil, errorf(400, InvalidSyntax, "the request body must be a JSON object (a PatchOp message), found "+k.phrase())
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	var (
		ops      []patchOp
		first    error // the first problem that is not a syntax error
		schemaOK bool
		buf      [maxKeyLen]byte
	)
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	for f := true; ; f = false {
		key, ok, err := r.nextMember(f)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		lk, _ := lowerASCII(&buf, key)
		switch string(lk) {
		case "schemas":
			schemaOK, err = readPatchSchemas(&r, fail)
		case "operations":
			ops, err = readOperations(&r, opt, maxOps, fail)
		default:
			err = r.skipValue()
		}
		if err != nil {
			return nil, err
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	switch {
	case !schemaOK:
		return nil, errorf(400, InvalidSyntax, `"schemas" must contain "`+patchOpSchema+`"`)
	case first != nil:
		return nil, first
	case len(ops) == 0:
		return nil, errorf(400, InvalidSyntax, `"Operations" must be an array of one or more operations`)
	}
	return ops, nil
}

// readPatchSchemas reads "schemas" and reports whether it names the PatchOp
// schema.
func readPatchSchemas(r *reader, fail func(error)) (bool, error) {
	k, err := r.peek()
	if err != nil {
		return false, err
	}
	if k != kindArray {
		fail(errorf(400, InvalidSyntax, `"schemas" must be an array of URNs, found `+k.phrase()))
		return false, r.skipValue()
	}
	if err := r.open(); err != nil {
		return false, err
	}
	found := false
	for first := true; ; first = false {
		more, err := r.nextElem(first)
		if err != nil || !more {
			return found, err
		}
		ek, err := r.peek()
		if err != nil {
			return false, err
		}
		if ek != kindString {
			fail(errorf(400, InvalidSyntax, `"schemas" must be an array of URNs, found an array containing `+ek.phrase()))
			if err := r.skipValue(); err != nil {
				return false, err
			}
			continue
		}
		s, err := r.readString()
		if err != nil {
			return false, err
		}
		if equalFoldASCII(string(s), patchOpSchema) {
			found = true
		}
	}
}

// opString returns the op name s as a string, without allocating for the
// spellings clients send.
func opString(s []byte) string {
	for _, name := range [...]string{"add", "remove", "replace", "Add", "Remove", "Replace"} {
		if string(s) == name {
			return name
		}
	}
	return string(s)
}

// readOperations reads "Operations".
func readOperations(r *reader, opt patchOptions, maxOps int, fail func(error)) ([]patchOp, error) {
	k, err := r.peek()
	if err != nil {
		return nil, err
	}
	switch k {
	case kindArray:
	case kindNull:
		_, _, err = r.scanLiteral()
		return nil, err
	default:
		fail(errorf(400, InvalidSyntax, `"Operations" must be an array of operations, found `+k.phrase()))
		return nil, r.skipValue()
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	// Room for one: Entra ID's PATCHes of a user and its member adds are
	// mostly one operation each, and an operation is 152 bytes.
	ops := make([]patchOp, 0, 1)
	for first := true; ; first = false {
		more, err := r.nextElem(first)
		if err != nil {
			return nil, err
		}
		if !more {
			return ops, nil
		}
		if len(ops) == maxOps {
			// Stop reading: the request is refused whatever follows.
			return nil, errorf(http.StatusRequestEntityTooLarge, "", fmt.Sprintf("the PATCH request has more than %d operations, the limit of this server", maxOps))
		}
		o, err := readOperation(r, len(ops)+1, opt, fail)
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
}

// readOperation reads one element of "Operations". Problems with its
// content go to fail; the returned error is a syntax error.
func readOperation(r *reader, index int, opt patchOptions, fail func(error)) (patchOp, error) {
	o := patchOp{index: index}
	prefix := "operation " + strconv.Itoa(index) + ": "
	k, err := r.peek()
	if err != nil {
		return o, err
	}
	if k != kindObject {
		fail(errorf(400, InvalidSyntax, prefix+"expected an object, found "+k.phrase()))
		return o, r.skipValue()
	}
	if err := r.open(); err != nil {
		return o, err
	}
	var (
		opName  string
		sawOp   bool
		pathBad bool
		buf     [maxKeyLen]byte
	)
	for first := true; ; first = false {
		key, ok, err := r.nextMember(first)
		if err != nil {
			return o, err
		}
		if !ok {
			break
		}
		lk, _ := lowerASCII(&buf, key)
		switch string(lk) {
		case "op":
			sawOp = true
			var ek jsonKind
			if ek, err = r.peek(); err == nil {
				if ek == kindString {
					var s []byte
					if s, err = r.readString(); err == nil {
						opName = opString(s)
					}
				} else {
					fail(errorf(400, InvalidSyntax, prefix+`"op" must be a string, found `+ek.phrase()))
					err = r.skipValue()
				}
			}
		case "path":
			var ek jsonKind
			if ek, err = r.peek(); err == nil {
				switch ek {
				case kindString:
					var s []byte
					s, err = r.readString()
					o.rawPath = string(s)
				case kindNull:
					_, _, err = r.scanLiteral()
					o.rawPath = ""
				default:
					pathBad = true
					fail(errorf(400, InvalidPath, prefix+`"path" must be a string, found `+ek.phrase()))
					err = r.skipValue()
				}
			}
		case "value":
			var raw []byte
			raw, _, err = r.rawValue()
			o.value = raw
		default:
			err = r.skipValue()
		}
		if err != nil {
			return o, err
		}
	}
	if !sawOp {
		fail(errorf(400, InvalidSyntax, prefix+`"op" is required`))
		return o, nil
	}
	switch asciiLower(opName) {
	case "add":
		o.kind = patchAdd
	case "remove":
		o.kind = patchRemove
	case "replace":
		o.kind = patchReplace
	default:
		fail(errorf(400, InvalidSyntax, prefix+`op `+strconv.Quote(opName)+` is not one of "add", "remove" and "replace"`))
		return o, nil
	}
	if opt.strict() && o.kind.String() != opName {
		fail(errorf(400, InvalidSyntax, prefix+`op `+strconv.Quote(opName)+` must be lower case (strict mode turns off the compatibility rule `+ruleOpNameCase+`)`))
		return o, nil
	}
	if pathBad {
		return o, nil
	}
	if strings.TrimSpace(o.rawPath) != "" {
		p, err := parsePath(o.rawPath, opt.strict())
		if err != nil {
			fail(o.wrap(err))
			return o, nil
		}
		o.path, o.hasPath = p, true
	}
	if o.kind != patchRemove && o.value == nil {
		fail(errorf(400, InvalidSyntax, o.describe()+`: "value" is required`))
	}
	return o, nil
}

// ---- applying ----

// applyUserPatch applies ops to u in order, all or nothing: on error u is
// unchanged. The result is validated as a create is.
func applyUserPatch(u *User, ops []patchOp, opt patchOptions) error {
	w := u.Clone()
	if err := patchUserCopy(w, ops, opt); err != nil {
		return err
	}
	*u = *w
	return nil
}

// patchUserCopy is applyUserPatch on a copy the caller discards when the
// PATCH fails (the handler's, inside a read-modify-write that stores
// nothing then), without a copy of its own: on error u is left part-way.
func patchUserCopy(u *User, ops []patchOp, opt patchOptions) error {
	for i := range ops {
		o := &ops[i]
		err := eachTarget(o, opt, func(p Path, raw json.RawMessage) error {
			return patchUser(u, o.kind, p, raw, opt)
		})
		if err != nil {
			return o.wrap(err)
		}
	}
	return validatePatchedUser(u)
}

// applyGroupPatch is applyUserPatch for a group; g must hold its members.
func applyGroupPatch(g *Group, ops []patchOp, opt patchOptions) error {
	w := g.Clone()
	if err := patchGroupCopy(w, ops, opt); err != nil {
		return err
	}
	*g = *w
	return nil
}

// patchGroupCopy is patchUserCopy for a group.
func patchGroupCopy(g *Group, ops []patchOp, opt patchOptions) error {
	for i := range ops {
		o := &ops[i]
		err := eachTarget(o, opt, func(p Path, raw json.RawMessage) error {
			return patchGroup(g, o.kind, p, raw, opt)
		})
		if err != nil {
			return o.wrap(err)
		}
	}
	if err := checkRequired(groupRequired, g); err != nil {
		return err
	}
	if len(g.Extra) == 0 {
		g.Extra = nil
	}
	return nil
}

// eachTarget calls target with the path and value of o, or, for an add or
// replace without a path, with each member of its value object (RFC 7644
// §3.5.2.1: "the value ... contains a set of attributes"), whose key is an
// attribute name or, by rule no-path-attribute-paths, a path.
func eachTarget(o *patchOp, opt patchOptions, target func(Path, json.RawMessage) error) error {
	if o.hasPath {
		return target(o.path, o.value)
	}
	if o.kind == patchRemove {
		return errorf(400, NoTarget, `remove needs a "path" (RFC 7644 §3.5.2.2)`)
	}
	r := newReader(o.value, opt.decode.maxDepth)
	k, err := r.peek()
	if err != nil {
		return err
	}
	switch k {
	case kindNull:
		return nil
	case kindObject:
	default:
		return errorf(400, InvalidValue, `without a "path", "value" must be an object of attributes, found `+k.phrase())
	}
	if err := r.open(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := r.nextMember(first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		name := string(key)
		raw, _, err := r.rawValue()
		if err != nil {
			return err
		}
		// A client that read the resource may send back its message
		// members; they are not attributes to change.
		if equalFoldASCII(name, "schemas") || equalFoldASCII(name, "meta") {
			continue
		}
		p, err := valueKeyPath(name, opt.strict())
		if err != nil {
			return err
		}
		if err := target(p, raw); err != nil {
			return err
		}
	}
}

// valueKeyPath parses a key of a no-path value. Strict mode takes
// attribute names only, URN-qualified or not, as in a request body.
func valueKeyPath(key string, strict bool) (Path, error) {
	p, err := parsePath(key, strict)
	if err != nil {
		return Path{}, errorf(400, InvalidPath, `"value" member `+strconv.Quote(key)+` is not an attribute: `+toError(err).Detail)
	}
	if strict && (p.Filter != nil || p.Attr.Sub != "") {
		return Path{}, errorf(400, InvalidPath, `"value" member `+strconv.Quote(key)+` is an attribute path, not an attribute name (strict mode turns off the compatibility rule `+ruleNoPathAttributePaths+`)`)
	}
	return p, nil
}

// jsonNull is the value that makes an attribute absent.
var jsonNull = json.RawMessage("null")

// hasValue reports whether raw is a value other than null (or none).
func hasValue(raw json.RawMessage) bool {
	return raw != nil && string(raw) != "null"
}

// isObject reports whether the valid JSON value raw is an object.
func isObject(raw json.RawMessage) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// readOnlyError is the 400 mutability for an operation on attr.
func readOnlyError(attr string) error {
	return errorf(400, Mutability, `attribute "`+attr+`" is read-only`)
}

// patchReadOnlyString handles an operation on a read-only string attribute
// (id) whose value is cur: a value equal to it changes nothing, as Okta
// sends the id back in the value of a group rename (docs/clients.md#okta).
func patchReadOnlyString(name, cur string, kind patchKind, raw json.RawMessage) error {
	if kind != patchRemove {
		var s string
		if json.Unmarshal(raw, &s) == nil && s == cur {
			return nil
		}
	}
	return readOnlyError(name)
}

// removeValue handles the value of a remove whose target is not a
// multi-valued attribute: strict mode refuses it, and otherwise it is
// ignored (the remove removes its target).
func removeValue(raw json.RawMessage, opt patchOptions) error {
	if hasValue(raw) && opt.strict() {
		return errorf(400, InvalidSyntax, `remove takes no "value" (strict mode turns off the compatibility rule `+ruleRemoveByValue+`)`)
	}
	return nil
}

// patchUser applies one operation of kind to the target p of u.
func patchUser(u *User, kind patchKind, p Path, raw json.RawMessage, opt patchOptions) error {
	key := pathKey(p.Attr)
	if opt.strict() && isLegacyEnterpriseKey(key) {
		return errorf(400, InvalidPath, `path "`+key+`" is qualified by the pre-RFC Enterprise URN; RFC 7643 §4.3's is `+EnterpriseUserSchema+` (strict mode turns off the compatibility rule `+ruleLegacyEnterprise+`)`)
	}
	a := userAttrOf([]byte(key))
	e := &userAttrs[a]
	switch {
	case e.readOnly() && e.kind == akString:
		return patchReadOnlyString(e.qname, *e.str(u), kind, raw)
	case e.readOnly():
		return readOnlyError(e.qname)
	case e.kind == akManager:
		if equalFoldASCII(p.Attr.Sub, "displayName") || equalFoldASCII(p.SubAttr, "displayName") {
			return readOnlyError(managerAttr + ".displayName")
		}
	}
	switch e.kind {
	case akMultiValues, akAddresses:
		sub := p.SubAttr
		if p.Filter == nil {
			sub = p.Attr.Sub
		}
		if e.kind == akAddresses {
			return patchMulti(addressesAttr, &u.Addresses, kind, p.Filter, sub, raw, opt)
		}
		return patchMulti(userMultiAttrs[a], e.multi(u), kind, p.Filter, sub, raw, opt)
	}
	if p.Filter != nil {
		if e.kind == akManager || (e.kind == akName && p.Attr.Sub == "") {
			return patchUserSingular(u, a, kind, p, raw, opt)
		}
		return notMultiValued(p.Attr)
	}
	if kind == patchRemove {
		if err := removeValue(raw, opt); err != nil {
			return err
		}
		switch {
		case e.kind == akBool:
			// Unassigned: see User.Active.
			*e.boolean(u) = e.unsetTrue
			return nil
		case e.kind == akManager && equalFoldASCII(p.Attr.Sub, "value"):
			// The manager is a reference: without its value it is gone.
			return setUserAttr(u, AttrPath{URN: p.Attr.URN, Name: p.Attr.Name}, jsonNull, opt.decode)
		}
		return setUserAttr(u, p.Attr, jsonNull, opt.decode)
	}
	if kind == patchAdd && jsonEmpty(raw) {
		return nil
	}
	switch {
	case e.kind == akBool && jsonEmpty(raw):
		return errorf(400, InvalidValue, `attribute "`+e.qname+`" must be true or false`)
	case e.kind == akName && p.Attr.Sub == "" && isObject(raw):
		return eachMember(raw, opt, func(name string, v json.RawMessage) error {
			if indexFold(nameSubs, name) < 0 {
				return nil // unknown sub-attributes are dropped, as in a body
			}
			return setUserAttr(u, AttrPath{URN: p.Attr.URN, Name: p.Attr.Name, Sub: name}, v, opt.decode)
		})
	case e.kind == akEnterprise && p.Attr.Sub == "" && isObject(raw):
		return eachMember(raw, opt, func(name string, v json.RawMessage) error {
			var buf [maxKeyLen]byte
			lname, _ := lowerASCII(&buf, []byte(name))
			if enterpriseAttr(lname) == uaUnknown {
				return nil // dropped, as in a body
			}
			return setUserAttr(u, AttrPath{URN: EnterpriseUserSchema, Name: name}, v, opt.decode)
		})
	case a == uaUnknown && isExtensionObject(u.Extra, p.Attr, UserSchema, raw):
		return mergeExtraObject(&u.Extra, pathKey(p.Attr), raw, opt)
	}
	return setUserAttr(u, p.Attr, raw, opt.decode)
}

// notMultiValued refuses a value filter on an attribute that has no values
// to select.
func notMultiValued(p AttrPath) error {
	return errorf(400, InvalidPath, `attribute "`+pathKey(p)+`" is not a multi-valued attribute of this server's schema: a value filter selects values of one`)
}

// patchUserSingular applies an operation whose path filters a single-valued
// complex attribute, `manager[value eq "<id>"]` (rule
// filter-on-single-valued): the filter selects the attribute when it
// matches.
func patchUserSingular(u *User, a uattr, kind patchKind, p Path, raw json.RawMessage, opt patchOptions) error {
	if opt.strict() {
		return errorf(400, InvalidPath, `attribute "`+userAttrs[a].qname+`" is single-valued: strict mode takes a value filter on a multi-valued attribute only (compatibility rule `+ruleSingularFilter+`)`)
	}
	fd := userField(AttrPath{URN: p.Attr.URN, Name: p.Attr.Name})
	e := &userAttrs[a]
	if err := checkElemFilter(p.Filter, e.qname, e.subs); err != nil {
		return err
	}
	if p.SubAttr != "" && indexFold(e.subs, p.SubAttr) < 0 {
		return errorf(400, InvalidPath, `attribute "`+e.qname+`" has no sub-attribute "`+p.SubAttr+`"`)
	}
	matched := subject{u: u}.eachElem(fd, func(e complexElem) bool {
		return e.nonEmpty() && matchElem(p.Filter, fd, e)
	})
	if !matched {
		if kind == patchRemove {
			return nil
		}
		return errorf(400, NoTarget, `the filter selects no value of "`+e.qname+`"`)
	}
	return patchUser(u, kind, Path{Attr: AttrPath{URN: p.Attr.URN, Name: p.Attr.Name, Sub: p.SubAttr}}, raw, opt)
}

// eachMember calls fn with each member of the object raw.
func eachMember(raw json.RawMessage, opt patchOptions, fn func(name string, v json.RawMessage) error) error {
	r := newReader(raw, opt.decode.maxDepth)
	if _, err := r.peek(); err != nil {
		return err
	}
	if err := r.open(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := r.nextMember(first)
		if err != nil || !ok {
			return err
		}
		name := string(key)
		v, _, err := r.rawValue()
		if err != nil {
			return err
		}
		if err := fn(name, v); err != nil {
			return err
		}
	}
}

// isExtensionObject reports whether an add or replace of the unknown
// attribute p with raw targets a custom extension's whole object, which the
// operation merges into: p is a URN that is not an attribute of the core
// schema, of the Enterprise extension or of an extension object extra
// keeps, and raw is an object (a URN key whose value is an object is a
// schema's object, as the encoder reads Extra).
func isExtensionObject(extra map[string]json.RawMessage, p AttrPath, core string, raw json.RawMessage) bool {
	if p.Sub != "" || p.URN == "" || isURNOf(p.URN, core) || strings.EqualFold(p.URN, EnterpriseUserSchema) || !isObject(raw) {
		return false
	}
	if _, ok := findFold(extra, pathKey(p)); ok {
		return true
	}
	_, parent := findFold(extra, p.URN)
	return !parent
}

// mergeExtraObject sets each member of the object raw in the object extra
// keeps under key (found case-insensitively); a member that is null (or
// "", [], {}) is removed.
func mergeExtraObject(extra *map[string]json.RawMessage, key string, raw json.RawMessage, opt patchOptions) error {
	if k, ok := findFold(*extra, key); ok {
		key = k
	}
	obj := (*extra)[key]
	err := eachMember(raw, opt, func(name string, v json.RawMessage) error {
		obj = setJSONPath(obj, []string{name}, cleanExtra(v, true))
		return nil
	})
	if err != nil {
		return err
	}
	putExtra(extra, key, obj)
	return nil
}

// patchGroup applies one operation of kind to the target p of g.
func patchGroup(g *Group, kind patchKind, p Path, raw json.RawMessage, opt patchOptions) error {
	a := groupAttrOf([]byte(pathKey(p.Attr)))
	switch e := &groupAttrs[a]; {
	case e.readOnly() && e.kind == akString:
		return patchReadOnlyString(e.name, *e.str(g), kind, raw)
	case e.readOnly():
		return readOnlyError(e.name)
	case e.kind == akMembers:
		sub := p.SubAttr
		if p.Filter == nil {
			sub = p.Attr.Sub
		}
		return patchMulti(membersAttr, &g.Members, kind, p.Filter, sub, raw, opt)
	}
	if p.Filter != nil {
		return notMultiValued(p.Attr)
	}
	if kind == patchRemove {
		if err := removeValue(raw, opt); err != nil {
			return err
		}
		return setGroupAttr(g, p.Attr, jsonNull, opt.decode)
	}
	if kind == patchAdd && jsonEmpty(raw) {
		return nil
	}
	if a == gaUnknown && isExtensionObject(g.Extra, p.Attr, GroupSchema, raw) {
		return mergeExtraObject(&g.Extra, pathKey(p.Attr), raw, opt)
	}
	return setGroupAttr(g, p.Attr, raw, opt.decode)
}

// validatePatchedUser checks what a create checks: userName is required
// and at most one value of each multi-valued attribute is primary.
func validatePatchedUser(u *User) error {
	if err := checkRequired(userRequired, u); err != nil {
		return err
	}
	for a, m := range userMultiAttrs {
		if m != nil && countPrimary(m, *userAttrs[a].multi(u)) > 1 {
			return tooManyPrimary(m.name)
		}
	}
	if countPrimary(addressesAttr, u.Addresses) > 1 {
		return tooManyPrimary("addresses")
	}
	if u.Enterprise.IsZero() {
		u.Enterprise = nil
	}
	if len(u.Extra) == 0 {
		u.Extra = nil
	}
	return nil
}

func tooManyPrimary(attr string) error {
	return errorf(400, InvalidValue, `attribute "`+attr+`": more than one value has "primary" set to true`)
}

// ---- multi-valued attributes ----

// multiAttr describes a multi-valued complex attribute of the model with
// elements of type E (MultiValue, Address or Member), so that PATCH's
// multi-valued semantics are written once.
type multiAttr[E comparable] struct {
	name  string   // canonical name, for details
	subs  []string // canonical sub-attribute names, in index order
	exact []bool   // caseExact of each sub-attribute
	fd    *fieldDef
	// str returns sub-attribute i of e, nil for the boolean "primary".
	str func(e *E, i int) *string
	// primary returns e's primary flag; nil when E has none. notPrimary
	// returns its record of an assigned false (MultiValue.NotPrimary).
	primary    func(e *E) *bool
	notPrimary func(e *E) *bool
	elem       func(e *E) complexElem
	// key identifies a value for add's merge: an added value with the key
	// of one the attribute has merges into it.
	key    func(e *E) string
	decode func(d *decoder) ([]E, error)
	// immutable says the sub-attributes of the values are immutable (RFC
	// 7643 §4.2 members): values are added and removed, never changed.
	immutable bool
}

func newMultiAttr[E comparable](name string, fd *fieldDef, subs []string, str func(*E, int) *string, primary func(*E) *bool, elem func(*E) complexElem, decode func(*decoder) ([]E, error)) *multiAttr[E] {
	m := &multiAttr[E]{name: name, fd: fd, subs: subs, str: str, primary: primary, elem: elem, decode: decode}
	for _, s := range subs {
		sd := fd.sub(s)
		m.exact = append(m.exact, sd != nil && sd.def.caseExact)
		if sd != nil && sd.def.mutability == immutable {
			m.immutable = true
		}
	}
	return m
}

// mvStr is multiAttr.str for MultiValue (value, display, type, primary).
func mvStr(e *MultiValue, i int) *string {
	switch i {
	case 0:
		return &e.Value
	case 1:
		return &e.Display
	case 2:
		return &e.Type
	}
	return nil
}

func newMVAttr(a uattr) *multiAttr[MultiValue] {
	name := userAttrs[a].name
	m := newMultiAttr(name, userField(AttrPath{Name: name}), mvSubs, mvStr,
		func(e *MultiValue) *bool { return &e.Primary },
		func(e *MultiValue) complexElem { return complexElem{mv: e} },
		func(d *decoder) ([]MultiValue, error) { return d.multiValues(name) })
	m.notPrimary = func(e *MultiValue) *bool { return &e.NotPrimary }
	m.key = func(e *MultiValue) string {
		v := e.Value
		if !m.exact[0] {
			v = foldString(v)
		}
		return foldString(e.Type) + "\x00" + v
	}
	return m
}

// userMultiAttrs are the multi-valued attributes of User with MultiValue
// elements, indexed by uattr.
var userMultiAttrs = func() (t [numUserAttrs]*multiAttr[MultiValue]) {
	for a := range t {
		if userAttrs[a].kind == akMultiValues {
			t[a] = newMVAttr(uattr(a))
		}
	}
	return t
}()

// userMultiValues returns the field of u that holds the attribute a, nil
// when a is not a multi-valued attribute with MultiValue elements.
func userMultiValues(u *User, a uattr) *[]MultiValue {
	if e := &userAttrs[a]; e.kind == akMultiValues {
		return e.multi(u)
	}
	return nil
}

var addressesAttr = func() *multiAttr[Address] {
	m := newMultiAttr("addresses", userField(AttrPath{Name: "addresses"}), addressSubs,
		func(e *Address, i int) *string {
			switch i {
			case 0:
				return &e.Formatted
			case 1:
				return &e.StreetAddress
			case 2:
				return &e.Locality
			case 3:
				return &e.Region
			case 4:
				return &e.PostalCode
			case 5:
				return &e.Country
			case 6:
				return &e.Type
			}
			return nil
		},
		func(e *Address) *bool { return &e.Primary },
		func(e *Address) complexElem { return complexElem{addr: e} },
		func(d *decoder) ([]Address, error) { return d.addresses() })
	m.notPrimary = func(e *Address) *bool { return &e.NotPrimary }
	m.key = func(e *Address) string {
		var b strings.Builder
		for i := range 7 {
			b.WriteString(foldString(*m.str(e, i)))
			b.WriteByte(0)
		}
		return b.String()
	}
	return m
}()

var membersAttr = func() *multiAttr[Member] {
	m := newMultiAttr("members", groupField(AttrPath{Name: "members"}), refSubs,
		func(e *Member, i int) *string {
			switch i {
			case 0:
				return &e.Value
			case 1:
				return &e.Ref
			case 2:
				return &e.Display
			case 3:
				return &e.Type
			}
			return nil
		},
		nil,
		func(e *Member) complexElem { return complexElem{mem: e} },
		func(d *decoder) ([]Member, error) { return d.members() })
	// A member is its value, compared as members.value is (caseExact
	// false), as memstore does.
	m.key = func(e *Member) string { return foldString(e.Value) }
	return m
}()

// foldString maps s to a representative of its case-folding class, so that
// two strings are equal under strings.EqualFold exactly when their
// representatives are; s itself when it is already one.
func foldString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return strings.Map(foldCanon, s)
		}
	}
	return s
}

func (m *multiAttr[E]) isPrimary(e *E) bool {
	return m.primary != nil && *m.primary(e)
}

func countPrimary[E comparable](m *multiAttr[E], s []E) int {
	n := 0
	for i := range s {
		if m.isPrimary(&s[i]) {
			n++
		}
	}
	return n
}

// decodeList decodes raw as the attribute's array of values, by the body
// decoder's rules.
func (m *multiAttr[E]) decodeList(raw json.RawMessage, opt patchOptions) ([]E, error) {
	d := newDecoder(raw, opt.decode)
	vs, err := m.decode(&d)
	if err != nil {
		return nil, err
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return vs, nil
}

// decodeOne decodes raw, which must be an object, as one value.
func (m *multiAttr[E]) decodeOne(raw json.RawMessage, opt patchOptions) (E, error) {
	var e E
	if !isObject(raw) {
		r := newReader(raw, 1)
		k, _ := r.peek()
		return e, errorf(400, InvalidValue, `attribute "`+m.name+`": a value filter without a sub-attribute takes one value, an object; found `+k.phrase())
	}
	vs, err := m.decodeList(wrapJSON("[", raw, "]"), opt)
	if err != nil || len(vs) == 0 {
		return e, err
	}
	return vs[0], nil
}

// decodeSub decodes raw as sub-attribute i of a value, returned in an
// otherwise empty value.
func (m *multiAttr[E]) decodeSub(raw json.RawMessage, i int, opt patchOptions) (E, error) {
	var e E
	if m.str(&e, i) == nil && m.primary != nil {
		// primary alone: a value of only "primary": false is dropped by
		// the list decoder, but here the false is the point.
		d := newDecoder(raw, opt.decode)
		v, present, err := d.boolean(m.name, "primary")
		if err == nil {
			err = d.finish()
		}
		*m.primary(&e), *m.notPrimary(&e) = v, present && !v
		return e, err
	}
	vs, err := m.decodeList(wrapJSON(`[{"`+m.subs[i]+`":`, raw, "}]"), opt)
	if err != nil || len(vs) == 0 {
		return e, err
	}
	return vs[0], nil
}

func wrapJSON(before string, raw json.RawMessage, after string) json.RawMessage {
	b := make([]byte, 0, len(before)+len(raw)+len(after))
	b = append(b, before...)
	b = append(b, raw...)
	return append(b, after...)
}

// setSub sets sub-attribute i of dst to src's.
func (m *multiAttr[E]) setSub(dst *E, i int, src *E) {
	if p := m.str(dst, i); p != nil {
		*p = *m.str(src, i)
		return
	}
	if m.primary != nil {
		*m.primary(dst) = *m.primary(src)
		*m.notPrimary(dst) = *m.notPrimary(src)
	}
}

// merge sets the sub-attributes src has on dst.
func (m *multiAttr[E]) merge(dst, src *E) {
	for i := range m.subs {
		if p := m.str(src, i); p != nil {
			if *p != "" {
				*m.str(dst, i) = *p
			}
		} else if m.isPrimary(src) {
			*m.primary(dst), *m.notPrimary(dst) = true, false
		} else if m.primary != nil && *m.notPrimary(src) {
			*m.primary(dst), *m.notPrimary(dst) = false, true
		}
	}
}

// equalSub compares sub-attribute i as the schema says (caseExact or not).
func (m *multiAttr[E]) equalSub(i int, a, b string) bool {
	if m.exact[i] {
		return a == b
	}
	return strings.EqualFold(a, b)
}

// covers reports whether every sub-attribute v sets is set to the same on
// e: v names e in a remove's value list.
func (m *multiAttr[E]) covers(v, e *E) bool {
	for i := range m.subs {
		if p := m.str(v, i); p != nil {
			if *p != "" && !m.equalSub(i, *p, *m.str(e, i)) {
				return false
			}
		} else if m.isPrimary(v) && !m.isPrimary(e) {
			return false
		}
	}
	return true
}

// fromFilter sets on e the sub-attributes f fixes by equality
// (`type eq "work" and primary eq true`), only those e leaves unset when
// onlyUnset. It reports whether f is such a conjunction of equalities.
func (m *multiAttr[E]) fromFilter(f Filter, e *E, onlyUnset bool, opt patchOptions) bool {
	switch f := f.(type) {
	case nil:
		return true
	case *LogicalExpr:
		return f != nil && f.Op == OpAnd && m.fromFilter(f.Left, e, onlyUnset, opt) && m.fromFilter(f.Right, e, onlyUnset, opt)
	case *AttrExpr:
		if f == nil || f.Op != OpEq || f.Path.URN != "" || f.Path.Sub != "" {
			return false
		}
		i := indexFold(m.subs, f.Path.Name)
		if i < 0 {
			return false
		}
		if p := m.str(e, i); p != nil {
			if f.Value.Kind != KindString && f.Value.Kind != KindNumber {
				return false
			}
			if !onlyUnset || *p == "" {
				*p = f.Value.Text
			}
			return true
		}
		if m.primary == nil {
			return false
		}
		var b bool
		switch f.Value.Kind {
		case KindBool:
			b = f.Value.Text == "true"
		case KindString:
			// roles[primary eq "True"] (docs/clients.md#patch-bodies): a string
			// boolean, by rule string-booleans.
			v, ok := stringBool([]byte(f.Value.Text))
			if !ok || opt.strict() {
				return false
			}
			b = v
		default:
			return false
		}
		if !onlyUnset || !(*m.primary(e) || *m.notPrimary(e)) {
			*m.primary(e), *m.notPrimary(e) = b, !b
		}
		return true
	}
	return false
}

// checkElemFilter checks that a value filter on attr names only its
// sub-attributes.
func checkElemFilter(f Filter, attr string, subs []string) error {
	switch f := f.(type) {
	case *AttrExpr:
		if f == nil {
			return nil
		}
		if f.Path.URN != "" || f.Path.Sub != "" || indexFold(subs, f.Path.Name) < 0 {
			return errorf(400, InvalidPath, `the filter on "`+attr+`" names "`+pathKey(f.Path)+attrSubSuffix(f.Path)+`", which is not one of its sub-attributes`)
		}
	case *LogicalExpr:
		if f == nil {
			return nil
		}
		if err := checkElemFilter(f.Left, attr, subs); err != nil {
			return err
		}
		return checkElemFilter(f.Right, attr, subs)
	case *NotExpr:
		if f == nil {
			return nil
		}
		return checkElemFilter(f.Filter, attr, subs)
	case *ValuePathExpr:
		if f != nil {
			return errorf(400, InvalidPath, `the filter on "`+attr+`" nests a value filter`)
		}
	}
	return nil
}

func attrSubSuffix(p AttrPath) string {
	if p.Sub == "" {
		return ""
	}
	return "." + p.Sub
}

// patchMulti applies an operation to the multi-valued attribute m held in
// *s. With neither filter nor sub it targets the attribute; otherwise the
// values f selects (every value when f is nil) and, when sub is set, that
// sub-attribute of them.
func patchMulti[E comparable](m *multiAttr[E], s *[]E, kind patchKind, f Filter, sub string, raw json.RawMessage, opt patchOptions) error {
	if f == nil && sub == "" {
		return patchMultiWhole(m, s, kind, raw, opt)
	}
	si := -1
	if sub != "" {
		if si = indexFold(m.subs, sub); si < 0 {
			return errorf(400, InvalidPath, `attribute "`+m.name+`" has no sub-attribute "`+sub+`"`)
		}
	}
	if err := checkElemFilter(f, m.name, m.subs); err != nil {
		return err
	}
	if m.immutable && (kind != patchRemove || si >= 0) {
		return errorf(400, Mutability, `the values of "`+m.name+`" are immutable: remove a value and add it again instead of changing it`)
	}
	if kind == patchRemove {
		if err := removeValue(raw, opt); err != nil {
			return err
		}
	}
	var matches []int
	for i := range *s {
		if matchElem(f, m.fd, m.elem(&(*s)[i])) {
			matches = append(matches, i)
		}
	}
	var zero E
	switch {
	case kind == patchAdd && jsonEmpty(raw):
		return nil
	case (kind == patchRemove || jsonEmpty(raw)) && si < 0:
		// A remove, or a replace with nothing.
		removeAt(s, matches)
		return nil
	case kind == patchRemove || jsonEmpty(raw):
		for _, i := range matches {
			m.setSub(&(*s)[i], si, &zero)
		}
		dropEmpty(s)
		return nil
	}
	var v E
	var err error
	if si >= 0 {
		v, err = m.decodeSub(raw, si, opt)
	} else {
		v, err = m.decodeOne(raw, opt)
	}
	if err != nil {
		return err
	}
	if len(matches) == 0 {
		if v == zero {
			return nil // nothing to set, so nothing to create
		}
		if opt.strict() {
			return errorf(400, NoTarget, `the filter selects no value of "`+m.name+`" (strict mode turns off the compatibility rule `+ruleValuePathCreates+`)`)
		}
		var e E
		if !m.fromFilter(f, &e, false, opt) || !matchElem(f, m.fd, m.elem(&e)) {
			return errorf(400, NoTarget, `the filter selects no value of "`+m.name+`", and it does not describe one to create (only equalities joined by "and" do)`)
		}
		*s = append(*s, e)
		matches = []int{len(*s) - 1}
	}
	for _, i := range matches {
		e := &(*s)[i]
		switch {
		case si >= 0:
			m.setSub(e, si, &v)
		case kind == patchAdd:
			m.merge(e, &v)
		default:
			*e = v
			m.fromFilter(f, e, true, opt)
		}
	}
	if err := m.onePrimary(*s, matches); err != nil {
		return err
	}
	dropEmpty(s)
	return nil
}

// patchMultiWhole applies an operation to the attribute m as a whole.
func patchMultiWhole[E comparable](m *multiAttr[E], s *[]E, kind patchKind, raw json.RawMessage, opt patchOptions) error {
	switch kind {
	case patchRemove:
		if !hasValue(raw) {
			*s = nil
			return nil
		}
		// Entra ID removes members with {"op":"Remove","path":"members",
		// "value":[{"value":"<id>"}]}: by RFC 7644 it would remove every
		// member, which must never happen (rule remove-members-by-value).
		if opt.strict() {
			return errorf(400, InvalidSyntax, `remove takes no "value"; to remove some values of "`+m.name+`", filter them in the path, as in "`+m.name+`[value eq \"...\"]" (strict mode turns off the compatibility rule `+ruleRemoveByValue+`)`)
		}
		vs, err := m.decodeList(raw, opt)
		if err != nil {
			return err
		}
		m.removeListed(s, vs)
		return nil
	case patchReplace:
		vs, err := m.decodeList(raw, opt)
		if err != nil {
			return err
		}
		*s = vs
		return nil
	}
	vs, err := m.decodeList(raw, opt)
	if err != nil || len(vs) == 0 {
		return err
	}
	return m.add(s, vs)
}

// add adds the values vs, merging each into a value with the same key.
func (m *multiAttr[E]) add(s *[]E, vs []E) error {
	var index map[string]int
	if len(*s) > 8 {
		index = make(map[string]int, len(*s)+len(vs))
		for i := range *s {
			if k := m.key(&(*s)[i]); index[k] == 0 {
				index[k] = i + 1
			}
		}
	}
	find := func(v *E) int {
		k := m.key(v)
		if index != nil {
			return index[k] - 1
		}
		for i := range *s {
			if m.key(&(*s)[i]) == k {
				return i
			}
		}
		return -1
	}
	touched := make([]int, 0, len(vs))
	for i := range vs {
		v := &vs[i]
		if j := find(v); j >= 0 {
			// A value already there: RFC 7644 §3.5.2.1 makes that no
			// change, except for the sub-attributes the add sets anew;
			// immutable ones stay as they are.
			if !m.immutable {
				m.merge(&(*s)[j], v)
				touched = append(touched, j)
			}
			continue
		}
		*s = append(*s, *v)
		touched = append(touched, len(*s)-1)
		if index != nil {
			index[m.key(v)] = len(*s)
		}
	}
	return m.onePrimary(*s, touched)
}

// removeListed removes the values that a value of vs covers; members by
// their value alone.
func (m *multiAttr[E]) removeListed(s *[]E, vs []E) {
	if len(vs) == 0 || len(*s) == 0 {
		return
	}
	// A member is its value, whatever else the list says of it ($ref,
	// display); other values listed by value alone are found the same way,
	// in one pass with a set.
	byValue := indexFold(m.subs, "value") == 0
	for i := 0; byValue && !m.immutable && i < len(vs); i++ {
		var only E
		*m.str(&only, 0) = *m.str(&vs[i], 0)
		byValue = vs[i] == only
	}
	keep := (*s)[:0]
	if byValue {
		set := make(map[string]bool, len(vs))
		for i := range vs {
			set[m.valueKey(*m.str(&vs[i], 0))] = true
		}
		for _, e := range *s {
			if !set[m.valueKey(*m.str(&e, 0))] {
				keep = append(keep, e)
			}
		}
	} else {
	next:
		for _, e := range *s {
			for i := range vs {
				if m.covers(&vs[i], &e) {
					continue next
				}
			}
			keep = append(keep, e)
		}
	}
	clear((*s)[len(keep):])
	*s = keep
	if len(*s) == 0 {
		*s = nil
	}
}

func (m *multiAttr[E]) valueKey(v string) string {
	if m.exact[0] {
		return v
	}
	return foldString(v)
}

// onePrimary keeps RFC 7643 §2.4's rule after an operation that wrote the
// values at touched: when one of them is primary, the others are not; two
// of them primary is an error.
func (m *multiAttr[E]) onePrimary(s []E, touched []int) error {
	if m.primary == nil {
		return nil
	}
	winner := -1
	for _, i := range touched {
		if m.isPrimary(&s[i]) && i != winner {
			if winner >= 0 {
				return tooManyPrimary(m.name)
			}
			winner = i
		}
	}
	if winner < 0 {
		return nil
	}
	for i := range s {
		if i != winner {
			*m.primary(&s[i]) = false
		}
	}
	return nil
}

// removeAt removes the elements at the increasing indices at.
func removeAt[E any](s *[]E, at []int) {
	if len(at) == 0 {
		return
	}
	keep, j := (*s)[:0], 0
	for i, e := range *s {
		if j < len(at) && at[j] == i {
			j++
			continue
		}
		keep = append(keep, e)
	}
	clear((*s)[len(keep):])
	*s = keep
	if len(*s) == 0 {
		*s = nil
	}
}

// dropEmpty removes values without any sub-attribute.
func dropEmpty[E comparable](s *[]E) {
	var zero E
	var at []int
	for i, e := range *s {
		if e == zero {
			at = append(at, i)
		}
	}
	removeAt(s, at)
}

// pathKey is the top-level key an attribute path names: "urn:...:name" or
// "name".
func pathKey(p AttrPath) string {
	if p.URN == "" {
		return p.Name
	}
	return p.URN + ":" + p.Name
}
