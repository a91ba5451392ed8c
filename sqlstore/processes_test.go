package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scimhost/scim"
)

// TestTwoProcesses: two servers, each with its own pool, Store and
// scim.Handler, on one PostgreSQL database and on one SQLite file, take
// 1,000 contended PATCHes split between them: membership changes of one
// group (some alone, some with an attribute change, which is a
// read-modify-write), and phone numbers added to one user (a
// read-modify-write each). The first server has user and group policies,
// so its read-modify-writes read first and retry when the other process
// wrote in between; the second has none, so its PATCHes run inside the
// store's locked update. Every PATCH must land, none may answer 409, and
// nothing may be lost.
//
// The second server keeps a user cache (WithUserCache), whose copies the
// first server's writes make stale: its PATCHes of the user then fall back
// to a read or the locked update, and must lose nothing either.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 PATCHes through HTTP")
	}
	const n = 1000
	for _, d := range []struct {
		name string
		open func(t *testing.T) [2]*DB
	}{
		{"postgres", func(t *testing.T) [2]*DB {
			postgresDB(t, testSchema) // skips when PostgreSQL is unreachable
			var dbs [2]*DB
			for i := range dbs {
				pool, err := sql.Open("pgx", withSearchPath(t, postgresURL(), testSchema))
				if err != nil {
					t.Fatal(err)
				}
				pool.SetMaxOpenConns(8)
				t.Cleanup(func() { pool.Close() })
				if dbs[i], err = Open(t.Context(), pool, PostgreSQL, processOptions(i)...); err != nil {
					t.Fatal(err)
				}
			}
			return dbs
		}},
		{"sqlite", func(t *testing.T) [2]*DB {
			path := filepath.Join(t.TempDir(), "shared.db")
			var dbs [2]*DB
			for i := range dbs {
				pool, err := sql.Open("sqlite", SQLiteDSN(path))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pool.Close() })
				if dbs[i], err = Open(t.Context(), pool, SQLite, processOptions(i)...); err != nil {
					t.Fatal(err)
				}
			}
			return dbs
		}},
	} {
		t.Run(d.name, func(t *testing.T) {
			dbs := d.open(t)
			tenant := randomTenant(t, dbs[0])
			ctx := t.Context()
			seed := dbs[0].Tenant(tenant)
			target, err := seed.CreateUser(ctx, &scim.User{UserName: "target", Active: true})
			if err != nil {
				t.Fatal(err)
			}
			members := make([]string, n/2)
			for i := range members {
				u, err := seed.CreateUser(ctx, &scim.User{UserName: fmt.Sprintf("member%d", i), Active: true})
				if err != nil {
					t.Fatal(err)
				}
				members[i] = u.ID
			}
			g, err := seed.CreateGroup(ctx, &scim.Group{DisplayName: "contended"})
			if err != nil {
				t.Fatal(err)
			}
			var bases [2]string
			for i, db := range dbs {
				var opts scim.Options
				if i == 0 {
					opts.UserPolicies = []scim.UserPolicy{func(context.Context, *scim.User, *scim.User) error { return nil }}
					opts.GroupPolicies = []scim.GroupPolicy{func(context.Context, *scim.Group, *scim.Group) error { return nil }}
				}
				h, err := scim.NewHandler(db.Tenant(tenant), opts)
				if err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewServer(h)
				t.Cleanup(srv.Close)
				bases[i] = srv.URL
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			t.Cleanup(client.CloseIdleConnections)
			patch := func(url, body string) (int, string, error) {
				req, err := http.NewRequestWithContext(ctx, "PATCH", url, strings.NewReader(body))
				if err != nil {
					return 0, "", err
				}
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := client.Do(req)
				if err != nil {
					return 0, "", err
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b), nil
			}
			const op = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[%s]}`
			jobs := make(chan int)
			var wg sync.WaitGroup
			var mu sync.Mutex
			statuses := map[int]int{}
			var failures []string
			for w := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					base := bases[w%2]
					for i := range jobs {
						var url, body string
						if i%2 == 0 {
							url = base + "/Groups/" + g.ID
							add := `{"op":"add","path":"members","value":[{"value":"` + members[i/2] + `"}]}`
							if i%10 == 0 {
								// With an attribute change: the group's
								// read-modify-write, not the fast path.
								add += fmt.Sprintf(`,{"op":"replace","path":"externalId","value":"x%d"}`, i)
							}
							body = fmt.Sprintf(op, add)
						} else {
							url = base + "/Users/" + target.ID
							body = fmt.Sprintf(op, fmt.Sprintf(`{"op":"add","path":"phoneNumbers","value":[{"value":"+1 555 %04d","type":"work"}]}`, i))
						}
						status, resp, err := patch(url, body)
						mu.Lock()
						statuses[status]++
						if err != nil || status >= 300 {
							failures = append(failures, fmt.Sprintf("PATCH %d: %d %v %s", i, status, err, resp))
						}
						mu.Unlock()
					}
				}()
			}
			for i := range n {
				jobs <- i
			}
			close(jobs)
			wg.Wait()
			t.Logf("statuses: %v", statuses)
			for i, f := range failures {
				if i == 10 {
					t.Errorf("... %d failures in all", len(failures))
					break
				}
				t.Error(f)
			}
			got, err := seed.GetGroup(ctx, g.ID, scim.Projection{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Members) != n/2 {
				t.Errorf("the group has %d members, want %d", len(got.Members), n/2)
			}
			u, err := seed.GetUser(ctx, target.ID, scim.Projection{})
			if err != nil {
				t.Fatal(err)
			}
			if len(u.PhoneNumbers) != n/2 {
				t.Errorf("the user has %d phone numbers, want %d", len(u.PhoneNumbers), n/2)
			}
		})
	}
}

// processOptions are the options of TestTwoProcesses's server i.
func processOptions(i int) []Option {
	if i == 1 {
		return append(testOptions(), WithUserCache(100))
	}
	return testOptions()
}

// TestReentrantReads: a Store lets the handler's policies read inside its
// update functions (scim.ReentrantReader) on a pool of more than one
// connection over a database whose readers never wait for the writer,
// and not on a one-connection pool, which the update holds, nor on an
// SQLite database in memory, which has no WAL. storetest's
// ReadsInsideUpdateUserWhenReentrant checks that such reads work.
func TestReentrantReads(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dsn   string
		conns int
		want  bool
	}{
		{"file", SQLiteDSN(filepath.Join(t.TempDir(), "a.db")), 0, true},
		{"file, one connection", SQLiteDSN(filepath.Join(t.TempDir(), "b.db")), 1, false},
		{"in memory", "file:reentrant?mode=memory&cache=shared", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := sql.Open("sqlite", tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pool.Close() })
			pool.SetMaxOpenConns(tc.conns)
			db, err := Open(t.Context(), pool, SQLite, testOptions()...)
			if err != nil {
				t.Fatal(err)
			}
			if got := db.Tenant("t").ReentrantReads(); got != tc.want {
				t.Errorf("ReentrantReads() = %v, want %v", got, tc.want)
			}
		})
	}
}
