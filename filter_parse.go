package scim

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the hand-written parser of SCIM filters (RFC 7644 §3.4.2.2,
// the ABNF of Figure 1) and attribute paths (§3.5.2). It runs on every list
// request, for every user, in every provisioning cycle, so it scans the
// string once, keeps names and values as substrings of the input (a string
// value is copied only when it has escapes) and allocates only the AST:
// `userName eq "<guid>"` costs one allocation.
//
// The grammar it accepts, beside RFC 7644's:
//
//	filter    = orExpr
//	orExpr    = andExpr *(WS "or" WS andExpr)       ; left-associative
//	andExpr   = term *(WS "and" WS term)            ; left-associative, binds tighter than or
//	term      = "not" [WS] "(" [WS] orExpr [WS] ")"
//	          / "(" [WS] orExpr [WS] ")"
//	          / attrPath [WS] "[" [WS] orExpr [WS] "]"   ; a value path; no value path inside
//	          / attrPath [WS] "[" [WS] orExpr [WS] "]" "." ATTRNAME WS compare  ; lenient, see below
//	          / attrPath WS compare
//	compare   = "pr" / compareOp WS compValue
//	attrPath  = [URN ":"] ATTRNAME ["." ATTRNAME]
//	URN       = segment *(":" segment)              ; segment = 1*(ALPHA / DIGIT / "-" / "." / "_")
//	ATTRNAME  = ALPHA *(ALPHA / DIGIT / "-" / "_") / "$ref"
//	compValue = JSON string / JSON number / "true" / "false" / "null"
//	          / bare token                          ; lenient, see below
//	WS        = 1*(SP / HTAB)
//
// Operators, and/or/not, true/false/null and attribute names are matched
// without regard to case (RFC 7644 §3.4.2.2); names keep the case they were
// sent in. Whitespace may also lead and trail the filter. The URN of an
// attribute path is everything up to the last ':' of the path, so
// "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName" is the URN
// "urn:ietf:params:scim:schemas:core:2.0:User", the name "name" and the
// sub-attribute "familyName": the dots of "2.0" belong to the URN.
//
// Inside brackets the attribute paths are relative to the multi-valued
// attribute, and a value path cannot nest: the sub-attributes of a complex
// attribute are never complex (RFC 7643 §2.3.8), so `a[b[c pr]]` has no
// meaning and is rejected. A value path names an attribute without a
// sub-attribute: `name.givenName[...]` is rejected too.

// filterLimits bounds what parseFilter accepts. The handler passes the limits
// its host configured; a zero maxLen or maxDepth means the default.
type filterLimits struct {
	maxLen, maxDepth int
	// strict rejects the lenient forms (bare values, and a comparison after a
	// value path's sub-attribute) that parseFilter accepts by default.
	strict bool
}

// defaultFilterLimits are ParseFilter's limits: 4096 bytes, 32 levels.
var defaultFilterLimits = filterLimits{maxLen: 4096, maxDepth: 32}

// ParseFilter parses a SCIM filter (RFC 7644 §3.4.2.2) such as
// `userName eq "bjensen"` or
// `emails[type eq "work" and value co "@example.com"] or title pr`.
// The string is the filter as it stands after URL query decoding: net/url
// already turns "+" into a space, so ParseFilter does not.
//
// The filter may be at most 4096 bytes long and nested at most 32 levels
// deep. Depth is the height of the filter's tree: each pair of parentheses,
// each not (with its parentheses), each value path's brackets and each
// and/or counts one level, so `a pr and b pr and c pr` is two levels deep
// (and/or are left-associative) and `not (a pr or b pr)` two. Anything that
// walks the tree (String, an evaluator, a store's translation) therefore
// recurses at most 32 times.
//
// ParseFilter accepts, beside RFC 7644's syntax, two forms that real clients
// send, as the project's reference of client behaviour (docs/clients.md)
// records them;
// the handler rejects both under Options.Strict:
//
//  1. Bare string values, `externalId eq jyoung`: Microsoft's SCIM tutorial
//     shows this filter (docs/clients.md#filters: the Entra tutorial,
//     azure-docs#83855). A bare value is a run of bytes up to whitespace,
//     "(", ")", "[", "]", '"' or the end; if it is true, false, null (any
//     case) or a JSON number it is that, otherwise it is a string, so
//     `employeeNumber eq 00123` compares with the string "00123".
//  2. A comparison on a sub-attribute after a value path, which Entra ID
//     sends when an admin matches users by work email (docs/clients.md#filters):
//     `emails[type eq "work"].value eq "user@contoso.com"`. It means
//     that one email is of type work and has that value, so it parses as
//     `emails[type eq "work" and value eq "user@contoso.com"]`.
//
// The result is an immutable tree of *AttrExpr, *LogicalExpr, *NotExpr and
// *ValuePathExpr, safe for concurrent use; so is ParseFilter. Names and
// values may share memory with s. The error, when there is one, is a *Error with Status 400 and Type
// InvalidFilter whose Detail names the 1-based byte position of the problem
// and what was expected there.
func ParseFilter(s string) (Filter, error) {
	return parseFilter(s, defaultFilterLimits)
}

// parseFilter is ParseFilter with the handler's limits; lim.strict rejects
// the two lenient forms ParseFilter documents.
func parseFilter(s string, lim filterLimits) (Filter, error) {
	maxLen, maxDepth := lim.maxLen, lim.maxDepth
	if maxLen <= 0 {
		maxLen = defaultFilterLimits.maxLen
	}
	if maxDepth <= 0 {
		maxDepth = defaultFilterLimits.maxDepth
	}
	if len(s) > maxLen {
		return nil, errorf(400, InvalidFilter, "filter is "+strconv.Itoa(len(s))+" bytes long; the limit is "+strconv.Itoa(maxLen))
	}
	p := filterParser{s: s, maxDepth: maxDepth, strict: lim.strict, kind: parseKindFilter}
	p.skipSpace()
	if p.pos == len(s) {
		return nil, errorf(400, InvalidFilter, "filter is empty")
	}
	f, _, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(s) {
		return nil, p.errExpectedAfterTerm(0)
	}
	return f, nil
}

// ParsePath parses the path of a PATCH operation (RFC 7644 §3.5.2): an
// attribute path (`name.givenName`,
// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`), or a
// value path optionally followed by a sub-attribute (`members[value eq "x"]`,
// `emails[type eq "work"].value`). Leading and trailing whitespace is
// ignored. The filter in brackets follows ParseFilter's rules, bare values
// included, and ParseFilter's limits apply to the whole path.
//
// The error, when there is one, is a *Error with Status 400 and Type
// InvalidPath whose Detail names the 1-based byte position of the problem.
func ParsePath(s string) (Path, error) {
	return parsePath(s, false)
}

// parsePath is ParsePath; strict rejects bare values in the filter.
func parsePath(s string, strict bool) (Path, error) {
	lim := defaultFilterLimits
	if len(s) > lim.maxLen {
		return Path{}, errorf(400, InvalidPath, "path is "+strconv.Itoa(len(s))+" bytes long; the limit is "+strconv.Itoa(lim.maxLen))
	}
	p := filterParser{s: s, maxDepth: lim.maxDepth, strict: strict, kind: parseKindPath}
	p.skipSpace()
	if p.pos == len(s) {
		return Path{}, errorf(400, InvalidPath, "path is empty")
	}
	start := p.pos
	ap, err := p.parseAttrPath()
	if err != nil {
		return Path{}, err
	}
	path := Path{Attr: ap}
	p.skipSpace()
	if p.pos < len(s) && s[p.pos] == '[' {
		f, _, err := p.parseBrackets(ap, start)
		if err != nil {
			return Path{}, err
		}
		path.Filter = f
		if p.pos < len(s) && s[p.pos] == '.' {
			p.pos++
			sub, err := p.parseSubAttr()
			if err != nil {
				return Path{}, err
			}
			path.SubAttr = sub
		}
		p.skipSpace()
	}
	if p.pos != len(s) {
		switch {
		case path.Filter == nil:
			return Path{}, p.errAt(p.pos, `expected "[" or the end of the path, found `+p.found(p.pos))
		case path.SubAttr == "":
			return Path{}, p.errAt(p.pos, `expected "." and a sub-attribute, or the end of the path, found `+p.found(p.pos))
		}
		return Path{}, p.errAt(p.pos, `expected the end of the path, found `+p.found(p.pos))
	}
	return path, nil
}

// ParseAttrPath parses one attribute path, as sortBy, attributes and
// excludedAttributes name them (RFC 7644 §3.4.2.3, §3.4.2.5):
// `userName`, `name.familyName`, `members.$ref`,
// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`.
// Leading and trailing whitespace is ignored; splitting a comma-separated
// list is the caller's job.
//
// A bare schema URN such as
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" parses as the
// attribute "User" of the URN "urn:ietf:params:scim:schemas:extension:enterprise:2.0":
// the grammar cannot tell the two apart, so a caller that accepts whole
// schemas must recognize their URNs before calling ParseAttrPath.
//
// The error, when there is one, is a *Error with Status 400 and Type
// InvalidPath whose Detail names the 1-based byte position of the problem.
func ParseAttrPath(s string) (AttrPath, error) {
	if len(s) > defaultFilterLimits.maxLen {
		return AttrPath{}, errorf(400, InvalidPath, "attribute path is "+strconv.Itoa(len(s))+" bytes long; the limit is "+strconv.Itoa(defaultFilterLimits.maxLen))
	}
	p := filterParser{s: s, kind: parseKindAttrPath}
	p.skipSpace()
	if p.pos == len(s) {
		return AttrPath{}, errorf(400, InvalidPath, "attribute path is empty")
	}
	ap, err := p.parseAttrPath()
	if err != nil {
		return AttrPath{}, err
	}
	p.skipSpace()
	if p.pos != len(s) {
		return AttrPath{}, p.errAt(p.pos, "expected the end of the attribute path, found "+p.found(p.pos))
	}
	return ap, nil
}

// What a filterParser is parsing, for its error details.
const (
	parseKindFilter = iota
	parseKindPath
	parseKindAttrPath
)

// filterParser is the state of one parse. It lives on the caller's stack;
// only the AST it builds and the errors it returns escape.
type filterParser struct {
	s        string
	pos      int // the next byte to read
	maxDepth int
	open     int  // parentheses, nots and brackets around pos; bounds the recursion
	inValue  bool // inside a value path's brackets, where value paths cannot nest
	strict   bool
	kind     int // parseKindFilter, parseKindPath or parseKindAttrPath
}

// parseOr parses an or-chain of and-chains and returns the tree with its
// height (see ParseFilter for how depth is counted).
func (p *filterParser) parseOr() (Filter, int, *Error) {
	left, lh, err := p.parseAnd()
	if err != nil {
		return nil, 0, err
	}
	for {
		op, next, err := p.peekLogical()
		if err != nil {
			return nil, 0, err
		}
		if op != OpOr {
			return left, lh, nil
		}
		p.pos = next
		right, rh, err := p.parseAnd()
		if err != nil {
			return nil, 0, err
		}
		left, lh = &LogicalExpr{Op: OpOr, Left: left, Right: right}, 1+max(lh, rh)
		if lh > p.maxDepth {
			return nil, 0, p.errDepth()
		}
	}
}

// parseAnd parses an and-chain of terms.
func (p *filterParser) parseAnd() (Filter, int, *Error) {
	left, lh, err := p.parseTerm()
	if err != nil {
		return nil, 0, err
	}
	for {
		op, next, err := p.peekLogical()
		if err != nil {
			return nil, 0, err
		}
		if op != OpAnd {
			return left, lh, nil
		}
		p.pos = next
		right, rh, err := p.parseTerm()
		if err != nil {
			return nil, 0, err
		}
		left, lh = &LogicalExpr{Op: OpAnd, Left: left, Right: right}, 1+max(lh, rh)
		if lh > p.maxDepth {
			return nil, 0, p.errDepth()
		}
	}
}

// peekLogical looks past the term just parsed for whitespace and "and" or
// "or" followed by whitespace. It returns the operator and the position of
// the next term, or 0 when something else follows (the caller decides
// whether that is the end of a group or an error). An and/or that is not
// separated from its operands is an error here, where the message can say so.
func (p *filterParser) peekLogical() (LogicalOp, int, *Error) {
	s := p.s
	i := p.pos
	for i < len(s) && isFilterSpace(s[i]) {
		i++
	}
	spaced := i > p.pos
	j := i
	for j < len(s) && isFilterAlpha(s[j]) {
		j++
	}
	var op LogicalOp
	switch w := s[i:j]; {
	case len(w) == 3 && strings.EqualFold(w, "and"):
		op = OpAnd
	case len(w) == 2 && strings.EqualFold(w, "or"):
		op = OpOr
	default:
		return 0, 0, nil
	}
	if j < len(s) && isFilterAlnum(s[j]) {
		return 0, 0, nil // a longer word ("android"): not an operator
	}
	if !spaced {
		return 0, 0, p.errAt(i, "expected whitespace before "+strconv.Quote(s[i:j]))
	}
	k := j
	for k < len(s) && isFilterSpace(s[k]) {
		k++
	}
	if k == len(s) {
		return 0, 0, p.errAt(k, "expected a filter after "+strconv.Quote(s[i:j])+", found "+p.found(k))
	}
	if k == j {
		return 0, 0, p.errAt(j, "expected whitespace after "+strconv.Quote(s[i:j])+", found "+p.found(j))
	}
	return op, k, nil
}

// parseTerm parses a comparison, a value path, a not or a parenthesized
// filter.
func (p *filterParser) parseTerm() (Filter, int, *Error) {
	s := p.s
	if p.pos >= len(s) {
		return nil, 0, p.errAt(p.pos, `expected an attribute name, "not" or "(", found `+p.found(p.pos))
	}
	start := p.pos
	c := s[start]
	if c == '(' {
		if err := p.enter(); err != nil {
			return nil, 0, err
		}
		p.pos++
		f, h, err := p.parseGroup(')')
		if err != nil {
			return nil, 0, err
		}
		p.open--
		if h++; h > p.maxDepth {
			return nil, 0, p.errDepth()
		}
		return f, h, nil
	}
	if !isAttrPathByte(c) {
		return nil, 0, p.errAt(start, `expected an attribute name, "not" or "(", found `+p.found(start))
	}
	end := p.scanPath()
	if end-start == 3 && strings.EqualFold(s[start:end], "not") {
		i := end
		for i < len(s) && isFilterSpace(s[i]) {
			i++
		}
		if i < len(s) && s[i] == '(' {
			p.pos = i
			if err := p.enter(); err != nil {
				return nil, 0, err
			}
			p.pos++
			f, h, err := p.parseGroup(')')
			if err != nil {
				return nil, 0, err
			}
			p.open--
			if h++; h > p.maxDepth {
				return nil, 0, p.errDepth()
			}
			return &NotExpr{Filter: f}, h, nil
		}
	}
	ap, err := p.attrPath(start, end)
	if err != nil {
		return nil, 0, err
	}
	p.pos = end
	spaced := p.skipSpace()
	if p.pos < len(s) && s[p.pos] == '[' {
		return p.parseValuePath(ap, start)
	}
	if p.pos == len(s) {
		return nil, 0, p.errAt(p.pos, `expected a comparison operator after the attribute path, found `+p.found(p.pos))
	}
	if !spaced {
		return nil, 0, p.errAt(p.pos, `expected whitespace and a comparison operator after the attribute path, found `+p.found(p.pos))
	}
	e, err := p.parseComparison(ap)
	if err != nil {
		return nil, 0, err
	}
	return e, 0, nil
}

// parseGroup parses the inside of parentheses or brackets, p.pos being just
// past the opening one, and consumes the closing one.
func (p *filterParser) parseGroup(closer byte) (Filter, int, *Error) {
	p.skipSpace()
	f, h, err := p.parseOr()
	if err != nil {
		return nil, 0, err
	}
	p.skipSpace()
	if p.pos >= len(p.s) || p.s[p.pos] != closer {
		return nil, 0, p.errExpectedAfterTerm(closer)
	}
	p.pos++
	return f, h, nil
}

// parseValuePath parses `attr[filter]`, p.pos being at "[", and the lenient
// `attr[filter].sub op value` that ParseFilter documents.
func (p *filterParser) parseValuePath(ap AttrPath, start int) (Filter, int, *Error) {
	f, h, err := p.parseBrackets(ap, start)
	if err != nil {
		return nil, 0, err
	}
	s := p.s
	if p.pos >= len(s) || s[p.pos] != '.' {
		return &ValuePathExpr{Path: ap, Filter: f}, h, nil
	}
	// Lenient form 2: `emails[type eq "work"].value eq "x"`.
	if p.strict {
		return nil, 0, p.errAt(p.pos, `a comparison after a value filter's sub-attribute ("].value eq ...") is not standard SCIM; put it inside the brackets`)
	}
	p.pos++
	sub, err := p.parseSubAttr()
	if err != nil {
		return nil, 0, err
	}
	if !p.skipSpace() {
		return nil, 0, p.errAt(p.pos, "expected whitespace and a comparison operator after "+strconv.Quote(s[start:p.pos])+", found "+p.found(p.pos))
	}
	e, err := p.parseComparison(AttrPath{Name: sub})
	if err != nil {
		return nil, 0, err
	}
	// The inner filter keeps its height; the and adds one, and so do the
	// parentheses String will put around an or, so that printing never
	// makes a filter deeper than the one that was parsed.
	ih := h - 1
	if l, ok := f.(*LogicalExpr); ok && l.Op == OpOr {
		ih++
	}
	h = 1 + 1 + ih
	if h > p.maxDepth {
		return nil, 0, p.errDepth()
	}
	return &ValuePathExpr{Path: ap, Filter: &LogicalExpr{Op: OpAnd, Left: f, Right: e}}, h, nil
}

// parseBrackets parses the "[filter]" of a value path on ap, which started at
// start; p.pos is at "[". It returns the filter and the height of the value
// path.
func (p *filterParser) parseBrackets(ap AttrPath, start int) (Filter, int, *Error) {
	if p.inValue {
		return nil, 0, p.errAt(p.pos, "value filters cannot be nested: the sub-attributes of a multi-valued attribute are not multi-valued")
	}
	if ap.Sub != "" {
		return nil, 0, p.errAt(p.pos, "a value filter must follow a multi-valued attribute, not the sub-attribute "+strconv.Quote(p.s[start:p.pos]))
	}
	if err := p.enter(); err != nil {
		return nil, 0, err
	}
	p.pos++
	p.inValue = true
	f, h, err := p.parseGroup(']')
	if err != nil {
		return nil, 0, err
	}
	p.inValue = false
	p.open--
	if h++; h > p.maxDepth {
		return nil, 0, p.errDepth()
	}
	return f, h, nil
}

// parseComparison parses `op value` or `pr` after ap and the whitespace that
// follows it.
func (p *filterParser) parseComparison(ap AttrPath) (*AttrExpr, *Error) {
	s := p.s
	opStart := p.pos
	end := p.scanToken()
	op := lookupFilterOperator(s[opStart:end])
	if op == 0 {
		return nil, p.errAt(opStart, "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found "+p.found(opStart))
	}
	p.pos = end
	if op == OpPr {
		return &AttrExpr{Path: ap, Op: OpPr}, nil
	}
	if !p.skipSpace() || p.pos == len(s) {
		if p.pos == len(s) {
			return nil, p.errAt(p.pos, "expected a value after "+strconv.Quote(s[opStart:end])+", found "+p.found(p.pos))
		}
		return nil, p.errAt(p.pos, "expected whitespace after "+strconv.Quote(s[opStart:end])+", found "+p.found(p.pos))
	}
	v, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	return &AttrExpr{Path: ap, Op: op, Value: v}, nil
}

// lookupFilterOperator returns the comparison operator named w in any case, or 0.
func lookupFilterOperator(w string) Operator {
	if len(w) != 2 {
		return 0
	}
	// Lower-case ASCII letters; anything else cannot match a name below.
	a, b := w[0]|0x20, w[1]|0x20
	switch a {
	case 'e':
		switch b {
		case 'q':
			return OpEq
		case 'w':
			return OpEw
		}
	case 'n':
		if b == 'e' {
			return OpNe
		}
	case 'c':
		if b == 'o' {
			return OpCo
		}
	case 's':
		if b == 'w' {
			return OpSw
		}
	case 'g':
		switch b {
		case 't':
			return OpGt
		case 'e':
			return OpGe
		}
	case 'l':
		switch b {
		case 't':
			return OpLt
		case 'e':
			return OpLe
		}
	case 'p':
		if b == 'r' {
			return OpPr
		}
	}
	return 0
}

// parseValue parses a comparison value at p.pos, which is not the end.
func (p *filterParser) parseValue() (Value, *Error) {
	s := p.s
	start := p.pos
	if s[start] == '"' {
		text, err := p.parseString()
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindString, Text: text}, nil
	}
	end := p.scanToken()
	tok := s[start:end]
	switch {
	case tok == "":
		return Value{}, p.errAt(start, "expected a value (a quoted string, a number, true, false or null), found "+p.found(start))
	case len(tok) == 4 && strings.EqualFold(tok, "true"):
		p.pos = end
		return Value{Kind: KindBool, Text: "true"}, nil
	case len(tok) == 5 && strings.EqualFold(tok, "false"):
		p.pos = end
		return Value{Kind: KindBool, Text: "false"}, nil
	case len(tok) == 4 && strings.EqualFold(tok, "null"):
		p.pos = end
		return Value{Kind: KindNull}, nil
	case isFilterNumber(tok):
		p.pos = end
		return Value{Kind: KindNumber, Text: tok}, nil
	}
	// Lenient form 1: a bare string, `externalId eq jyoung`.
	if p.strict {
		return Value{}, p.errAt(start, "expected a value (a quoted string, a number, true, false or null), found "+p.found(start))
	}
	for i := start; i < end; {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return Value{}, p.errAt(i, "control character "+strconv.QuoteRune(rune(c))+" in a value")
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return Value{}, p.errAt(i, "invalid UTF-8 in a value")
		}
		i += size
	}
	p.pos = end
	return Value{Kind: KindString, Text: tok}, nil
}

// parseString parses the JSON string at p.pos (at its opening quote) and
// returns its text: a substring of the input unless it has escapes.
func (p *filterParser) parseString() (string, *Error) {
	s := p.s
	start := p.pos
	for i := start + 1; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return s[start+1 : i], nil
		case c == '\\':
			return p.parseEscapedString(start, i)
		case c < 0x20:
			return "", p.errAt(i, "control character "+strconv.QuoteRune(rune(c))+" in a string; JSON strings must escape it")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errAt(i, "invalid UTF-8 in a string")
			}
			i += size
		}
	}
	return "", p.errAt(start, "the string that starts here has no closing quote")
}

// parseEscapedString finishes parseString for a string with escapes, the
// first of which is at i.
func (p *filterParser) parseEscapedString(start, i int) (string, *Error) {
	s := p.s
	b := make([]byte, 0, len(s)-start)
	b = append(b, s[start+1:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(b), nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", p.errAt(start, "the string that starts here has no closing quote")
			}
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, n, err := p.parseUnicodeEscape(i)
				if err != nil {
					return "", err
				}
				b = utf8.AppendRune(b, r)
				i += n
				continue
			default:
				return "", p.errAt(i, "invalid escape "+strconv.Quote(s[i:i+2])+` in a string; JSON allows \" \\ \/ \b \f \n \r \t and \uXXXX`)
			}
			i += 2
		case c < 0x20:
			return "", p.errAt(i, "control character "+strconv.QuoteRune(rune(c))+" in a string; JSON strings must escape it")
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errAt(i, "invalid UTF-8 in a string")
			}
			b = append(b, s[i:i+size]...)
			i += size
		}
	}
	return "", p.errAt(start, "the string that starts here has no closing quote")
}

// parseUnicodeEscape decodes the \uXXXX escape at i, and the low surrogate
// that must follow a high one. It returns the rune and the bytes consumed.
func (p *filterParser) parseUnicodeEscape(i int) (rune, int, *Error) {
	r, ok := filterHex4(p.s, i+2)
	if !ok {
		return 0, 0, p.errAt(i, `invalid escape: \u must be followed by four hexadecimal digits`)
	}
	if r < 0xd800 || r > 0xdfff {
		return r, 6, nil
	}
	if r <= 0xdbff && i+12 <= len(p.s) && p.s[i+6] == '\\' && p.s[i+7] == 'u' {
		if lo, ok := filterHex4(p.s, i+8); ok && lo >= 0xdc00 && lo <= 0xdfff {
			return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), 12, nil
		}
	}
	return 0, 0, p.errAt(i, "invalid escape "+strconv.Quote(p.s[i:i+6])+": an unpaired UTF-16 surrogate")
}

// filterHex4 decodes the four hexadecimal digits at s[i:].
func filterHex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// isFilterNumber reports whether s is a number in JSON's syntax (RFC 8259 §6).
func isFilterNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isFilterDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) || !isFilterDigit(s[i]) {
			return false
		}
		for i < len(s) && isFilterDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || !isFilterDigit(s[i]) {
			return false
		}
		for i < len(s) && isFilterDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}

// parseAttrPath parses the attribute path at p.pos.
func (p *filterParser) parseAttrPath() (AttrPath, *Error) {
	start := p.pos
	if start >= len(p.s) || !isAttrPathByte(p.s[start]) {
		return AttrPath{}, p.errAt(start, "expected an attribute name, found "+p.found(start))
	}
	end := p.scanPath()
	ap, err := p.attrPath(start, end)
	if err != nil {
		return AttrPath{}, err
	}
	p.pos = end
	return ap, nil
}

// attrPath splits and checks the attribute path s[start:end]: the URN is
// everything before the last ':', then a name and at most one sub-attribute.
func (p *filterParser) attrPath(start, end int) (AttrPath, *Error) {
	s := p.s
	var ap AttrPath
	nameStart := start
	if i := strings.LastIndexByte(s[start:end], ':'); i >= 0 {
		nameStart = start + i + 1
		segStart := start
		for j := start; j < nameStart; j++ {
			c := s[j]
			switch {
			case c == ':':
				if j == segStart {
					return AttrPath{}, p.errAt(j, "expected a schema URN before the attribute name, found an empty segment in "+strconv.Quote(s[start:end]))
				}
				segStart = j + 1
			case isFilterAlnum(c) || c == '-' || c == '.' || c == '_':
			default:
				return AttrPath{}, p.errAt(j, "invalid character "+strconv.QuoteRune(rune(c))+" in the schema URN of "+strconv.Quote(s[start:end]))
			}
		}
		ap.URN = s[start : nameStart-1]
	}
	nameEnd := end
	if i := strings.IndexByte(s[nameStart:end], '.'); i >= 0 {
		nameEnd = nameStart + i
		if j := strings.IndexByte(s[nameEnd+1:end], '.'); j >= 0 {
			return AttrPath{}, p.errAt(nameEnd+1+j, "expected at most one sub-attribute in "+strconv.Quote(s[start:end]))
		}
		if err := p.checkName(nameEnd+1, end); err != nil {
			return AttrPath{}, err
		}
		ap.Sub = s[nameEnd+1 : end]
	}
	if err := p.checkName(nameStart, nameEnd); err != nil {
		return AttrPath{}, err
	}
	ap.Name = s[nameStart:nameEnd]
	return ap, nil
}

// parseSubAttr parses the sub-attribute name after a value path's "].".
func (p *filterParser) parseSubAttr() (string, *Error) {
	start := p.pos
	end := p.scanPath()
	if i := strings.IndexAny(p.s[start:end], ".:"); i >= 0 {
		return "", p.errAt(start+i, "expected one sub-attribute name after the value filter, found "+strconv.Quote(p.s[start:end]))
	}
	if err := p.checkName(start, end); err != nil {
		return "", err
	}
	p.pos = end
	return p.s[start:end], nil
}

// checkName checks that s[start:end] is an ATTRNAME or "$ref".
func (p *filterParser) checkName(start, end int) *Error {
	name := p.s[start:end]
	if len(name) == 4 && strings.EqualFold(name, "$ref") {
		return nil
	}
	if name == "" || !isFilterAlpha(name[0]) {
		return p.errAt(start, "expected an attribute name (a letter, then letters, digits, '-' or '_'), found "+p.found(start))
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isFilterAlnum(c) && c != '-' && c != '_' {
			return p.errAt(start+i, "invalid character "+strconv.QuoteRune(rune(c))+" in the attribute name "+strconv.Quote(name))
		}
	}
	return nil
}

// scanPath returns the end of the run of attribute-path bytes at p.pos.
func (p *filterParser) scanPath() int {
	i := p.pos
	for i < len(p.s) && isAttrPathByte(p.s[i]) {
		i++
	}
	return i
}

// scanToken returns the end of the token at p.pos: a run of bytes up to
// whitespace, a parenthesis, a bracket or a quote.
func (p *filterParser) scanToken() int {
	i := p.pos
	for i < len(p.s) && !isFilterDelimiter(p.s[i]) {
		i++
	}
	return i
}

// skipSpace skips whitespace and reports whether there was any.
func (p *filterParser) skipSpace() bool {
	i := p.pos
	for p.pos < len(p.s) && isFilterSpace(p.s[p.pos]) {
		p.pos++
	}
	return p.pos > i
}

// enter opens a parenthesis, not or bracket, refusing to recurse deeper than
// the limit allows.
func (p *filterParser) enter() *Error {
	if p.open++; p.open > p.maxDepth {
		return p.errDepth()
	}
	return nil
}

// errExpectedAfterTerm reports what may follow a complete term in a group
// that closer ends (0 for the whole filter).
func (p *filterParser) errExpectedAfterTerm(closer byte) *Error {
	var want string
	switch closer {
	case ')':
		want = `expected "and", "or" or ")"`
	case ']':
		want = `expected "and", "or" or "]"`
	default:
		want = `expected "and", "or" or the end of the ` + p.kindName()
	}
	return p.errAt(p.pos, want+", found "+p.found(p.pos))
}

func (p *filterParser) errDepth() *Error {
	return &Error{Status: 400, Type: p.errType(), Detail: p.kindName() + " is nested more than " + strconv.Itoa(p.maxDepth) + " levels deep"}
}

// errAt reports a syntax error at byte offset i, which the detail gives
// 1-based, as editors count columns.
func (p *filterParser) errAt(i int, msg string) *Error {
	return &Error{Status: 400, Type: p.errType(), Detail: "invalid " + p.kindName() + " at position " + strconv.Itoa(i+1) + ": " + msg}
}

func (p *filterParser) errType() ErrorType {
	if p.kind == parseKindFilter {
		return InvalidFilter
	}
	return InvalidPath
}

func (p *filterParser) kindName() string {
	switch p.kind {
	case parseKindPath:
		return "path"
	case parseKindAttrPath:
		return "attribute path"
	}
	return "filter"
}

// found describes the input at i for an error detail: the token there,
// quoted and cut short if long, or the end of the input.
func (p *filterParser) found(i int) string {
	s := p.s
	if i >= len(s) {
		return "the end of the " + p.kindName()
	}
	j := i + 1
	if !isFilterDelimiter(s[i]) {
		for j < len(s) && !isFilterDelimiter(s[j]) {
			j++
		}
	}
	const maxFound = 32
	if j-i > maxFound {
		j = i + maxFound
		for j > i && !utf8.RuneStart(s[j]) {
			j--
		}
		return strconv.Quote(s[i:j]) + "..."
	}
	return strconv.Quote(s[i:j])
}

func isFilterSpace(c byte) bool { return c == ' ' || c == '\t' }

func isFilterDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '(', ')', '[', ']', '"':
		return true
	}
	return false
}

func isFilterAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isFilterDigit(c byte) bool { return '0' <= c && c <= '9' }

func isFilterAlnum(c byte) bool { return isFilterAlpha(c) || isFilterDigit(c) }

// isAttrPathByte reports whether c may appear in an attribute path; attrPath
// then checks where.
func isAttrPathByte(c byte) bool {
	return isFilterAlnum(c) || c == '-' || c == '_' || c == '.' || c == ':' || c == '$'
}
