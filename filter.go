package scim

// This file holds the exported AST of SCIM filters and attribute paths
// (RFC 7644 §3.4.2.2, §3.5.2). Stores walk it to translate a filter into
// their own query language; the parser and the in-memory evaluator live
// beside it (filter_parse.go, filter_eval.go).

// Filter is a parsed SCIM filter: one of *AttrExpr, *LogicalExpr, *NotExpr
// or *ValuePathExpr. Filters are immutable once parsed and safe for
// concurrent use.
type Filter interface {
	// String returns the filter in RFC 7644 syntax. Parsing the result
	// gives a Filter equal to this one.
	String() string
	filterNode()
}

// AttrPath names an attribute: an optional schema URN, the attribute, and an
// optional sub-attribute, as in
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
// Names keep the case they were sent in; compare them with strings.EqualFold.
type AttrPath struct {
	URN  string // schema URN qualifying Name; "" when unqualified
	Name string // the attribute
	Sub  string // the sub-attribute; "" for none
	// Declared, when not nil, is the declaration of the extension
	// attribute (or sub-attribute) the path names, which [MatchUser],
	// [MatchGroup], [SortUsers] and [SortGroups] follow: its values
	// compare by the declared Type and CaseExact. The handler sets it in
	// the Query.Filter and Query.SortBy it hands a store, and
	// [Extension.Path] returns such a path; parsing never sets it, and a
	// path without it compares Extra values by their JSON type, strings
	// ignoring case. A store that translates filters itself may read it;
	// nobody may modify it.
	Declared *Attribute
}

// Operator is a comparison operator of a filter.
type Operator uint8

// The comparison operators of RFC 7644 §3.4.2.2 (table 3).
const (
	OpEq Operator = iota + 1 // equal
	OpNe                     // not equal
	OpCo                     // contains
	OpSw                     // starts with
	OpEw                     // ends with
	OpGt                     // greater than
	OpGe                     // greater than or equal
	OpLt                     // less than
	OpLe                     // less than or equal
	OpPr                     // present (has value); an AttrExpr with OpPr has no Value
)

var operatorNames = [...]string{"", "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"}

// String returns the operator's name in lower case ("eq"), or "" for an
// invalid operator.
func (o Operator) String() string {
	if int(o) < len(operatorNames) {
		return operatorNames[o]
	}
	return ""
}

// ValueKind is the JSON type of a comparison value.
type ValueKind uint8

// The kinds of comparison value RFC 7644 allows in a filter.
const (
	KindString ValueKind = iota + 1
	KindNumber
	KindBool
	KindNull
)

// Value is the comparison value of an AttrExpr.
//
// Text holds, for KindString, the string with its JSON escapes decoded; for
// KindNumber, the number as written; for KindBool, "true" or "false"; for
// KindNull, "". Keeping the text rather than a parsed number lets a store
// compare a dateTime string or a decimal without loss.
type Value struct {
	Kind ValueKind
	Text string
}

// AttrExpr compares an attribute with a value: `userName eq "bjensen"`,
// `title pr`.
//
// Path.Name may address a multi-valued attribute, in which case the
// expression is true when any of its values matches (`emails co "@x.com"`
// compares each email's value; `members eq "u1"` asks whether u1 is a member).
type AttrExpr struct {
	Path  AttrPath
	Op    Operator
	Value Value // unset when Op is OpPr
}

// LogicalOp is "and" or "or".
type LogicalOp uint8

// The logical operators of a filter; and binds tighter than or.
const (
	OpAnd LogicalOp = iota + 1
	OpOr
)

// String returns "and" or "or".
func (o LogicalOp) String() string {
	switch o {
	case OpAnd:
		return "and"
	case OpOr:
		return "or"
	}
	return ""
}

// LogicalExpr joins two filters with and/or.
type LogicalExpr struct {
	Op          LogicalOp
	Left, Right Filter
}

// NotExpr negates a filter: `not (title pr)`.
type NotExpr struct {
	Filter Filter
}

// ValuePathExpr is true when at least one value of the multi-valued attribute
// Path matches Filter, whose attribute paths are relative to that value:
// `emails[type eq "work" and value co "@example.com"]`. Path.Sub is empty.
type ValuePathExpr struct {
	Path   AttrPath
	Filter Filter
}

func (*AttrExpr) filterNode()      {}
func (*LogicalExpr) filterNode()   {}
func (*NotExpr) filterNode()       {}
func (*ValuePathExpr) filterNode() {}

// Path is a PATCH operation's target (RFC 7644 §3.5.2): an attribute path,
// optionally narrowed to the values of a multi-valued attribute that match
// Filter, optionally followed by a sub-attribute of those values:
// `emails[type eq "work"].value` is {Attr: emails, Filter: type eq "work",
// SubAttr: value}; `name.givenName` is {Attr: {Name: name, Sub: givenName}}.
// SubAttr is set only when Filter is.
type Path struct {
	Attr    AttrPath
	Filter  Filter
	SubAttr string
}
