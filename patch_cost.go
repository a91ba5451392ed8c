package scim

import (
	"bytes"
	"fmt"
	"net/http"
)

// patchCost estimates the work of applying ops to v, what
// Options.MaxPatchCost bounds: each operation costs 1, plus the values v
// holds in the multi-valued attribute it targets (every multi-valued
// attribute for an operation without path), plus the values earlier
// operations carried to that attribute, since applying an operation scans
// them (a value filter is evaluated on each, an add looks each up). It
// returns the cost and the most values one operation was counted for.
func patchCost[T interface{ *User | *Group }](v T, ops []patchOp) (cost, widest int) {
	carried := map[string]int{} // attribute (lower case) → values carried to it so far
	for i := range ops {
		o := &ops[i]
		key, n := "", 0
		if o.hasPath {
			key = string(bytes.ToLower([]byte(pathKey(AttrPath{URN: o.path.Attr.URN, Name: o.path.Attr.Name}))))
			n = heldValues(v, o.path.Attr) + carried[key] + carried[""]
		} else {
			n = heldValues(v, AttrPath{}) + carried[""]
			for k, c := range carried {
				if k != "" {
					n += c
				}
			}
		}
		cost += 1 + n
		widest = max(widest, n)
		carried[key] += valuesIn(o.value)
	}
	return cost, widest
}

// heldValues returns how many values v holds in the multi-valued attribute
// a; every multi-valued attribute's when a is zero; 0 for a single-valued
// one.
func heldValues[T interface{ *User | *Group }](v T, a AttrPath) int {
	switch x := any(v).(type) {
	case *Group:
		if a.Name == "" || groupAttrOf([]byte(pathKey(a))) == gaMembers {
			return len(x.Members)
		}
	case *User:
		if a.Name == "" {
			n := len(x.Addresses)
			for ua := range userMultiAttrs {
				if s := userMultiValues(x, uattr(ua)); s != nil {
					n += len(*s)
				}
			}
			return n
		}
		ua := userAttrOf([]byte(pathKey(AttrPath{URN: a.URN, Name: a.Name})))
		if userAttrs[ua].kind == akAddresses {
			return len(x.Addresses)
		}
		if s := userMultiValues(x, ua); s != nil {
			return len(*s)
		}
	}
	return 0
}

// valuesIn is an upper bound of the values a PATCH value carries: its
// objects, or 1.
func valuesIn(raw []byte) int {
	return max(1, bytes.Count(raw, []byte{'{'}))
}

// checkPatchCost refuses applying ops to v when their cost passes limit (0
// for the default).
func checkPatchCost[T interface{ *User | *Group }](v T, ops []patchOp, limit int) error {
	if limit <= 0 {
		limit = DefaultMaxPatchCost
	}
	cost, widest := patchCost(v, ops)
	if cost <= limit {
		return nil
	}
	return errorf(http.StatusRequestEntityTooLarge, "", fmt.Sprintf(
		"the PATCH would cost %d (%d operations, one of them on %d values), more than this server's limit of %d: each operation costs 1 plus the values of the attribute it changes; send fewer operations per request",
		cost, len(ops), widest, limit))
}
