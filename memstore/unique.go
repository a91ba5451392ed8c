package memstore

import (
	"encoding/json"

	"github.com/scimhost/scim"
)

var _ scim.ExtensionDeclarer = (*Store)(nil)

// declared are the extensions the handler declared, by resource type.
type declared struct {
	user, group []scim.Extension
}

// DeclareExtensions implements [scim.ExtensionDeclarer]: from then on, a
// write that would give a user (or group) a value of a unique extension
// attribute that another user (group) of the tenant holds is a
// *scim.ConflictError naming the attribute, checked under the tenant's
// lock like userName. The values already stored are indexed then; where
// they already repeat, the first created keeps the value and the others
// conflict on their next write that keeps it.
func (s *Store) DeclareExtensions(exts []scim.Extension) error {
	d := &declared{}
	for _, e := range exts {
		if e.Resource == "Group" {
			d.group = append(d.group, e)
		} else {
			d.user = append(d.user, e)
		}
	}
	s.declared.Store(d)
	var ts []*tenant
	s.tenants.Range(func(_, t any) bool {
		ts = append(ts, t.(*tenant))
		return true
	})
	for _, t := range ts {
		t.mu.Lock()
		clear(t.userUnique)
		for _, rec := range t.userList {
			if !rec.dead {
				rec.unique = uniqueValues(d.user, rec.u.Extra)
				t.userUnique.add(rec.unique, rec.u.ID)
			}
		}
		clear(t.groupUnique)
		for _, rec := range t.groupList {
			if !rec.dead {
				rec.unique = uniqueValues(d.group, rec.g.Extra)
				t.groupUnique.add(rec.unique, rec.g.ID)
			}
		}
		t.mu.Unlock()
	}
	return nil
}

// userUniqueValues and groupUniqueValues are the unique values of a
// resource about to be stored.
func (s *Store) userUniqueValues(u *scim.User) []scim.UniqueValue {
	if d := s.declared.Load(); d != nil {
		return uniqueValues(d.user, u.Extra)
	}
	return nil
}

func (s *Store) groupUniqueValues(g *scim.Group) []scim.UniqueValue {
	if d := s.declared.Load(); d != nil {
		return uniqueValues(d.group, g.Extra)
	}
	return nil
}

func uniqueValues(exts []scim.Extension, extra map[string]json.RawMessage) []scim.UniqueValue {
	var vs []scim.UniqueValue
	for _, e := range exts {
		vs = append(vs, e.UniqueValues(extra)...)
	}
	return vs
}

// uniqueIndex maps each unique value of a tenant's users (or groups) to
// the id that holds it.
type uniqueIndex map[scim.UniqueValue]string

// check returns a *scim.ConflictError when another resource than self
// holds one of vs.
func (x uniqueIndex) check(vs []scim.UniqueValue, self string) error {
	for _, v := range vs {
		if id, taken := x[v]; taken && id != self {
			return &scim.ConflictError{Attribute: v.Attribute}
		}
	}
	return nil
}

func (x uniqueIndex) add(vs []scim.UniqueValue, id string) {
	for _, v := range vs {
		if _, taken := x[v]; !taken {
			x[v] = id
		}
	}
}

func (x uniqueIndex) remove(vs []scim.UniqueValue, id string) {
	for _, v := range vs {
		if x[v] == id {
			delete(x, v)
		}
	}
}
