// Package sqlstore is a scim.Store for PostgreSQL and SQLite over
// database/sql.
package sqlstore
