package admin_test

// The provisioning log's cost on a request: the same requests through a
// Handler over memstore (10,000 users) without Options.Log and with a
// LogQueue in front of a MemoryLog. Besides ns/op (wall clock) it reports
// cpu-ns/op, the process's CPU time on all threads per request (collector
// and the queue's goroutine included), which a busy machine does not
// inflate. Compare with:
//
//	go test -run '^$' -bench 'Log' -benchmem -cpu 1 -count 5 ./admin > log.txt
//	benchstat -col /log log.txt   # cpu-ns/op is the figure to read on a shared machine

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
	"github.com/scimhost/scim/memstore"
)

// benchUsers is the size of the benchmarks' workspace.
const benchUsers = 10000

func benchHandler(b *testing.B, withLog bool) (http.Handler, *scim.LogQueue, string) {
	var opts scim.Options
	var q *scim.LogQueue
	if withLog {
		q = scim.NewLogQueue(admin.NewMemoryLog(0), 0)
		opts.Log = q
	}
	store := memstore.New()
	h, err := scim.NewHandler(store, opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := scim.WithTenant(context.Background(), scim.Tenant{ID: "acme"})
	// A workspace of 10,000 users: a server's heap is not a benchmark's
	// few kilobytes, and the log's ring of 1,000 entries is measured
	// against a heap of a realistic size, as the collector sees it.
	for i := range benchUsers {
		if _, err := store.CreateUser(ctx, &scim.User{UserName: fmt.Sprintf("user%d@acme.com", i), Active: true}); err != nil {
			b.Fatal(err)
		}
	}
	u, err := store.CreateUser(ctx, &scim.User{UserName: "bjensen@acme.com", Active: true})
	if err != nil {
		b.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(ctx))
	}), q, u.ID
}

// BenchmarkLog runs Entra's two commonest requests, the userName query of
// every cycle and a PATCH that deactivates and reactivates, with the log
// off and on.
func BenchmarkLog(b *testing.B) {
	for _, req := range []string{"query", "patch"} {
		for _, mode := range []string{"off", "on"} {
			b.Run("req="+req+"/log="+mode, func(b *testing.B) {
				h, q, id := benchHandler(b, mode == "on")
				active := false
				b.ReportAllocs()
				cpu0 := processCPU()
				for b.Loop() {
					var r *http.Request
					switch req {
					case "query":
						r = httptest.NewRequest("GET", `/Users?filter=userName+eq+%22bjensen@acme.com%22`, nil)
					case "patch":
						body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"` + map[bool]string{true: "True", false: "False"}[active] + `"}]}`
						active = !active
						r = httptest.NewRequest("PATCH", "/Users/"+id, strings.NewReader(body))
					}
					r.Header.Set("User-Agent", "Azure AD Provisioning")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
				b.StopTimer()
				if q != nil {
					// The entries' work done on the queue's goroutine
					// belongs to the requests.
					if err := q.Flush(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				if cpu := processCPU() - cpu0; cpu > 0 {
					b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
				}
				if q != nil {
					if err := q.Flush(context.Background()); err != nil {
						b.Fatal(err)
					}
					if q.Dropped() > 0 {
						b.Logf("%d entries dropped", q.Dropped())
					}
				}
			})
		}
	}
}
