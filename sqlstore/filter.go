package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimhost/scim"
)

// This file translates a filter AST and a sort into SQL. Every value is a
// bound parameter; only column names, JSON keys, operators and the
// LIKE/GLOB pattern syntax come from this file. What SQL answers exactly it
// answers; for the rest it selects a superset and the evaluator
// (scim.MatchUser, scim.MatchGroup) decides, so every filter the evaluator
// answers gets the same answer here.
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
	// kindDoc is a case-insensitive singular string kept in the doc
	// column, where an absent value has no key; col is the dotted path of
	// its key in the document (see compareDoc).
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
	// indexed is set when an index serves an equality on col.
	indexed bool
	// unique is set when no two resources of a tenant share a value of
	// col (a unique index holds it), so an equality selects at most one.
	unique bool
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
		"value": {kind: kindFold, col: "e.value_fold", indexed: true},
		"type":  {kind: kindFold, col: "e.type_fold"},
	},
}

var membersTable = &childTable{
	exists: "EXISTS (SELECT 1 FROM scim_group_members m WHERE m.tenant = g.tenant AND m.group_id = g.id AND ",
	sub: map[string]field{
		"value": {kind: kindFold, col: "m.member_fold", indexed: true},
	},
}

// table describes a resource table for the translator.
type table struct {
	from  string // "scim_users u"
	alias string // "u"
	// resolve finds the field of an attribute path, or reports false.
	resolve func(p scim.AttrPath) (field, bool)
	// sort finds the ORDER BY expression of an attribute path ("" when
	// the evaluator must sort); {dir} stands for ASC or DESC.
	sort func(p scim.AttrPath) string
	// present returns a condition true of every row that has a value of
	// the top-level attribute of p (sqlTrue when it cannot tell).
	present func(db *DB, p scim.AttrPath) sqlExpr
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

// docField resolves the singular strings of a user kept in the doc column.
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

// userDocKeys are the top-level attributes of a user kept in the doc
// column, by lower-case name, with their keys there.
var userDocKeys = map[string]string{
	"name": "name", "displayname": "displayName", "nickname": "nickName", "profileurl": "profileUrl",
	"title": "title", "usertype": "userType", "preferredlanguage": "preferredLanguage", "locale": "locale",
	"timezone": "timezone", "phonenumbers": "phoneNumbers", "ims": "ims", "photos": "photos",
	"addresses": "addresses", "entitlements": "entitlements", "roles": "roles",
	"x509certificates": "x509Certificates",
}

// userColumnAttrs are the other attributes of the core User schema: they
// have columns, or are computed (groups, meta, schemas), or never stored
// (password).
var userColumnAttrs = map[string]bool{
	"id": true, "externalid": true, "username": true, "active": true, "emails": true,
	"groups": true, "meta": true, "schemas": true, "password": true,
}

// userPresent is table.present for users: the doc key of an attribute
// kept in the doc column, an email row for emails, the "extra" key for an
// attribute of no schema the model knows (which the evaluator looks up in
// User.Extra), and sqlTrue for the rest.
func userPresent(db *DB, p scim.AttrPath) sqlExpr {
	name := strings.ToLower(p.Name)
	if isURN(p.URN, scim.UserSchema) {
		if k, ok := userDocKeys[name]; ok {
			return db.docHas("u", k)
		}
		if name == "emails" {
			return db.exists(emailsTable.exists, sqlTrue)
		}
		if userColumnAttrs[name] {
			return sqlTrue
		}
	}
	if p.URN == "" || strings.EqualFold(p.URN, scim.EnterpriseUserSchema) {
		if _, ok := docEnterpriseStrings[name]; ok {
			return db.docHas("u", "enterprise."+docEnterpriseStrings[name])
		}
		if name == "manager" {
			return db.docHas("u", "enterprise.manager")
		}
	}
	return db.docHas("u", "extra")
}

// groupPresent is table.present for groups.
func groupPresent(db *DB, p scim.AttrPath) sqlExpr {
	if isURN(p.URN, scim.GroupSchema) {
		switch strings.ToLower(p.Name) {
		case "members":
			return db.exists(membersTable.exists, sqlTrue)
		case "id", "externalid", "displayname", "meta", "schemas":
			return sqlTrue
		}
	}
	return db.docHas("g", "extra")
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
			return field{kind: kindID, col: "u.id", indexed: true, unique: true}, true
		case "username":
			return field{kind: kindFold, col: "u.user_name_fold", indexed: true, unique: true}, true
		case "externalid":
			return field{kind: kindExact, col: "u.external_id", indexed: true}, true
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
	present: userPresent,
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
			return field{kind: kindID, col: "g.id", indexed: true, unique: true}, true
		case "displayname":
			return field{kind: kindFold, col: "g.display_name_fold", indexed: true, unique: true}, true
		case "externalid":
			return field{kind: kindExact, col: "g.external_id", indexed: true}, true
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
	present: groupPresent,
}

// commonSort is the ORDER BY of the attributes users and groups share.
// Resources without an externalId sort last when ascending and first when
// descending, as RFC 7644 §3.4.2.3 says of unassigned values and as
// scim.SortUsers sorts.
func commonSort(alias string, p scim.AttrPath) string {
	switch {
	case strings.EqualFold(p.Name, "id") && p.Sub == "":
		return alias + ".id {dir}"
	case strings.EqualFold(p.Name, "externalId") && p.Sub == "":
		return "(" + alias + ".external_id = '') {dir}, " + alias + ".external_id {dir}"
	case strings.EqualFold(p.Name, "meta") && strings.EqualFold(p.Sub, "created"):
		return alias + ".created {dir}"
	case strings.EqualFold(p.Name, "meta") && strings.EqualFold(p.Sub, "lastModified"):
		return alias + ".last_modified {dir}"
	}
	return ""
}

// sqlExpr is a boolean SQL expression with its ? arguments, or one of the
// constants true and false, which and, or and not simplify away.
type sqlExpr struct {
	sql  string
	args []any
	lit  int8 // +1 true, -1 false, 0 the expression sql
}

var (
	sqlTrue  = sqlExpr{lit: 1}
	sqlFalse = sqlExpr{lit: -1}
)

func expr(sql string, args ...any) sqlExpr { return sqlExpr{sql: sql, args: args} }

// text is the expression as SQL; constants become comparisons both
// databases accept.
func (e sqlExpr) text() string {
	switch e.lit {
	case 1:
		return "1 = 1"
	case -1:
		return "1 = 0"
	}
	return e.sql
}

func andExpr(a, b sqlExpr) sqlExpr {
	switch {
	case a.lit < 0 || b.lit < 0:
		return sqlFalse
	case a.lit > 0:
		return b
	case b.lit > 0:
		return a
	}
	return sqlExpr{sql: "(" + a.sql + " AND " + b.sql + ")", args: slices.Concat(a.args, b.args)}
}

func orExpr(a, b sqlExpr) sqlExpr {
	switch {
	case a.lit > 0 || b.lit > 0:
		return sqlTrue
	case a.lit < 0:
		return b
	case b.lit < 0:
		return a
	}
	return sqlExpr{sql: "(" + a.sql + " OR " + b.sql + ")", args: slices.Concat(a.args, b.args)}
}

func notExpr(a sqlExpr) sqlExpr {
	if a.lit != 0 {
		return sqlExpr{lit: -a.lit}
	}
	return sqlExpr{sql: "NOT (" + a.sql + ")", args: a.args}
}

// exists puts e inside prefix ... ")", the EXISTS over a child table that
// prefix opens; false stays false.
//
// On SQLite the subquery ends with LIMIT 1: SQLite 3.51 (the version of
// modernc.org/sqlite v1.46) turns a correlated EXISTS into a join and
// then applies the outer OFFSET to the joined rows, so that a page of
// users with two matching emails each started too early. A subquery with
// a LIMIT is not turned into a join. PostgreSQL drops such a LIMIT from an
// EXISTS itself.
func (db *DB) exists(prefix string, e sqlExpr) sqlExpr {
	if e.lit < 0 {
		return sqlFalse
	}
	end := ")"
	if db.dialect == SQLite {
		end = " LIMIT 1)"
	}
	return sqlExpr{sql: prefix + e.text() + end, args: e.args}
}

// cond is a translated filter. maybe is true of every row the filter
// matches (and perhaps of others); sure is true only of rows it matches.
// When exact, both are the filter itself and the database's answer is
// final; otherwise the store selects the rows where maybe holds and keeps
// those scim.MatchUser or scim.MatchGroup accepts. Negation swaps the two,
// which is why both are kept.
type cond struct {
	maybe, sure sqlExpr
	exact       bool
	// indexed is set when an index bounds the rows maybe selects (an
	// equality on an indexed column, possibly under and).
	indexed bool
	// scans counts the comparisons the database makes on every row it
	// examines: those no index serves.
	scans int
	// single is set when maybe selects at most one row of a tenant (an
	// equality on a unique column, possibly under and): see list.
	single bool
}

func exactCond(e sqlExpr, indexed bool) cond {
	scans := 0
	if !indexed && e.lit == 0 {
		scans = 1
	}
	return cond{maybe: e, sure: e, exact: true, indexed: indexed, scans: scans}
}

// inexact is a condition the database can only narrow: maybe is a
// necessary condition (sqlTrue when there is none), and MatchUser decides.
func inexact(maybe sqlExpr) cond {
	return cond{maybe: maybe, sure: sqlFalse, scans: 1}
}

func andCond(a, b cond) cond {
	return cond{maybe: andExpr(a.maybe, b.maybe), sure: andExpr(a.sure, b.sure), exact: a.exact && b.exact,
		indexed: a.indexed || b.indexed, scans: a.scans + b.scans, single: a.single || b.single}
}

func orCond(a, b cond) cond {
	return cond{maybe: orExpr(a.maybe, b.maybe), sure: orExpr(a.sure, b.sure), exact: a.exact && b.exact,
		indexed: a.indexed && b.indexed, scans: a.scans + b.scans}
}

func notCond(a cond) cond {
	return cond{maybe: notExpr(a.sure), sure: notExpr(a.maybe), exact: a.exact, scans: a.scans}
}

// translator turns a filter on one table into a cond.
type translator struct {
	db *DB
	t  *table
}

// filter translates f. A nil filter anywhere matches, as in the evaluator.
func (tr translator) filter(f scim.Filter, child *childTable) cond {
	switch f := f.(type) {
	case nil:
		return exactCond(sqlTrue, true)
	case *scim.LogicalExpr:
		if f == nil {
			return exactCond(sqlTrue, true)
		}
		l, r := tr.filter(f.Left, child), tr.filter(f.Right, child)
		switch f.Op {
		case scim.OpAnd:
			return andCond(l, r)
		case scim.OpOr:
			return orCond(l, r)
		}
		return inexact(sqlTrue)
	case *scim.NotExpr:
		if f == nil {
			return exactCond(sqlTrue, true)
		}
		return notCond(tr.filter(f.Filter, child))
	case *scim.AttrExpr:
		if f == nil {
			return exactCond(sqlTrue, true)
		}
		return tr.attr(f, child)
	case *scim.ValuePathExpr:
		if f == nil {
			return exactCond(sqlTrue, true)
		}
		if child != nil {
			return inexact(sqlTrue)
		}
		fd, ok := tr.t.resolve(f.Path)
		if !ok || fd.child == nil || f.Path.Sub != "" {
			return inexact(tr.t.present(tr.db, f.Path))
		}
		c := fd.child
		in := tr.filter(f.Filter, c)
		return cond{maybe: tr.db.exists(c.exists, in.maybe), sure: tr.db.exists(c.exists, in.sure), exact: in.exact,
			indexed: in.indexed, scans: in.scans}
	}
	return inexact(sqlTrue)
}

// attr translates one comparison. Inside a value path (child set) its
// path names a sub-attribute of child.
func (tr translator) attr(e *scim.AttrExpr, child *childTable) cond {
	// The evaluator's definitions: ne is not eq, eq null is not pr, ne
	// null is pr.
	if e.Value.Kind == scim.KindNull {
		pr := &scim.AttrExpr{Path: e.Path, Op: scim.OpPr}
		switch e.Op {
		case scim.OpEq:
			return notCond(tr.attr(pr, child))
		case scim.OpNe:
			return tr.attr(pr, child)
		}
		return inexact(sqlTrue)
	}
	if e.Op == scim.OpNe {
		eq := *e
		eq.Op = scim.OpEq
		return notCond(tr.attr(&eq, child))
	}
	if child != nil {
		if e.Path.URN != "" || e.Path.Sub != "" {
			return inexact(sqlTrue)
		}
		fd, ok := child.sub[strings.ToLower(e.Path.Name)]
		if !ok {
			return inexact(sqlTrue)
		}
		if c, ok := tr.compare(fd, e); ok {
			return c
		}
		return inexact(sqlTrue)
	}
	fd, ok := tr.t.resolve(e.Path)
	if ok {
		if c, ok := tr.compare(fd, e); ok {
			if fd.child != nil {
				// A comparison on a multi-valued attribute is true when
				// any of its values matches.
				c.maybe, c.sure = tr.db.exists(fd.child.exists, c.maybe), tr.db.exists(fd.child.exists, c.sure)
			}
			return c
		}
	}
	// Every comparison left is false on an absent attribute (ne and null
	// were rewritten above), so presence is a necessary condition.
	return inexact(tr.t.present(tr.db, e.Path))
}

// compare translates a comparison on the column of fd; ok is false when
// it cannot, and the evaluator decides.
func (tr translator) compare(fd field, e *scim.AttrExpr) (cond, bool) {
	col := fd.col
	switch fd.kind {
	case kindFold, kindExact, kindID:
		if e.Op == scim.OpPr {
			if fd.whole {
				return cond{}, false
			}
			if fd.kind == kindID {
				return exactCond(sqlTrue, true), true
			}
			return exactCond(expr(col+" <> ''"), false), true
		}
		if e.Value.Kind != scim.KindString {
			return cond{}, false
		}
		v := e.Value.Text
		if fd.kind == kindFold {
			v = fold(v)
		}
		if !tr.db.storable(v) {
			return exactCond(sqlFalse, true), true // no stored value contains it
		}
		switch e.Op {
		case scim.OpEq:
			if v == "" {
				return exactCond(sqlFalse, true), true // an absent value equals nothing
			}
			c := exactCond(expr(col+" = ?", v), fd.indexed)
			c.single = fd.unique
			return c, true
		case scim.OpCo, scim.OpSw, scim.OpEw:
			if v == "" {
				if fd.kind == kindID {
					return exactCond(sqlTrue, true), true
				}
				return exactCond(expr(col+" <> ''"), false), true
			}
			return exactCond(tr.match(fd.kind != kindFold, col, e.Op, v), false), true
		case scim.OpGt, scim.OpGe, scim.OpLt, scim.OpLe:
			// Byte order of the folded keys is the evaluator's
			// case-insensitive order; an absent value ('') compares
			// with nothing.
			op := map[scim.Operator]string{scim.OpGt: " > ", scim.OpGe: " >= ", scim.OpLt: " < ", scim.OpLe: " <= "}[e.Op]
			return exactCond(andExpr(expr(col+" <> ''"), expr(col+op+"?", v)), false), true
		}
		return cond{}, false
	case kindBool:
		if e.Op != scim.OpEq {
			return cond{}, false
		}
		var b bool
		switch {
		case e.Value.Kind == scim.KindBool && e.Value.Text == "true",
			e.Value.Kind == scim.KindString && strings.EqualFold(e.Value.Text, "true"):
			b = true
		case e.Value.Kind == scim.KindBool && e.Value.Text == "false",
			e.Value.Kind == scim.KindString && strings.EqualFold(e.Value.Text, "false"):
		default:
			return cond{}, false
		}
		return exactCond(expr(col+" = ?", b), false), true
	case kindTime:
		x, ok := tr.compareTime(col, e)
		return exactCond(x, false), ok
	case kindDoc:
		return tr.compareDoc(col, e)
	}
	return cond{}, false
}

// match is a co, sw or ew comparison of a non-empty value; exact selects
// case-exact matching (the column holds the value as sent).
func (tr translator) match(exact bool, col string, op scim.Operator, v string) sqlExpr {
	if exact && tr.db.dialect == SQLite {
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
		return expr(col+" GLOB ?", p)
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
	return expr(col+` LIKE ? ESCAPE '\'`, p)
}

// docText is the SQL text of the string at the dotted key path in the doc
// column of alias, ” when absent.
func (db *DB) docText(alias, path string) string {
	keys := strings.Split(path, ".")
	if db.dialect == PostgreSQL {
		var b strings.Builder
		b.WriteString("COALESCE(" + alias + ".doc")
		for _, k := range keys[:len(keys)-1] {
			b.WriteString("->'" + k + "'")
		}
		b.WriteString("->>'" + keys[len(keys)-1] + "', '')")
		return b.String()
	}
	return "COALESCE(json_extract(" + alias + ".doc, '$." + path + "'), '')"
}

// docHas is true when the doc column of alias has the dotted key path.
func (db *DB) docHas(alias, path string) sqlExpr {
	if db.dialect == PostgreSQL {
		keys := strings.Split(path, ".")
		return expr("(" + alias + ".doc->'" + strings.Join(keys, "'->'") + "') IS NOT NULL")
	}
	return expr("json_type(" + alias + ".doc, '$." + path + "') IS NOT NULL")
}

// compareDoc translates a comparison on a case-insensitive singular string
// kept in the doc column (a user's displayName, name.familyName, the
// Enterprise employeeNumber). pr is exact. eq, co, sw and ew compare the
// ASCII-lowered text with a LIKE pattern of the value, lowered, in which
// every character whose case-folding orbit holds more than its ASCII upper
// and lower case (k and s, which KELVIN SIGN and long s join, and every
// non-ASCII character) is the wildcard _: simple case folding maps a
// character to one character, so every match of the evaluator matches the
// pattern, and when the value has no such character and the database's
// lower() is ASCII-only (SQLite's; PostgreSQL's under the "C" collation,
// which Open checks), the pattern matches nothing more. Otherwise the
// evaluator finishes the few rows the pattern selects.
func (tr translator) compareDoc(path string, e *scim.AttrExpr) (cond, bool) {
	alias := tr.t.alias
	text := tr.db.docText(alias, path)
	if e.Op == scim.OpPr {
		return exactCond(expr(text+" <> ''"), false), true
	}
	if e.Value.Kind != scim.KindString || !tr.db.storable(e.Value.Text) {
		return cond{}, false
	}
	v := e.Value.Text
	if v == "" {
		switch e.Op {
		case scim.OpEq:
			return exactCond(sqlFalse, true), true
		case scim.OpCo, scim.OpSw, scim.OpEw:
			return exactCond(expr(text+" <> ''"), false), true
		}
		return cond{}, false
	}
	p, wild := foldPattern(v)
	switch e.Op {
	case scim.OpEq:
	case scim.OpCo:
		p = "%" + p + "%"
	case scim.OpSw:
		p += "%"
	case scim.OpEw:
		p = "%" + p
	default:
		return cond{}, false
	}
	lower := "lower(" + text + ")"
	if tr.db.dialect == PostgreSQL {
		lower = "lower(" + text + ` COLLATE "C")`
	}
	x := expr(lower+` LIKE ? ESCAPE '\'`, p)
	if !wild && tr.db.asciiLower {
		return exactCond(x, false), true
	}
	return inexact(x), true
}

// foldPattern is the LIKE pattern (escape character \) of compareDoc for
// v: ASCII letters but k and s lowered, other ASCII characters as they
// are, every other character the wildcard _. wild reports a wildcard.
func foldPattern(v string) (p string, wild bool) {
	var b strings.Builder
	b.Grow(len(v) + 4)
	for _, r := range v {
		switch {
		case r >= utf8.RuneSelf, r == 'k', r == 'K', r == 's', r == 'S':
			b.WriteByte('_')
			wild = true
		case r == '%', r == '_', r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case 'A' <= r && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), wild
}

// compareTime translates gt/ge/lt/le on a timestamp column. Stored times
// are whole microseconds, so a value with a finer fraction compares as the
// next microsecond up: created > t and created >= t both become created >=
// ceil(t), and created < t and created <= t become created < ceil(t). A
// value that is not an RFC 3339 dateTime is left to the evaluator.
func (tr translator) compareTime(col string, e *scim.AttrExpr) (sqlExpr, bool) {
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
		return sqlExpr{}, false
	}
	if e.Value.Kind != scim.KindString {
		return sqlExpr{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, e.Value.Text)
	if err != nil {
		return sqlExpr{}, false
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
	return expr(col+op+"?", tr.db.timeArg(t)), true
}

// mentions reports whether f compares the top-level attribute name, which
// the evaluator then needs loaded (a user's groups, a group's members).
func mentions(f scim.Filter, name string) bool {
	switch f := f.(type) {
	case *scim.LogicalExpr:
		return f != nil && (mentions(f.Left, name) || mentions(f.Right, name))
	case *scim.NotExpr:
		return f != nil && mentions(f.Filter, name)
	case *scim.AttrExpr:
		return f != nil && strings.EqualFold(f.Path.Name, name)
	case *scim.ValuePathExpr:
		return f != nil && strings.EqualFold(f.Path.Name, name)
	}
	return false
}

// selection is a translated list query: the table, WHERE with its
// arguments, ORDER BY, and the page.
type selection struct {
	from   string
	alias  string // from's table's alias
	where  string
	args   []any
	order  string
	offset int
	count  int
	// exact is false when the WHERE selects a superset that the evaluator
	// must finish; sorted is false when the evaluator must sort.
	exact, sorted bool
	// cost is the translated filter's cost, for the estimate.
	cost cond
	// creationOrder is set when the order is the creation order, which
	// the (tenant, created, id) index serves.
	creationOrder bool
	// tenantWhere is the WHERE of the whole tenant, for the estimate.
	tenantWhere string
	tenant      string
}

// pagedInSQL reports whether the database answers the selection alone,
// paging it with LIMIT and OFFSET; otherwise the evaluator finishes it.
func (s selection) pagedInSQL() bool { return s.exact && s.sorted }

// childrenInPage reports whether a page of s reads its rows' children
// (userGroupsCol, groupMembersCol) in the same statement. That is when the
// database pages s, and either computes the column for the page's rows
// alone or reads the rows in index order: PostgreSQL evaluates costly
// output columns after ORDER BY and LIMIT, but SQLite computes them for
// every row it sorts, which on a sort by another attribute is every row of
// the tenant; then the children are read for the page afterwards.
func (db *DB) childrenInPage(s selection) bool {
	return s.pagedInSQL() && (db.dialect == PostgreSQL || s.creationOrder)
}

// selectFor translates q for table t in tenant.
func (db *DB) selectFor(t *table, tenant string, q scim.Query) selection {
	c := exactCond(sqlTrue, false)
	if q.Filter != nil {
		c = translator{db: db, t: t}.filter(q.Filter, nil)
	}
	where := andExpr(expr(t.alias+".tenant = ?", tenant), c.maybe)
	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	tie := t.alias + ".created ASC, " + t.alias + ".id ASC"
	order, sorted := tie, true
	if q.SortBy.Name != "" {
		if o := t.sort(q.SortBy); o != "" {
			order = strings.ReplaceAll(o, "{dir}", dir) + ", " + tie
		} else {
			sorted = false
		}
	}
	return selection{
		from:          t.from,
		alias:         t.alias,
		where:         where.text(),
		args:          where.args,
		order:         order,
		offset:        max(q.StartIndex, 1) - 1,
		count:         max(q.Count, 0),
		exact:         c.exact,
		sorted:        sorted,
		creationOrder: q.SortBy.Name == "",
		cost:          c,
		tenantWhere:   t.alias + ".tenant = ?",
		tenant:        tenant,
	}
}

// finisher is what list needs of the evaluator when the database's
// answer is not final: match (scim.MatchUser with the filter), sort
// (scim.SortUsers with the sort), and prepare, which loads what the
// evaluator reads but the rows lack (a user's groups) for a batch of rows.
type finisher[T any] struct {
	match   func(T) bool
	sort    func([]T)
	prepare func(context.Context, []T) error
}

// list runs a selection: the page, and the total number of matches.
//
// When the database answers exactly, it pages in SQL. When the page is not
// full its length gives the total, which saves the COUNT query in the
// common case (Entra ID's lookups by userName or externalId match zero or
// one resource); otherwise a COUNT(*) with the same WHERE follows. A single
// query with count(*) OVER () was measured and rejected: PostgreSQL then
// materialises every matching row, documents included, before applying
// LIMIT. On a tenant of a million users, the first page of an unfiltered
// list took 1.9-6.8 s that way, against 1.6 ms for the page and 0.7-1.1 s
// for the COUNT(*) as two queries.
//
// Otherwise it reads every row the WHERE selects, in the SQL order (the
// creation order when the evaluator sorts), keeps those fin.match accepts,
// sorts them with fin.sort when the database could not, and pages in Go.
func list[T any](ctx context.Context, db *DB, q querier, s selection, rd rowReader[T], fin finisher[T]) ([]T, int, error) {
	if err := db.checkCost(ctx, s); err != nil {
		return nil, 0, err
	}
	if !s.cost.indexed && (s.cost.scans > 0 || !s.exact || !s.sorted) {
		// A statement that may run long: cancel it in the database when
		// the client hangs up or the budget runs out.
		gq, release, err := db.guard(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		defer release()
		q = gq
	}
	if !s.pagedInSQL() {
		return listFinished(ctx, db, q, s, rd, fin)
	}
	items := []T{}
	if s.count > 0 && s.cost.single {
		if items, total, ok, err := listSingle(ctx, db, q, s, rd); err != nil || ok {
			return items, total, err
		}
	}
	if s.count > 0 {
		rows, err := db.query(ctx, q, db.pageStatement(s, rd.cols, rd.children), slices.Concat(s.args, []any{s.count, s.offset})...)
		if err != nil {
			return nil, 0, err
		}
		if items, err = scanAll(rows, rd.scan); err != nil {
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

// listSingle runs a selection whose WHERE matches at most one row
// (cond.single: an equality on userName, displayName or id, as Entra ID's
// Test connection and its matching lookups are) as the bare lookup, with
// no ORDER BY, LIMIT or OFFSET, and pages its row in Go: a single row
// needs no order, and the statement, whose only parameters are the
// WHERE's, keeps PostgreSQL's generic plan without the subquery that
// pageStatement wraps a page in (TestPagesReuseTheirPlan). That took the
// mean execution of BenchmarkSQLFloor's lookup by userName on PostgreSQL
// from 8.8 to 7.4 µs (pg_stat_statements, docs/performance.md). ok is
// false, and nothing is returned, when the
// lookup found more than one row, which a unique index the schema lacks
// would allow: the caller then runs the page as any other.
func listSingle[T any](ctx context.Context, db *DB, q querier, s selection, rd rowReader[T]) (items []T, total int, ok bool, err error) {
	rows, err := db.query(ctx, q, "SELECT "+rd.cols+" FROM "+s.from+" WHERE "+s.where, s.args...)
	if err != nil {
		return nil, 0, false, err
	}
	found, err := scanAll(rows, rd.scan)
	if err != nil || len(found) > 1 {
		return nil, 0, false, err
	}
	total = len(found)
	items = found[min(s.offset, total):]
	return items[:min(s.count, len(items))], total, true, nil
}

// pageStatement is the statement of a page of s that the database pages,
// selecting cols; its arguments are s.args, then the count and the offset.
//
// On PostgreSQL, when cols has a children's aggregate (a correlated
// subquery), the page is a subquery and the aggregate is computed over its
// rows. Written flat, with LIMIT and OFFSET as parameters, PostgreSQL
// costs its generic plan higher than a plan for the values bound, and so
// plans the statement anew at every run instead of reusing its plan after
// the fifth, which cost about a fifth of the database's CPU in the demo's
// lookups by userName over loopback; this shape gets the generic plan
// (TestPagesReuseTheirPlan). The outer ORDER BY, the inner one's, keeps the
// page's order, which a subquery's order alone does not promise in SQL;
// when the order is by columns, PostgreSQL knows the rows come sorted and
// does not sort them again (an order by an expression, as externalId's,
// sorts the page's rows once more).
// SQLite plans a prepared statement once (see limitParam) and computes the
// aggregate for the page's rows alone only in index order
// (childrenInPage), which the flat shape keeps.
func (db *DB) pageStatement(s selection, cols string, children bool) string {
	page := " WHERE " + s.where + " ORDER BY " + s.order + " LIMIT " + db.limitParam() + " OFFSET " + db.limitParam()
	if children && db.dialect == PostgreSQL {
		return "SELECT " + cols + " FROM (SELECT " + s.alias + ".* FROM " + s.from + page + ") " + s.alias + " ORDER BY " + s.order
	}
	return "SELECT " + cols + " FROM " + s.from + page
}

// finishBatch is how many rows the evaluator sees at once: prepare loads
// their groups or members with one query.
const finishBatch = 500

func listFinished[T any](ctx context.Context, db *DB, q querier, s selection, rd rowReader[T], fin finisher[T]) ([]T, int, error) {
	rows, err := db.query(ctx, q, "SELECT "+rd.cols+" FROM "+s.from+" WHERE "+s.where+" ORDER BY "+s.order, s.args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var kept []T // every match when sorting in Go, else the page
	total, examined, limit := 0, 0, db.maxFinishRows()
	batch := make([]T, 0, finishBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if fin.prepare != nil {
			if err := fin.prepare(ctx, batch); err != nil {
				return err
			}
		}
		for _, r := range batch {
			if s.exact || fin.match(r) {
				if !s.sorted || (total >= s.offset && total < s.offset+s.count) {
					kept = append(kept, r)
				}
				total++
			}
		}
		batch = batch[:0]
		return nil
	}
	for rows.Next() {
		if examined++; examined > limit {
			return nil, 0, tooManyToExamine(limit)
		}
		r, err := rd.scan(rows)
		if err != nil {
			return nil, 0, err
		}
		if batch = append(batch, r); len(batch) == finishBatch {
			if err := flush(); err != nil {
				return nil, 0, err
			}
		}
	}
	if err := db.mapErr(rows.Err()); err != nil {
		return nil, 0, err
	}
	if err := flush(); err != nil {
		return nil, 0, err
	}
	if !s.sorted {
		fin.sort(kept)
		kept = kept[min(s.offset, len(kept)):min(s.offset+s.count, len(kept))]
	}
	if kept == nil {
		kept = []T{}
	}
	return kept, total, nil
}

// scanAll reads every row with scan and closes rows.
func scanAll[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	items := []T{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, r)
	}
	return items, rows.Err()
}
