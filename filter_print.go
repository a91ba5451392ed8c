package scim

// This file prints filters and paths in canonical RFC 7644 syntax: operators
// and keywords in lower case, one space between tokens, strings quoted with
// JSON escapes, numbers as written, and parentheses only where precedence
// needs them. Parsing the output gives back an equal tree, which the fuzz
// targets check; a store may also log or forward it.

// String returns the comparison in RFC 7644 syntax: `userName eq "bjensen"`.
func (e *AttrExpr) String() string { return filterString(e) }

// String returns the and/or in RFC 7644 syntax, with parentheses where an
// operand would otherwise bind differently.
func (e *LogicalExpr) String() string { return filterString(e) }

// String returns the negation in RFC 7644 syntax: `not (title pr)`.
func (e *NotExpr) String() string { return filterString(e) }

// String returns the value path in RFC 7644 syntax: `emails[type eq "work"]`.
func (e *ValuePathExpr) String() string { return filterString(e) }

// String returns the path in RFC 7644 syntax:
// "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName".
func (a AttrPath) String() string {
	return string(appendFilterAttrPath(make([]byte, 0, len(a.URN)+len(a.Name)+len(a.Sub)+2), a))
}

// String returns the PATCH path in RFC 7644 syntax:
// `emails[type eq "work"].value`.
func (p Path) String() string {
	b := appendFilterAttrPath(make([]byte, 0, 64), p.Attr)
	if p.Filter != nil {
		b = append(b, '[')
		b = appendFilter(b, p.Filter)
		b = append(b, ']')
	}
	if p.SubAttr != "" {
		b = append(b, '.')
		b = append(b, p.SubAttr...)
	}
	return string(b)
}

func filterString(f Filter) string {
	return string(appendFilter(make([]byte, 0, 64), f))
}

// appendFilter appends f in canonical syntax. A nil filter, which only a
// hand-built tree can hold, prints as <nil>, as fmt would.
func appendFilter(b []byte, f Filter) []byte {
	switch f := f.(type) {
	case *AttrExpr:
		if f == nil {
			break
		}
		b = appendFilterAttrPath(b, f.Path)
		b = append(b, ' ')
		b = append(b, f.Op.String()...)
		if f.Op != OpPr {
			b = append(b, ' ')
			b = appendFilterValue(b, f.Value)
		}
		return b
	case *LogicalExpr:
		if f == nil {
			break
		}
		prec := filterPrecedence(f)
		b = appendFilterOperand(b, f.Left, filterPrecedence(f.Left) < prec)
		b = append(b, ' ')
		b = append(b, f.Op.String()...)
		b = append(b, ' ')
		// and/or are left-associative, so a right operand of the same
		// precedence needs parentheses to stay on the right.
		return appendFilterOperand(b, f.Right, filterPrecedence(f.Right) <= prec)
	case *NotExpr:
		if f == nil {
			break
		}
		b = append(b, "not ("...)
		b = appendFilter(b, f.Filter)
		return append(b, ')')
	case *ValuePathExpr:
		if f == nil {
			break
		}
		b = appendFilterAttrPath(b, f.Path)
		b = append(b, '[')
		b = appendFilter(b, f.Filter)
		return append(b, ']')
	}
	return append(b, "<nil>"...)
}

func appendFilterOperand(b []byte, f Filter, paren bool) []byte {
	if !paren {
		return appendFilter(b, f)
	}
	b = append(b, '(')
	b = appendFilter(b, f)
	return append(b, ')')
}

// filterPrecedence ranks how tightly a filter binds: or below and below the rest.
func filterPrecedence(f Filter) int {
	if l, ok := f.(*LogicalExpr); ok && l != nil {
		if l.Op == OpOr {
			return 1
		}
		return 2
	}
	return 3
}

func appendFilterAttrPath(b []byte, a AttrPath) []byte {
	if a.URN != "" {
		b = append(b, a.URN...)
		b = append(b, ':')
	}
	b = append(b, a.Name...)
	if a.Sub != "" {
		b = append(b, '.')
		b = append(b, a.Sub...)
	}
	return b
}

// appendFilterValue appends v as a JSON value. A Value without a Kind, which only a
// hand-built tree can hold, prints as null.
func appendFilterValue(b []byte, v Value) []byte {
	switch v.Kind {
	case KindString:
		return appendJSONString(b, v.Text)
	case KindNumber, KindBool:
		return append(b, v.Text...)
	}
	return append(b, "null"...)
}
