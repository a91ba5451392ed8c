package scim

import (
	"testing"

	reference "github.com/scim2/filter-parser/v2"
)

// fpBenchFilters are parsed by both BenchmarkParseFilter and
// BenchmarkReferenceParser, under the same names, for benchstat:
//
//	go test -run '^$' -bench 'ParseFilter|ReferenceParser' -count 10 > bench.txt
var fpBenchFilters = []struct{ name, in string }{
	// What Entra ID sends for every user in every cycle.
	{"entra-username", `userName eq "2819c223-7f76-453a-919d-413861904646"`},
	// Entra's group membership check.
	{"compound", `id eq "2819c223-7f76-453a-919d-413861904646" and members eq "902c246b-6245-4190-8e05-00816be7344a"`},
	{"long", `userType eq "Employee" and not (emails co "example.com" or emails.value co "example.org") or ` +
		`emails[type eq "work" and value co "@example.com"] and meta.lastModified gt "2011-05-13T04:42:34Z"`},
}

func BenchmarkParseFilter(b *testing.B) {
	for _, bf := range fpBenchFilters {
		b.Run(bf.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseFilter(bf.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReferenceParser(b *testing.B) {
	for _, bf := range fpBenchFilters {
		b.Run(bf.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reference.ParseFilter([]byte(bf.in)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fpBenchPath is the PATCH path Entra sends for the work email.
const fpBenchPath = `emails[type eq "work"].value`

func BenchmarkParsePath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePath(fpBenchPath); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReferenceParsePath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reference.ParsePath([]byte(fpBenchPath)); err != nil {
			b.Fatal(err)
		}
	}
}
