package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimhost/scim"
)

// BenchmarkSQLFloor compares the three requests Entra ID sends most — a
// GET by id, the lookup by userName, a PATCH of one attribute — served by
// scim.Handler over this store with the same requests served by a floor:
// one indexed SELECT or UPDATE of an equivalent table, keyed as the store's
// is, that holds each user's response body and reads or writes those bytes
// as they are. The floor does no parsing, encoding or checking; the ratio
// is what the handler and the store cost over one round trip of the same
// size; impl=cached is the handler over a store with a user cache
// (WithUserCache) of every user, filled as its GETs read them, and run
// first, before the others' PATCHes make its copies stale. All run
// on the same database, one after the other in each
// process, on PostgreSQL (skipped when unreachable, as the tests) and
// SQLite (a file in WAL mode, synchronous=NORMAL):
//
//	go test -c -o sqlfloor.test ./sqlstore &&
//	for i in 1 2 3 4 5 6 7 8 9 10; do ./sqlfloor.test -test.run '^$' -test.bench SQLFloor -test.benchmem -test.cpu 1 -test.benchtime 1000x; done > sqlfloor.txt
//	benchstat -col /impl sqlfloor.txt
func BenchmarkSQLFloor(b *testing.B) {
	for _, d := range []string{"postgres", "sqlite"} {
		b.Run(d, func(b *testing.B) {
			f := newSQLFloor(b, d)
			for _, op := range []struct {
				name string
				req  func(i int) *http.Request
			}{
				{"get", func(i int) *http.Request {
					return httptest.NewRequest("GET", "/Users/"+f.ids[i%len(f.ids)], nil)
				}},
				{"userName", func(i int) *http.Request {
					filter := fmt.Sprintf(`userName eq "%s"`, f.names[(i*7)%len(f.names)])
					return httptest.NewRequest("GET", "/Users?filter="+url.QueryEscape(filter), nil)
				}},
				{"patch", func(i int) *http.Request {
					body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"User %08d"}]}`, i)
					r := httptest.NewRequest("PATCH", "/Users/"+f.ids[i%len(f.ids)], strings.NewReader(body))
					r.Header.Set("Content-Type", "application/scim+json")
					return r
				}},
			} {
				for _, impl := range []struct {
					name string
					h    http.Handler
				}{{"cached", f.cached}, {"handler", f.handler}, {"floor", f}} {
					b.Run(op.name+"/impl="+impl.name, func(b *testing.B) {
						i := 0
						b.ReportAllocs()
						for b.Loop() {
							rec := httptest.NewRecorder()
							impl.h.ServeHTTP(rec, op.req(i))
							if rec.Code != http.StatusOK {
								b.Fatalf("%s: %d %s", op.name, rec.Code, rec.Body)
							}
							i++
						}
					})
				}
			}
		})
	}
}

// sqlFloor is the floor: scim_floor_users holds, per user, the body GET
// answers, keyed by (tenant, id) and indexed by (tenant, user_name_fold)
// as scim_users is.
type sqlFloor struct {
	db     *DB
	tenant string
	// handler is scim.Handler over the store; cached is over the same
	// database with a user cache (WithUserCache) that holds every user.
	handler, cached http.Handler
	ids             []string
	names           []string
}

const sqlFloorUsers = 1000

func newSQLFloor(b *testing.B, dialect string) *sqlFloor {
	b.Helper()
	ctx := context.Background()
	var db *DB
	var err error
	if dialect == "postgres" {
		db, err = Open(ctx, postgresDB(b, benchSchema), PostgreSQL)
	} else {
		var sdb *sql.DB
		if sdb, err = sql.Open("sqlite", SQLiteDSN(filepath.Join(b.TempDir(), "floor.db"))); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sdb.Close() })
		db, err = Open(ctx, sdb, SQLite)
	}
	if err != nil {
		b.Fatal(err)
	}
	f := &sqlFloor{db: db, tenant: "floor-" + randomHex()}
	b.Cleanup(func() {
		_ = db.DeleteTenant(ctx, f.tenant)
		_, _ = db.exec(ctx, db.db, "DELETE FROM scim_floor_users WHERE tenant = ?", f.tenant)
	})
	h, err := scim.NewHandler(db.Tenant(f.tenant), scim.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	f.handler = h
	cdb := *db
	WithUserCache(sqlFloorUsers)(&cdb)
	if f.cached, err = scim.NewHandler(cdb.Tenant(f.tenant), scim.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		b.Fatal(err)
	}
	if _, err := db.exec(ctx, db.db, `CREATE TABLE IF NOT EXISTS scim_floor_users (
	tenant text NOT NULL, id text NOT NULL, user_name_fold text NOT NULL, version bigint NOT NULL, body text NOT NULL,
	PRIMARY KEY (tenant, id))`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.exec(ctx, db.db, "CREATE UNIQUE INDEX IF NOT EXISTS scim_floor_users_name ON scim_floor_users (tenant, user_name_fold)"); err != nil {
		b.Fatal(err)
	}
	s := db.Tenant(f.tenant)
	g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "floor"})
	if err != nil {
		b.Fatal(err)
	}
	var members []scim.Member
	for i := range sqlFloorUsers {
		name := fmt.Sprintf("user%d@floor.example", i)
		u, err := s.CreateUser(ctx, &scim.User{UserName: name, ExternalID: fmt.Sprintf("ext-%d", i), Active: true,
			DisplayName: "User", Name: scim.Name{GivenName: "Floor", FamilyName: "User"},
			Emails: []scim.MultiValue{{Value: name, Type: "work", Primary: true}}})
		if err != nil {
			b.Fatal(err)
		}
		f.ids = append(f.ids, u.ID)
		f.names = append(f.names, name)
		if i%10 == 0 {
			members = append(members, scim.Member{Value: u.ID})
		}
	}
	if _, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: members}); err != nil {
		b.Fatal(err)
	}
	for i, id := range f.ids {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/Users/"+id, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("GET: %d %s", rec.Code, rec.Body)
		}
		if _, err := db.exec(ctx, db.db, "INSERT INTO scim_floor_users (tenant, id, user_name_fold, version, body) VALUES (?, ?, ?, 1, ?)",
			f.tenant, id, fold(f.names[i]), rec.Body.String()); err != nil {
			b.Fatal(err)
		}
	}
	if dialect == "postgres" {
		if _, err := db.exec(ctx, db.db, "ANALYZE scim_users, scim_groups, scim_group_members, scim_user_emails, scim_floor_users"); err != nil {
			b.Fatal(err)
		}
	}
	return f
}

const floorListHead = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"itemsPerPage":1,"startIndex":1,"Resources":[`

// ServeHTTP is the floor's answer: one statement, and the stored bytes.
func (f *sqlFloor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var body string
	var err error
	switch {
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/Users/"):
		err = f.db.queryRow(ctx, f.db.db, "SELECT body FROM scim_floor_users WHERE tenant = ? AND id = ?",
			[]any{f.tenant, strings.TrimPrefix(r.URL.Path, "/Users/")}, &body)
	case r.Method == "GET":
		filter := r.URL.Query().Get("filter")
		name := strings.TrimSuffix(strings.TrimPrefix(filter, `userName eq "`), `"`)
		err = f.db.queryRow(ctx, f.db.db, "SELECT body FROM scim_floor_users WHERE tenant = ? AND user_name_fold = ?",
			[]any{f.tenant, fold(name)}, &body)
		body = floorListHead + body + "]}"
	case r.Method == "PATCH":
		// The same bytes written back, and returned: the least a PATCH
		// can write.
		if _, err = io.Copy(io.Discard, r.Body); err == nil {
			var version int64
			err = f.db.queryRow(ctx, f.db.db, "UPDATE scim_floor_users SET version = version + 1, body = body WHERE tenant = ? AND id = ? RETURNING version, body",
				[]any{f.tenant, strings.TrimPrefix(r.URL.Path, "/Users/")}, &version, &body)
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, body)
}
