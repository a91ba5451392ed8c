package scim_test

// The floor: a handler that does the least real work for the requests
// Entra ID sends on every provisioning cycle — parse the request, look the
// user up in a map, write the same bytes and headers the Handler writes
// (TestFloorWritesTheSameBytes checks them byte for byte, ids, times and
// versions aside). It keeps each user's encoded body beside it, so a read
// is a map lookup and a copy; a write decodes with encoding/json, applies,
// and encodes with append calls. BenchmarkFloor runs every request against
// the Handler over memstore and against the floor, interleaved, so that
// the ratio is what the library costs over the least a server can do:
//
//	go test -c -o floor.test . &&
//	for i in 1 2 3 4 5 6; do ./floor.test -test.run '^$' -test.bench Floor -test.benchmem -test.cpu 1 -test.benchtime 0.5s; done > floor.txt
//	benchstat -col /impl floor.txt
//
// Each process runs every request against both, one after the other, and
// the loop repeats the processes, so the two are interleaved. Read the
// cpu-ns/op column: the process's CPU time per request, which the other
// load of a shared machine moves far less than sec/op.
//
// SCIMHOST_BENCH_USERS=1000000 adds the million-user runs, which are off
// by default: both stores hold the million users, about 4 GB, and a
// process takes about five minutes on a loaded 2-core machine. Their
// ratios are higher than at 10,000 users because no garbage collection
// falls inside a run (one marks the whole 2.5 GB heap; the heap goal is
// far above what a run allocates, and testing collects before each run),
// while at 10,000 users collections run throughout and add the same
// marking to both sides: the gap in cpu-ns/op is about the same at both
// sizes.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// floorUser is a user as the floor keeps it: the attributes Entra ID
// sends, and the encoded body.
type floorUser struct {
	id, externalID, userName, displayName string
	name                                  bareName
	active                                bool
	emails                                []bareEmail
	created, modified                     time.Time
	version                               string
	body                                  []byte // the user as GET answers it
}

// floorServer is the floor. Mount it at the SCIM base URL, as the Handler.
type floorServer struct {
	base   string
	mu     sync.RWMutex
	byID   map[string]*floorUser
	byName map[string]*floorUser // strings.ToLower(userName) →
	seq    atomic.Uint64
	log    *slog.Logger // nil: no request log
}

func newFloorServer(base string) *floorServer {
	return &floorServer{base: base, byID: map[string]*floorUser{}, byName: map[string]*floorUser{}}
}

func (s *floorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.log == nil {
		s.route(w, r)
		return
	}
	start := time.Now()
	sw := &floorStatus{ResponseWriter: w, code: 200}
	s.route(sw, r)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "scim request", slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.Int("status", sw.code), slog.Duration("duration", time.Since(start)))
}

type floorStatus struct {
	http.ResponseWriter
	code int
}

func (w *floorStatus) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

func (s *floorServer) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/Users" && r.Method == http.MethodGet:
		s.list(w, r)
	case p == "/Users" && r.Method == http.MethodPost:
		s.create(w, r)
	case strings.HasPrefix(p, "/Users/") && r.Method == http.MethodGet:
		s.get(w, p[len("/Users/"):])
	case strings.HasPrefix(p, "/Users/") && r.Method == http.MethodPatch:
		s.patch(w, r, p[len("/Users/"):])
	default:
		http.Error(w, "not served", http.StatusNotFound)
	}
}

func floorWrite(w http.ResponseWriter, status int, etag string, body []byte) {
	hd := w.Header()
	if etag != "" {
		hd["Etag"] = []string{etag}
	}
	hd["Content-Type"] = []string{"application/scim+json"}
	hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

func (s *floorServer) get(w http.ResponseWriter, id string) {
	s.mu.RLock()
	u := s.byID[id]
	var body []byte
	var version string
	if u != nil {
		body, version = u.body, u.version
	}
	s.mu.RUnlock()
	if u == nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	floorWrite(w, 200, `W/"`+version+`"`, body)
}

var floorBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// list answers `filter=userName eq "x"`, the only list Entra ID sends.
func (s *floorServer) list(w http.ResponseWriter, r *http.Request) {
	raw, ok := strings.CutPrefix(r.URL.RawQuery, "filter=")
	if !ok {
		http.Error(w, "unsupported query", http.StatusBadRequest)
		return
	}
	f, err := url.QueryUnescape(raw)
	if err != nil {
		http.Error(w, "bad query", http.StatusBadRequest)
		return
	}
	attr, value, ok := strings.Cut(f, " eq ")
	if !ok || !strings.EqualFold(attr, "userName") || len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
		http.Error(w, "unsupported filter", http.StatusBadRequest)
		return
	}
	key := strings.ToLower(value[1 : len(value)-1])
	bp := floorBufs.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":`...)
	s.mu.RLock()
	if u := s.byName[key]; u != nil {
		b = append(b, `1,"startIndex":1,"itemsPerPage":1,"Resources":[`...)
		b = append(b, u.body...)
	} else {
		b = append(b, `0,"startIndex":1,"itemsPerPage":0,"Resources":[`...)
	}
	s.mu.RUnlock()
	b = append(b, "]}"...)
	floorWrite(w, 200, "", b)
	*bp = b
	floorBufs.Put(bp)
}

func (s *floorServer) create(w http.ResponseWriter, r *http.Request) {
	var in bareRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.UserName == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	u := s.newUser(in)
	key := strings.ToLower(u.userName)
	s.mu.Lock()
	if s.byName[key] != nil {
		s.mu.Unlock()
		http.Error(w, "conflict", http.StatusConflict)
		return
	}
	s.byID[u.id], s.byName[key] = u, u
	s.mu.Unlock()
	w.Header()["Location"] = []string{s.base + "/Users/" + u.id}
	floorWrite(w, 201, `W/"`+u.version+`"`, u.body)
}

func (s *floorServer) newUser(in bareRequest) *floorUser {
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := &floorUser{id: scim.NewID(), externalID: in.ExternalID, userName: in.UserName, active: in.Active == nil || *in.Active,
		emails: in.Emails, created: now, modified: now, version: strconv.FormatUint(s.seq.Add(1), 10)}
	if in.Name != nil {
		u.name = *in.Name
	}
	u.body = s.encode(nil, u)
	return u
}

// floorPatch is the body of a PATCH as the floor decodes it.
type floorPatch struct {
	Operations []struct {
		Op    string
		Path  string
		Value json.RawMessage
	}
}

// patch applies replace operations on displayName, the attribute the
// benchmark changes.
func (s *floorServer) patch(w http.ResponseWriter, r *http.Request, id string) {
	var p floorPatch
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || len(p.Operations) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	old := s.byID[id]
	if old == nil {
		s.mu.Unlock()
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	u := *old
	for _, op := range p.Operations {
		if !strings.EqualFold(op.Op, "replace") || op.Path != "displayName" || json.Unmarshal(op.Value, &u.displayName) != nil {
			s.mu.Unlock()
			http.Error(w, "unsupported operation", http.StatusBadRequest)
			return
		}
	}
	u.modified = time.Now().UTC().Truncate(time.Millisecond)
	if !u.modified.After(old.modified) {
		u.modified = old.modified.Add(time.Millisecond)
	}
	u.version = strconv.FormatUint(s.seq.Add(1), 10)
	u.body = s.encode(nil, &u)
	s.byID[id], s.byName[strings.ToLower(u.userName)] = &u, &u
	s.mu.Unlock()
	floorWrite(w, 200, `W/"`+u.version+`"`, u.body)
}

// encode appends u as the Handler writes it.
func (s *floorServer) encode(b []byte, u *floorUser) []byte {
	b = append(b, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":`...)
	b = floorString(b, u.id)
	if u.externalID != "" {
		b = append(b, `,"externalId":`...)
		b = floorString(b, u.externalID)
	}
	b = append(b, `,"userName":`...)
	b = floorString(b, u.userName)
	if n := u.name; n != (bareName{}) {
		b = append(b, `,"name":{`...)
		sep := ""
		for _, f := range [...]struct{ k, v string }{{"formatted", n.Formatted}, {"familyName", n.FamilyName}, {"givenName", n.GivenName}} {
			if f.v != "" {
				b = append(b, sep+`"`+f.k+`":`...)
				b = floorString(b, f.v)
				sep = ","
			}
		}
		b = append(b, '}')
	}
	if u.displayName != "" {
		b = append(b, `,"displayName":`...)
		b = floorString(b, u.displayName)
	}
	b = append(b, `,"active":`...)
	b = strconv.AppendBool(b, u.active)
	if len(u.emails) > 0 {
		b = append(b, `,"emails":[`...)
		for i, e := range u.emails {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"value":`...)
			b = floorString(b, e.Value)
			if e.Type != "" {
				b = append(b, `,"type":`...)
				b = floorString(b, e.Type)
			}
			if e.Primary {
				b = append(b, `,"primary":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"meta":{"resourceType":"User","created":"`...)
	b = u.created.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","lastModified":"`...)
	b = u.modified.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","location":"`...)
	b = append(b, s.base+"/Users/"+u.id...)
	b = append(b, `","version":"W/\"`...)
	b = append(b, u.version...)
	return append(b, `\""}}`...)
}

// floorString appends v as a JSON string: as is when nothing needs
// escaping, else through encoding/json (which escapes as the Handler does).
func floorString(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			e, _ := json.Marshal(v)
			return append(b, e...)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// ---- the benchmark ----

// floorUsers are the tenant sizes BenchmarkFloor runs at.
func floorUsers() []int {
	sizes := []int{10_000}
	if n, err := strconv.Atoi(os.Getenv("SCIMHOST_BENCH_USERS")); err == nil && n > 0 && n != 10_000 {
		sizes = append(sizes, n)
	}
	return sizes
}

// floorPair is a Handler over memstore and a floor holding the same users.
type floorPair struct {
	store *memstore.Store
	h     *scim.Handler
	floor *floorServer
	// hid and fid are the ids of user number 0 ("u0@contoso.com") in each.
	hid, fid string
}

var (
	floorPairsMu sync.Mutex
	floorPairs   = map[int]*floorPair{}
)

// seedFloorPair returns the pair holding n users, creating it once per
// process: seeding a million users takes a while.
func seedFloorPair(tb testing.TB, n int) *floorPair {
	floorPairsMu.Lock()
	defer floorPairsMu.Unlock()
	if p := floorPairs[n]; p != nil {
		return p
	}
	store := memstore.New()
	floor := newFloorServer(base)
	p := &floorPair{store: store, h: newHandler(tb, store, scim.Options{}), floor: floor}
	ctx := context.Background()
	for i := range n {
		name := "u" + strconv.Itoa(i)
		in := bareRequest{ExternalID: name, UserName: name + "@contoso.com",
			Name:   &bareName{Formatted: "Test User", FamilyName: "User", GivenName: "Test"},
			Emails: []bareEmail{{Value: name + "@contoso.com", Type: "work", Primary: true}}}
		u, err := store.CreateUser(ctx, &scim.User{ExternalID: in.ExternalID, UserName: in.UserName, Active: true,
			Name:   scim.Name{Formatted: in.Name.Formatted, FamilyName: in.Name.FamilyName, GivenName: in.Name.GivenName},
			Emails: []scim.MultiValue{{Value: in.Emails[0].Value, Type: "work", Primary: true}}})
		if err != nil {
			tb.Fatal(err)
		}
		fu := floor.newUser(in)
		floor.byID[fu.id], floor.byName[strings.ToLower(fu.userName)] = fu, fu
		if i == 0 {
			p.hid, p.fid = u.ID, fu.id
		}
	}
	floorPairs[n] = p
	return p
}

// floorRequest is one of Entra ID's requests, for the Handler and for the
// floor (whose ids differ).
type floorRequest struct {
	name, method string
	target       func(id string) string
	body         func(i int) string
	want         int
}

func floorRequests() []floorRequest {
	const patch = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"Ada %d"}]}`
	return []floorRequest{
		{name: "TestConnection", method: "GET", want: 200,
			target: func(string) string {
				return "/Users?filter=userName+eq+%228a0b1f0e-3a8d-4a4c-9a47-5f0f8b3a2f10%22"
			}},
		{name: "MatchUserName", method: "GET", want: 200,
			target: func(string) string { return "/Users?filter=userName+eq+%22u0%40contoso.com%22" }},
		{name: "GetByID", method: "GET", want: 200, target: func(id string) string { return "/Users/" + id }},
		{name: "PatchOne", method: "PATCH", want: 200, target: func(id string) string { return "/Users/" + id },
			body: func(i int) string { return fmt.Sprintf(patch, i) }},
		{name: "Create", method: "POST", want: 201, target: func(string) string { return "/Users" },
			body: func(i int) string {
				return entraUserBody("new" + strconv.Itoa(i) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36))
			}},
	}
}

// discardWriter is a ResponseWriter that keeps the status and nothing
// else, reused across iterations: the handler-only runs measure the
// handler, not httptest's recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// resettableBody is a request body that can be read again.
type resettableBody struct{ strings.Reader }

func (*resettableBody) Close() error { return nil }

// demoStack wraps h as the demo server does: under the /scim/v2 prefix,
// behind BearerAuth. A *scim.Handler is made with Options.Prefix, as the
// demo's is; another handler (the floor) is mounted with http.StripPrefix.
func demoStack(tb testing.TB, h http.Handler) http.Handler {
	var tokens scim.Tokens
	if err := tokens.Add("demo", scim.HashToken("secret")); err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	if _, ok := h.(*scim.Handler); ok {
		mux.Handle("/scim/v2/", scim.BearerAuth(tokens.Lookup)(h))
	} else {
		mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(tokens.Lookup)(h)))
	}
	return mux
}

// BenchmarkFloor runs Entra ID's requests against the Handler and the
// floor at each tenant size: via=handler calls ServeHTTP with a reused
// request and writer, via=httptest builds them with httptest for each
// request, and via=stack adds the demo's prefix, BearerAuth and request
// log (to io.Discard) to the httptest run. The demo stack keeps its own
// tenant ("demo"), so its users are the ones its creates and PATCHes make.
func BenchmarkFloor(b *testing.B) {
	for _, n := range floorUsers() {
		p := seedFloorPair(b, n)
		discard := slog.New(slog.NewTextHandler(io.Discard, nil))
		hLogged := newHandler(b, p.store, scim.Options{Logger: discard, Prefix: "/scim/v2"})
		fLogged := &floorServer{base: base, byID: p.floor.byID, byName: p.floor.byName, log: discard}
		impls := []struct {
			name    string
			h, logd http.Handler
			id      string
		}{
			{"scimhost", p.h, hLogged, p.hid},
			{"floor", p.floor, fLogged, p.fid},
		}
		for _, rq := range floorRequests() {
			for _, via := range []string{"handler", "httptest", "stack"} {
				for _, im := range impls {
					b.Run(fmt.Sprintf("users=%d/req=%s/via=%s/impl=%s", n, rq.name, via, im.name), func(b *testing.B) {
						h, prefix, auth := im.h, "", ""
						if via == "stack" {
							h, prefix, auth = demoStack(b, im.logd), "/scim/v2", "Bearer secret"
						}
						id := im.id
						if via == "stack" {
							id = seedStackUser(b, h, im.name)
						}
						runFloor(b, h, via, rq, prefix+rq.target(id), auth)
					})
				}
			}
		}
	}
}

// seedStackUser creates user u0 in the demo stack's tenant (once per
// handler) and returns its id.
func seedStackUser(b *testing.B, h http.Handler, impl string) string {
	req := httptest.NewRequest("POST", "/scim/v2/Users", strings.NewReader(entraUserBody("u0")))
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var created struct{ ID string }
	if rec.Code == 201 {
		json.Unmarshal(rec.Body.Bytes(), &created)
		return created.ID
	}
	// Created by an earlier run: find it.
	req = httptest.NewRequest("GET", "/scim/v2/Users?filter=userName+eq+%22u0%40contoso.com%22", nil)
	req.Header.Set("Authorization", "Bearer secret")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var list struct{ Resources []struct{ ID string } }
	if json.Unmarshal(rec.Body.Bytes(), &list); len(list.Resources) != 1 {
		b.Fatalf("%s: seeding the stack: %d %s", impl, rec.Code, rec.Body)
	}
	return list.Resources[0].ID
}

func runFloor(b *testing.B, h http.Handler, via string, rq floorRequest, target, auth string) {
	b.ReportAllocs()
	// cpu-ns/op is the process's CPU time per request (the garbage
	// collector's included): the figure to compare on a loaded machine.
	if start, ok := processCPU(); ok {
		defer func() {
			if end, ok := processCPU(); ok && b.N > 0 {
				b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
			}
		}()
	}
	if via == "handler" {
		req := httptest.NewRequest(rq.method, target, nil)
		var body resettableBody
		if rq.body != nil {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := &discardWriter{h: http.Header{}}
		i := 0
		for b.Loop() {
			if rq.body != nil {
				body.Reset(rq.body(i))
				req.Body = &body
			}
			clear(w.h)
			w.code = 200
			h.ServeHTTP(w, req)
			if w.code != rq.want {
				b.Fatalf("status %d", w.code)
			}
			i++
		}
		return
	}
	i := 0
	for b.Loop() {
		var rd io.Reader
		if rq.body != nil {
			rd = strings.NewReader(rq.body(i))
		}
		req := httptest.NewRequest(rq.method, target, rd)
		if rq.body != nil {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != rq.want {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		i++
	}
}

// TestFloorWritesTheSameBytes keeps the floor honest: for every request
// of BenchmarkFloor it writes the Handler's status, headers and body, ids,
// times and versions aside.
func TestFloorWritesTheSameBytes(t *testing.T) {
	p := seedFloorPair(t, 10)
	for _, rq := range floorRequests() {
		t.Run(rq.name, func(t *testing.T) {
			var body string
			if rq.body != nil {
				body = rq.body(7)
			}
			ours := serve(t, p.h, request{method: rq.method, path: rq.target(p.hid), body: body})
			theirs := serve(t, p.floor, request{method: rq.method, path: rq.target(p.fid), body: body})
			if ours.Code != rq.want || theirs.Code != rq.want {
				t.Fatalf("status %d (floor %d), want %d: %s", ours.Code, theirs.Code, rq.want, ours.Body)
			}
			normalize := func(rec *httptest.ResponseRecorder) string {
				var v struct {
					ID        string
					Resources []struct{ ID string }
					Meta      struct{ Created, LastModified, Version string }
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
					t.Fatal(err)
				}
				if len(v.Resources) == 1 {
					id := v.Resources[0].ID
					v.ID = id
					json.Unmarshal(rec.Body.Bytes()[strings.Index(rec.Body.String(), `"Resources":[`)+len(`"Resources":[`):len(rec.Body.Bytes())-2], &v)
				}
				repl := []string{}
				for _, s := range []string{v.ID, v.Meta.Created, v.Meta.LastModified} {
					if s != "" {
						repl = append(repl, jsonText(s), "X")
					}
				}
				if v.Meta.Version != "" {
					repl = append(repl, jsonText(v.Meta.Version), "V", v.Meta.Version, "V")
				}
				r := strings.NewReplacer(repl...)
				var hs []string
				if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
					t.Errorf("Content-Length %s for a body of %d bytes", cl, rec.Body.Len())
				}
				for _, k := range []string{"Content-Type", "Etag", "Location"} {
					if vs := rec.Header()[k]; len(vs) > 0 {
						hs = append(hs, k+": "+r.Replace(strings.Join(vs, ",")))
					}
				}
				return strings.Join(hs, "\n") + "\n" + r.Replace(rec.Body.String())
			}
			if a, b := normalize(ours), normalize(theirs); a != b {
				t.Errorf("the floor writes other bytes:\nscimhost:\n%s\nfloor:\n%s", a, b)
			}
		})
	}
}
