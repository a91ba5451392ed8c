// Command existingapp is a small SaaS backend that had its own accounts,
// teams and sessions before it added SCIM provisioning: the way to take
// scimhost into an existing app. SCIM's data lives in sqlstore's tables
// in the app's own database, and a transactional mirror keeps the app's
// tables in step in the same transaction (scim.go, the only SCIM code);
// app.go is the app as it was.
//
//	go run ./existingapp -db /tmp/app.db -workspace acme -domain contoso.com -token secret
//
// serves SCIM for the workspace acme at http://127.0.0.1:8080/scim/v2 on
// SQLite; -db postgres://... uses PostgreSQL.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/sqlstore"
	_ "modernc.org/sqlite"
)

//go:embed schema.sql
var schema string

// App is the existing app: its database and its own operations.
type App struct {
	db *sql.DB
}

// migrate creates the app's tables. Each statement runs alone, as not
// every driver runs several in one Exec.
func (a *App) migrate(ctx context.Context) error {
	for _, stmt := range strings.Split(schema, ";") {
		if strings.TrimSpace(stmtBody(stmt)) == "" {
			continue
		}
		if _, err := a.db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// stmtBody is stmt without its comment lines.
func stmtBody(stmt string) string {
	var b strings.Builder
	for _, line := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// newID returns a random id with the app's prefix for kind.
func newID(kind string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return kind + "_" + hex.EncodeToString(b[:])
}

// createWorkspace adds a workspace with a verified domain and a SCIM token.
func (a *App) createWorkspace(ctx context.Context, id, domain, token string) error {
	h := scim.HashToken(token)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO workspaces (id, name) VALUES ($1, $2)", []any{id, id}},
		{"INSERT INTO workspace_domains (workspace_id, domain) VALUES ($1, $2)", []any{id, domain}},
		{"INSERT INTO scim_tokens (hash, workspace_id) VALUES ($1, $2)", []any{hex.EncodeToString(h[:]), id}},
	} {
		if _, err := a.db.ExecContext(ctx, q.sql, q.args...); err != nil {
			return err
		}
	}
	return nil
}

// login opens a session for an active account.
func (a *App) login(ctx context.Context, accountID string) (string, error) {
	var active bool
	if err := a.db.QueryRowContext(ctx, "SELECT active FROM accounts WHERE id = $1", accountID).Scan(&active); err != nil {
		return "", err
	}
	if !active {
		return "", errors.New("the account is deactivated")
	}
	token := newID("sess")
	_, err := a.db.ExecContext(ctx, "INSERT INTO sessions (token, account_id) VALUES ($1, $2)", token, accountID)
	return token, err
}

func main() {
	dbFlag := flag.String("db", "existingapp.db", "SQLite file, or a postgres:// URL")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	workspace := flag.String("workspace", "", "create this workspace (with -domain and -token) at start")
	domain := flag.String("domain", "", "the workspace's verified email domain")
	token := flag.String("token", "", "the workspace's SCIM bearer token")
	flag.Parse()
	ctx := context.Background()
	driver, dsn, dialect := "sqlite", sqlstore.SQLiteDSN(*dbFlag), sqlstore.SQLite
	if strings.HasPrefix(*dbFlag, "postgres://") || strings.HasPrefix(*dbFlag, "postgresql://") {
		driver, dsn, dialect = "pgx", *dbFlag, sqlstore.PostgreSQL
	}
	sqlDB, err := sql.Open(driver, dsn)
	if err != nil {
		log.Fatal(err)
	}
	app := &App{db: sqlDB}
	if err := app.migrate(ctx); err != nil {
		log.Fatal(err)
	}
	if *workspace != "" {
		if err := app.createWorkspace(ctx, *workspace, *domain, *token); err != nil {
			log.Fatal(err)
		}
	}
	scimHandler, err := app.scim(ctx, dialect)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scimHandler))
	fmt.Printf("SCIM at http://%s/scim/v2\n", *addr)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
