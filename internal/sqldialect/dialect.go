// Package sqldialect is what the repository's SQL packages (sqlstore,
// oauth/oauthsql) share: the [Dialect] type whose constants both export
// (each package's Dialect is an alias of it), the rebinding of ?
// placeholders, and the runner of the numbered SQL migrations they embed:
// files named NNNN_name.sql, applied in version order, each recorded in a
// table of the package's own, so that Open upgrades a database by running
// what it has not run yet.
//
// It is internal to the repository: Go lets every module whose path starts
// with github.com/scimhost/scim import it, and no host.
package sqldialect

import (
	"strconv"
	"strings"
)

// Dialect is a SQL database the packages support.
type Dialect uint8

// The supported dialects. The zero Dialect is invalid.
const (
	// PostgreSQL, whose placeholders are $1, $2, ...
	PostgreSQL Dialect = iota + 1
	// SQLite, whose placeholders are ?.
	SQLite
)

// String returns "postgres" or "sqlite", the names of the packages'
// migration directories.
func (d Dialect) String() string {
	switch d {
	case PostgreSQL:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// Rebind turns the ? placeholders that the packages write their SQL with
// into d's: PostgreSQL's $1, $2, ...; SQLite's stay. The SQL must have no
// ? anywhere else (in a string literal, a comment, or PostgreSQL's jsonb
// operators).
func (d Dialect) Rebind(query string) string {
	if d != PostgreSQL || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}
