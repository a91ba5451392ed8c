package scim

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzExtensionJSON checks that decodeExtValue decodes as encoding/json
// does with UseNumber, and appendJSONValue encodes what it decodes, as
// json.Marshal does (members sorted, the same bytes unless an escape is
// spelled differently).
func FuzzExtensionJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":"x","c":[true,false,null],"d":{"e":1.50e3}}`,
		`"\u00e9\ud83d\ude00 <&> \u2028"`, `"\ud800"`, "\"\xff\"", `[]`, `{}`, `{"a":1,"a":2}`,
		` -0.0e-0 `, `[1,[2,[3]]]`, `{"z":1,"a":{"y":2,"b":3}}`, `{"a":1} x`, `{"a":}`, `nul`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := decodeExtValue(raw)
		var want any
		if json.Valid(raw) {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if derr := dec.Decode(&want); derr != nil {
				t.Fatalf("encoding/json: %v", derr)
			}
			if err != nil {
				t.Fatalf("decodeExtValue(%q): %v, encoding/json decodes it", raw, err)
			}
			if !cmp.Equal(got, want) {
				t.Fatalf("decodeExtValue(%q) = %#v, encoding/json %#v", raw, got, want)
			}
		} else if err == nil {
			t.Fatalf("decodeExtValue(%q) = %#v, but it is not valid JSON", raw, got)
		}
		if err != nil {
			return
		}
		// The same value back (json.Marshal may spell an escape
		// differently: \b where appendJSONString writes \u0008).
		a := appendJSONValue(nil, got)
		back, err := decodeExtValue(a)
		if err != nil || !cmp.Equal(back, got) {
			t.Fatalf("appendJSONValue(%#v) = %s, which decodes to %#v (%v)", got, a, back, err)
		}
		if m, err := json.Marshal(got); err != nil || !bytes.Equal(m, a) && !bytes.ContainsAny(m, "\\") {
			t.Fatalf("appendJSONValue = %s, json.Marshal %s (%v)", a, m, err)
		}
	})
}
