package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/scimhost/scim"
)

var _ scim.ExtensionDeclarer = (*Store)(nil)

// declaredExtensions are the extensions DeclareExtensions was told of that
// declare a unique attribute, by resource type.
type declaredExtensions struct {
	user, group []scim.Extension
}

// DeclareExtensions implements [scim.ExtensionDeclarer] for every Store of
// the DB (a Store made per request enforces what the handler's was told):
// a create, replace or update of a user (group) whose values of unique
// extension attributes another user (group) of the tenant holds fails with
// a *scim.ConflictError naming the attribute. The check runs in the
// write's transaction, after its own write: on PostgreSQL under a
// transaction-scoped advisory lock per tenant, resource type and attribute
// (so two concurrent writes of one value cannot both pass; every
// transaction takes its row locks before these, and these in one order),
// on SQLite inside the write transaction, which is the only one. The
// values live in the document column, which no index serves: a write that
// carries unique values reads the extension's object of every other
// resource of the tenant that carries it (under the declared URN, where
// the handler and scim.Extension.Set keep it), and
// [scim.Extension.UniqueValues] compares them. Writes without such values
// cost nothing more.
func (s *Store) DeclareExtensions(exts []scim.Extension) error {
	d := &declaredExtensions{}
	for _, e := range exts {
		if !declaresUnique(e) {
			continue
		}
		if e.Resource == "Group" {
			d.group = append(d.group, e)
		} else {
			d.user = append(d.user, e)
		}
	}
	if s.db.declared == nil {
		return errors.New("sqlstore: DeclareExtensions: the DB was not made by Open")
	}
	s.db.declared.Store(d)
	return nil
}

// declaresUnique reports whether e has an attribute or sub-attribute
// whose uniqueness is server or global.
func declaresUnique(e scim.Extension) bool {
	unique := func(a scim.Attribute) bool {
		return a.Uniqueness == scim.UniquenessServer || a.Uniqueness == scim.UniquenessGlobal
	}
	for _, a := range e.Attributes {
		if unique(a) || slices.ContainsFunc(a.SubAttributes, unique) {
			return true
		}
	}
	return false
}

func (db *DB) declaredExtensions() *declaredExtensions {
	if db.declared == nil {
		return nil
	}
	return db.declared.Load()
}

// checkUserUnique and checkGroupUnique run checkUnique for a user or group
// just written with the id and Extra given.
// declaresUserUnique reports whether a user extension with unique
// attributes was declared, which checkUserUnique then checks.
func (db *DB) declaresUserUnique() bool {
	d := db.declaredExtensions()
	return d != nil && len(d.user) > 0
}

// declaresGroupUnique is declaresUserUnique for groups.
func (db *DB) declaresGroupUnique() bool {
	d := db.declaredExtensions()
	return d != nil && len(d.group) > 0
}

func (s *Store) checkUserUnique(ctx context.Context, q querier, tenant, id string, extra map[string]json.RawMessage) error {
	if d := s.db.declaredExtensions(); d != nil && len(d.user) > 0 {
		return s.checkUnique(ctx, q, "scim_users", "User", d.user, tenant, id, extra)
	}
	return nil
}

func (s *Store) checkGroupUnique(ctx context.Context, q querier, tenant, id string, extra map[string]json.RawMessage) error {
	if d := s.db.declaredExtensions(); d != nil && len(d.group) > 0 {
		return s.checkUnique(ctx, q, "scim_groups", "Group", d.group, tenant, id, extra)
	}
	return nil
}

// checkUnique returns a *scim.ConflictError when another row of table in
// tenant holds one of the unique values in extra, the Extra of resource id
// just written in the transaction q.
func (s *Store) checkUnique(ctx context.Context, q querier, table, resource string, exts []scim.Extension, tenant, id string, extra map[string]json.RawMessage) error {
	var mine []scim.UniqueValue
	var urns []string
	for _, e := range exts {
		if vs := e.UniqueValues(extra); len(vs) > 0 {
			mine = append(mine, vs...)
			urns = append(urns, e.Schema)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	if s.db.dialect == PostgreSQL {
		attrs := make([]string, 0, len(mine))
		for _, v := range mine {
			attrs = append(attrs, v.Attribute)
		}
		slices.Sort(attrs)
		for _, a := range slices.Compact(attrs) {
			// NUL cannot be in a PostgreSQL text; a collision of keys
			// only makes two writes wait for each other.
			key := "scim unique\n" + tenant + "\n" + resource + "\n" + a
			if _, err := s.db.exec(ctx, q, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", key); err != nil {
				return err
			}
		}
	}
	// The objects of those extensions in the other rows that carry one:
	// the handler keeps each under its declared URN.
	var cols, has []string
	var colArgs, hasArgs []any
	for _, urn := range urns {
		col, arg := "t.doc->'extra'->>CAST(? AS text)", any(urn)
		if s.db.dialect == SQLite {
			col, arg = "json_extract(t.doc, ?)", `$.extra."`+urn+`"`
		}
		cols, has = append(cols, col), append(has, col+" IS NOT NULL")
		colArgs, hasArgs = append(colArgs, arg), append(hasArgs, arg)
	}
	rows, err := s.db.query(ctx, q, "SELECT "+strings.Join(cols, ", ")+" FROM "+table+" t WHERE t.tenant = ? AND t.id <> ? AND ("+strings.Join(has, " OR ")+")",
		slices.Concat(colArgs, []any{tenant, id}, hasArgs)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	objs := make([]sql.NullString, len(urns))
	dest := make([]any, len(urns))
	for i := range objs {
		dest[i] = &objs[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		other := make(map[string]json.RawMessage, len(urns))
		for i, o := range objs {
			if o.Valid {
				other[urns[i]] = json.RawMessage(o.String)
			}
		}
		for _, e := range exts {
			for _, v := range e.UniqueValues(other) {
				if slices.Contains(mine, v) {
					return &scim.ConflictError{Attribute: v.Attribute}
				}
			}
		}
	}
	return s.db.mapErr(rows.Err())
}
