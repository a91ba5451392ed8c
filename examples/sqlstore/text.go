package sqlstore

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fold maps s to a key under which two strings are equal exactly when
// strings.EqualFold says they are: every rune becomes one fixed member of its
// simple case-folding orbit (the smallest lower-case member, else the
// smallest). ASCII letters fold to lower case, so the *_fold columns read
// like lower(). Folding in Go rather than with SQL lower() keeps PostgreSQL
// (locale-dependent lower) and SQLite (ASCII-only lower) in agreement with
// the in-memory evaluator.
func fold(s string) string {
	ascii := true
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if ascii {
		if !upper {
			return s
		}
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune returns the representative of r's simple case-folding orbit.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	lowest, lowestLower := r, rune(-1)
	for x := r; ; {
		if x < lowest {
			lowest = x
		}
		if unicode.IsLower(x) && (lowestLower < 0 || x < lowestLower) {
			lowestLower = x
		}
		if x = unicode.SimpleFold(x); x == r {
			break
		}
	}
	if lowestLower >= 0 {
		return lowestLower
	}
	return lowest
}

// likeEscape escapes s for use inside a LIKE pattern whose ESCAPE character
// is a backslash, so that % and _ in a client's value match themselves.
func likeEscape(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '%', '_':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// globEscape escapes s for SQLite's GLOB, which is case-sensitive where
// SQLite's LIKE is not: each of * ? [ is wrapped in a bracket expression.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 6)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteByte(c)
			b.WriteByte(']')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// newID returns a random UUID (version 4) in its canonical lower-case text
// form: Entra ID and most clients expect a GUID-shaped id.
func newID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails: since Go 1.24 it crashes instead
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
