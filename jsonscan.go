package scim

import (
	"strconv"
	"unicode/utf8"
)

// This file is the JSON reader under the request decoder (decode.go): a
// single forward pass over the body that validates RFC 8259 syntax exactly
// as encoding/json does, enforces a nesting limit as it goes, and hands the
// decoder one token at a time so that values land in typed fields without a
// map, a reflect.Value or a second pass. It accepts what json.Valid accepts
// (invalid UTF-8 inside strings included; decoding replaces it with U+FFFD,
// as json.Unmarshal does) and rejects everything else.

// jsonKind is the type of a JSON value, as seen from its first byte.
type jsonKind uint8

const (
	kindNone jsonKind = iota
	kindNull
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// phrase names the kind for an error detail: "found a string".
func (k jsonKind) phrase() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	case kindObject:
		return "an object"
	}
	return "nothing"
}

// defaultMaxDepth is the nesting limit when decodeOptions.maxDepth is 0.
// Real clients nest three levels deep (an object in an array in the
// resource); 32 leaves room for custom extensions.
const defaultMaxDepth = 32

// reader reads one JSON text. Syntax errors are returned as *Error with
// InvalidSyntax and a byte offset; the reader does not recover from them.
type reader struct {
	data     []byte
	pos      int
	depth    int
	maxDepth int
	// sawNull is set whenever a null literal is consumed; rawValue uses it
	// to decide whether a kept value needs its nulls removed.
	sawNull bool
	// scratch holds decoded strings that had escapes; it is reused, so a
	// slice returned from it is valid until the next string is read.
	scratch []byte
}

func newReader(data []byte, maxDepth int) reader {
	if maxDepth <= 0 {
		maxDepth = defaultMaxDepth
	}
	return reader{data: data, maxDepth: maxDepth}
}

func (r *reader) syntaxError(msg string) error {
	return errorf(400, InvalidSyntax, "the request body is not valid JSON: "+msg+" at offset "+strconv.Itoa(r.pos))
}

// unexpected reports the byte at r.pos (or the end of input).
func (r *reader) unexpected() error {
	if r.pos >= len(r.data) {
		return r.syntaxError("unexpected end of input")
	}
	c := r.data[r.pos]
	if c < 0x20 || c >= 0x7f || c == '\'' {
		return r.syntaxError("unexpected byte 0x" + strconv.FormatUint(uint64(c), 16))
	}
	return r.syntaxError("unexpected character '" + string(rune(c)) + "'")
}

func (r *reader) skipWS() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the kind of the value that starts at
// r.pos, without consuming it.
func (r *reader) peek() (jsonKind, error) {
	r.skipWS()
	if r.pos >= len(r.data) {
		return kindNone, r.unexpected()
	}
	switch c := r.data[r.pos]; c {
	case '"':
		return kindString, nil
	case '{':
		return kindObject, nil
	case '[':
		return kindArray, nil
	case 't', 'f':
		return kindBool, nil
	case 'n':
		return kindNull, nil
	default:
		if c == '-' || ('0' <= c && c <= '9') {
			return kindNumber, nil
		}
	}
	return kindNone, r.unexpected()
}

// open consumes the '{' or '[' at r.pos and enforces the nesting limit.
func (r *reader) open() error {
	r.depth++
	if r.depth > r.maxDepth {
		return errorf(400, InvalidSyntax, "the request body nests deeper than the limit of "+strconv.Itoa(r.maxDepth)+" levels (at offset "+strconv.Itoa(r.pos)+")")
	}
	r.pos++
	return nil
}

// nextMember advances to the next member of the object being read: it
// consumes the separator, the key and the colon after it, and returns the
// decoded key, valid until the next string is read. At the closing brace it
// consumes it and returns ok false. first says whether no member has been
// read yet.
func (r *reader) nextMember(first bool) (key []byte, ok bool, err error) {
	start, end, plain, ok, err := r.memberKey(first)
	if !ok || err != nil {
		return nil, false, err
	}
	key = r.data[start:end]
	if !plain && (hasByte(key, '\\') || !utf8.Valid(key)) {
		r.scratch = unquoteJSON(r.scratch[:0], key)
		key = r.scratch
	}
	return key, true, nil
}

// nextMemberRaw is nextMember that returns the key's JSON text, quotes
// included, undecoded.
func (r *reader) nextMemberRaw(first bool) (rawKey []byte, ok bool, err error) {
	start, end, _, ok, err := r.memberKey(first)
	if !ok || err != nil {
		return nil, false, err
	}
	return r.data[start-1 : end+1], true, nil
}

// memberKey does the work of nextMember: it returns the bounds of the key's
// content and whether it is plain (see scanString).
func (r *reader) memberKey(first bool) (start, end int, plain, ok bool, err error) {
	r.skipWS()
	if r.pos >= len(r.data) {
		return 0, 0, false, false, r.unexpected()
	}
	c := r.data[r.pos]
	if c == '}' {
		r.pos++
		r.depth--
		return 0, 0, false, false, nil
	}
	if !first {
		if c != ',' {
			return 0, 0, false, false, r.unexpected()
		}
		r.pos++
		r.skipWS()
		if r.pos >= len(r.data) {
			return 0, 0, false, false, r.unexpected()
		}
	}
	if r.data[r.pos] != '"' {
		return 0, 0, false, false, r.unexpected()
	}
	if start, end, plain, err = r.scanString(); err != nil {
		return 0, 0, false, false, err
	}
	r.skipWS()
	if r.pos >= len(r.data) || r.data[r.pos] != ':' {
		return 0, 0, false, false, r.unexpected()
	}
	r.pos++
	return start, end, plain, true, nil
}

// nextElem advances to the next element of the array being read, consuming
// the separator; at the closing bracket it consumes it and returns false.
func (r *reader) nextElem(first bool) (bool, error) {
	r.skipWS()
	if r.pos >= len(r.data) {
		return false, r.unexpected()
	}
	c := r.data[r.pos]
	if c == ']' {
		r.pos++
		r.depth--
		return false, nil
	}
	if !first {
		if c != ',' {
			return false, r.unexpected()
		}
		r.pos++
	}
	return true, nil
}

// scanString validates the string starting at r.pos (a '"') and moves past
// it. It returns the bounds of its content and whether the content is plain
// (no escapes, ASCII only), in which case the content is the string itself.
func (r *reader) scanString() (start, end int, plain bool, err error) {
	data := r.data
	i := r.pos + 1
	start = i
	plain = true
	for i < len(data) {
		if i+8 <= len(data) && !stringStop8(load64(data, i)) {
			i += 8 // eight bytes of plain ASCII
			continue
		}
		c := data[i]
		switch {
		case c == '"':
			r.pos = i + 1
			return start, i, plain, nil
		case c == '\\':
			plain = false
			i++
			if i >= len(data) {
				r.pos = i
				return 0, 0, false, r.unexpected()
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for k := 0; k < 4; k++ {
					if i >= len(data) || !isHex(data[i]) {
						r.pos = i
						return 0, 0, false, r.syntaxError("invalid \\u escape in a string")
					}
					i++
				}
			default:
				r.pos = i
				return 0, 0, false, r.syntaxError("invalid escape in a string")
			}
		case c < 0x20:
			r.pos = i
			return 0, 0, false, r.syntaxError("control character in a string")
		default:
			if c >= utf8.RuneSelf {
				plain = false
			}
			i++
		}
	}
	r.pos = i
	return 0, 0, false, r.unexpected()
}

// readString reads the string at r.pos and returns its decoded content.
// The result aliases the input or r.scratch: copy it to keep it.
func (r *reader) readString() ([]byte, error) {
	start, end, plain, err := r.scanString()
	if err != nil {
		return nil, err
	}
	s := r.data[start:end]
	if plain {
		return s, nil
	}
	if !hasByte(s, '\\') && utf8.Valid(s) {
		return s, nil
	}
	r.scratch = unquoteJSON(r.scratch[:0], s)
	return r.scratch, nil
}

func hasByte(s []byte, c byte) bool {
	for _, x := range s {
		if x == c {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func hexVal(c byte) rune {
	switch {
	case c <= '9':
		return rune(c - '0')
	case c <= 'F':
		return rune(c-'A') + 10
	}
	return rune(c-'a') + 10
}

// getU4 decodes the \uXXXX escape at the start of s, or returns -1.
func getU4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		if !isHex(c) {
			return -1
		}
		r = r<<4 | hexVal(c)
	}
	return r
}

// unquoteJSON appends the decoded content of a string whose syntax
// scanString has validated. Like encoding/json it turns invalid UTF-8 and
// unpaired surrogates into U+FFFD.
func unquoteJSON(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := getU4(s[i:])
				i += 6
				if 0xd800 <= rr && rr < 0xdc00 {
					if lo := getU4(s[i:]); 0xdc00 <= lo && lo < 0xe000 {
						dst = utf8.AppendRune(dst, (rr-0xd800)<<10|(lo-0xdc00)+0x10000)
						i += 6
						continue
					}
					rr = utf8.RuneError
				} else if 0xdc00 <= rr && rr < 0xe000 {
					rr = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			rr, size := utf8.DecodeRune(s[i:])
			if rr == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

// scanNumber validates the number at r.pos and moves past it.
func (r *reader) scanNumber() error {
	data := r.data
	i := r.pos
	if data[i] == '-' {
		i++
	}
	if i >= len(data) {
		r.pos = i
		return r.unexpected()
	}
	switch c := data[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	default:
		r.pos = i
		return r.unexpected()
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			r.pos = i
			return r.unexpected()
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			r.pos = i
			return r.unexpected()
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	r.pos = i
	return nil
}

// scanLiteral consumes true, false or null and returns which.
func (r *reader) scanLiteral() (jsonKind, bool, error) {
	rest := r.data[r.pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		r.pos += 4
		return kindBool, true, nil
	case len(rest) >= 5 && string(rest[:5]) == "false":
		r.pos += 5
		return kindBool, false, nil
	case len(rest) >= 4 && string(rest[:4]) == "null":
		r.pos += 4
		r.sawNull = true
		return kindNull, false, nil
	}
	// Point at the first byte that breaks the literal.
	want := "null"
	switch rest[0] {
	case 't':
		want = "true"
	case 'f':
		want = "false"
	}
	for i := 0; i < len(want) && i < len(rest) && rest[i] == want[i]; i++ {
		r.pos++
	}
	return kindNone, false, r.unexpected()
}

// skipValue validates the value at r.pos and moves past it.
func (r *reader) skipValue() error {
	k, err := r.peek()
	if err != nil {
		return err
	}
	switch k {
	case kindString:
		_, _, _, err = r.scanString()
	case kindNumber:
		err = r.scanNumber()
	case kindBool, kindNull:
		_, _, err = r.scanLiteral()
	case kindArray:
		if err = r.open(); err != nil {
			return err
		}
		for first := true; ; first = false {
			ok, err := r.nextElem(first)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := r.skipValue(); err != nil {
				return err
			}
		}
	case kindObject:
		if err = r.open(); err != nil {
			return err
		}
		for first := true; ; first = false {
			_, ok, err := r.nextMemberRaw(first)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := r.skipValue(); err != nil {
				return err
			}
		}
	}
	return err
}

// rawValue validates the value at r.pos, moves past it and returns its
// text (without surrounding whitespace) and whether it contains a null.
func (r *reader) rawValue() (raw []byte, hasNull bool, err error) {
	r.skipWS()
	start := r.pos
	saw := r.sawNull
	r.sawNull = false
	err = r.skipValue()
	hasNull = r.sawNull
	r.sawNull = saw || hasNull
	if err != nil {
		return nil, false, err
	}
	return r.data[start:r.pos], hasNull, nil
}

// end checks that only whitespace follows the value just read.
func (r *reader) end() error {
	r.skipWS()
	if r.pos < len(r.data) {
		return errorf(400, InvalidSyntax, "the request body has data after the JSON value, at offset "+strconv.Itoa(r.pos))
	}
	return nil
}

// appendWithoutNulls appends the valid JSON value raw to dst with every
// null removed: object members whose value is null and null array elements
// (RFC 7643 §2.5: null is unassigned, so the meaning does not change). The
// result is compact. A top-level null appends nothing.
func appendWithoutNulls(dst, raw []byte) []byte {
	r := newReader(raw, len(raw)+1)
	return r.appendNoNulls(dst)
}

func (r *reader) appendNoNulls(dst []byte) []byte {
	k, err := r.peek()
	if err != nil {
		return dst
	}
	start := r.pos
	switch k {
	case kindNull:
		_, _, _ = r.scanLiteral()
	case kindArray:
		if r.open() != nil {
			return dst
		}
		dst = append(dst, '[')
		n := 0
		for first := true; ; first = false {
			ok, err := r.nextElem(first)
			if err != nil || !ok {
				break
			}
			if k, _ := r.peek(); k == kindNull {
				_ = r.skipValue()
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = r.appendNoNulls(dst)
		}
		dst = append(dst, ']')
	case kindObject:
		if r.open() != nil {
			return dst
		}
		dst = append(dst, '{')
		n := 0
		for first := true; ; first = false {
			key, ok, err := r.nextMemberRaw(first)
			if err != nil || !ok {
				break
			}
			if k, _ := r.peek(); k == kindNull {
				_ = r.skipValue()
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = append(dst, key...)
			dst = append(dst, ':')
			dst = r.appendNoNulls(dst)
		}
		dst = append(dst, '}')
	default:
		if r.skipValue() == nil {
			dst = append(dst, r.data[start:r.pos]...)
		}
	}
	return dst
}

// jsonEmpty reports whether the valid JSON value raw is unassigned in SCIM's
// sense (RFC 7643 §2.5): null, "", [] or {}.
func jsonEmpty(raw []byte) bool {
	r := newReader(raw, 2)
	k, err := r.peek()
	if err != nil {
		return true
	}
	switch k {
	case kindNull:
		return true
	case kindString:
		return r.pos+1 < len(raw) && raw[r.pos+1] == '"'
	case kindArray, kindObject:
		r.pos++
		r.skipWS()
		return r.pos < len(raw) && (raw[r.pos] == ']' || raw[r.pos] == '}')
	}
	return false
}
