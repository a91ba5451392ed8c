package sqlstore

import (
	"strings"

	"github.com/scimhost/scim"
)

// fold maps s to its scim.FoldCase key: two strings get the same key exactly
// when strings.EqualFold says they are equal, and ASCII letters fold to lower
// case, so the *_fold columns read like lower() for ASCII. Folding in Go
// rather than with SQL lower() keeps PostgreSQL (locale-dependent lower) and
// SQLite (ASCII-only lower) in agreement with the in-memory evaluator.
func fold(s string) string { return scim.FoldCase(s) }

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
