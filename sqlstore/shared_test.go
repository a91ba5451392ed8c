package sqlstore

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
)

// twoProcesses returns the stores of one new tenant over da's database as
// two processes would have them: the same pool, user caches of their own,
// of na and nb users (0: none). It sets da's cache.
func twoProcesses(t *testing.T, da *DB, na, nb int) (a, b *Store) {
	t.Helper()
	db := *da
	WithUserCache(na)(da)
	WithUserCache(nb)(&db)
	tenant := randomTenant(t, da)
	return da.Tenant(tenant), db.Tenant(tenant)
}

// handlerOver returns a Handler with the default options over s.
func handlerOver(t *testing.T, s *Store) http.Handler {
	t.Helper()
	h, err := scim.NewHandler(s, scim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// serveOver serves one request to h, with a SCIM body when body is not
// empty, and returns the answer.
func serveOver(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/scim+json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// TestSharedReadsFollowTheRow: with a user cache, a shared read of an
// unchanged row hands out the user it decoded before (and its encoding
// cache), and every change of the row or of the user's groups — by this
// process or another sharing the database — is seen by the next read,
// whose user is a new one; a user handed out is never changed after.
func TestSharedReadsFollowTheRow(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		sa, sb := twoProcesses(t, db, 10, 10)
		ctx := t.Context()
		created, err := sa.CreateUser(ctx, &scim.User{UserName: "shared@example.com", Title: "0"})
		if err != nil {
			t.Fatal(err)
		}
		read := func(what string) (*scim.User, *scim.EncodingCache) {
			t.Helper()
			c, err := sa.GetUserCached(ctx, created.ID)
			if err != nil {
				t.Fatalf("GetUserCached after %s: %v", what, err)
			}
			return c.Value, c.Cache
		}
		u1, c1 := read("the create")
		if c1 == nil {
			t.Fatal("no encoding cache for a user just read")
		}
		if u, c := read("a read"); u != u1 || c != c1 {
			t.Errorf("a second read of the unchanged row decoded it again (same user %v, same cache %v)", u == u1, c == c1)
		}
		// A read that is not shared (GetUser) of the unchanged row keeps
		// the kept user, and its encoding, in place.
		if _, err := sa.GetUser(ctx, created.ID, scim.Projection{}); err != nil {
			t.Fatal(err)
		}
		if u, c := read("GetUser"); u != u1 || c != c1 {
			t.Errorf("after GetUser of the unchanged row, the shared read decoded it again (same user %v, same cache %v)", u == u1, c == c1)
		}
		page, err := sa.ListUsersCached(ctx, scim.Query{Filter: eq("userName", "shared@example.com"), Count: 10})
		if err != nil || len(page.Resources) != 1 {
			t.Fatalf("ListUsersCached: %d users, %v", len(page.Resources), err)
		}
		if page.Resources[0].Value != u1 || page.Resources[0].Cache != c1 {
			t.Errorf("the list's user is not the one GetUserCached handed out")
		}

		// The other process changes the title: the row's version moves.
		if _, err := sb.UpdateUser(ctx, created.ID, func(u *scim.User) error { u.Title = "b"; return nil }); err != nil {
			t.Fatal(err)
		}
		u2, c2 := read("the other process's PATCH")
		if u2 == u1 || c2 == c1 || u2.Title != "b" || u1.Title != "0" {
			t.Errorf("after the other process's PATCH: new user %v, new cache %v, title %q (the first user's now %q)", u2 != u1, c2 != c1, u2.Title, u1.Title)
		}

		// The other process adds the user to a group: the version stays,
		// the groups column moves.
		g, err := sb.CreateGroup(ctx, &scim.Group{DisplayName: "team"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sb.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: created.ID}}}); err != nil {
			t.Fatal(err)
		}
		u3, c3 := read("the other process's membership")
		if u3 == u2 || c3 == c2 || len(u3.Groups) != 1 || len(u2.Groups) != 0 || u3.Meta.Version != u2.Meta.Version {
			t.Errorf("after the other process's membership: new user %v, new cache %v, groups %v (before: %v)", u3 != u2, c3 != c2, u3.Groups, u2.Groups)
		}

		// The other process renames the group.
		if g, err = sb.GetGroup(ctx, g.ID, scim.Projection{}); err != nil {
			t.Fatal(err)
		}
		g.DisplayName = "team, renamed"
		if _, err := sb.ReplaceGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		u4, _ := read("the other process's rename")
		if u4 == u3 || len(u4.Groups) != 1 || u4.Groups[0].Display != "team, renamed" || u3.Groups[0].Display != "team" {
			t.Errorf("after the rename: new user %v, groups %v (before: %v)", u4 != u3, u4.Groups, u3.Groups)
		}

		// This process's PATCH works on a copy of its own.
		got, err := sa.UpdateUser(ctx, created.ID, func(u *scim.User) error { u.Title = "a"; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if u4.Title != "b" || got == u4 {
			t.Errorf("the PATCH changed the shared user: its title is %q", u4.Title)
		}
		if sa.UserEncodingCache(ctx, u4) != nil {
			t.Errorf("after this process's PATCH, the user read before it still has a cache")
		}
		if u5, _ := read("this process's PATCH"); u5.Title != "a" {
			t.Errorf("after this process's PATCH, title %q", u5.Title)
		}
	})
}

// TestHandlerSeesTheOtherProcess: the handler over a store with a user
// cache answers GET and the match by userName from the encoding it kept
// only while the row is unchanged: a PATCH by another process sharing the
// database, and a membership it adds, are in the next answer.
func TestHandlerSeesTheOtherProcess(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		sa, sb := twoProcesses(t, db, 10, 10)
		h := handlerOver(t, sa)
		ctx := t.Context()
		u, err := sa.CreateUser(ctx, &scim.User{UserName: "seen@example.com", Title: "first"})
		if err != nil {
			t.Fatal(err)
		}
		get := func(path string) string {
			t.Helper()
			rec := serveOver(h, http.MethodGet, path, "")
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
			}
			return rec.Body.String()
		}
		byID, byName := "/Users/"+u.ID, `/Users?filter=userName+eq+%22seen@example.com%22`
		for range 2 { // the second from the kept encoding
			if body := get(byID); !strings.Contains(body, `"title":"first"`) {
				t.Fatalf("GET: %s", body)
			}
			get(byName)
		}
		if _, err := sb.UpdateUser(ctx, u.ID, func(u *scim.User) error { u.Title = "second"; return nil }); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{byID, byName} {
			if body := get(path); !strings.Contains(body, `"title":"second"`) {
				t.Errorf("GET %s after the other process's PATCH: %s", path, body)
			}
		}
		g, err := sb.CreateGroup(ctx, &scim.Group{DisplayName: "seen team"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sb.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: u.ID}}}); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{byName, byID} {
			if body := get(path); !strings.Contains(body, `"display":"seen team"`) {
				t.Errorf("GET %s after the other process's membership: %s", path, body)
			}
		}
	})
}

// BenchmarkUserCacheMemory measures what the user cache keeps per user as
// Entra ID sends it (SQLite; the kept bytes do not depend on the
// dialect): a row a GetUser read (kept-B/user), and a row the handler's
// GET read and encoded (read-B/user), from the live heap after a
// collection.
//
//	go test -run '^$' -bench UserCacheMemory ./sqlstore
func BenchmarkUserCacheMemory(b *testing.B) {
	const n = 5000
	db := openSQLite(b)
	WithUserCache(n)(db)
	s := newStore(b, db)
	h, err := scim.NewHandler(s, scim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	ids := make([]string, n)
	for i := range ids {
		name := "u" + strconv.Itoa(i)
		u, err := s.CreateUser(ctx, &scim.User{ExternalID: name, UserName: name + "@contoso.com", Active: true,
			DisplayName: "User " + name, Emails: []scim.MultiValue{{Primary: true, Type: "work", Value: name + "@contoso.com"}},
			Name:       scim.Name{Formatted: "User " + name, FamilyName: name, GivenName: "User"},
			Enterprise: &scim.EnterpriseUser{Department: "Sales"}})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID
	}
	live := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc)
	}
	var kept, read float64
	for b.Loop() {
		// A new cache: a cleared map keeps its buckets, which would
		// leave the map's own cost out of the figures.
		WithUserCache(n)(db)
		empty := live()
		for _, id := range ids {
			if _, err := s.GetUser(ctx, id, scim.Projection{}); err != nil {
				b.Fatal(err)
			}
		}
		afterGet := live()
		for _, id := range ids {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/Users/"+id, nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("GET: %d", rec.Code)
			}
		}
		kept, read = (afterGet-empty)/n, (live()-empty)/n
	}
	b.ReportMetric(kept, "kept-B/user")
	b.ReportMetric(read, "read-B/user")
}

// TestCachedBytesEqualUncached: a handler over a store with a small user
// cache (fewer users than the tenant has, so that users are dropped and
// read again) answers every GET and list byte for byte as one over the
// same database without a cache, twice (the second time from what the
// first kept), after each change this process or another makes: users
// with extension data, a group created with members, renamed by a replace
// and by an update, memberships patched, PATCHes by both, a group and a
// user deleted.
func TestCachedBytesEqualUncached(t *testing.T) {
	const ext = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"
	eachDialect(t, func(t *testing.T, db *DB) {
		sa, sp := twoProcesses(t, db, 3, 0)
		ha, hp := handlerOver(t, sa), handlerOver(t, sp)
		ctx := t.Context()
		var ids []string
		for i := range 5 {
			u, err := sa.CreateUser(ctx, &scim.User{UserName: fmt.Sprintf("u%d@example.com", i), Title: "t",
				Enterprise: &scim.EnterpriseUser{Department: "D"},
				Extra:      map[string]json.RawMessage{ext: json.RawMessage(`{"b": 1.0, "a":"\u00e9"}`)}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		get := func(h http.Handler, path string) string {
			rec := serveOver(h, http.MethodGet, path, "")
			return fmt.Sprint(rec.Code, " ", rec.Header().Get("ETag"), " ", rec.Body.String())
		}
		check := func(step string) {
			t.Helper()
			paths := []string{"/Users?count=10", "/Users?startIndex=2&count=2", `/Users?filter=userName+eq+%22u1@example.com%22`}
			for _, id := range ids {
				paths = append(paths, "/Users/"+id)
			}
			for range 2 {
				for _, p := range paths {
					if x, y := get(ha, p), get(hp, p); x != y {
						t.Errorf("after %s, GET %s\nwith the cache:    %s\nwithout the cache: %s", step, p, x, y)
					}
				}
			}
		}
		check("the creates")
		g, err := sa.CreateGroup(ctx, &scim.Group{DisplayName: "g1", Members: []scim.Member{{Value: ids[0]}, {Value: ids[1]}}})
		if err != nil {
			t.Fatal(err)
		}
		check("a group created with members")
		if g, err = sa.GetGroup(ctx, g.ID, scim.Projection{}); err != nil {
			t.Fatal(err)
		}
		g.DisplayName = "g1 renamed"
		if _, err := sa.ReplaceGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		check("this process's rename")
		if _, err := sa.UpdateGroup(ctx, g.ID, func(g *scim.Group) error { g.DisplayName = "g1 again"; return nil }); err != nil {
			t.Fatal(err)
		}
		check("this process's UpdateGroup")
		if _, err := sa.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: ids[2]}}, Remove: []string{ids[0]}}); err != nil {
			t.Fatal(err)
		}
		check("this process's PatchMembers")
		if _, err := sp.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: ids[3]}}}); err != nil {
			t.Fatal(err)
		}
		check("the other process's PatchMembers")
		if _, err := sp.UpdateUser(ctx, ids[3], func(u *scim.User) error { u.Title = "other"; return nil }); err != nil {
			t.Fatal(err)
		}
		check("the other process's PATCH")
		if _, err := sa.UpdateUser(ctx, ids[3], func(u *scim.User) error {
			u.Title = "own"
			u.Extra[ext] = json.RawMessage(`{"z":  2}`)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		check("this process's PATCH")
		// Through the handler, whose updates keep the user they wrote as
		// the row's shared user (putWritten): a PATCH of several
		// attributes, then a PUT of every attribute the model has.
		send := func(method, path, body string) {
			t.Helper()
			if rec := serveOver(ha, method, path, body); rec.Code != http.StatusOK {
				t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
			}
		}
		for range 2 { // the second PATCH starts from the first's shared user
			send(http.MethodPatch, "/Users/"+ids[2], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+
				`{"op":"add","path":"emails","value":[{"value":"x@example.com","type":"work","primary":true}]},`+
				`{"op":"replace","path":"name.givenName","value":"Zoë"},{"op":"replace","value":{"active":false,"displayName":"D \u00e9"}},`+
				`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m-1"},`+
				`{"op":"add","path":"`+ext+`:c","value":{"k": [1, 2]}}]}`)
			check("a PATCH through the handler")
		}
		full, err := json.Marshal(fullUser("put@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		send(http.MethodPut, "/Users/"+ids[2], string(full))
		check("a PUT through the handler")
		if err := sa.DeleteGroup(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		check("this process's DeleteGroup")
		if err := sa.DeleteUser(ctx, ids[4]); err != nil {
			t.Fatal(err)
		}
		check("this process's DeleteUser")
	})
}

// TestSharedReadsRace runs GETs, lists, PATCHes, membership changes and
// group renames of a few users at once through a handler over a store
// whose user cache holds fewer users than there are (for -race: the kept
// rows, their shared users and encoding caches, the group epoch). No
// request fails, and at the end every user reads as it does without the
// cache.
func TestSharedReadsRace(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s, sp := twoProcesses(t, db, 2, 0)
		h := handlerOver(t, s)
		ctx := t.Context()
		var ids []string
		for i := range 3 {
			u, err := s.CreateUser(ctx, &scim.User{UserName: fmt.Sprintf("c%d@example.com", i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "cg"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 40 {
					id := ids[(i+w)%len(ids)]
					var req *http.Request
					switch (i + w) % 5 {
					case 0:
						req = httptest.NewRequest(http.MethodPatch, "/Users/"+id, strings.NewReader(
							`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"t`+strconv.Itoa(i)+`"}]}`))
					case 1:
						req = httptest.NewRequest(http.MethodGet, "/Users?count=5", nil)
					case 2:
						if _, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: id}}}); err != nil {
							t.Errorf("PatchMembers: %v", err)
						}
						continue
					case 3:
						if _, err := s.UpdateGroup(ctx, g.ID, func(g *scim.Group) error { g.DisplayName = "cg" + strconv.Itoa(i); return nil }); err != nil {
							t.Errorf("UpdateGroup: %v", err)
						}
						continue
					default:
						req = httptest.NewRequest(http.MethodGet, "/Users/"+id, nil)
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						t.Errorf("%s %s: %d %s", req.Method, req.URL, rec.Code, rec.Body)
					}
				}
			})
		}
		wg.Wait()
		for _, id := range ids {
			cached, err := s.GetUserCached(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := sp.GetUser(ctx, id, scim.Projection{})
			if err != nil {
				t.Fatal(err)
			}
			x, _ := json.Marshal(cached.Value)
			y, _ := json.Marshal(fresh)
			if string(x) != string(y) {
				t.Errorf("user %s with the cache:\n%s\nwithout:\n%s", id, x, y)
			}
		}
	})
}

// TestWrittenUserWithInvalidUTF8: the document's encoding replaces invalid
// UTF-8 with U+FFFD, so a user written with such a string is not what a
// read decodes; the update's kept row then has no shared user of its own
// (putWritten), and the next read through the cache answers what a
// process without it does.
func TestWrittenUserWithInvalidUTF8(t *testing.T) {
	const ext = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"
	eachDialect(t, func(t *testing.T, db *DB) {
		sa, sp := twoProcesses(t, db, 3, 0)
		ha, hp := handlerOver(t, sa), handlerOver(t, sp)
		ctx := t.Context()
		u, err := sa.CreateUser(ctx, &scim.User{UserName: "bad@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		get := func(h http.Handler) string {
			rec := serveOver(h, http.MethodGet, "/Users/"+u.ID, "")
			return fmt.Sprint(rec.Code, " ", rec.Body.String())
		}
		rec := serveOver(ha, http.MethodPut, "/Users/"+u.ID, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","`+ext+`"],`+
			`"userName":"bad@example.com","`+ext+`":{"k":"a`+"\xff"+`b"}}`)
		if rec.Code != http.StatusOK {
			t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
		}
		if x, y := get(ha), get(hp); x != y {
			t.Errorf("after a PUT with invalid UTF-8\nwith the cache:    %q\nwithout the cache: %q", x, y)
		}
		if _, err := sa.UpdateUser(ctx, u.ID, func(u *scim.User) error {
			u.DisplayName = "d\xffe"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		shared, err := sa.GetUserShared(ctx, u.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := sp.GetUser(ctx, u.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(fresh, shared); d != "" {
			t.Errorf("GetUserShared after UpdateUser (-another process's GetUser +shared):\n%s", d)
		}
		if x, y := get(ha), get(hp); x != y {
			t.Errorf("after UpdateUser with invalid UTF-8\nwith the cache:    %q\nwithout the cache: %q", x, y)
		}
	})
}
