package sqlstore

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scimhost/scim"
)

// TestSearchThroughHandler: filters this store once refused with 400
// answer through the handler: POST /.search across both resource types
// with an attribute only one has, and the filters of Microsoft's "SCIM
// Tests" Postman collection.
func TestSearchThroughHandler(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		ctx := t.Context()
		ann, err := s.CreateUser(ctx, &scim.User{UserName: "ann@example.com", DisplayName: "Team", Active: true,
			Name:   scim.Name{FamilyName: "Lovelace"},
			Emails: []scim.MultiValue{{Value: "ann@example.com", Type: "work"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "team", Members: []scim.Member{{Value: ann.ID}}}); err != nil {
			t.Fatal(err)
		}
		h, err := scim.NewHandler(s, scim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		total := func(method, target, body string) int {
			t.Helper()
			req := httptest.NewRequest(method, target, strings.NewReader(body))
			if body != "" {
				req.Header.Set("Content-Type", "application/scim+json")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var lr struct{ TotalResults int }
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &lr) != nil {
				t.Errorf("%s %s %s: %d %s", method, target, body, rec.Code, rec.Body)
				return -1
			}
			return lr.TotalResults
		}
		search := func(filter string) int {
			b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": filter})
			return total("POST", "/.search", string(b))
		}
		for _, tt := range []struct {
			filter string
			want   int
		}{
			{`userName eq "ann@example.com"`, 1}, // users only
			{`members eq "` + ann.ID + `"`, 1},   // groups only
			{`displayName eq "team"`, 2},         // both
			{`not (userName eq "nobody")`, 2},    // every group lacks userName
			{`name.familyName co "love"`, 1},
		} {
			if got := search(tt.filter); got != tt.want {
				t.Errorf("POST /.search %s: totalResults %d, want %d", tt.filter, got, tt.want)
			}
		}
		for _, tt := range []struct {
			filter string
			want   int
		}{
			{`DisplayName eq "Team"`, 1},
			{`name.FamilyName eq "Lovelace" and (emails.Value co "ann" or emails.Value co "bob")`, 1},
			{`name.FamilyName eq "Lovelace" and (emails.Value co "eve" or emails.Value co "bob")`, 0},
		} {
			if got := total("GET", "/Users?filter="+url.QueryEscape(tt.filter), ""); got != tt.want {
				t.Errorf("GET /Users?filter=%s: totalResults %d, want %d", tt.filter, got, tt.want)
			}
		}
	})
}
