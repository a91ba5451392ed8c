package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimhost/scim"
)

// This file translates a filter AST and a sort into SQL. Every value is a
// bound parameter; only column names, operators and the LIKE/GLOB pattern
// syntax come from this file. A filter part it cannot translate exactly is
// scim.ErrUnsupported: the handler answers 400 rather than risk a wrong
// result.
//
// Absent attributes are empty strings in the model, so they are '' in the
// columns (never NULL): a comparison with an absent value is false, `pr`
// is `<> ''`, and NOT never meets SQL's three-valued logic.

// kind is how a column compares.
type kind uint8

const (
	kindFold  kind = iota + 1 // case-insensitive string; the column holds fold(value)
	kindExact                 // case-exact string
	kindID                    // case-exact string that every resource has
	kindBool
	kindTime
	// kindDoc is a singular string kept in the doc column, where an absent
	// value has no key: it answers pr alone, which needs no case folding.
	// col is the dotted path of its key in the document.
	kindDoc
)

// field is a filterable attribute: a column, possibly of a child table
// reached through EXISTS.
type field struct {
	kind kind
	col  string
	// child, when set, names the child table of a multi-valued attribute;
	// the comparison happens inside EXISTS over its rows.
	child *childTable
	// whole is set when the path names a complex attribute without a
	// sub-attribute (`emails`, `manager`): comparisons apply to its value,
	// but `pr` would ask whether any sub-attribute is set, which the
	// columns cannot tell.
	whole bool
}

// childTable is the rows of a multi-valued attribute of one resource.
type childTable struct {
	// exists opens the EXISTS subquery up to the point where a condition
	// on the child's columns follows.
	exists string
	// sub resolves a sub-attribute name (lower case) inside a value path
	// filter or after a dot.
	sub map[string]field
}

var emailsTable = &childTable{
	exists: "EXISTS (SELECT 1 FROM scim_user_emails e WHERE e.tenant = u.tenant AND e.user_id = u.id AND ",
	sub: map[string]field{
		"value": {kind: kindFold, col: "e.value_fold"},
		"type":  {kind: kindFold, col: "e.type_fold"},
	},
}

var membersTable = &childTable{
	exists: "EXISTS (SELECT 1 FROM scim_group_members m WHERE m.tenant = g.tenant AND m.group_id = g.id AND ",
	sub: map[string]field{
		"value": {kind: kindFold, col: "m.member_fold"},
	},
}

// table describes a resource table for the translator.
type table struct {
	from  string // "scim_users u"
	alias string // "u"
	// resolve finds the field of an attribute path, or reports false.
	resolve func(p scim.AttrPath) (field, bool)
	// sort finds the ORDER BY expression of an attribute path ("" when
	// unsupported); {dir} stands for ASC or DESC.
	sort func(p scim.AttrPath) string
}

func isURN(urn, want string) bool { return urn == "" || strings.EqualFold(urn, want) }

// metaField resolves meta.created and meta.lastModified.
func metaField(alias string, p scim.AttrPath) (field, bool) {
	if !strings.EqualFold(p.Name, "meta") {
		return field{}, false
	}
	switch strings.ToLower(p.Sub) {
	case "created":
		return field{kind: kindTime, col: alias + ".created"}, true
	case "lastmodified":
		return field{kind: kindTime, col: alias + ".last_modified"}, true
	}
	return field{}, false
}

// childField resolves a multi-valued attribute with an optional
// sub-attribute; the attribute alone means its "value".
func childField(c *childTable, sub string) (field, bool) {
	whole := sub == ""
	if whole {
		sub = "value"
	}
	f, ok := c.sub[strings.ToLower(sub)]
	if !ok {
		return field{}, false
	}
	f.child = c
	f.whole = whole
	return f, true
}

// docStrings are the singular string attributes of a user kept in the doc
// column, by lower-case name, with their keys there (see userDoc).
var docStrings = map[string]string{
	"displayname": "displayName", "nickname": "nickName", "profileurl": "profileUrl",
	"title": "title", "usertype": "userType", "preferredlanguage": "preferredLanguage",
	"locale": "locale", "timezone": "timezone",
}

var docNameStrings = map[string]string{
	"formatted": "formatted", "familyname": "familyName", "givenname": "givenName",
	"middlename": "middleName", "honorificprefix": "honorificPrefix", "honorificsuffix": "honorificSuffix",
}

var docEnterpriseStrings = map[string]string{
	"employeenumber": "employeeNumber", "costcenter": "costCenter", "organization": "organization",
	"division": "division", "department": "department",
}

// docField resolves the user attributes of the doc column that filters
// may test with pr.
func docField(p scim.AttrPath) (field, bool) {
	name, sub := strings.ToLower(p.Name), strings.ToLower(p.Sub)
	if isURN(p.URN, scim.UserSchema) {
		if k, ok := docStrings[name]; ok && sub == "" {
			return field{kind: kindDoc, col: k}, true
		}
		if k, ok := docNameStrings[sub]; ok && name == "name" {
			return field{kind: kindDoc, col: "name." + k}, true
		}
	}
	// Unqualified names not in the core schema are the enterprise
	// extension's, as in the scim package's attribute table.
	if p.URN == "" || strings.EqualFold(p.URN, scim.EnterpriseUserSchema) {
		if k, ok := docEnterpriseStrings[name]; ok && sub == "" {
			return field{kind: kindDoc, col: "enterprise." + k}, true
		}
	}
	return field{}, false
}

var userTable = &table{
	from:  "scim_users u",
	alias: "u",
	resolve: func(p scim.AttrPath) (field, bool) {
		if isURN(p.URN, scim.EnterpriseUserSchema) && strings.EqualFold(p.Name, "manager") &&
			(p.Sub == "" || strings.EqualFold(p.Sub, "value")) {
			return field{kind: kindFold, col: "u.manager_fold", whole: p.Sub == ""}, true
		}
		if f, ok := docField(p); ok {
			return f, true
		}
		if !isURN(p.URN, scim.UserSchema) {
			return field{}, false
		}
		if f, ok := metaField("u", p); ok {
			return f, true
		}
		if strings.EqualFold(p.Name, "emails") {
			return childField(emailsTable, p.Sub)
		}
		if p.Sub != "" {
			return field{}, false
		}
		switch strings.ToLower(p.Name) {
		case "id":
			return field{kind: kindID, col: "u.id"}, true
		case "username":
			return field{kind: kindFold, col: "u.user_name_fold"}, true
		case "externalid":
			return field{kind: kindExact, col: "u.external_id"}, true
		case "active":
			return field{kind: kindBool, col: "u.active"}, true
		}
		return field{}, false
	},
	sort: func(p scim.AttrPath) string {
		if !isURN(p.URN, scim.UserSchema) {
			return ""
		}
		if strings.EqualFold(p.Name, "userName") && p.Sub == "" {
			return "u.user_name_fold {dir}"
		}
		return commonSort("u", p)
	},
}

var groupTable = &table{
	from:  "scim_groups g",
	alias: "g",
	resolve: func(p scim.AttrPath) (field, bool) {
		if !isURN(p.URN, scim.GroupSchema) {
			return field{}, false
		}
		if f, ok := metaField("g", p); ok {
			return f, true
		}
		if strings.EqualFold(p.Name, "members") {
			return childField(membersTable, p.Sub)
		}
		if p.Sub != "" {
			return field{}, false
		}
		switch strings.ToLower(p.Name) {
		case "id":
			return field{kind: kindID, col: "g.id"}, true
		case "displayname":
			return field{kind: kindFold, col: "g.display_name_fold"}, true
		case "externalid":
			return field{kind: kindExact, col: "g.external_id"}, true
		}
		return field{}, false
	},
	sort: func(p scim.AttrPath) string {
		if !isURN(p.URN, scim.GroupSchema) {
			return ""
		}
		if strings.EqualFold(p.Name, "displayName") && p.Sub == "" {
			return "g.display_name_fold {dir}"
		}
		return commonSort("g", p)
	},
}

// commonSort is the ORDER BY of the attributes users and groups share.
// Resources without an externalId sort after those with one, in either
// direction, as RFC 7644 §3.4.2.3 suggests for unassigned values.
func commonSort(alias string, p scim.AttrPath) string {
	switch {
	case strings.EqualFold(p.Name, "id") && p.Sub == "":
		return alias + ".id {dir}"
	case strings.EqualFold(p.Name, "externalId") && p.Sub == "":
		return "(" + alias + ".external_id = '') ASC, " + alias + ".external_id {dir}"
	case strings.EqualFold(p.Name, "meta") && strings.EqualFold(p.Sub, "created"):
		return alias + ".created {dir}"
	case strings.EqualFold(p.Name, "meta") && strings.EqualFold(p.Sub, "lastModified"):
		return alias + ".last_modified {dir}"
	}
	return ""
}

// unsupported is the error for a filter or sort this store cannot
// evaluate; its words, which name the part of the request, reach the
// client's 400 invalidFilter.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("sqlstore: %w", &scim.UnsupportedError{Reason: fmt.Sprintf(format, args...)})
}

// where builds a WHERE clause with ? placeholders and its arguments.
type where struct {
	db   *DB
	b    strings.Builder
	args []any
}

func (w *where) arg(v any) {
	w.args = append(w.args, v)
	w.b.WriteByte('?')
}

// filter appends the SQL of f, resolving attribute paths with resolve.
func (w *where) filter(f scim.Filter, resolve func(scim.AttrPath) (field, bool), inChild *childTable) error {
	switch f := f.(type) {
	case *scim.LogicalExpr:
		if f == nil {
			break
		}
		var op string
		switch f.Op {
		case scim.OpAnd:
			op = " AND "
		case scim.OpOr:
			op = " OR "
		default:
			return unsupported("logical operator %d", f.Op)
		}
		w.b.WriteByte('(')
		if err := w.filter(f.Left, resolve, inChild); err != nil {
			return err
		}
		w.b.WriteString(op)
		if err := w.filter(f.Right, resolve, inChild); err != nil {
			return err
		}
		w.b.WriteByte(')')
		return nil
	case *scim.NotExpr:
		if f == nil {
			break
		}
		w.b.WriteString("NOT (")
		if err := w.filter(f.Filter, resolve, inChild); err != nil {
			return err
		}
		w.b.WriteByte(')')
		return nil
	case *scim.AttrExpr:
		if f == nil {
			break
		}
		fd, ok := resolve(f.Path)
		if !ok {
			return unsupported("filter on attribute %s", pathString(f.Path))
		}
		if fd.child != nil && fd.child != inChild {
			// A comparison on a multi-valued attribute is true when any
			// of its values matches.
			w.b.WriteString(fd.child.exists)
			if err := w.compare(fd, f); err != nil {
				return err
			}
			w.b.WriteByte(')')
			return nil
		}
		return w.compare(fd, f)
	case *scim.ValuePathExpr:
		if f == nil {
			break
		}
		if inChild != nil || f.Path.Sub != "" {
			return unsupported("value path %s", pathString(f.Path))
		}
		fd, ok := resolve(f.Path)
		if !ok || fd.child == nil {
			return unsupported("value path on attribute %s", pathString(f.Path))
		}
		c := fd.child
		w.b.WriteString(c.exists)
		err := w.filter(f.Filter, func(p scim.AttrPath) (field, bool) {
			if p.URN != "" || p.Sub != "" {
				return field{}, false
			}
			sf, ok := c.sub[strings.ToLower(p.Name)]
			return sf, ok
		}, c)
		if err != nil {
			return err
		}
		w.b.WriteByte(')')
		return nil
	}
	return unsupported("filter node %T", f)
}

// compare appends one comparison of e on the column of fd.
func (w *where) compare(fd field, e *scim.AttrExpr) error {
	col := fd.col
	switch fd.kind {
	case kindFold, kindExact, kindID:
		if e.Op == scim.OpPr {
			if fd.whole {
				return unsupported("pr on the complex attribute %s", pathString(e.Path))
			}
			if fd.kind == kindID {
				w.b.WriteString("1 = 1")
			} else {
				w.b.WriteString(col + " <> ''")
			}
			return nil
		}
		if e.Value.Kind != scim.KindString {
			return unsupported("%s %s with a non-string value", pathString(e.Path), e.Op)
		}
		v := e.Value.Text
		if fd.kind == kindFold {
			v = fold(v)
		}
		if !w.db.storable(v) {
			w.b.WriteString("1 = 0") // no stored value contains it
			return nil
		}
		switch e.Op {
		case scim.OpEq:
			if v == "" {
				w.b.WriteString("1 = 0") // an absent value equals nothing
				return nil
			}
			w.b.WriteString(col + " = ")
			w.arg(v)
			return nil
		case scim.OpCo, scim.OpSw, scim.OpEw:
			if fd.kind == kindID {
				break
			}
			if v == "" {
				w.b.WriteString(col + " <> ''")
				return nil
			}
			w.match(fd, col, e.Op, v)
			return nil
		}
		return unsupported("operator %s on %s", e.Op, pathString(e.Path))
	case kindBool:
		if e.Op != scim.OpEq {
			return unsupported("operator %s on %s", e.Op, pathString(e.Path))
		}
		var b bool
		switch {
		case e.Value.Kind == scim.KindBool && e.Value.Text == "true",
			e.Value.Kind == scim.KindString && strings.EqualFold(e.Value.Text, "true"):
			b = true
		case e.Value.Kind == scim.KindBool && e.Value.Text == "false",
			e.Value.Kind == scim.KindString && strings.EqualFold(e.Value.Text, "false"):
		default:
			return unsupported("%s eq with a non-boolean value", pathString(e.Path))
		}
		w.b.WriteString(col + " = ")
		w.arg(b)
		return nil
	case kindTime:
		return w.compareTime(col, e)
	case kindDoc:
		if e.Op != scim.OpPr {
			return unsupported("operator %s on %s, which has no column", e.Op, pathString(e.Path))
		}
		// Never NULL, so that NOT stays plain negation.
		if w.db.dialect == PostgreSQL {
			w.b.WriteString("COALESCE(u.doc")
			keys := strings.Split(col, ".")
			for _, k := range keys[:len(keys)-1] {
				w.b.WriteString("->'" + k + "'")
			}
			w.b.WriteString("->>'" + keys[len(keys)-1] + "', '') <> ''")
		} else {
			w.b.WriteString("COALESCE(json_extract(u.doc, '$." + col + "'), '') <> ''")
		}
		return nil
	}
	return unsupported("filter on attribute %s", pathString(e.Path))
}

// match appends a co, sw or ew comparison of a non-empty value.
func (w *where) match(fd field, col string, op scim.Operator, v string) {
	if fd.kind == kindExact && w.db.dialect == SQLite {
		// SQLite's LIKE ignores ASCII case; GLOB does not.
		p := globEscape(v)
		switch op {
		case scim.OpCo:
			p = "*" + p + "*"
		case scim.OpSw:
			p += "*"
		case scim.OpEw:
			p = "*" + p
		}
		w.b.WriteString(col + " GLOB ")
		w.arg(p)
		return
	}
	// A fold column and its folded value have no upper-case ASCII, so
	// SQLite's case-blind LIKE is exact on them too.
	p := likeEscape(v)
	switch op {
	case scim.OpCo:
		p = "%" + p + "%"
	case scim.OpSw:
		p += "%"
	case scim.OpEw:
		p = "%" + p
	}
	w.b.WriteString(col + " LIKE ")
	w.arg(p)
	w.b.WriteString(` ESCAPE '\'`)
}

// compareTime appends gt/ge/lt/le on a timestamp column. Stored times are
// whole microseconds, so a value with a finer fraction compares as the next
// microsecond up: created > t and created >= t both become created >=
// ceil(t), and created < t and created <= t become created < ceil(t).
func (w *where) compareTime(col string, e *scim.AttrExpr) error {
	var op string
	switch e.Op {
	case scim.OpGt:
		op = " > "
	case scim.OpGe:
		op = " >= "
	case scim.OpLt:
		op = " < "
	case scim.OpLe:
		op = " <= "
	default:
		return unsupported("operator %s on %s", e.Op, pathString(e.Path))
	}
	if e.Value.Kind != scim.KindString {
		return unsupported("%s %s with a non-dateTime value", pathString(e.Path), e.Op)
	}
	t, err := time.Parse(time.RFC3339Nano, e.Value.Text)
	if err != nil {
		return &scim.Error{Status: 400, Type: scim.InvalidFilter,
			Detail: fmt.Sprintf("%s: %q is not an RFC 3339 dateTime", pathString(e.Path), e.Value.Text),
			Err:    scim.ErrUnsupported}
	}
	t = t.UTC()
	if c := t.Truncate(time.Microsecond); !c.Equal(t) {
		t = c.Add(time.Microsecond)
		switch e.Op {
		case scim.OpGt:
			op = " >= "
		case scim.OpLe:
			op = " < "
		}
	}
	w.b.WriteString(col + op)
	w.arg(w.db.timeArg(t))
	return nil
}

func pathString(p scim.AttrPath) string {
	s := p.Name
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// selection is a translated list query: the table, WHERE with its
// arguments, ORDER BY, and the page.
type selection struct {
	from   string
	where  string
	args   []any
	order  string
	offset int
	count  int
}

// selectFor translates q for table t in tenant.
func (db *DB) selectFor(t *table, tenant string, q scim.Query) (selection, error) {
	w := where{db: db}
	w.b.WriteString(t.alias + ".tenant = ")
	w.arg(tenant)
	if q.Filter != nil {
		w.b.WriteString(" AND ")
		if err := w.filter(q.Filter, t.resolve, nil); err != nil {
			return selection{}, err
		}
	}
	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	tie := t.alias + ".created ASC, " + t.alias + ".id ASC"
	order := tie
	if q.SortBy.Name != "" {
		o := t.sort(q.SortBy)
		if o == "" {
			return selection{}, unsupported("sortBy %s", pathString(q.SortBy))
		}
		order = strings.ReplaceAll(o, "{dir}", dir) + ", " + tie
	}
	return selection{
		from:   t.from,
		where:  w.b.String(),
		args:   w.args,
		order:  order,
		offset: max(q.StartIndex, 1) - 1,
		count:  max(q.Count, 0),
	}, nil
}

// list runs a selection: the page, and the total number of matches. When
// the page is not full its length gives the total, which saves the COUNT
// query in the common case (Entra ID's lookups by userName or externalId
// match zero or one resource); otherwise a COUNT(*) with the same WHERE
// follows. A single query with count(*) OVER () was measured and rejected:
// PostgreSQL then materialises every matching row, documents included,
// before applying LIMIT. On a tenant of a million users, the first page of
// an unfiltered list took 1.9-6.8 s that way, against 1.6 ms for the page
// and 0.7-1.1 s for the COUNT(*) as two queries.
func list[T any](ctx context.Context, db *DB, q querier, s selection, cols string, scan func(*sql.Rows) ([]T, error)) ([]T, int, error) {
	items := []T{}
	if s.count > 0 {
		rows, err := db.query(ctx, q, "SELECT "+cols+" FROM "+s.from+" WHERE "+s.where+" ORDER BY "+s.order+" LIMIT ? OFFSET ?",
			slices.Concat(s.args, []any{s.count, s.offset})...)
		if err != nil {
			return nil, 0, err
		}
		if items, err = scan(rows); err != nil {
			return nil, 0, err
		}
		if len(items) < s.count && (len(items) > 0 || s.offset == 0) {
			return items, s.offset + len(items), nil
		}
	}
	var total int
	if err := db.queryRow(ctx, q, "SELECT count(*) FROM "+s.from+" WHERE "+s.where, s.args, &total); err != nil {
		return nil, 0, err
	}
	return items, total, nil
}
