package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// ProvisioningLog is the provisioning log in the table scim_log_batches:
// an [admin.LogStore] (so a [scim.LogSink]) for every tenant. Each row
// holds the entries of one tenant from one Record call (a batch of the
// [scim.LogQueue], typically a few dozen entries under load), as one JSON
// text, beside their newest and oldest times and their counts of entries,
// failures and probes; beside the primary key, two indexes serve the
// queries, one by tenant and newest time, one by oldest time for pruning.
// One row per entry cost every SCIM request a heap row and three index
// entries more (on SQLite under its single write lock); a row per batch
// costs a few dozen requests one (docs/performance.md has the loopback
// measurements). PostgreSQL compresses the JSON text with lz4 when the
// server has it, in about a third of pglz's time for the same size.
// [ProvisioningLog.ListLog] and
// [ProvisioningLog.LogClients] decode the rows they read, newest first, as
// far as their answer needs.
//
// Entries older than its retention are deleted by Record, at most every
// ten minutes, and by [ProvisioningLog.Prune]. Times are kept to the
// microsecond. Get one with [DB.ProvisioningLog]; it is safe for
// concurrent use.
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

// logRowEntries caps the entries of one row of scim_log_batches: a larger
// batch of one tenant is stored as several rows, so that a query decodes
// at most that many entries for each row it reads.
const logRowEntries = 1000

// logInsert is the one statement Record runs for each row, whatever the
// number of entries in it.
const logInsert = "INSERT INTO scim_log_batches (tenant, newest, oldest, n, failures, probes, entries) VALUES (?, ?, ?, ?, ?, ?, ?)"

// Record implements [scim.LogSink]: the entries of each tenant in the
// batch are one row of scim_log_batches (see [ProvisioningLog]), inserted
// by one INSERT of seven arguments whatever the batch's size. A batch of
// one row is that statement alone, atomic without BEGIN and COMMIT on both
// dialects (on SQLite it queues for the write lock as every write does); a
// batch of several rows is one transaction. The rows are encoded before
// the write, so that SQLite's write lock is held only for the INSERTs.
func (l *ProvisioningLog) Record(ctx context.Context, entries []scim.LogEntry) error {
	db := l.db
	var rows [][]any
	for _, g := range groupByTenant(entries) {
		for len(g) > 0 {
			n := min(len(g), logRowEntries)
			rows = append(rows, db.logRowArgs(g[:n]))
			g = g[n:]
		}
	}
	if len(rows) > 0 {
		write := db.write
		if len(rows) == 1 {
			write = db.writeStmt
		}
		err := write(ctx, func(q querier) error {
			for _, args := range rows {
				if _, err := db.exec(ctx, q, logInsert, args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("sqlstore: recording the provisioning log: %w", err)
		}
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

// groupByTenant returns entries grouped by tenant, each group in the
// batch's order; a batch of one tenant, the usual case, is returned as it
// is.
func groupByTenant(entries []scim.LogEntry) [][]scim.LogEntry {
	if len(entries) == 0 {
		return nil
	}
	one := true
	for i := range entries {
		if entries[i].Tenant != entries[0].Tenant {
			one = false
			break
		}
	}
	if one {
		return [][]scim.LogEntry{entries}
	}
	var groups [][]scim.LogEntry
	index := map[string]int{}
	for _, e := range entries {
		i, ok := index[e.Tenant]
		if !ok {
			i = len(groups)
			index[e.Tenant] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], e)
	}
	return groups
}

// logRowArgs returns the arguments of logInsert for entries, all of one
// tenant.
func (db *DB) logRowArgs(entries []scim.LogEntry) []any {
	text, sum := encodeLogEntries(entries)
	return []any{entries[0].Tenant, db.timeArg(sum.newest), db.timeArg(sum.oldest), sum.n, sum.failures, sum.probes, text}
}

// logSummary is what a row of scim_log_batches says of its entries.
type logSummary struct {
	newest, oldest      time.Time
	n, failures, probes int
}

// encodeLogEntries returns the entries column of entries (a JSON array of
// them, each an array of its fields in the order the migration
// 0051_log_batches describes) and their summary; entries is not empty.
func encodeLogEntries(entries []scim.LogEntry) (string, logSummary) {
	var sum logSummary
	b := make([]byte, 0, 2+160*len(entries))
	b = append(b, '[')
	for i := range entries {
		e := &entries[i]
		at := e.Time.UTC().Truncate(time.Microsecond)
		if i == 0 || at.After(sum.newest) {
			sum.newest = at
		}
		if i == 0 || at.Before(sum.oldest) {
			sum.oldest = at
		}
		sum.n++
		if e.Failed() {
			sum.failures++
		}
		if e.Probe {
			sum.probes++
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, at.UnixMicro(), 10)
		for _, s := range [...]string{e.Client, e.UserAgent, e.Method, e.Path, e.Query} {
			b = appendJSONString(append(b, ','), clean(s))
		}
		b = strconv.AppendInt(append(b, ','), int64(e.Status), 10)
		for _, s := range [...]string{string(e.Type), e.Detail, e.ResourceType, e.ResourceID, joinEvents(e.Events)} {
			b = appendJSONString(append(b, ','), clean(s))
		}
		if e.Probe {
			b = append(b, ",1,"...)
		} else {
			b = append(b, ",0,"...)
		}
		b = strconv.AppendInt(b, int64(e.Duration), 10)
		b = append(b, ']')
	}
	return string(append(b, ']')), sum
}

// appendJSONString appends s, valid UTF-8, as a JSON string, escaped as
// encoding/json escapes it. Most of a log entry's strings (methods, paths,
// ids, a client's name) are printable ASCII that encoding/json leaves as
// it is, and are appended between quotes without its allocation.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s) // a string always encodes
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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

// logDecoder reads an entries column: the JSON that encodeLogEntries
// writes, or that the migration's json_agg or json_group_array wrote
// (which may put spaces between values).
type logDecoder struct {
	s   string
	i   int
	err error
}

func (d *logDecoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("malformed entries at byte %d", d.i)
	}
}

func (d *logDecoder) space() {
	for d.i < len(d.s) && (d.s[d.i] == ' ' || d.s[d.i] == '\n' || d.s[d.i] == '\t' || d.s[d.i] == '\r') {
		d.i++
	}
}

// next reports whether c comes next, and skips it if so.
func (d *logDecoder) next(c byte) bool {
	d.space()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *logDecoder) want(c byte) {
	if !d.next(c) {
		d.fail()
	}
}

func (d *logDecoder) int() int64 {
	d.space()
	j := d.i
	for j < len(d.s) && (d.s[j] == '-' || d.s[j] >= '0' && d.s[j] <= '9') {
		j++
	}
	n, err := strconv.ParseInt(d.s[d.i:j], 10, 64)
	if err != nil {
		d.fail()
		return 0
	}
	d.i = j
	return n
}

func (d *logDecoder) str() string {
	d.space()
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		d.fail()
		return ""
	}
	escaped := false
	for j := d.i + 1; j < len(d.s); j++ {
		switch d.s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			tok := d.s[d.i : j+1]
			d.i = j + 1
			if !escaped {
				return tok[1 : len(tok)-1]
			}
			var s string
			if err := json.Unmarshal([]byte(tok), &s); err != nil {
				d.fail()
			}
			return s
		}
	}
	d.i = len(d.s)
	d.fail()
	return ""
}

// decodeLogEntries returns the entries of an entries column, of tenant.
func decodeLogEntries(tenant, text string) ([]scim.LogEntry, error) {
	d := &logDecoder{s: text}
	var out []scim.LogEntry
	d.want('[')
	for first := true; d.err == nil && !d.next(']'); first = false {
		if !first {
			d.want(',')
		}
		var e scim.LogEntry
		e.Tenant = tenant
		d.want('[')
		e.Time = time.UnixMicro(d.int()).UTC()
		for _, p := range [...]*string{&e.Client, &e.UserAgent, &e.Method, &e.Path, &e.Query} {
			d.want(',')
			*p = d.str()
		}
		d.want(',')
		e.Status = int(d.int())
		var typ, events string
		for _, p := range [...]*string{&typ, &e.Detail, &e.ResourceType, &e.ResourceID, &events} {
			d.want(',')
			*p = d.str()
		}
		d.want(',')
		e.Probe = d.int() != 0
		d.want(',')
		e.Duration = time.Duration(d.int())
		d.want(']')
		e.Type = scim.ErrorType(typ)
		if events != "" {
			for k := range strings.SplitSeq(events, ",") {
				e.Events = append(e.Events, scim.EventKind(k))
			}
		}
		out = append(out, e)
	}
	if d.err == nil {
		if d.space(); d.i != len(d.s) {
			d.fail()
		}
	}
	return out, d.err
}

// Prune deletes the entries older than before and returns how many: the
// rows whose newest entry is, and the rows holding entries on both sides
// of before rewritten with the newer ones only. It runs in one
// transaction; a row another Prune rewrote meanwhile is left to it.
func (l *ProvisioningLog) Prune(ctx context.Context, before time.Time) (int64, error) {
	db := l.db
	before = before.UTC().Truncate(time.Microsecond)
	b := db.timeArg(before)
	var removed int64
	err := db.write(ctx, func(q querier) error {
		rows, err := db.query(ctx, q, "DELETE FROM scim_log_batches WHERE oldest < ? AND newest < ? RETURNING n", b, b)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			removed += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		type straddler struct {
			seq     int64
			n       int
			entries string
		}
		var ss []straddler
		rows, err = db.query(ctx, q, "SELECT seq, n, entries FROM scim_log_batches WHERE oldest < ? AND newest >= ?", b, b)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s straddler
			if err := rows.Scan(&s.seq, &s.n, &s.entries); err != nil {
				rows.Close()
				return err
			}
			ss = append(ss, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, s := range ss {
			es, err := decodeLogEntries("", s.entries)
			if err != nil {
				return fmt.Errorf("row %d: %w", s.seq, err)
			}
			kept := slices.DeleteFunc(es, func(e scim.LogEntry) bool { return e.Time.Before(before) })
			if len(kept) == 0 { // not a straddler after all: its newest is not before
				continue
			}
			text, sum := encodeLogEntries(kept)
			res, err := db.exec(ctx, q, "UPDATE scim_log_batches SET oldest = ?, n = ?, failures = ?, probes = ?, entries = ? WHERE seq = ? AND n = ?",
				db.timeArg(sum.oldest), sum.n, sum.failures, sum.probes, text, s.seq, s.n)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil {
				return err
			} else if k == 1 {
				removed += int64(s.n - sum.n)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: pruning the provisioning log: %w", err)
	}
	return removed, nil
}

// logPage bounds the rows one query of scanLog reads: the first query
// reads this many, each next one twice as many as the one before, up to
// logMaxPage.
const (
	logPage    = 8
	logMaxPage = 128
)

// logCandidate is an entry scanLog found, with its place in insertion
// order: its row's seq, then its position in the row.
type logCandidate struct {
	e   scim.LogEntry
	seq int64
	pos int
}

// newerLog orders candidates newest first, ties by insertion, newer first.
func newerLog(a, b logCandidate) int {
	if c := b.e.Time.Compare(a.e.Time); c != 0 {
		return c
	}
	if a.seq != b.seq {
		return cmp.Compare(b.seq, a.seq)
	}
	return cmp.Compare(b.pos, a.pos)
}

// scanLog returns the tenant's newest limit entries that match, newest
// first, ties by insertion order (newer first), reading the rows that cond
// (a condition on the summary columns, with its arguments args) selects,
// newest row first. Rows overlap in time, so it stops only when it holds
// limit entries and the next row's newest entry is older than the
// limit-th; how far back that is depends on the filter, as an index scan
// of a table of entries would. It reads rows in pages (logPage) and
// checks where to stop against the entries it held at the end of the last
// page, so that it decodes at most about two pages of rows (each of at
// most logRowEntries entries) beyond those its answer needs, and holds at
// most limit entries beside a page's.
func (l *ProvisioningLog) scanLog(ctx context.Context, tenant, cond string, args []any, limit int, match func(*scim.LogEntry) bool) ([]scim.LogEntry, error) {
	db := l.db
	var cands []logCandidate
	// threshold is the limit-th newest time among cands when they were
	// last cut; it only grows newer as candidates come, so a row older
	// than it is older than the limit-th entry.
	var threshold time.Time
	full := false
	page := logPage
	var lastNewest time.Time
	var lastSeq int64
	for started := false; ; started = true {
		query := "SELECT seq, newest, entries FROM scim_log_batches WHERE tenant = ?" + cond
		qargs := append([]any{tenant}, args...)
		if started {
			query += " AND (newest, seq) < (?, ?)"
			qargs = append(qargs, db.timeArg(lastNewest), lastSeq)
		}
		query += " ORDER BY newest DESC, seq DESC LIMIT " + db.limitParam()
		qargs = append(qargs, page)
		rows, err := db.query(ctx, db.db, query, qargs...)
		if err != nil {
			return nil, err
		}
		read, stop := 0, false
		for rows.Next() {
			var seq int64
			var newest time.Time
			var text string
			if err := rows.Scan(&seq, timeCol{&newest}, &text); err != nil {
				rows.Close()
				return nil, err
			}
			read++
			if full && newest.Before(threshold) {
				stop = true
				break
			}
			es, err := decodeLogEntries(tenant, text)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: provisioning log row %d: %w", seq, err)
			}
			for i := range es {
				if match(&es[i]) {
					cands = append(cands, logCandidate{e: es[i], seq: seq, pos: i})
				}
			}
			lastNewest, lastSeq = newest, seq
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(cands) >= limit {
			slices.SortFunc(cands, newerLog)
			clear(cands[limit:])
			cands = cands[:limit]
			full, threshold = true, cands[limit-1].e.Time
		}
		if stop || read < page {
			break
		}
		page = min(2*page, logMaxPage)
	}
	slices.SortFunc(cands, newerLog)
	out := make([]scim.LogEntry, len(cands))
	for i := range cands {
		out[i] = cands[i].e
	}
	return out, nil
}

// ListLog implements [admin.LogStore]. The summary columns skip the rows
// that cannot match FailuresOnly, ProbesOnly or Before; the other
// conditions are checked on the decoded entries.
func (l *ProvisioningLog) ListLog(ctx context.Context, tenant string, f admin.LogFilter) ([]scim.LogEntry, error) {
	db := l.db
	var cond string
	var args []any
	if f.FailuresOnly {
		cond += " AND failures > 0"
	}
	if f.ProbesOnly {
		cond += " AND probes > 0"
	}
	if !f.Before.IsZero() {
		// Times are kept to the microsecond, and so compared.
		f.Before = f.Before.UTC().Truncate(time.Microsecond)
		cond += " AND oldest < ?"
		args = append(args, db.timeArg(f.Before))
	}
	return l.scanLog(ctx, tenant, cond, args, f.EffectiveLimit(), f.Matches)
}

// LogClients implements [admin.LogStore], over the newest 10,000 entries.
func (l *ProvisioningLog) LogClients(ctx context.Context, tenant string) ([]string, error) {
	es, err := l.scanLog(ctx, tenant, "", nil, 10000, func(*scim.LogEntry) bool { return true })
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := []string{}
	for i := range es {
		c := es[i].Client
		if c == "" {
			c = es[i].UserAgent
		}
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	slices.Sort(out) // byte order
	if len(out) > 50 {
		out = out[:50]
	}
	return out, nil
}

// DeleteTenant removes the tenant's log entries.
func (l *ProvisioningLog) DeleteTenant(ctx context.Context, tenant string) error {
	_, err := l.db.exec(ctx, l.db.db, "DELETE FROM scim_log_batches WHERE tenant = ?", tenant)
	return err
}

// DB returns the database s stores in, for the stores that sit beside it
// ([DB.AdminStore], [DB.ProvisioningLog]).
func (s *Store) DB() *DB { return s.db }
