package scim

import (
	"bytes"
	"encoding/json"
	"slices"
)

// diffUsers compares two users attribute by attribute, from the attribute
// table, as their representations would compare: a PATCH that changes
// nothing is told from one that does, and an update's event names what it
// changed, without encoding either user. Attributes of one kind share one
// comparison, so an attribute added to the table is compared without a
// line here; the Enterprise extension compares as one attribute named by
// its URN, as its object is one member of the representation, and each key
// of Extra (declared extensions included) is an attribute of its own, but
// for a key that names an attribute of the model, which the encoder never
// writes from Extra.
// Absent and empty compare equal where the encoder writes neither (a nil
// and an empty slice, a nil and an empty Enterprise or manager); values
// compare field by field otherwise, Extra's raw JSON byte for byte, so that
// no change the encoding shows is missed. Attributes the encoding never
// shows are compared too: the password, and extension attributes declared
// returned "never".
//
// It reports whether they differ. With names nil it stops at the first
// difference; otherwise it appends to *names the attribute names that
// differ, in the table's order and then Extra's, password excepted: an
// event names the password only when one was set (see userEvents). schemas
// and meta are never compared: schemas follows from the attributes, meta
// is the store's.
func diffUsers(a, b *User, names *[]string) (differ bool) {
	for i := uattr(1); i < numUserAttrs; i++ {
		e := &userAttrs[i]
		var same bool
		switch e.kind {
		case akString:
			same = *e.str(a) == *e.str(b)
		case akBool:
			same = *e.boolean(a) == *e.boolean(b)
		case akName:
			same = a.Name == b.Name
		case akMultiValues:
			same = slices.Equal(*e.multi(a), *e.multi(b))
		case akAddresses:
			same = slices.Equal(a.Addresses, b.Addresses)
		case akGroupRefs:
			same = slices.Equal(a.Groups, b.Groups)
		case akEnterprise:
			same = sameEnterprise(a.Enterprise, b.Enterprise)
		default:
			// schemas and meta, as above; the Enterprise extension's own
			// attributes, compared with its object.
			continue
		}
		if !same {
			differ = true
			if noteDiff(names, e.name, e.def == nil || e.def.returned != returnedNever) {
				return true
			}
		}
	}
	return diffExtra(a.Extra, b.Extra, names, isUserAttr) || differ
}

// isUserAttr and isGroupAttr report whether an Extra key names an
// attribute of the model, which the encoder writes from the typed field and
// never from Extra (see collectExtra), so that a key such as "nAme", which a
// PATCH of the flat key "nAme:x" stores, is no change.
func isUserAttr(k string) bool  { return userAttrOf(k) != uaUnknown }
func isGroupAttr(k string) bool { return groupAttrOf(k) != gaUnknown }

// diffGroups is diffUsers for groups. Members compare in order, as the
// representation lists them.
func diffGroups(a, b *Group, names *[]string) (differ bool) {
	for i := gattr(1); i < numGroupAttrs; i++ {
		e := &groupAttrs[i]
		var same bool
		switch e.kind {
		case akString:
			same = *e.str(a) == *e.str(b)
		case akBool:
			same = *e.boolean(a) == *e.boolean(b)
		case akMembers:
			same = slices.Equal(a.Members, b.Members)
		default:
			continue
		}
		if !same {
			differ = true
			if noteDiff(names, e.name, true) {
				return true
			}
		}
	}
	return diffExtra(a.Extra, b.Extra, names, isGroupAttr) || differ
}

// diffExtra is diffUsers for the attributes in Extra: a key present in
// one map only, or whose raw values differ, differs, unless hidden reports
// that the encoder never writes it.
func diffExtra(a, b map[string]json.RawMessage, names *[]string, hidden func(string) bool) (differ bool) {
	for k, v := range b {
		if w, ok := a[k]; (!ok || !bytes.Equal(v, w)) && !hidden(k) {
			differ = true
			if noteDiff(names, k, true) {
				return true
			}
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok && !hidden(k) {
			differ = true
			if noteDiff(names, k, true) {
				return true
			}
		}
	}
	return differ
}

// noteDiff records that attribute name differs, appending it to *names
// when named, and reports whether the comparison may stop there: names is
// nil, the caller only asks whether anything differs.
func noteDiff(names *[]string, name string, named bool) (stop bool) {
	if names == nil {
		return true
	}
	if named {
		*names = append(*names, name)
	}
	return false
}

// sameEnterprise reports whether two Enterprise extensions have the same
// attributes, nil being the extension without any, as the encoder writes
// neither.
func sameEnterprise(a, b *EnterpriseUser) bool {
	var za, zb EnterpriseUser
	if a == nil {
		a = &za
	}
	if b == nil {
		b = &zb
	}
	ma, mb := a.Manager, b.Manager
	var zm Manager
	if ma == nil {
		ma = &zm
	}
	if mb == nil {
		mb = &zm
	}
	if *ma != *mb {
		return false
	}
	x, y := *a, *b
	x.Manager, y.Manager = nil, nil
	return x == y
}

// unchangedBy reports whether a PATCH left v as it was: its attributes
// and a user's password.
func unchangedBy[T interface{ *User | *Group }](old, v T) bool {
	switch x := any(v).(type) {
	case *User:
		return !diffUsers(any(old).(*User), x, nil)
	case *Group:
		return !diffGroups(any(old).(*Group), x, nil)
	}
	return false
}
