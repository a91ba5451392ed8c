package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
)

// AdminStore keeps the workspace admin's settings in the database: SCIM
// tokens by hash, the sync switch and email domains, in the tables
// scim_admin_*. It implements [admin.TokenStore], [admin.SyncStore] and
// [admin.DomainStore] for every tenant at once (their methods name the
// tenant). Get one with [DB.AdminStore]; it is safe for concurrent use.
type AdminStore struct {
	db *DB
}

var (
	_ admin.TokenStore  = (*AdminStore)(nil)
	_ admin.SyncStore   = (*AdminStore)(nil)
	_ admin.DomainStore = (*AdminStore)(nil)
	_ admin.LogStore    = (*ProvisioningLog)(nil)
)

// AdminStore returns the admin settings store over db.
func (db *DB) AdminStore() *AdminStore { return &AdminStore{db: db} }

// nullTimeArg is t as a nullable column stores it: NULL for the zero time.
func (db *DB) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.timeArg(t.UTC().Truncate(time.Microsecond))
}

// nullTimeCol scans a nullable time column; NULL is the zero time.
type nullTimeCol struct{ t *time.Time }

func (c nullTimeCol) Scan(v any) error {
	if v == nil {
		*c.t = time.Time{}
		return nil
	}
	return timeCol(c).Scan(v)
}

// AddToken implements [admin.TokenStore].
func (s *AdminStore) AddToken(ctx context.Context, t admin.Token) error {
	_, err := s.db.exec(ctx, s.db.db, `INSERT INTO scim_admin_tokens (id, tenant, name, prefix, hash, created, last_used, revoked)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Tenant, t.Name, t.Prefix, t.Hash[:], s.db.timeArg(t.Created.UTC().Truncate(time.Microsecond)),
		s.db.nullTimeArg(t.LastUsed), s.db.nullTimeArg(t.Revoked))
	if err != nil {
		return fmt.Errorf("sqlstore: adding a token: %w", err)
	}
	return nil
}

const tokenColumns = "id, tenant, name, prefix, hash, created, last_used, revoked"

func scanToken(sc interface{ Scan(...any) error }) (admin.Token, error) {
	var t admin.Token
	var hash []byte
	err := sc.Scan(&t.ID, &t.Tenant, &t.Name, &t.Prefix, &hash, timeCol{&t.Created}, nullTimeCol{&t.LastUsed}, nullTimeCol{&t.Revoked})
	if err != nil {
		return t, err
	}
	if len(hash) != len(t.Hash) {
		return t, fmt.Errorf("sqlstore: token %s has a hash of %d bytes", t.ID, len(hash))
	}
	copy(t.Hash[:], hash)
	return t, nil
}

// ListTokens implements [admin.TokenStore].
func (s *AdminStore) ListTokens(ctx context.Context, tenant string) ([]admin.Token, error) {
	rows, err := s.db.query(ctx, s.db.db, "SELECT "+tokenColumns+" FROM scim_admin_tokens WHERE tenant = ? ORDER BY created, id", tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []admin.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken implements [admin.TokenStore].
func (s *AdminStore) RevokeToken(ctx context.Context, tenant, id string, at time.Time) error {
	res, err := s.db.exec(ctx, s.db.db, "UPDATE scim_admin_tokens SET revoked = COALESCE(revoked, ?) WHERE tenant = ? AND id = ?",
		s.db.timeArg(at.UTC().Truncate(time.Microsecond)), tenant, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("sqlstore: token %q: %w", id, scim.ErrNotFound)
	}
	return nil
}

// FindToken implements [admin.TokenStore]; it finds the token by the
// unique index on its hash.
func (s *AdminStore) FindToken(ctx context.Context, h scim.TokenHash) (admin.Token, error) {
	t, err := scanToken(s.db.db.QueryRowContext(ctx, s.db.rebind("SELECT "+tokenColumns+" FROM scim_admin_tokens WHERE hash = ?"), h[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return admin.Token{}, fmt.Errorf("sqlstore: token: %w", scim.ErrNotFound)
	}
	return t, err
}

// TouchToken implements [admin.TokenStore].
func (s *AdminStore) TouchToken(ctx context.Context, id string, at time.Time) error {
	a := s.db.timeArg(at.UTC().Truncate(time.Microsecond))
	_, err := s.db.exec(ctx, s.db.db, "UPDATE scim_admin_tokens SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used < ?)", a, id, a)
	return err
}

// SyncDisabled implements [admin.SyncStore].
func (s *AdminStore) SyncDisabled(ctx context.Context, tenant string) (bool, error) {
	var off bool
	err := s.db.queryRow(ctx, s.db.db, "SELECT disabled FROM scim_admin_sync WHERE tenant = ?", []any{tenant}, &off)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return off, err
}

// SetSyncDisabled implements [admin.SyncStore].
func (s *AdminStore) SetSyncDisabled(ctx context.Context, tenant string, disabled bool) error {
	_, err := s.db.exec(ctx, s.db.db, `INSERT INTO scim_admin_sync (tenant, disabled) VALUES (?, ?)
ON CONFLICT (tenant) DO UPDATE SET disabled = excluded.disabled`, tenant, disabled)
	return err
}

// AddDomain implements [admin.DomainStore].
func (s *AdminStore) AddDomain(ctx context.Context, d admin.Domain) error {
	_, err := s.db.exec(ctx, s.db.db, `INSERT INTO scim_admin_domains (tenant, name, token, added, verified, checked, check_error)
VALUES (?, ?, ?, ?, ?, ?, ?)`, d.Tenant, d.Name, d.Token, s.db.timeArg(d.Added.UTC().Truncate(time.Microsecond)),
		s.db.nullTimeArg(d.Verified), s.db.nullTimeArg(d.Checked), d.CheckError)
	if err != nil {
		return fmt.Errorf("sqlstore: adding domain %q: %w", d.Name, err)
	}
	return nil
}

const domainColumns = "tenant, name, token, added, verified, checked, check_error"

func scanDomain(sc interface{ Scan(...any) error }) (admin.Domain, error) {
	var d admin.Domain
	err := sc.Scan(&d.Tenant, &d.Name, &d.Token, timeCol{&d.Added}, nullTimeCol{&d.Verified}, nullTimeCol{&d.Checked}, &d.CheckError)
	return d, err
}

// ListDomains implements [admin.DomainStore].
func (s *AdminStore) ListDomains(ctx context.Context, tenant string) ([]admin.Domain, error) {
	rows, err := s.db.query(ctx, s.db.db, "SELECT "+domainColumns+" FROM scim_admin_domains WHERE tenant = ? ORDER BY name", tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []admin.Domain{}
	for rows.Next() {
		d, err := scanDomain(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// GetDomain implements [admin.DomainStore].
func (s *AdminStore) GetDomain(ctx context.Context, tenant, name string) (admin.Domain, error) {
	d, err := scanDomain(s.db.db.QueryRowContext(ctx, s.db.rebind("SELECT "+domainColumns+" FROM scim_admin_domains WHERE tenant = ? AND name = ?"), tenant, name))
	if errors.Is(err, sql.ErrNoRows) {
		return admin.Domain{}, fmt.Errorf("sqlstore: domain %q: %w", name, scim.ErrNotFound)
	}
	return d, err
}

// UpdateDomain implements [admin.DomainStore].
func (s *AdminStore) UpdateDomain(ctx context.Context, d admin.Domain) error {
	res, err := s.db.exec(ctx, s.db.db, "UPDATE scim_admin_domains SET verified = ?, checked = ?, check_error = ? WHERE tenant = ? AND name = ?",
		s.db.nullTimeArg(d.Verified), s.db.nullTimeArg(d.Checked), d.CheckError, d.Tenant, d.Name)
	return affectedOne(res, err, "domain", d.Name)
}

// RemoveDomain implements [admin.DomainStore].
func (s *AdminStore) RemoveDomain(ctx context.Context, tenant, name string) error {
	res, err := s.db.exec(ctx, s.db.db, "DELETE FROM scim_admin_domains WHERE tenant = ? AND name = ?", tenant, name)
	return affectedOne(res, err, "domain", name)
}

// affectedOne turns "no row changed" into ErrNotFound.
func affectedOne(res sql.Result, err error, what, name string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: %s %q: %w", what, name, scim.ErrNotFound)
	}
	return nil
}

// DeleteTenant removes the tenant's tokens, switch and domains, for
// offboarding a workspace; see also [ProvisioningLog.DeleteTenant].
func (s *AdminStore) DeleteTenant(ctx context.Context, tenant string) error {
	return s.db.write(ctx, func(q querier) error {
		for _, table := range []string{"scim_admin_tokens", "scim_admin_sync", "scim_admin_domains"} {
			if _, err := s.db.exec(ctx, q, "DELETE FROM "+table+" WHERE tenant = ?", tenant); err != nil {
				return err
			}
		}
		return nil
	})
}

// DefaultLogRetention is how long a [ProvisioningLog] keeps entries when
// given 0.
const DefaultLogRetention = 30 * 24 * time.Hour

// pruneEvery is how often Record deletes expired entries.
const pruneEvery = 10 * time.Minute

// ProvisioningLog is the provisioning log in the table scim_log: an
// [admin.LogStore] (so a [scim.LogSink]) for every tenant. Entries older
// than its retention are deleted by Record, at most every ten minutes, and
// by [ProvisioningLog.Prune]. Times are kept to the microsecond. Get one
// with [DB.ProvisioningLog]; it is safe for concurrent use.
type ProvisioningLog struct {
	db        *DB
	retention time.Duration

	mu        sync.Mutex
	lastPrune time.Time
}

// ProvisioningLog returns the log over db keeping entries for retention
// (0 means [DefaultLogRetention]).
func (db *DB) ProvisioningLog(retention time.Duration) *ProvisioningLog {
	if retention <= 0 {
		retention = DefaultLogRetention
	}
	return &ProvisioningLog{db: db, retention: retention}
}

// logInsertRows caps the rows of one INSERT: on SQLite, 15 arguments each
// stays under its default limit of 32766; on PostgreSQL it bounds the
// arrays' size.
const logInsertRows = 500

// Record implements [scim.LogSink]: the batch is inserted in one
// transaction; a batch of one INSERT's rows is that statement alone,
// atomic without BEGIN and COMMIT, on both dialects (on SQLite it queues
// for the write lock as every write does).
//
// On PostgreSQL the INSERT is one statement whatever the number of rows:
// each column's values come as one array, which unnest turns into rows. A
// VALUES list of the batch's rows would be a statement of its own for
// each batch size, up to logInsertRows of them, each of which the driver
// keeps prepared on every connection, with its plan for up to 7,500
// arguments, and which PostgreSQL plans anew at each of its first five
// runs. (Over loopback, the demo's requests/s were the same with either.)
// On SQLite the rows are a VALUES list (see logInsertValues).
func (l *ProvisioningLog) Record(ctx context.Context, entries []scim.LogEntry) error {
	db := l.db
	write := db.write
	if len(entries) <= logInsertRows {
		write = db.writeStmt
	}
	err := write(ctx, func(q querier) error {
		for len(entries) > 0 {
			n := min(len(entries), logInsertRows)
			query, args := db.logInsert(entries[:n])
			if _, err := db.exec(ctx, q, query, args...); err != nil {
				return err
			}
			entries = entries[n:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: recording the provisioning log: %w", err)
	}
	l.mu.Lock()
	due := time.Since(l.lastPrune) >= pruneEvery
	if due {
		l.lastPrune = time.Now()
	}
	l.mu.Unlock()
	if due {
		if _, err := l.Prune(ctx, db.now().Add(-l.retention)); err != nil {
			return err
		}
	}
	return nil
}

// clean makes s storable: PostgreSQL refuses NUL bytes and invalid UTF-8,
// which a client's User-Agent or an id in a path may carry.
func clean(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func joinEvents(ks []scim.EventKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

const logColumns = "tenant, at, client, user_agent, method, path, query, status, scim_type, detail, resource_type, resource_id, events, probe, duration_ns"

// logInsert is the INSERT of entries into scim_log and its arguments (see
// Record).
func (db *DB) logInsert(entries []scim.LogEntry) (string, []any) {
	if db.dialect == PostgreSQL {
		return logInsertArrays(entries)
	}
	return logInsertValues(entries)
}

// logInsertArrays is logInsert on PostgreSQL: each column's values as the
// text of an array literal, an argument of type text cast to the column's
// array type, so that it needs nothing of the driver.
func logInsertArrays(entries []scim.LogEntry) (string, []any) {
	var cols [15][]byte
	for i, e := range entries {
		texts := [...]string{e.Tenant, "", clean(e.Client), clean(e.UserAgent), clean(e.Method), clean(e.Path), clean(e.Query),
			"", string(e.Type), clean(e.Detail), e.ResourceType, clean(e.ResourceID), joinEvents(e.Events)}
		for c := range cols {
			if i == 0 {
				cols[c] = append(cols[c], '{')
			} else {
				cols[c] = append(cols[c], ',')
			}
			switch c {
			case 1:
				cols[c] = e.Time.UTC().Truncate(time.Microsecond).AppendFormat(cols[c], "2006-01-02T15:04:05.999999Z")
			case 7:
				cols[c] = strconv.AppendInt(cols[c], int64(e.Status), 10)
			case 13:
				cols[c] = strconv.AppendBool(cols[c], e.Probe)
			case 14:
				cols[c] = strconv.AppendInt(cols[c], int64(e.Duration), 10)
			default:
				cols[c] = appendArrayElement(cols[c], texts[c])
			}
		}
	}
	args := make([]any, len(cols))
	for c := range cols {
		args[c] = string(append(cols[c], '}'))
	}
	return `INSERT INTO scim_log (` + logColumns + `) SELECT * FROM unnest(CAST(? AS text)::text[],
	CAST(? AS text)::timestamptz[], CAST(? AS text)::text[], CAST(? AS text)::text[], CAST(? AS text)::text[],
	CAST(? AS text)::text[], CAST(? AS text)::text[], CAST(? AS text)::integer[], CAST(? AS text)::text[],
	CAST(? AS text)::text[], CAST(? AS text)::text[], CAST(? AS text)::text[], CAST(? AS text)::text[],
	CAST(? AS text)::boolean[], CAST(? AS text)::bigint[])`, args
}

// appendArrayElement appends s as an element of a PostgreSQL array
// literal: quoted, with its quotes and backslashes escaped, so that no
// text (an empty one, one reading NULL, one with braces or commas) is
// taken for anything but itself.
func appendArrayElement(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// logInsertValues is logInsert on SQLite: a VALUES list of the rows,
// their values as arguments. SQLite prepares the statement once for each
// number of rows (sqlstore keeps its statements prepared); reading the
// rows from one JSON argument with json_each, one statement for every
// batch as on PostgreSQL, made the demo's requests/s over loopback 7 %
// lower.
func logInsertValues(entries []scim.LogEntry) (string, []any) {
	var b strings.Builder
	b.WriteString("INSERT INTO scim_log (" + logColumns + ") VALUES ")
	args := make([]any, 0, len(entries)*15)
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, e.Tenant, e.Time.UTC().Truncate(time.Microsecond).UnixMicro(), clean(e.Client), clean(e.UserAgent),
			clean(e.Method), clean(e.Path), clean(e.Query), e.Status, string(e.Type), clean(e.Detail), e.ResourceType,
			clean(e.ResourceID), joinEvents(e.Events), e.Probe, int64(e.Duration))
	}
	return b.String(), args
}

// Prune deletes the entries older than before and returns how many.
func (l *ProvisioningLog) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := l.db.exec(ctx, l.db.db, "DELETE FROM scim_log WHERE at < ?", l.db.timeArg(before.UTC().Truncate(time.Microsecond)))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: pruning the provisioning log: %w", err)
	}
	return res.RowsAffected()
}

// ListLog implements [admin.LogStore].
func (l *ProvisioningLog) ListLog(ctx context.Context, tenant string, f admin.LogFilter) ([]scim.LogEntry, error) {
	db := l.db
	var b strings.Builder
	b.WriteString("SELECT tenant, at, client, user_agent, method, path, query, status, scim_type, detail, resource_type, resource_id, events, probe, duration_ns FROM scim_log WHERE tenant = ?")
	args := []any{tenant}
	if f.FailuresOnly {
		b.WriteString(" AND status >= 400")
	}
	if f.ProbesOnly {
		b.WriteString(" AND probe = ?")
		args = append(args, true)
	}
	if f.ResourceType != "" {
		b.WriteString(" AND resource_type = ?")
		args = append(args, f.ResourceType)
	}
	if f.Client != "" {
		b.WriteString(" AND (client = ? OR user_agent = ?)")
		args = append(args, f.Client, f.Client)
	}
	if !f.Before.IsZero() {
		b.WriteString(" AND at < ?")
		args = append(args, db.timeArg(f.Before.UTC().Truncate(time.Microsecond)))
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = admin.DefaultLogLimit
	case limit > admin.MaxLogLimit:
		limit = admin.MaxLogLimit
	}
	b.WriteString(" ORDER BY at DESC, seq DESC LIMIT " + db.limitParam())
	args = append(args, limit)
	rows, err := db.query(ctx, db.db, b.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []scim.LogEntry{}
	for rows.Next() {
		var e scim.LogEntry
		var typ, events string
		var dur int64
		if err := rows.Scan(&e.Tenant, timeCol{&e.Time}, &e.Client, &e.UserAgent, &e.Method, &e.Path, &e.Query, &e.Status, &typ,
			&e.Detail, &e.ResourceType, &e.ResourceID, &events, &e.Probe, &dur); err != nil {
			return nil, err
		}
		e.Type, e.Duration = scim.ErrorType(typ), time.Duration(dur)
		if events != "" {
			for k := range strings.SplitSeq(events, ",") {
				e.Events = append(e.Events, scim.EventKind(k))
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// LogClients implements [admin.LogStore], over the newest 10,000 entries.
func (l *ProvisioningLog) LogClients(ctx context.Context, tenant string) ([]string, error) {
	// Byte order on both dialects, as Go sorts.
	order := "c"
	if l.db.dialect == PostgreSQL {
		order = `c COLLATE "C"`
	}
	rows, err := l.db.query(ctx, l.db.db, `SELECT c FROM (
	SELECT CASE WHEN client <> '' THEN client ELSE user_agent END AS c FROM scim_log
	WHERE tenant = ? ORDER BY at DESC LIMIT 10000) recent WHERE c <> '' GROUP BY c ORDER BY `+order+` LIMIT 50`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteTenant removes the tenant's log entries.
func (l *ProvisioningLog) DeleteTenant(ctx context.Context, tenant string) error {
	_, err := l.db.exec(ctx, l.db.db, "DELETE FROM scim_log WHERE tenant = ?", tenant)
	return err
}

// DB returns the database s stores in, for the stores that sit beside it
// ([DB.AdminStore], [DB.ProvisioningLog]).
func (s *Store) DB() *DB { return s.db }
