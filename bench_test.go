package scim_test

// Benchmarks of whole requests through Handler + memstore, each beside a
// bare net/http handler that does the same job by hand — a map under a
// mutex, encoding/json on a tagged struct — and writes the same bytes
// (TestBareHandlersWriteTheSameBytes checks that). Compare with:
//
//	go test -run '^$' -bench 'Request' -benchmem -count 10 . > bench.txt
//	benchstat -col /impl bench.txt

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// entraUser is the body Entra ID sends to create a user (docs/clients.md#create-bodies-and-responses).
const entraUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],` +
	`"externalId":"%s","userName":"%s@contoso.com","active":true,` +
	`"emails":[{"primary":true,"type":"work","value":"%s@contoso.com"}],` +
	`"meta":{"resourceType":"User"},"name":{"formatted":"Test User","familyName":"User","givenName":"Test"},"roles":[]}`

func entraUserBody(name string) string {
	return strings.ReplaceAll(strings.Replace(entraUser, "%s", name, 1), "%s", name)
}

// bareUser is what a hand-written handler would keep and serve: the same
// attributes, in the order scimhost writes them.
type bareUser struct {
	Schemas    []string    `json:"schemas"`
	ID         string      `json:"id"`
	ExternalID string      `json:"externalId,omitempty"`
	UserName   string      `json:"userName"`
	Name       *bareName   `json:"name,omitempty"`
	Active     bool        `json:"active"`
	Emails     []bareEmail `json:"emails,omitempty"`
	Meta       bareMeta    `json:"meta"`
}

type bareName struct {
	Formatted  string `json:"formatted,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
}

type bareEmail struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

type bareMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

// bareRequest is what the bare handler decodes a create into.
type bareRequest struct {
	ExternalID string      `json:"externalId"`
	UserName   string      `json:"userName"`
	Active     *bool       `json:"active"`
	Name       *bareName   `json:"name"`
	Emails     []bareEmail `json:"emails"`
}

// bareServer is the baseline: what a Go developer writes without a library.
type bareServer struct {
	mu     sync.RWMutex
	byID   map[string]*bareUser
	byName map[string]string // lower-case userName → id
	seq    atomic.Int64
	mux    *http.ServeMux
}

func newBareServer() *bareServer {
	s := &bareServer{byID: map[string]*bareUser{}, byName: map[string]string{}}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /Users/{id}", s.get)
	s.mux.HandleFunc("GET /Users", s.list)
	s.mux.HandleFunc("POST /Users", s.create)
	return s
}

func (s *bareServer) write(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func (s *bareServer) get(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	u, ok := s.byID[r.PathValue("id")]
	s.mu.RUnlock()
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("ETag", u.Meta.Version)
	s.write(w, 200, u)
}

type bareList struct {
	Schemas      []string    `json:"schemas"`
	TotalResults int         `json:"totalResults"`
	StartIndex   int         `json:"startIndex"`
	ItemsPerPage int         `json:"itemsPerPage"`
	Resources    []*bareUser `json:"Resources"`
}

func (s *bareServer) list(w http.ResponseWriter, r *http.Request) {
	// Only `userName eq "x"`: the least a hand-written endpoint must parse
	// to pass Entra's Test connection.
	attr, value, ok := strings.Cut(r.URL.Query().Get("filter"), " eq ")
	if !ok || !strings.EqualFold(attr, "userName") {
		http.Error(w, "unsupported filter", http.StatusBadRequest)
		return
	}
	value, err := strconv.Unquote(value)
	if err != nil {
		http.Error(w, "bad value", http.StatusBadRequest)
		return
	}
	out := bareList{Schemas: []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, StartIndex: 1, Resources: []*bareUser{}}
	s.mu.RLock()
	if id, ok := s.byName[strings.ToLower(value)]; ok {
		out.Resources = append(out.Resources, s.byID[id])
	}
	s.mu.RUnlock()
	out.TotalResults, out.ItemsPerPage = len(out.Resources), len(out.Resources)
	s.write(w, 200, out)
}

func (s *bareServer) create(w http.ResponseWriter, r *http.Request) {
	var in bareRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.UserName == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var id [16]byte
	rand.Read(id[:])
	u := &bareUser{
		Schemas: []string{scim.UserSchema}, ID: hex.EncodeToString(id[:]), ExternalID: in.ExternalID,
		UserName: in.UserName, Name: in.Name, Active: in.Active == nil || *in.Active, Emails: in.Emails,
		Meta: bareMeta{ResourceType: "User", Created: "2026-11-23T14:00:00Z", LastModified: "2026-11-23T14:00:00Z",
			Version: `W/"` + strconv.FormatInt(s.seq.Add(1), 10) + `"`},
	}
	u.Meta.Location = base + "/Users/" + u.ID
	key := strings.ToLower(u.UserName)
	s.mu.Lock()
	if _, taken := s.byName[key]; taken {
		s.mu.Unlock()
		http.Error(w, "conflict", http.StatusConflict)
		return
	}
	s.byID[u.ID], s.byName[key] = u, u.ID
	s.mu.Unlock()
	w.Header().Set("Location", u.Meta.Location)
	s.write(w, 201, u)
}

// benchRequest runs one request per iteration.
func benchRequest(b *testing.B, h http.Handler, method, target string, body func(i int) string, want int) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var rd *strings.Reader
		if body != nil {
			rd = strings.NewReader(body(i))
		} else {
			rd = strings.NewReader("")
		}
		req := httptest.NewRequest(method, target, rd)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		i++
	}
}

// seedBoth creates the same user in a Handler over memstore and in a bare
// server, and returns the handler and both ids.
func seedBoth(b testing.TB) (*scim.Handler, *bareServer, string, string) {
	h := newHandler(b, memstore.New(), scim.Options{})
	rec := serve(b, h, request{method: "POST", path: "/Users", body: entraUserBody("ada")})
	if rec.Code != 201 {
		b.Fatalf("seed: %d %s", rec.Code, rec.Body)
	}
	var created struct{ ID string }
	json.Unmarshal(rec.Body.Bytes(), &created)
	bare := newBareServer()
	brec := httptest.NewRecorder()
	bare.ServeHTTP(brec, httptest.NewRequest("POST", "/Users", strings.NewReader(entraUserBody("ada"))))
	var bcreated struct{ ID string }
	json.Unmarshal(brec.Body.Bytes(), &bcreated)
	return h, bare, created.ID, bcreated.ID
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func (s *bareServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func BenchmarkRequestGetUser(b *testing.B) {
	h, bare, id, bid := seedBoth(b)
	b.Run("impl=scimhost", func(b *testing.B) { benchRequest(b, h, "GET", "/Users/"+id, nil, 200) })
	b.Run("impl=bare", func(b *testing.B) { benchRequest(b, bare, "GET", "/Users/"+bid, nil, 200) })
}

func BenchmarkRequestTestConnection(b *testing.B) {
	h, bare, _, _ := seedBoth(b)
	const target = "/Users?filter=userName+eq+%228a0b1f0e-3a8d-4a4c-9a47-5f0f8b3a2f10%22"
	b.Run("impl=scimhost", func(b *testing.B) { benchRequest(b, h, "GET", target, nil, 200) })
	b.Run("impl=bare", func(b *testing.B) { benchRequest(b, bare, "GET", target, nil, 200) })
}

func BenchmarkRequestCreateUser(b *testing.B) {
	body := func(i int) string { return entraUserBody("user" + strconv.Itoa(i)) }
	b.Run("impl=scimhost", func(b *testing.B) {
		benchRequest(b, newHandler(b, memstore.New(), scim.Options{}), "POST", "/Users", body, 201)
	})
	b.Run("impl=bare", func(b *testing.B) { benchRequest(b, newBareServer(), "POST", "/Users", body, 201) })
}

// TestBareHandlersWriteTheSameBytes keeps the baseline honest: apart from
// the generated id and timestamps, it writes what the Handler writes.
func TestBareHandlersWriteTheSameBytes(t *testing.T) {
	h, bare, id, bid := seedBoth(t)
	ours := serve(t, h, request{method: "GET", path: "/Users/" + id}).Body.Bytes()
	theirs := serve(t, bare, request{method: "GET", path: "/Users/" + bid}).Body.Bytes()
	normalize := func(body []byte, id string) string {
		var u struct {
			Meta struct{ Created, LastModified, Version string }
		}
		if err := json.Unmarshal(body, &u); err != nil {
			t.Fatal(err)
		}
		return strings.NewReplacer(id, "ID", jsonText(u.Meta.Created), "T", jsonText(u.Meta.LastModified), "T",
			jsonText(u.Meta.Version), "V").Replace(string(body))
	}
	if a, b := normalize(ours, id), normalize(theirs, bid); a != b {
		t.Errorf("the bare handler writes other bytes:\nscimhost: %s\nbare:     %s", a, b)
	}
}

// BenchmarkRequestGroups is Entra ID's two group requests of a cycle: the
// group half of Test connection, and a PATCH adding one member (the
// member added again each time, which changes nothing but runs the whole
// PATCH).
func BenchmarkRequestGroups(b *testing.B) {
	h, _, id, _ := seedBoth(b)
	rec := serve(b, h, request{method: "POST", path: "/Groups", body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops"}`})
	if rec.Code != 201 {
		b.Fatalf("seed: %d %s", rec.Code, rec.Body)
	}
	var g struct{ ID string }
	json.Unmarshal(rec.Body.Bytes(), &g)
	b.Run("req=TestConnection", func(b *testing.B) {
		benchRequest(b, h, "GET", "/Groups?excludedAttributes=members&filter=displayName+eq+%228a0b1f0e-3a8d-4a4c-9a47-5f0f8b3a2f10%22", nil, 200)
	})
	add := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + id + `"}]}]}`
	b.Run("req=AddMember", func(b *testing.B) {
		benchRequest(b, h, "PATCH", "/Groups/"+g.ID, func(int) string { return add }, 204)
	})
}
