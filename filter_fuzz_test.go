package scim

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The fuzz targets run their seed corpora (testdata/fuzz/<target>) in every
// `go test`; run one with -fuzz to search for more:
//
//	go test -run '^$' -fuzz '^FuzzParseFilter$' -fuzztime 2m

// FuzzFilterReference checks that our parser and filter-parser/v2 build the
// same tree or both reject, unless a documented difference explains it.
func FuzzFilterReference(f *testing.F) {
	for _, tc := range fpAllFilterCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if _, err := compareWithReference(in); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseFilter checks that ParseFilter never panics, that its errors are
// 400 invalidFilter, that strict mode accepts a subset with the same trees,
// and that String gives strict syntax that parses back to the same tree and
// prints the same again.
func FuzzParseFilter(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseFilter(in)
		strict, strictErr := parseFilter(in, filterLimits{strict: true})
		if err != nil {
			fpCheckFuzzError(t, err, InvalidFilter)
			if strictErr == nil {
				t.Fatalf("strict mode accepts %q, which ParseFilter rejects: %v", in, err)
			}
			return
		}
		if strictErr == nil {
			if diff := cmp.Diff(got, strict); diff != "" {
				t.Fatalf("strict and lenient trees of %q differ (-lenient +strict):\n%s", in, diff)
			}
		} else {
			fpCheckFuzzError(t, strictErr, InvalidFilter)
		}
		s := got.String()
		again, err := parseFilter(s, filterLimits{strict: true})
		if err != nil {
			t.Fatalf("ParseFilter(%q).String() = %q does not parse strictly: %v", in, s, err)
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Fatalf("ParseFilter(%q).String() = %q parses differently (-first +second):\n%s", in, s, diff)
		}
		if s2 := again.String(); s2 != s {
			t.Fatalf("String() of %q is not a fixpoint: %q then %q", in, s, s2)
		}
	})
}

// FuzzParsePath does for ParsePath and ParseAttrPath what FuzzParseFilter
// does for ParseFilter, and checks that an attribute path is also a path.
func FuzzParsePath(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePath(in)
		if err != nil {
			fpCheckFuzzError(t, err, InvalidPath)
		} else {
			s := p.String()
			again, err := parsePath(s, true)
			if err != nil {
				t.Fatalf("ParsePath(%q).String() = %q does not parse strictly: %v", in, s, err)
			}
			if diff := cmp.Diff(p, again); diff != "" {
				t.Fatalf("ParsePath(%q).String() = %q parses differently (-first +second):\n%s", in, s, diff)
			}
			if s2 := again.String(); s2 != s {
				t.Fatalf("String() of %q is not a fixpoint: %q then %q", in, s, s2)
			}
		}
		a, err := ParseAttrPath(in)
		if err != nil {
			fpCheckFuzzError(t, err, InvalidPath)
			return
		}
		if diff := cmp.Diff(Path{Attr: a}, p); diff != "" {
			t.Fatalf("ParseAttrPath and ParsePath disagree on %q (-attr path +path):\n%s", in, diff)
		}
		if again, err := ParseAttrPath(a.String()); err != nil || again != a {
			t.Fatalf("ParseAttrPath(%q) = %v, %v; want %v", a.String(), again, err, a)
		}
	})
}

// fpCheckFuzzError checks that err is a 400 *Error of type typ with a detail.
func fpCheckFuzzError(t *testing.T, err error, typ ErrorType) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || e.Type != typ || e.Detail == "" {
		t.Fatalf("error = %#v, want a 400 %s *Error with a detail", err, typ)
	}
}
