package scim

import "unicode/utf8"

// appendJSONString appends s to b as a JSON string. It escapes what JSON
// requires and, as encoding/json does, <, > and & and the line separators
// U+2028 and U+2029, so that a response is safe to embed in HTML; invalid
// UTF-8 becomes U+FFFD. It is the encoder's hot path, hence no reflection,
// and it tests eight bytes at a time: most values (ids, names, e-mail
// addresses) are ASCII needing no escape, and are copied in one append.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && !needsEscape8(load64(s, i)) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// load64 returns the eight bytes of s at i as a little-endian word, which
// the compiler makes one load.
func load64[T text](s T, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// needsEscape8 reports whether any of the eight bytes of x is one that
// appendJSONString does not copy as it is: a control character, '"', '\\',
// '<', '>', '&', or a byte of a multi-byte (or invalid) UTF-8 sequence.
func needsEscape8(x uint64) bool {
	return (x|below8(x, 0x20)|zero8(x^('"'*ones8))|zero8(x^('\\'*ones8))|
		zero8(x^('<'*ones8))|zero8(x^('>'*ones8))|zero8(x^('&'*ones8)))&highs8 != 0
}

// stringStop8 reports whether any of the eight bytes of x is one that ends
// the reader's fast scan of a string: '"', '\\', a control character, or a
// byte of a multi-byte (or invalid) UTF-8 sequence.
func stringStop8(x uint64) bool {
	return (x|below8(x, 0x20)|zero8(x^('"'*ones8))|zero8(x^('\\'*ones8)))&highs8 != 0
}

// zero8 and below8 are the byte-wise tests of "Bit Twiddling Hacks" (has
// a zero byte; has a byte less than n, n <= 0x80): the high bit of some
// byte of the result is set if and only if some byte of x is zero (below
// n). The callers OR x itself in, whose high bits flag the bytes of 0x80
// and above, for which below8 does not answer.
const (
	ones8  = 0x0101010101010101
	highs8 = 0x8080808080808080
)

func zero8(x uint64) uint64 { return (x - ones8) &^ x }

func below8(x uint64, n byte) uint64 { return (x - uint64(n)*ones8) &^ x }
