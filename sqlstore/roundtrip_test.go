package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scimhost/scim"
)

// roundTrips wraps the real database driver (pgx, modernc.org/sqlite) and
// records every round trip the store makes through it: each statement
// (ExecContext, QueryContext, a prepared statement's Exec or Query) and
// each BEGIN, COMMIT and ROLLBACK that database/sql sends as a call of its
// own (on PostgreSQL; on SQLite the store sends them as statements). It
// does not count the driver's own liveness checks (pgx pings a pooled
// connection idle for over a second when handing it out).
type roundTrips struct {
	mu   sync.Mutex
	sent []string
}

func (r *roundTrips) add(what string) {
	r.mu.Lock()
	r.sent = append(r.sent, what)
	r.mu.Unlock()
}

// take returns and forgets the round trips recorded so far.
func (r *roundTrips) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sent
	r.sent = nil
	return s
}

type countingConnector struct {
	inner driver.Connector
	trips *roundTrips
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, trips: c.trips}, nil
}

func (c *countingConnector) Driver() driver.Driver { return c.inner.Driver() }

// dsnConnector is the connector of a driver that has no OpenConnector.
type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// countingConn passes every call to the driver's connection, offering
// database/sql the optional interfaces the drivers implement.
type countingConn struct {
	driver.Conn
	trips *roundTrips
}

var (
	_ driver.ExecerContext      = (*countingConn)(nil)
	_ driver.QueryerContext     = (*countingConn)(nil)
	_ driver.ConnBeginTx        = (*countingConn)(nil)
	_ driver.ConnPrepareContext = (*countingConn)(nil)
	_ driver.NamedValueChecker  = (*countingConn)(nil)
	_ driver.SessionResetter    = (*countingConn)(nil)
	_ driver.Validator          = (*countingConn)(nil)
	_ driver.Pinger             = (*countingConn)(nil)
)

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.trips.add(query)
	return e.ExecContext(ctx, query, args)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.trips.add(query)
	return q.QueryContext(ctx, query, args)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, fmt.Errorf("countingConn: the driver has no BeginTx")
	}
	c.trips.add("BEGIN")
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{tx: tx, trips: c.trips}, nil
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, query: query, trips: c.trips}, nil
}

func (c *countingConn) CheckNamedValue(v *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

type countingTx struct {
	tx    driver.Tx
	trips *roundTrips
}

func (t countingTx) Commit() error {
	t.trips.add("COMMIT")
	return t.tx.Commit()
}

func (t countingTx) Rollback() error {
	t.trips.add("ROLLBACK")
	return t.tx.Rollback()
}

// countingStmt counts the executions of a prepared statement, which
// database/sql uses when a driver skips ExecContext or QueryContext.
type countingStmt struct {
	driver.Stmt
	query string
	trips *roundTrips
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.trips.add(s.query)
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	return nil, fmt.Errorf("countingStmt: the driver's statement has no ExecContext")
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.trips.add(s.query)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	return nil, fmt.Errorf("countingStmt: the driver's statement has no QueryContext")
}

// openCounting opens a *DB of the dialect through the counting wrapper of
// its real driver, over the tests' database (PostgreSQL) or a fresh file
// (SQLite).
func openCounting(t *testing.T, dialect string) (*DB, *roundTrips) {
	t.Helper()
	var driverName, dsn string
	var d Dialect
	switch dialect {
	case "postgres":
		postgresDB(t, testSchema) // skips when PostgreSQL is unreachable; creates the schema
		driverName, dsn, d = "pgx", withSearchPath(t, postgresURL(), testSchema), PostgreSQL
	default:
		driverName, dsn, d = "sqlite", SQLiteDSN(filepath.Join(t.TempDir(), "scim.db")), SQLite
	}
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatal(err)
	}
	drv := probe.Driver()
	probe.Close()
	var inner driver.Connector = dsnConnector{d: drv, dsn: dsn}
	if dc, ok := drv.(driver.DriverContext); ok {
		if inner, err = dc.OpenConnector(dsn); err != nil {
			t.Fatal(err)
		}
	}
	trips := &roundTrips{}
	sdb := sql.OpenDB(&countingConnector{inner: inner, trips: trips})
	t.Cleanup(func() { sdb.Close() })
	db, err := Open(t.Context(), sdb, d, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	return db, trips
}

// TestRoundTrips counts, through the real drivers, the round trips the
// store makes for the requests a provisioning client sends most, served by
// the handler: a GET by id, a list page (Entra ID's userName eq lookup),
// a PATCH of one attribute, and a create. A read is one statement, its
// groups or members included; a PATCH is the read and the UPDATE ...
// WHERE version = <read> RETURNING, outside a transaction (the email
// index rewritten in the same statement on PostgreSQL, in a transaction
// on SQLite), and one that changes nothing or fails If-Match the read
// alone; a create is one
// statement on PostgreSQL (the user's INSERT, its emails' in a WITH), and
// BEGIN, the user's INSERT, its emails' INSERT and COMMIT on SQLite. On
// SQLite a write also runs the statement that takes the write lock after
// BEGIN (an in-process call, no round trip).
func TestRoundTrips(t *testing.T) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			db, trips := openCounting(t, dialect)
			lock := 0 // the statements a write runs to take the write lock
			create, createNoEmails := 1, 1
			// The read, and one statement: the UPDATE with the email
			// rows' DELETE and upsert in WITHs.
			patchEmails := 2
			memberAdd, memberAddBump := 1, 0
			if dialect == "sqlite" {
				lock = 1
				memberAdd, memberAddBump = 5+lock, 1
				create, createNoEmails = 4+lock, 3+lock
				// The read, then BEGIN, UPDATE, DELETE, INSERT, COMMIT.
				patchEmails = 6 + lock
			}
			ctx := t.Context()
			s := newStore(t, db)
			h, err := scim.NewHandler(s, scim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			serveOn := func(h http.Handler, method, target, body string, header ...string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(method, target, strings.NewReader(body))
				if body != "" {
					req.Header.Set("Content-Type", "application/scim+json")
				}
				for i := 0; i+1 < len(header); i += 2 {
					req.Header.Set(header[i], header[i+1])
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			serve := func(method, target, body string, header ...string) *httptest.ResponseRecorder {
				return serveOn(h, method, target, body, header...)
			}
			check := func(name string, wantCode, want int, rec func() *httptest.ResponseRecorder) *httptest.ResponseRecorder {
				t.Helper()
				trips.take()
				r := rec()
				got := trips.take()
				if r.Code != wantCode {
					t.Fatalf("%s: %d %s", name, r.Code, r.Body)
				}
				if len(got) != want {
					t.Errorf("%s: %d round trips, want %d:\n%s", name, len(got), want, strings.Join(got, "\n"))
				}
				t.Logf("%s: %d round trips", name, len(got))
				return r
			}

			created := check("POST /Users", http.StatusCreated, create, func() *httptest.ResponseRecorder {
				return serve("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com",
					"displayName":"Ann","active":true,"emails":[{"value":"ann@example.com","type":"work","primary":true}]}`)
			})
			id := decodeField(t, created.Body.String(), "id")
			created = check("POST /Users without emails", http.StatusCreated, createNoEmails, func() *httptest.ResponseRecorder {
				return serve("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com"}`)
			})
			id2 := decodeField(t, created.Body.String(), "id")
			g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "team", Members: []scim.Member{{Value: id}}})
			if err != nil {
				t.Fatal(err)
			}

			got := check("GET /Users/{id}", http.StatusOK, 1, func() *httptest.ResponseRecorder { return serve("GET", "/Users/"+id, "") })
			if !strings.Contains(got.Body.String(), `"value":"`+g.ID+`"`) {
				t.Errorf("GET /Users/{id} lacks the user's group: %s", got.Body)
			}
			got = check("GET /Users?filter=userName eq", http.StatusOK, 1, func() *httptest.ResponseRecorder {
				return serve("GET", `/Users?filter=userName+eq+%22ANN@example.com%22`, "")
			})
			if !strings.Contains(got.Body.String(), `"totalResults":1`) || !strings.Contains(got.Body.String(), g.ID) {
				t.Errorf("the lookup by userName: %s", got.Body)
			}
			check("GET /Users?count=10 (a page that is not full)", http.StatusOK, 1, func() *httptest.ResponseRecorder {
				return serve("GET", "/Users?count=10", "")
			})
			check("GET /Users?count=1 (a full page, then its COUNT)", http.StatusOK, 2, func() *httptest.ResponseRecorder {
				return serve("GET", "/Users?count=1", "")
			})
			check("GET /Groups/{id}", http.StatusOK, 1, func() *httptest.ResponseRecorder { return serve("GET", "/Groups/"+g.ID, "") })
			got = check("GET /Groups?filter=displayName eq", http.StatusOK, 1, func() *httptest.ResponseRecorder {
				return serve("GET", `/Groups?filter=displayName+eq+%22team%22`, "")
			})
			if !strings.Contains(got.Body.String(), `"value":"`+id+`"`) {
				t.Errorf("the group lookup lacks its member: %s", got.Body)
			}

			const patch = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Ann B"}]}`
			got = check("PATCH /Users/{id} displayName", http.StatusOK, 2, func() *httptest.ResponseRecorder {
				return serve("PATCH", "/Users/"+id, patch)
			})
			if b := got.Body.String(); !strings.Contains(b, `"displayName":"Ann B"`) || !strings.Contains(b, g.ID) || !strings.Contains(b, "ann@example.com") {
				t.Errorf("the PATCH's answer: %s", b)
			}
			etag := got.Header().Get("ETag")
			// A replayed PATCH changes nothing: the read alone.
			check("PATCH /Users/{id} changing nothing", http.StatusOK, 1, func() *httptest.ResponseRecorder {
				return serve("PATCH", "/Users/"+id, patch, "If-Match", etag)
			})
			check("PATCH /Users/{id} with a stale If-Match", http.StatusPreconditionFailed, 1, func() *httptest.ResponseRecorder {
				return serve("PATCH", "/Users/"+id, patch, "If-Match", `W/"1"`)
			})
			got = check("PATCH /Users/{id} emails", http.StatusOK, patchEmails, func() *httptest.ResponseRecorder {
				return serve("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
					"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"ann.b@example.com"}]}`)
			})
			if !strings.Contains(got.Body.String(), "ann.b@example.com") {
				t.Errorf("the emails PATCH's answer: %s", got.Body)
			}
			// A member add (Entra ID's, the handler's MemberPatcher path):
			// one statement on PostgreSQL (the group's locked read, the
			// INSERT, the UPDATE of its version in WITHs); on SQLite BEGIN,
			// the read, the INSERT, the UPDATE and COMMIT.
			addMember := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + id2 + `"}]}]}`
			check("PATCH /Groups/{id} add a member", http.StatusNoContent, memberAdd, func() *httptest.ResponseRecorder {
				return serve("PATCH", "/Groups/"+g.ID, addMember)
			})
			check("PATCH /Groups/{id} add a member again (no change)", http.StatusNoContent, memberAdd-memberAddBump, func() *httptest.ResponseRecorder {
				return serve("PATCH", "/Groups/"+g.ID, addMember)
			})
			if n := memberCount(t, s, g.ID); n != 2 {
				t.Errorf("%d members after the add, want 2", n)
			}
			// With AllowDomain (as the demo server has) a PATCH that
			// introduces no address still runs inside the store's update:
			// the same 2 round trips. One with a user policy is read by
			// the handler first, the store's update reading again: 3.
			withDomains, err := scim.NewHandler(s, scim.Options{AllowDomain: func(context.Context, string) error { return nil }})
			if err != nil {
				t.Fatal(err)
			}
			withPolicy, err := scim.NewHandler(s, scim.Options{UserPolicies: []scim.UserPolicy{func(context.Context, *scim.User, *scim.User) error { return nil }}})
			if err != nil {
				t.Fatal(err)
			}
			check("PATCH /Users/{id} title, with a user policy", http.StatusOK, 3, func() *httptest.ResponseRecorder {
				return serveOn(withPolicy, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Head"}]}`)
			})
			check("PATCH /Users/{id} title, with AllowDomain", http.StatusOK, 2, func() *httptest.ResponseRecorder {
				return serveOn(withDomains, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Lead"}]}`)
			})
			check("GET /Users?filter=emails eq (the index rewritten)", http.StatusOK, 1, func() *httptest.ResponseRecorder {
				return serve("GET", `/Users?filter=emails+eq+%22ann.b@example.com%22`, "")
			})
			if u, err := s.listUsers(ctx, scim.Query{Count: 10}, &scim.AttrExpr{Path: scim.AttrPath{Name: "emails"}, Op: scim.OpEq, Value: str("ann@example.com")}); err != nil || len(u.Resources) != 0 {
				t.Errorf("the old email still matches: %v, %v", u.Resources, err)
			}
		})
	}
}

// decodeField returns the string field name of the JSON object body.
func decodeField(t *testing.T, body, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	v, _ := m[name].(string)
	if v == "" {
		t.Fatalf("no %s in %s", name, body)
	}
	return v
}
