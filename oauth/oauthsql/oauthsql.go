// Package oauthsql keeps the OAuth clients and secrets of package
// github.com/scimhost/scim/oauth in PostgreSQL or SQLite, over
// database/sql, so that every replica of a host sees the same clients and a
// revocation made on one holds on all.
//
//	sqlDB, _ := sql.Open("pgx", os.Getenv("DATABASE_URL"))
//	storage, err := oauthsql.Open(ctx, sqlDB, oauthsql.PostgreSQL)
//	srv, err := oauth.New(storage, oauth.Options{...})
//
// The host brings the driver, as for package sqlstore: pgx v5
// (github.com/jackc/pgx/v5/stdlib, driver "pgx") and modernc.org/sqlite
// (driver "sqlite", with the DSN of sqlstore.SQLiteDSN or one with a
// busy_timeout) are the tested ones. The package itself imports neither.
//
// # Tables
//
// [Open] creates or upgrades the tables scim_oauth_clients and
// scim_oauth_secrets, in the connection's current schema, recording what it
// ran in scim_oauth_schema_migrations: apart from sqlstore's scim_* tables,
// so the two packages upgrade independently in one database. Open is safe
// to run from many processes at once: on PostgreSQL the migrations run in
// one transaction under an advisory lock, on SQLite in one BEGIN IMMEDIATE
// transaction. Times are stored as microseconds since 1970 UTC. Secrets are
// stored as their SHA-256 only.
//
// This package lives in the oauth module rather than in sqlstore so that a
// host using sqlstore without OAuth never downloads a JOSE library, and a
// host using OAuth with its own SCIM store needs no sqlstore.
package oauthsql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/scimhost/scim/internal/sqldialect"
	"github.com/scimhost/scim/oauth"
)

// Dialect is the SQL database behind a [Storage]. It is the same type as
// sqlstore.Dialect. Its String method returns "postgres" or "sqlite".
type Dialect = sqldialect.Dialect

// The supported dialects. The zero Dialect is invalid.
const (
	// PostgreSQL 12 or later, through a driver whose errors have a
	// SQLState() string method (pgx v5's stdlib, lib/pq).
	PostgreSQL = sqldialect.PostgreSQL
	// SQLite 3.35 or later through modernc.org/sqlite.
	SQLite = sqldialect.SQLite
)

// Storage is an [oauth.Storage] in a SQL database. Make one with [Open]. It
// is safe for concurrent use, from any number of processes sharing the
// database, and does not own the *sql.DB it was given.
type Storage struct {
	db      *sql.DB
	dialect Dialect
}

var _ oauth.Storage = (*Storage)(nil)

// Open prepares db to keep OAuth clients in dialect, running the migrations
// the database has not run yet (see the package documentation). It returns
// an error when dialect is not one of the constants, the database cannot be
// reached, or its schema is newer than this package.
func Open(ctx context.Context, db *sql.DB, dialect Dialect) (*Storage, error) {
	if db == nil {
		return nil, errors.New("oauthsql: Open: nil *sql.DB")
	}
	if dialect != PostgreSQL && dialect != SQLite {
		return nil, fmt.Errorf("oauthsql: Open: unknown dialect %v", dialect)
	}
	s := &Storage{db: db, dialect: dialect}
	if err := s.migrate(ctx); err != nil {
		return nil, fmt.Errorf("oauthsql: migrating the %v schema: %w", dialect, err)
	}
	return s, nil
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Storage) rebind(q string) string { return s.dialect.Rebind(q) }

func (s *Storage) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	r, err := q.ExecContext(ctx, s.rebind(query), args...)
	return r, s.mapErr(err)
}

// mapErr turns uniqueness violations into oauth.ErrExists and foreign key
// violations into oauth.ErrNotFound, keeping the driver's error for logs.
func (s *Storage) mapErr(err error) error {
	if err == nil {
		return nil
	}
	switch s.dialect {
	case PostgreSQL:
		var e interface{ SQLState() string }
		if errors.As(err, &e) {
			switch e.SQLState() {
			case "23505":
				return fmt.Errorf("%w: %w", oauth.ErrExists, err)
			case "23503":
				return fmt.Errorf("%w: %w", oauth.ErrNotFound, err)
			}
		}
	case SQLite:
		var e interface{ Code() int }
		if errors.As(err, &e) && (e.Code() == 2067 || e.Code() == 1555) {
			return fmt.Errorf("%w: %w", oauth.ErrExists, err)
		}
	}
	return err
}

// storable reports whether v can be in a PostgreSQL text column, which
// refuses NUL bytes and invalid UTF-8: no stored id equals such a string.
func (s *Storage) storable(vs ...string) bool {
	if s.dialect != PostgreSQL {
		return true
	}
	for _, v := range vs {
		if strings.IndexByte(v, 0) >= 0 || !utf8Valid(v) {
			return false
		}
	}
	return true
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullable(s string, set bool) any {
	if !set {
		return nil
	}
	return s
}

// CreateClient implements [oauth.ClientStorage].
func (s *Storage) CreateClient(ctx context.Context, c oauth.Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	f, has := oauth.Federation{}, c.Federation != nil
	if has {
		f = *c.Federation
	}
	_, err := s.exec(ctx, s.db, `INSERT INTO scim_oauth_clients
	(id, tenant, name, disabled, fed_issuer, fed_jwks_url, fed_subject, fed_audience, created)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Tenant, c.Name, c.Disabled, nullable(f.Issuer, has), nullable(f.JWKSURL, has),
		nullable(f.Subject, has), nullable(f.Audience, has), micros(c.Created))
	return err
}

const clientColumns = `id, tenant, name, disabled, fed_issuer, fed_jwks_url, fed_subject, fed_audience, created`

func scanClient(scan func(...any) error) (oauth.Client, error) {
	var (
		c                 oauth.Client
		iss, jwks, sb, au sql.NullString
		created           int64
	)
	if err := scan(&c.ID, &c.Tenant, &c.Name, &c.Disabled, &iss, &jwks, &sb, &au, &created); err != nil {
		return c, err
	}
	if iss.Valid {
		c.Federation = &oauth.Federation{Issuer: iss.String, JWKSURL: jwks.String, Subject: sb.String, Audience: au.String}
	}
	c.Created = fromMicros(created)
	return c, nil
}

// Client implements [oauth.ClientStorage].
func (s *Storage) Client(ctx context.Context, id string) (oauth.Client, error) {
	if !s.storable(id) {
		return oauth.Client{}, oauth.ErrNotFound
	}
	row := s.db.QueryRowContext(ctx, s.rebind(`SELECT `+clientColumns+` FROM scim_oauth_clients WHERE id = ?`), id)
	c, err := scanClient(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return oauth.Client{}, oauth.ErrNotFound
	}
	return c, err
}

// UpdateClient implements [oauth.ClientStorage].
func (s *Storage) UpdateClient(ctx context.Context, c oauth.Client) error {
	if !s.storable(c.ID) {
		return oauth.ErrNotFound
	}
	f, has := oauth.Federation{}, c.Federation != nil
	if has {
		f = *c.Federation
	}
	r, err := s.exec(ctx, s.db, `UPDATE scim_oauth_clients SET name = ?, disabled = ?,
	fed_issuer = ?, fed_jwks_url = ?, fed_subject = ?, fed_audience = ? WHERE id = ?`,
		c.Name, c.Disabled, nullable(f.Issuer, has), nullable(f.JWKSURL, has),
		nullable(f.Subject, has), nullable(f.Audience, has), c.ID)
	return affected(r, err)
}

// affected returns ErrNotFound when a statement changed no row.
func affected(r sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return oauth.ErrNotFound
	}
	return nil
}

// DeleteClient implements [oauth.ClientStorage].
func (s *Storage) DeleteClient(ctx context.Context, id string) error {
	if !s.storable(id) {
		return oauth.ErrNotFound
	}
	return s.write(ctx, func(q querier) error {
		// SQLite enforces no foreign keys unless each connection asks,
		// so the secrets are deleted here rather than by the cascade.
		if _, err := s.exec(ctx, q, `DELETE FROM scim_oauth_secrets WHERE client_id = ?`, id); err != nil {
			return err
		}
		r, err := s.exec(ctx, q, `DELETE FROM scim_oauth_clients WHERE id = ?`, id)
		return affected(r, err)
	})
}

// Clients implements [oauth.ClientStorage].
func (s *Storage) Clients(ctx context.Context, tenant string) ([]oauth.Client, error) {
	if !s.storable(tenant) {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT `+clientColumns+` FROM scim_oauth_clients WHERE tenant = ? ORDER BY created, id`), tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []oauth.Client
	for rows.Next() {
		c, err := scanClient(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddSecret implements [oauth.SecretStorage].
func (s *Storage) AddSecret(ctx context.Context, sec oauth.Secret) error {
	if sec.ID == "" {
		return errors.New("oauthsql: empty secret id")
	}
	if !s.storable(sec.ClientID, sec.ID) {
		return oauth.ErrNotFound
	}
	// One statement: the client's existence and the insert are one atomic
	// step (on PostgreSQL the foreign key also holds against a concurrent
	// delete).
	q := `INSERT INTO scim_oauth_secrets (client_id, id, hash, created, expires, revoked)
	SELECT ?, ?, ?, ?, ?, NULL WHERE EXISTS (SELECT 1 FROM scim_oauth_clients WHERE id = ?)`
	if s.dialect == PostgreSQL {
		// A SELECT list gives its parameters no type of their own.
		q = `INSERT INTO scim_oauth_secrets (client_id, id, hash, created, expires, revoked)
	SELECT ?::text, ?::text, ?::bytea, ?::bigint, ?::bigint, NULL WHERE EXISTS (SELECT 1 FROM scim_oauth_clients WHERE id = ?::text)`
	}
	r, err := s.exec(ctx, s.db, q,
		sec.ClientID, sec.ID, sec.Hash[:], micros(sec.Created), micros(sec.Expires), sec.ClientID)
	if err := affected(r, err); err != nil {
		return err
	}
	if !sec.Revoked.IsZero() {
		return s.RevokeSecret(ctx, sec.ClientID, sec.ID, sec.Revoked)
	}
	return nil
}

// Secrets implements [oauth.SecretStorage].
func (s *Storage) Secrets(ctx context.Context, clientID string) ([]oauth.Secret, error) {
	if !s.storable(clientID) {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT id, hash, created, expires, revoked FROM scim_oauth_secrets
	WHERE client_id = ? ORDER BY created, id`), clientID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []oauth.Secret
	for rows.Next() {
		var (
			sec              = oauth.Secret{ClientID: clientID}
			hash             []byte
			created, expires int64
			revoked          sql.NullInt64
		)
		if err := rows.Scan(&sec.ID, &hash, &created, &expires, &revoked); err != nil {
			return nil, err
		}
		if len(hash) != len(sec.Hash) {
			return nil, fmt.Errorf("oauthsql: secret %s of client %s: hash of %d bytes", sec.ID, clientID, len(hash))
		}
		copy(sec.Hash[:], hash)
		sec.Created, sec.Expires = fromMicros(created), fromMicros(expires)
		if revoked.Valid {
			sec.Revoked = fromMicros(revoked.Int64)
		}
		out = append(out, sec)
	}
	return out, rows.Err()
}

// RevokeSecret implements [oauth.SecretStorage].
func (s *Storage) RevokeSecret(ctx context.Context, clientID, secretID string, at time.Time) error {
	if !s.storable(clientID, secretID) {
		return oauth.ErrNotFound
	}
	// COALESCE keeps the first revocation; the row still counts as
	// affected, so a secret already revoked is no ErrNotFound.
	r, err := s.exec(ctx, s.db, `UPDATE scim_oauth_secrets SET revoked = COALESCE(revoked, ?) WHERE client_id = ? AND id = ?`,
		micros(at), clientID, secretID)
	return affected(r, err)
}

// DeleteSecret implements [oauth.SecretStorage].
func (s *Storage) DeleteSecret(ctx context.Context, clientID, secretID string) error {
	if !s.storable(clientID, secretID) {
		return oauth.ErrNotFound
	}
	r, err := s.exec(ctx, s.db, `DELETE FROM scim_oauth_secrets WHERE client_id = ? AND id = ?`, clientID, secretID)
	return affected(r, err)
}

// write runs fn in one write transaction: on PostgreSQL an ordinary one,
// on SQLite BEGIN IMMEDIATE on a connection of its own (a deferred
// transaction's upgrade to writing fails at once when another writer got
// in first, busy_timeout or not).
func (s *Storage) write(ctx context.Context, fn func(q querier) error) error {
	if s.dialect == PostgreSQL {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if err := fn(tx); err != nil {
			return err
		}
		return s.mapErr(tx.Commit())
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		var e interface{ Code() int }
		if err == nil || !errors.As(err, &e) || e.Code()&0xff != 5 { // SQLITE_BUSY
			break
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				// Still inside the transaction, maybe: do not pool it.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
	}()
	if err := fn(conn); err != nil {
		return err
	}
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		return s.mapErr(err)
	}
	done = true
	return nil
}

//go:embed migrations
var migrations embed.FS

// loadMigrations returns the dialect's migrations in version order.
func loadMigrations(d Dialect) ([]sqldialect.Migration, error) {
	return sqldialect.Load(migrations, path.Join("migrations", d.String()))
}

// migrationLock is the PostgreSQL advisory lock key that serialises these
// migrations: "scimoaut" in ASCII, apart from sqlstore's key.
const migrationLock = 0x7363696d6f617574

func (s *Storage) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		if s.dialect == PostgreSQL {
			if _, err := s.exec(ctx, q, "SELECT pg_advisory_xact_lock(?)", int64(migrationLock)); err != nil {
				return err
			}
		}
		return sqldialect.Apply(ctx, q, s.dialect, "scim_oauth_schema_migrations", ms, time.Now())
	})
}
