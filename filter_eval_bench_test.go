package scim

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchUsers are n users with distinct userNames and emails, a title on
// every tenth, and a custom extension attribute.
func benchUsers(n int) []*User {
	us := make([]*User, n)
	t0 := mustTime("2024-01-01T00:00:00Z")
	for i := range us {
		id := strconv.Itoa(i)
		us[i] = &User{
			ID:       "id-" + id,
			UserName: "User" + id + "@Example.com",
			Name:     Name{GivenName: "Given" + id, FamilyName: "Family"},
			Active:   i%2 == 0,
			Emails:   []MultiValue{{Value: "home" + id + "@example.org", Type: "home"}, {Value: "user" + id + "@example.com", Type: "work", Primary: true}},
			Extra:    map[string]json.RawMessage{acme: json.RawMessage(`{"costCode":"CC-` + id + `"}`)},
			Meta:     Meta{Created: t0.Add(time.Duration(i) * time.Second), LastModified: t0.Add(time.Duration(i) * time.Second)},
		}
		if i%10 == 0 {
			us[i].Title = "Engineer " + strconv.Itoa(i%100)
		}
	}
	return us
}

// BenchmarkMatchUserScan evaluates one filter against each of 100,000
// users, as memstore does for a filter no index answers. One op is the whole
// scan; allocs/op is the total for 100,000 users.
func BenchmarkMatchUserScan(b *testing.B) {
	us := benchUsers(100_000)
	cases := []struct {
		name  string
		f     Filter
		match int
	}{
		{"title_eq", eq("title", "engineer 50"), 1000},
		{"userName_eq", eq("userName", "user99999@example.COM"), 1},
		{"userName_co", expr("userName", OpCo, str("R9999@")), 1},
		{"emails_work_value_eq", vp("emails", and(eq("type", "work"), eq("value", "USER4242@example.com"))), 1},
		{"active_and_name_sw", and(expr("active", OpEq, boolean(true)), expr("name.givenName", OpSw, str("given1234"))), 6},
		{"lastModified_gt", expr("meta.lastModified", OpGt, str("2024-01-02T03:46:39Z")), 0},
		{"extension_attribute_eq", eq(acme+":costCode", "cc-77"), 1},
	}
	// The floor: the same scan comparing the field directly, which is what
	// the memory traffic of touching 100,000 users costs.
	b.Run("baseline_EqualFold_title", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, u := range us {
				_ = strings.EqualFold(u.Title, "engineer 50")
			}
		}
	})
	for _, tc := range cases {
		n := 0
		for _, u := range us {
			if MatchUser(tc.f, u) {
				n++
			}
		}
		if n != tc.match {
			b.Fatalf("%s: %d matches, want %d", tc.name, n, tc.match)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, u := range us {
					MatchUser(tc.f, u)
				}
			}
		})
	}
}

func BenchmarkSortUsers(b *testing.B) {
	us := benchUsers(10_000)
	b.ReportAllocs()
	for b.Loop() {
		SortUsers(us, ap("userName"), true)
	}
}
