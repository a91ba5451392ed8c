package sqlstore

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOutsideModule proves that a module outside this repository can
// depend on sqlstore: it writes a host module that requires
// github.com/scimhost/scim/sqlstore (with replace directives to this
// checkout, as a host does for local work), brings its own drivers, and
// runs storetest.Run against the store on both dialects with `go test`
// (but for the keyset walk, which TestStoretest runs),
// outside the workspace (GOWORK=off) and resolving its go.sum itself
// (GOFLAGS=-mod=mod, GOPROXY as the environment sets it). It skips when the
// go command or the module proxy is unavailable, except in CI.
func TestOutsideModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test in a module of its own")
	}
	skip := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		skip("no go command: %v", err)
	}
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(here)
	dir := t.TempDir()
	goMod := `module example.com/existingapp

go 1.26.0

require (
	github.com/jackc/pgx/v5 v5.8.0
	github.com/scimhost/scim v0.1.0
	github.com/scimhost/scim/sqlstore v0.1.0
	modernc.org/sqlite v1.62.0
)

replace github.com/scimhost/scim => ` + root + `

replace github.com/scimhost/scim/sqlstore => ` + here + `
`
	hostTest := `package existingapp

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/sqlstore"
	"github.com/scimhost/scim/storetest"
	_ "modernc.org/sqlite"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) scim.Store {
		sdb, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "app.db")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sdb.Close() })
		db, err := sqlstore.Open(context.Background(), sdb, sqlstore.SQLite)
		if err != nil {
			t.Fatal(err)
		}
		return db.Store()
	})
}

func TestPostgreSQL(t *testing.T) {
	url := os.Getenv("EXISTINGAPP_POSTGRES_URL")
	if url == "" {
		t.Skip("no EXISTINGAPP_POSTGRES_URL")
	}
	pool, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db, err := sqlstore.Open(context.Background(), pool, sqlstore.PostgreSQL)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T) scim.Store {
		tenant := os.Getenv("EXISTINGAPP_TENANT_PREFIX") + t.Name()
		t.Cleanup(func() { _ = db.DeleteTenant(context.Background(), tenant) })
		return db.Tenant(tenant)
	})
}
`
	for name, text := range map[string]string{"go.mod": goMod, "host_test.go": hostTest} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	// PostgreSQL: the test schema's pool is reachable (or this skips, or
	// fails in CI); the host module uses a schema of its own.
	postgresDB(t, testSchema)
	// Tenants of their own, so that two runs at once (two checkouts' tests
	// on one PostgreSQL) do not meet.
	env = append(env, "EXISTINGAPP_POSTGRES_URL="+withSearchPath(t, postgresURL(), "scimhost_existingapp"),
		"EXISTINGAPP_TENANT_PREFIX="+randomHex()+"/")
	if _, err := postgresDB(t, "scimhost_existingapp").ExecContext(t.Context(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, goCmd, args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("mod", "download", "all"); err != nil {
		skip("the host module's dependencies cannot be fetched (GOPROXY=%s): %v\n%s", os.Getenv("GOPROXY"), err, out)
	}
	// The kit's keyset walk creates 22,000 users one by one; TestStoretest
	// runs it on both dialects, and what this test proves (the module
	// builds, links its drivers and serves the kit from outside) does not
	// need it again.
	out, err := run("test", "-count=1", "-v", "-skip", "/Keyset/WalkSeesEveryLivingUserOnce$", ".")
	if err != nil {
		t.Fatalf("go test in the host module: %v\n%s", err, out)
	}
	for _, want := range []string{"--- PASS: TestSQLite", "--- PASS: TestPostgreSQL"} {
		if !strings.Contains(out, want) {
			t.Errorf("the host module's tests did not report %q:\n%s", want, out)
		}
	}
}
