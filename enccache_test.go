package scim_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// plainStore is a memstore without its optional read capabilities: a
// Handler over it encodes every user it reads, so its answers are what
// the cached ones must be.
type plainStore struct {
	scim.Store
	scim.GroupStore
}

// cacheSide is a Handler over memstore, and one over the same store that
// encodes every read, with the same options.
type cacheSide struct {
	name        string
	cached, ref *scim.Handler
	host        string // the request's Host, which builds the base URL when BaseURL is empty
}

func newCacheSide(t *testing.T, name string, s *memstore.Store, opts scim.Options, host string) cacheSide {
	t.Helper()
	c, err := scim.NewHandler(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := scim.NewHandler(plainStore{s, s}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return cacheSide{name: name, cached: c, ref: r, host: host}
}

func (c cacheSide) get(t *testing.T, cached bool, path string) (int, string) {
	t.Helper()
	h := c.ref
	if cached {
		h = c.cached
	}
	req := httptest.NewRequest("GET", path, nil)
	req.Host = c.host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	// The headers a cached read writes from the cache come first, so that
	// comparing two answers compares them too.
	return rec.Code, "ETag: " + rec.Header().Get("ETag") + "\nContent-Length: " + rec.Header().Get("Content-Length") + "\n\n" + rec.Body.String()
}

// bodyOf is the body of an answer of cacheSide.get.
func bodyOf(answer string) string {
	_, body, _ := strings.Cut(answer, "\n\n")
	return body
}

// TestEncodingCacheNeverStale: memstore keeps each user's encoding for the
// Handler that read it, and after every way a user's representation can
// change — a PUT, a PATCH, a membership added and removed through PATCH,
// through a group's PUT and through the store, a group renamed, a group
// deleted, the user deleted and created again — the next GET and list of
// every Handler answer what encoding the user now gives, byte for byte,
// with the ETag and Content-Length the encoding path writes.
// Handlers with other base URLs (fixed, or from the request's Host) and
// other extensions over the same store never answer with each other's
// bytes, and a projection is never answered from the cache.
func TestEncodingCacheNeverStale(t *testing.T) {
	s := memstore.New()
	hidden := scim.Extension{Schema: "urn:example:scim:hr:1.0:User", Resource: "User", Attributes: []scim.Attribute{
		{Name: "badge", Type: scim.TypeString},
		{Name: "pin", Type: scim.TypeString, Returned: scim.ReturnedNever},
	}}
	sides := []cacheSide{
		newCacheSide(t, "BaseURL a", s, scim.Options{BaseURL: "https://a.example/scim"}, "ignored.example"),
		newCacheSide(t, "BaseURL b", s, scim.Options{BaseURL: "https://b.example/scim/v2"}, "ignored.example"),
		newCacheSide(t, "Host x", s, scim.Options{}, "x.example"),
		newCacheSide(t, "Host y", s, scim.Options{}, "y.example"),
		newCacheSide(t, "extension", s, scim.Options{BaseURL: "https://a.example/scim", Extensions: []scim.Extension{hidden}}, "ignored.example"),
	}
	// Host x and Host y are one Handler, asked under two base URLs.
	sides[3].cached, sides[3].ref = sides[2].cached, sides[2].ref
	h := sides[0].cached
	ctx := context.Background()

	create := func(userName string) string {
		return mustCreate(t, h, "/Users", `{"userName":"`+userName+`","displayName":"Ada","emails":[{"value":"`+userName+`","type":"work","primary":true}],"urn:example:scim:hr:1.0:User":{"badge":"b1","pin":"1234"}}`)["id"].(string)
	}
	id := create("ada@contoso.com")
	gid := mustCreate(t, h, "/Groups", `{"displayName":"Tour Guides"}`)["id"].(string)
	list := "/Users?filter=userName+eq+%22ada%40contoso.com%22"

	// check reads the user twice through every side: the second read must
	// come from the cache (the cache then holds exactly its bytes), and
	// both must be what encoding gives now. It returns the bodies of the
	// first side.
	check := func(step string) (get, lst string) {
		t.Helper()
		for i, sd := range sides {
			for _, path := range []string{"/Users/" + id, list} {
				want, wantBody := sd.get(t, false, path)
				for range 2 {
					code, body := sd.get(t, true, path)
					if code != want || body != wantBody {
						t.Fatalf("%s: %s through %s: %d %s\nwant %d %s", step, path, sd.name, code, body, want, wantBody)
					}
				}
				if i == 0 {
					if path == list {
						lst = wantBody
					} else {
						get = wantBody
					}
				}
			}
			if u, err := s.GetUserShared(ctx, id, scim.Projection{}); err == nil {
				c := s.UserEncodingCache(ctx, u)
				if c == nil {
					t.Fatalf("%s: no cache for the user GetUserShared returned", step)
				}
				_, answer := sd.get(t, false, "/Users/"+id)
				body := bodyOf(answer)
				if got := scim.CachedEncoding(c); !bytes.Equal(got, []byte(body)) {
					t.Fatalf("%s: through %s the cache holds\n%s\nwant\n%s", step, sd.name, got, body)
				}
			}
			// A projection is answered by encoding, never from the cache.
			for _, q := range []string{"?attributes=userName", "?excludedAttributes=groups", "?attributes=groups"} {
				want, wantBody := sd.get(t, false, "/Users/"+id+q)
				if code, body := sd.get(t, true, "/Users/"+id+q); code != want || body != wantBody {
					t.Fatalf("%s: %s through %s: %s, want %s", step, q, sd.name, body, wantBody)
				}
			}
		}
		return get, lst
	}
	changes := func(step string, change func()) {
		t.Helper()
		beforeGet, beforeList := check(step + " (before)")
		change()
		afterGet, afterList := check(step)
		if afterGet == beforeGet || afterList == beforeList {
			t.Fatalf("%s changed nothing a read shows: %s", step, afterGet)
		}
	}
	ok := func(code int, want int, body string) {
		t.Helper()
		if code != want {
			t.Fatalf("status %d, want %d: %s", code, want, body)
		}
	}
	do := func(method, path, body string) {
		t.Helper()
		rec := serve(t, h, request{method: method, path: path, body: body})
		if method == "PATCH" && rec.Code == 204 {
			return // a group's PATCH without attributes to return
		}
		ok(rec.Code, map[string]int{"PUT": 200, "PATCH": 200, "DELETE": 204, "POST": 201}[method], rec.Body.String())
	}

	changes("PUT", func() {
		do("PUT", "/Users/"+id, `{"userName":"ada@contoso.com","displayName":"Ada Lovelace","emails":[{"value":"ada@contoso.com","type":"work"}]}`)
	})
	changes("PATCH", func() { do("PATCH", "/Users/"+id, patchOf(`{"op":"replace","path":"title","value":"Countess"}`)) })
	changes("PATCH of an extension attribute", func() {
		do("PATCH", "/Users/"+id, patchOf(`{"op":"add","path":"urn:example:scim:hr:1.0:User:badge","value":"b2"}`))
	})
	changes("member added by PATCH", func() {
		do("PATCH", "/Groups/"+gid, patchOf(`{"op":"add","path":"members","value":[{"value":"`+id+`"}]}`))
	})
	changes("group renamed by PATCH", func() {
		do("PATCH", "/Groups/"+gid, patchOf(`{"op":"replace","path":"displayName","value":"Guides"}`))
	})
	changes("group renamed by PUT", func() {
		do("PUT", "/Groups/"+gid, `{"displayName":"Senior Guides","members":[{"value":"`+id+`"}]}`)
	})
	changes("member removed by PATCH", func() {
		do("PATCH", "/Groups/"+gid, patchOf(`{"op":"remove","path":"members[value eq \"`+id+`\"]"}`))
	})
	changes("member added by PUT", func() {
		do("PUT", "/Groups/"+gid, `{"displayName":"Senior Guides","members":[{"value":"`+strings.ToUpper(id)+`"}]}`)
	})
	changes("member removed by PUT", func() { do("PUT", "/Groups/"+gid, `{"displayName":"Senior Guides"}`) })
	changes("member added by the store", func() {
		if _, err := s.PatchMembers(ctx, gid, scim.MemberPatch{Add: []scim.Member{{Value: id}}}); err != nil {
			t.Fatal(err)
		}
	})
	var g2 string
	changes("second group created with the member", func() {
		g2 = mustCreate(t, h, "/Groups", `{"displayName":"Drivers","members":[{"value":"`+id+`"}]}`)["id"].(string)
	})
	changes("group deleted", func() { do("DELETE", "/Groups/"+gid, "") })
	changes("group replaced by the store", func() {
		g, err := s.GetGroup(ctx, g2, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		g.DisplayName, g.Members = "Night Drivers", []scim.Member{{Value: id}}
		if _, err := s.ReplaceGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	})
	changes("user replaced by the store", func() {
		u, err := s.GetUser(ctx, id, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		u.NickName = "Ada"
		if _, err := s.ReplaceUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	})
	changes("user updated by the store", func() {
		if _, err := s.UpdateUser(ctx, id, func(u *scim.User) error { u.NickName = "Countess"; return nil }); err != nil {
			t.Fatal(err)
		}
	})
	changes("user deleted and created again", func() {
		do("DELETE", "/Users/"+id, "")
		for _, sd := range sides {
			if code, body := sd.get(t, true, "/Users/"+id); code != 404 {
				t.Fatalf("deleted user through %s: %d %s", sd.name, code, body)
			}
			if _, body := sd.get(t, true, list); !strings.Contains(body, `"totalResults":0`) {
				t.Fatalf("deleted user listed through %s: %s", sd.name, body)
			}
		}
		id = create("ada@contoso.com")
	})
}

// renamingStore embeds memstore and overrides its shared reads: a type
// that embeds a CachedUserReader inherits GetUserCached and
// ListUsersCached, which go past the overrides, and a Handler over it
// must not call them.
type renamingStore struct{ *memstore.Store }

func (s renamingStore) GetUserShared(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	u, err := s.Store.GetUserShared(ctx, id, want)
	if err != nil {
		return nil, err
	}
	c := *u
	c.DisplayName = "Renamed"
	return &c, nil
}

func (s renamingStore) ListUsersShared(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	page, err := s.Store.ListUsersShared(ctx, q)
	for i, u := range page.Resources {
		c := *u
		c.DisplayName = "Renamed"
		page.Resources[i] = &c
	}
	return page, err
}

// oneCallStore is a CachedUserReader of its own, counting its one-call
// reads.
type oneCallStore struct {
	*memstore.Store
	gets, lists int
}

func (s *oneCallStore) CachedUserReader() scim.CachedUserReader { return s }

func (s *oneCallStore) GetUserCached(ctx context.Context, id string) (scim.Cached[*scim.User], error) {
	s.gets++
	return s.Store.GetUserCached(ctx, id)
}

func (s *oneCallStore) ListUsersCached(ctx context.Context, q scim.Query) (scim.Page[scim.Cached[*scim.User]], error) {
	s.lists++
	return s.Store.ListUsersCached(ctx, q)
}

// TestCachedReadsOnlyFromTheirOwnStore: the Handler reads a user and its
// encoding cache in one call only from a store whose CachedUserReader is
// its own; over a type that embeds memstore and overrides its shared
// reads, every GET and list answers what the override returns.
func TestCachedReadsOnlyFromTheirOwnStore(t *testing.T) {
	paths := func(h *scim.Handler) []string {
		id := mustCreate(t, h, "/Users", `{"userName":"ada@contoso.com","displayName":"Ada"}`)["id"].(string)
		return []string{"/Users/" + id, "/Users?filter=userName+eq+%22ada%40contoso.com%22", "/Users?filter=displayName+eq+%22Ada%22"}
	}
	rs := renamingStore{memstore.New()}
	h := newHandler(t, rs, scim.Options{})
	for _, path := range paths(h) {
		for range 3 {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"displayName":"Renamed"`) {
				t.Fatalf("GET %s: %d %s, want the override's displayName", path, rec.Code, rec.Body)
			}
		}
	}

	cs := &oneCallStore{Store: memstore.New()}
	h = newHandler(t, cs, scim.Options{})
	ps := paths(h)
	for i, path := range append(ps, ps[0]+"?attributes=userName") {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "ada@contoso.com") {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		if wantGets, wantLists := min(i+1, 1), min(i, 2); cs.gets != wantGets || cs.lists != wantLists {
			t.Fatalf("after GET %s: %d GetUserCached and %d ListUsersCached calls, want %d and %d", path, cs.gets, cs.lists, wantGets, wantLists)
		}
	}
}

// TestPatchAnswerFillsEncodingCache: a user's PATCH is answered with its
// new state in the default projection, which is what the next read sends,
// so the answer is kept in the store's cache for the user: the next GET
// and match copy it, byte for byte what encoding gives, for a user in no
// group and one in a group alike. A PATCH answered in a projection, or
// one that changes nothing, keeps nothing that a read would not.
func TestPatchAnswerFillsEncodingCache(t *testing.T) {
	s := memstore.New()
	side := newCacheSide(t, "BaseURL", s, scim.Options{BaseURL: "https://a.example/scim"}, "ignored.example")
	h, ctx := side.cached, context.Background()
	cached := func(id string) []byte {
		t.Helper()
		u, err := s.GetUserShared(ctx, id, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		c := s.UserEncodingCache(ctx, u)
		if c == nil {
			t.Fatal("no cache for the user GetUserShared returned")
		}
		return scim.CachedEncoding(c)
	}
	patch := func(path, op string) string {
		t.Helper()
		rec := serve(t, h, request{method: "PATCH", path: path, body: patchOf(op)})
		if rec.Code != 200 {
			t.Fatalf("PATCH %s: %d %s", path, rec.Code, rec.Body)
		}
		// The headers a GET of the new state sends.
		id, _, _ := strings.Cut(strings.TrimPrefix(path, "/Users/"), "?")
		get := serve(t, side.ref, request{method: "GET", path: "/Users/" + id})
		for _, k := range []string{"ETag", "Content-Type"} {
			if got, want := rec.Header().Get(k), get.Header().Get(k); got != want {
				t.Fatalf("PATCH %s: %s %q, a GET's %q", path, k, got, want)
			}
		}
		if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
			t.Fatalf("PATCH %s: Content-Length %q for %s bytes", path, got, want)
		}
		return rec.Body.String()
	}
	alone := mustCreate(t, h, "/Users", `{"userName":"ada@contoso.com"}`)["id"].(string)
	member := mustCreate(t, h, "/Users", `{"userName":"grace@contoso.com"}`)["id"].(string)
	mustCreate(t, h, "/Groups", `{"displayName":"Guides","members":[{"value":"`+member+`"}]}`)
	for _, c := range []struct{ id, userName string }{{alone, "ada@contoso.com"}, {member, "grace@contoso.com"}} {
		body := patch("/Users/"+c.id, `{"op":"replace","path":"title","value":"Countess"}`)
		if got := string(cached(c.id)); got != body {
			t.Fatalf("%s: after the PATCH the cache holds\n%s\nwant the answer\n%s", c.userName, got, body)
		}
		if c.id == member && !strings.Contains(body, `"groups"`) {
			t.Fatalf("the member's answer has no groups: %s", body)
		}
		for _, path := range []string{"/Users/" + c.id, "/Users?filter=userName+eq+%22" + c.userName + "%22"} {
			_, want := side.get(t, false, path)
			if _, got := side.get(t, true, path); got != want {
				t.Fatalf("%s after the PATCH: %s\nwant %s", path, got, want)
			}
		}

		// In a projection: the answer is not the default projection,
		// and the cache holds none of it.
		projected := patch("/Users/"+c.id+"?attributes=userName", `{"op":"replace","path":"title","value":"Admiral"}`)
		if got := cached(c.id); got != nil {
			t.Fatalf("%s: after a PATCH answered with %s the cache holds %s", c.userName, projected, got)
		}
		_, want := side.get(t, false, "/Users/"+c.id)
		if _, got := side.get(t, true, "/Users/"+c.id); got != want || !strings.Contains(got, "Admiral") {
			t.Fatalf("after the projected PATCH: %s\nwant %s", got, want)
		}

		// A PATCH that changes nothing leaves the cache the read filled.
		before := string(cached(c.id))
		if body := patch("/Users/"+c.id, `{"op":"replace","path":"title","value":"Admiral"}`); body != before {
			t.Fatalf("a PATCH that changes nothing answered\n%s\nwant\n%s", body, before)
		}
		if got := string(cached(c.id)); got != before {
			t.Fatalf("after a PATCH that changes nothing the cache holds\n%s\nwant\n%s", got, before)
		}
	}
}
