package sqldialect

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Migration is one file: its version, its name and its statements.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load returns the migrations in dir of fsys, in version order. A file not
// named NNNN_name.sql, or two files of one version, is an error.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("two migrations have version %d", ms[i].Version)
		}
	}
	return ms, nil
}

// Querier is the transaction, or the connection inside one, that the
// migrations run in.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Apply runs in q the migrations of ms that table does not record, in
// order, and records each with the time now. The caller holds q's
// transaction and whatever lock keeps two processes from migrating at once
// (a PostgreSQL advisory lock, SQLite's BEGIN IMMEDIATE), so that either
// every migration of a run lands or none does. d.Rebind turns the ?
// placeholders of its statements into d's. A database that
// records a version newer than every one of ms was written by a newer
// release, and is refused rather than used.
func Apply(ctx context.Context, q Querier, d Dialect, table string, ms []Migration, now time.Time) error {
	if _, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at text NOT NULL
)`); err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, "SELECT version FROM "+table)
	if err != nil {
		return err
	}
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil
	}
	latest := ms[len(ms)-1].Version
	for v := range applied {
		if v > latest {
			return fmt.Errorf("the database has schema version %d, newer than this package's %d", v, latest)
		}
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if _, err := q.ExecContext(ctx, d.Rebind(m.SQL)); err != nil {
			return fmt.Errorf("migration %d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := q.ExecContext(ctx, d.Rebind("INSERT INTO "+table+" (version, name, applied_at) VALUES (?, ?, ?)"),
			m.Version, m.Name, now.UTC().Format(time.RFC3339Nano)); err != nil {
			return err
		}
	}
	return nil
}
