package scim

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// listQueryParams must read every query as r.URL.Query() and queryParams
// do: it is only a faster way to the same answer.
func TestListQueryParamsAgreesWithURLValues(t *testing.T) {
	for _, tc := range []struct{ name, raw string }{
		{"empty", ""},
		{"entra test connection", "filter=userName+eq+%228a0b1f0e-3a8d-4a4c-9a47-5f0f8b3a2f10%22"},
		{"percent-encoded spaces", "filter=userName%20eq%20%22ada%40contoso.com%22"},
		{"paging", "startIndex=101&count=100"},
		{"sort", "sortBy=userName&sortOrder=descending&filter=active+eq+true"},
		{"repeated attributes", "attributes=userName,emails&attributes=+name+&excludedAttributes=groups"},
		{"first value wins", "filter=a+pr&filter=b+pr&count=1&count=2"},
		{"bad escape skipped", "filter=%zz&count=5"},
		{"bad name escape skipped", "%zz=1&startIndex=3"},
		{"semicolon", "filter=a;b&count=2"},
		{"unknown parameter", "aadOptscim062020&filter=userName+eq+%22x%22"},
		{"empty pairs", "&&count=3&"},
		{"no value", "filter&count="},
		{"encoded name", "%63ount=4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.raw)
			want := queryParams(v)
			got := listQueryParams(tc.raw)
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(listParams{})); diff != "" {
				t.Errorf("listQueryParams(%q) differs from queryParams (-want +got):\n%s", tc.raw, diff)
			}
		})
	}
}

func FuzzListQueryParams(f *testing.F) {
	for _, s := range []string{"filter=userName+eq+%22x%22", "startIndex=1&count=10", "attributes=a,b&attributes=c", "a;b=c", "%zz=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		if diff := cmp.Diff(queryParams(v), listQueryParams(raw), cmp.AllowUnexported(listParams{})); diff != "" {
			t.Errorf("listQueryParams(%q) differs from queryParams (-want +got):\n%s", raw, diff)
		}
	})
}

// FuzzUnescapeQuery: unescapeQuery decodes and refuses what
// url.QueryUnescape does.
func FuzzUnescapeQuery(f *testing.F) {
	for _, s := range []string{"", "plain", "userName+eq+%22u0%40contoso.com%22", "%", "%4", "%41", "%zz", "a%2", "%C3%A9+x", "++", "%2b", "%%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := url.QueryUnescape(s)
		got, ok := unescapeQuery(s)
		if ok != (err == nil) || (ok && got != want) {
			t.Fatalf("unescapeQuery(%q) = %q, %v; url.QueryUnescape: %q, %v", s, got, ok, want, err)
		}
	})
}

// BenchmarkUnescapeQuery is the filter of Entra ID's test connection,
// escaped as Entra ID sends it.
func BenchmarkUnescapeQuery(b *testing.B) {
	const s = "userName+eq+%228a0b1f0e-3a8d-4a4c-9a47-5f0f8b3a2f10%22"
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := unescapeQuery(s); !ok {
			b.Fatal("refused")
		}
	}
}
