package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimhost/scim/sqlstore"
	"github.com/scimhost/scim/transcript"
)

// A fixture is the app on one database with its SCIM endpoint mounted.
type fixture struct {
	app     *App
	dialect sqlstore.Dialect
	mux     *http.ServeMux
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// eachDialect runs f on SQLite and, when it is reachable, PostgreSQL
// (SCIMHOST_POSTGRES_URL; skipped without it, failed when CI=true), each
// with a fresh database: a file, or a schema of its own.
func eachDialect(t *testing.T, f func(t *testing.T, fx *fixture)) {
	t.Run("sqlite", func(t *testing.T) {
		sdb, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "app.db")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sdb.Close() })
		f(t, newFixture(t, sdb, sqlstore.SQLite))
	})
	t.Run("postgres", func(t *testing.T) {
		raw := os.Getenv("SCIMHOST_POSTGRES_URL")
		if raw == "" {
			raw = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		}
		admin, err := sql.Open("pgx", raw)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := admin.PingContext(ctx); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("PostgreSQL unreachable at %s: %v", raw, err)
			}
			t.Skipf("PostgreSQL unreachable at %s (set SCIMHOST_POSTGRES_URL): %v", raw, err)
		}
		schema := "existingapp_" + randomHex()
		if _, err := admin.ExecContext(ctx, `CREATE SCHEMA "`+schema+`"`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			a, err := sql.Open("pgx", raw)
			if err == nil {
				_, _ = a.ExecContext(context.Background(), `DROP SCHEMA "`+schema+`" CASCADE`)
				a.Close()
			}
		})
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		pool, err := sql.Open("pgx", u.String())
		if err != nil {
			t.Fatal(err)
		}
		pool.SetMaxOpenConns(8)
		t.Cleanup(func() { pool.Close() })
		f(t, newFixture(t, pool, sqlstore.PostgreSQL))
	})
}

func newFixture(t *testing.T, db *sql.DB, dialect sqlstore.Dialect) *fixture {
	t.Helper()
	app := &App{db: db}
	if err := app.migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	h, err := app.scim(t.Context(), dialect)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	return &fixture{app: app, dialect: dialect, mux: mux}
}

// do sends one SCIM request with the token.
func (fx *fixture) do(method, path, token, body string) (int, map[string]any) {
	req := httptest.NewRequest(method, "/scim/v2"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	rec := httptest.NewRecorder()
	fx.mux.ServeHTTP(rec, req)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec.Code, m
}

// rows returns the rows of query as strings, sorted.
func (fx *fixture) rows(t *testing.T, query string, args ...any) []string {
	t.Helper()
	rs, err := fx.app.db.QueryContext(t.Context(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				parts = append(parts, string(v))
			case bool:
				parts = append(parts, map[bool]string{true: "1", false: "0"}[v])
			default:
				parts = append(parts, fmt.Sprint(v))
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// checkInStep fails unless the app's accounts and team members of the
// workspace are exactly SCIM's users and memberships.
func (fx *fixture) checkInStep(t *testing.T, ws string) {
	t.Helper()
	scimUsers := fx.rows(t, "SELECT id, active FROM scim_users WHERE tenant = $1", ws)
	accounts := fx.rows(t, "SELECT scim_id, active FROM accounts WHERE workspace_id = $1", ws)
	if !slices.Equal(scimUsers, accounts) {
		t.Errorf("accounts %v, SCIM's users %v", accounts, scimUsers)
	}
	scimMembers := fx.rows(t, "SELECT group_id, member_id FROM scim_group_members WHERE tenant = $1", ws)
	members := fx.rows(t, `SELECT t.scim_id, a.scim_id FROM team_members m JOIN teams t ON t.id = m.team_id
	JOIN accounts a ON a.id = m.account_id WHERE t.workspace_id = $1`, ws)
	if !slices.Equal(scimMembers, members) {
		t.Errorf("team members %v, SCIM's members %v", members, scimMembers)
	}
	scimGroups := fx.rows(t, "SELECT id, display_name FROM scim_groups WHERE tenant = $1", ws)
	teams := fx.rows(t, "SELECT scim_id, name FROM teams WHERE workspace_id = $1", ws)
	if !slices.Equal(scimGroups, teams) {
		t.Errorf("teams %v, SCIM's groups %v", teams, scimGroups)
	}
}

// TestEntraTranscripts replays Entra ID's provisioning transcripts through
// the app, a workspace each, and checks that every response is what the
// library answers and that the app's own tables end in step with SCIM's.
func TestEntraTranscripts(t *testing.T) {
	testdata := filepath.Join("..", "..", "testdata")
	files, err := transcript.Files(testdata)
	if err != nil {
		t.Fatal(err)
	}
	eachDialect(t, func(t *testing.T, fx *fixture) {
		n := 0
		for _, file := range files {
			if !strings.Contains(filepath.ToSlash(file), "/entra/") {
				continue
			}
			n++
			t.Run(filepath.Base(file), func(t *testing.T) {
				ws, token := "ws-"+randomHex(), "token-"+randomHex()
				if err := fx.app.createWorkspace(t.Context(), ws, "contoso.com", token); err != nil {
					t.Fatal(err)
				}
				tr, err := transcript.Load(file)
				if err != nil {
					t.Fatal(err)
				}
				rp := transcript.NewReplayer(transcript.Options{Send: transcript.InProcess(fx.mux), Token: token, VolatileMeta: true})
				for _, ex := range tr.Exchanges {
					got, err := rp.Do(t.Context(), ex)
					if err != nil {
						t.Fatalf("%s: %s %s: %v", ex.Title, ex.Method, ex.Target, err)
					}
					if diff := rp.Diff(ex, got); diff != "" {
						t.Errorf("%s: %s %s: response differs (-want +got):\n%s", ex.Title, ex.Method, ex.Target, diff)
					}
				}
				fx.checkInStep(t, ws)
			})
		}
		if n == 0 {
			t.Fatal("no Entra transcripts found")
		}
	})
}

const userSchema = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`

// TestFailingMirrorChangesNothing: when the app's own schema refuses a
// change (a CHECK constraint, a member that is no account), the SCIM write
// rolls back with it: the client reads an error, and both copies are as
// they were.
func TestFailingMirrorChangesNothing(t *testing.T) {
	eachDialect(t, func(t *testing.T, fx *fixture) {
		ws, token := "ws-"+randomHex(), "token-"+randomHex()
		if err := fx.app.createWorkspace(t.Context(), ws, "contoso.com", token); err != nil {
			t.Fatal(err)
		}
		status, ada := fx.do("POST", "/Users", token, `{`+userSchema+`,"userName":"ada@contoso.com","active":true}`)
		if status != 201 {
			t.Fatalf("create: %d %v", status, ada)
		}
		status, g := fx.do("POST", "/Groups", token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"eng","members":[{"value":"`+ada["id"].(string)+`"}]}`)
		if status != 201 {
			t.Fatalf("create group: %d %v", status, g)
		}
		before := func() []string {
			return slices.Concat(
				fx.rows(t, "SELECT id, user_name, active FROM scim_users WHERE tenant = $1", ws),
				fx.rows(t, "SELECT group_id, member_id FROM scim_group_members WHERE tenant = $1", ws),
				fx.rows(t, "SELECT scim_id, email, display_name, active FROM accounts WHERE workspace_id = $1", ws),
				fx.rows(t, "SELECT team_id, account_id FROM team_members"))
		}
		want := before()

		// The accounts table allows display names of 200 characters.
		status, body := fx.do("POST", "/Users", token, `{`+userSchema+`,"userName":"grace@contoso.com","displayName":"`+strings.Repeat("G", 300)+`"}`)
		if status != 500 || body["detail"] != "internal server error" {
			t.Errorf("a user the app's CHECK refuses: %d %v; want a generic 500", status, body)
		}
		status, body = fx.do("PATCH", "/Users/"+ada["id"].(string), token,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"`+strings.Repeat("A", 300)+`"}]}`)
		if status != 500 {
			t.Errorf("a PATCH the app's CHECK refuses: %d %v; want 500", status, body)
		}
		// A member that is no account of the workspace.
		status, body = fx.do("PATCH", "/Groups/"+g["id"].(string), token,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"6f1c7c2e-0000-4000-8000-000000000000"}]}]}`)
		if status != 400 || !strings.Contains(fmt.Sprint(body["detail"]), "not a user of this workspace") {
			t.Errorf("a member that is no account: %d %v; want the mirror's 400", status, body)
		}
		if got := before(); !slices.Equal(got, want) {
			t.Errorf("after refused writes (-want +got):\n%v\n%v", want, got)
		}
		fx.checkInStep(t, ws)
	})
}

// TestDeactivateSignsOut: deactivating a user deletes its sessions in the
// same transaction; the domain allowlist and the per-workspace tokens hold.
func TestDeactivateSignsOut(t *testing.T) {
	eachDialect(t, func(t *testing.T, fx *fixture) {
		ws, token := "ws-"+randomHex(), "token-"+randomHex()
		other, otherToken := "ws-"+randomHex(), "token-"+randomHex()
		for _, w := range [][2]string{{ws, token}, {other, otherToken}} {
			if err := fx.app.createWorkspace(t.Context(), w[0], "contoso.com", w[1]); err != nil {
				t.Fatal(err)
			}
		}
		status, u := fx.do("POST", "/Users", token, `{`+userSchema+`,"userName":"ada@contoso.com","active":true}`)
		if status != 201 {
			t.Fatalf("create: %d %v", status, u)
		}
		id := u["id"].(string)
		var account string
		if err := fx.app.db.QueryRowContext(t.Context(), "SELECT id FROM accounts WHERE scim_id = $1", id).Scan(&account); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.app.login(t.Context(), account); err != nil {
			t.Fatal(err)
		}
		if status, _ := fx.do("GET", "/Users/"+id, otherToken, ""); status != 404 {
			t.Errorf("another workspace's token reads the user: %d", status)
		}
		status, body := fx.do("PATCH", "/Users/"+id, token,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
		if status != 200 {
			t.Fatalf("deactivate: %d %v", status, body)
		}
		if s := fx.rows(t, "SELECT token FROM sessions WHERE account_id = $1", account); len(s) != 0 {
			t.Errorf("sessions left after deactivation: %v", s)
		}
		if _, err := fx.app.login(t.Context(), account); err == nil {
			t.Error("a deactivated account logged in")
		}
		status, body = fx.do("POST", "/Users", token, `{`+userSchema+`,"userName":"eve@fabrikam.com"}`)
		if status != 400 || !strings.Contains(fmt.Sprint(body["detail"]), "fabrikam.com") {
			t.Errorf("a user of an unverified domain: %d %v; want 400 naming the domain", status, body)
		}
		fx.checkInStep(t, ws)
	})
}
