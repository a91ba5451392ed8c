// Package methodset says why a type does not implement an interface, for the
// messages of scim.NewHandler and package storetest: a GroupStore whose
// ListGroups has the wrong signature must be named, not silently ignored.
package methodset

import (
	"reflect"
	"strings"
)

// Mismatches returns, for each method of the interface iface that typ does
// not implement, a sentence naming it: "DeleteGroup is missing",
// "ListGroups has signature func(...) ..., want func(...) ...", or
// "PatchMembers is declared on *T, not on T". It returns nil when typ
// implements iface. iface must be an interface type.
func Mismatches(typ, iface reflect.Type) []string {
	if typ == nil || typ.Implements(iface) {
		return nil
	}
	var out []string
	for i := range iface.NumMethod() {
		want := iface.Method(i)
		m, ok := typ.MethodByName(want.Name)
		if !ok {
			if typ.Kind() != reflect.Pointer && typ.Kind() != reflect.Interface {
				if pm, ok := reflect.PointerTo(typ).MethodByName(want.Name); ok && sameSignature(pm, want.Type, true) {
					out = append(out, want.Name+" is declared on *"+typ.String()+", not on "+typ.String()+": pass a pointer")
					continue
				}
			}
			out = append(out, want.Name+" is missing")
			continue
		}
		if !sameSignature(m, want.Type, typ.Kind() != reflect.Interface) {
			out = append(out, want.Name+" has signature "+signature(m.Type, typ.Kind() != reflect.Interface)+", want "+signature(want.Type, false))
		}
	}
	return out
}

// Partial reports whether typ has at least one method of iface by name:
// a type with none was never meant to implement it, one with some was.
func Partial(typ, iface reflect.Type) bool {
	if typ == nil {
		return false
	}
	for i := range iface.NumMethod() {
		if _, ok := typ.MethodByName(iface.Method(i).Name); ok {
			return true
		}
		if typ.Kind() != reflect.Pointer && typ.Kind() != reflect.Interface {
			if _, ok := reflect.PointerTo(typ).MethodByName(iface.Method(i).Name); ok {
				return true
			}
		}
	}
	return false
}

// sameSignature compares method m of a concrete type (whose Type has the
// receiver first when recv) with the interface method type want.
func sameSignature(m reflect.Method, want reflect.Type, recv bool) bool {
	t := m.Type
	skip := 0
	if recv {
		skip = 1
	}
	if t.NumIn()-skip != want.NumIn() || t.NumOut() != want.NumOut() || t.IsVariadic() != want.IsVariadic() {
		return false
	}
	for i := range want.NumIn() {
		if t.In(i+skip) != want.In(i) {
			return false
		}
	}
	for i := range want.NumOut() {
		if t.Out(i) != want.Out(i) {
			return false
		}
	}
	return true
}

// signature writes a method type as Go source spells a func type, without
// the receiver when recv.
func signature(t reflect.Type, recv bool) string {
	var b strings.Builder
	b.WriteString("func(")
	skip := 0
	if recv {
		skip = 1
	}
	for i := skip; i < t.NumIn(); i++ {
		if i > skip {
			b.WriteString(", ")
		}
		if t.IsVariadic() && i == t.NumIn()-1 {
			b.WriteString("..." + t.In(i).Elem().String())
		} else {
			b.WriteString(t.In(i).String())
		}
	}
	b.WriteString(")")
	switch t.NumOut() {
	case 0:
	case 1:
		b.WriteString(" " + t.Out(0).String())
	default:
		b.WriteString(" (")
		for i := range t.NumOut() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(t.Out(i).String())
		}
		b.WriteString(")")
	}
	return b.String()
}
