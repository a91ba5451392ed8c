package methodset

import (
	"context"
	"reflect"
	"slices"
	"testing"
)

type lister interface {
	List(ctx context.Context, n int) ([]string, error)
	Delete(ctx context.Context, id string) error
}

type good struct{}

func (good) List(context.Context, int) ([]string, error) { return nil, nil }
func (good) Delete(context.Context, string) error        { return nil }

type wrongSig struct{}

func (wrongSig) List(context.Context, int) []string   { return nil }
func (wrongSig) Delete(context.Context, string) error { return nil }

type ptrOnly struct{}

func (*ptrOnly) List(context.Context, int) ([]string, error) { return nil, nil }
func (*ptrOnly) Delete(context.Context, string) error        { return nil }

type missing struct{}

func (missing) List(context.Context, int) ([]string, error) { return nil, nil }

type none struct{}

func TestMismatches(t *testing.T) {
	iface := reflect.TypeFor[lister]()
	cases := []struct {
		name    string
		typ     reflect.Type
		want    []string
		partial bool
	}{
		{"implements", reflect.TypeFor[good](), nil, true},
		{"implements through a pointer", reflect.TypeFor[*ptrOnly](), nil, true},
		{"wrong signature", reflect.TypeFor[wrongSig](), []string{"List has signature func(context.Context, int) []string, want func(context.Context, int) ([]string, error)"}, true},
		{"value of a pointer-receiver type", reflect.TypeFor[ptrOnly](), []string{
			"List is declared on *methodset.ptrOnly, not on methodset.ptrOnly: pass a pointer",
			"Delete is declared on *methodset.ptrOnly, not on methodset.ptrOnly: pass a pointer",
		}, true},
		{"missing", reflect.TypeFor[missing](), []string{"Delete is missing"}, true},
		{"none", reflect.TypeFor[none](), []string{"Delete is missing", "List is missing"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Mismatches(tc.typ, iface)
			if !slices.Equal(sortedCopy(got), sortedCopy(tc.want)) {
				t.Errorf("Mismatches = %q, want %q", got, tc.want)
			}
			if p := Partial(tc.typ, iface); p != tc.partial {
				t.Errorf("Partial = %v, want %v", p, tc.partial)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
