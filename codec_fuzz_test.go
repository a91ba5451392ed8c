package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Extra seeds beside the request bodies of codec_test.go: every shape the
// decoder treats specially, so that the fuzzer starts from each branch.
var fuzzUserSeeds = []string{
	rfcFullUser, rfcMinimalUser, entraCreateUser, entraLegacyUser, entraMappedUser, oktaCreateUser, oktaReplaceUser,
	`{"userName":"u","manager":"271"}`,
	`{"userName":"u","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":[{"$ref":"r","value":"271"}]}}`,
	`{"userName":"u","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":{"value":"1","displayName":"x"}}`,
	`{"userName":"u","active":"False","emails":[{"value":"a","primary":"True"}]}`,
	`{"userName":"u","urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"a":null,"b":[null,1]},"x":{},"y":""}`,
	`{"userName":"u","urn:ietf:params:scim:schemas:extension:Acme:2.0:User:costCode":"C","seat":1,"SEAT":2}`,
	`{"USERNAME":"u","Name":{"GivenName":"\ud83d\ude00\u2028"},"Addresses":[{"Primary":true}]}`,
	`{"userName":"u","emails":{"value":"x"}}`,
	`{"userName":"u","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{"userName":"u"} x`,
	"{\"userName\":\"\xff\xfe\",\"caf\\u00e9\":1}",
}

var fuzzGroupSeeds = []string{
	rfcGroup, entraCreateGroup, oktaCreateGroup, oktaReplaceGroup,
	`{"displayName":"G","members":[{"value":"u1","$ref":null},{"value":"g2","type":"Group"},null]}`,
	`{"DisplayName":"G","Members":{"value":"u"}}`,
	`{"displayName":"G","urn:ietf:params:scim:schemas:extension:Acme:2.0:Group":{"k":[1,null]}}`,
}

// fuzzProjections are applied to every decoded resource: none may break
// the output.
var fuzzProjections = []Projection{
	{Attributes: []AttrPath{{Name: "id"}}},
	{Attributes: []AttrPath{{Name: "emails", Sub: "value"}, {Name: "name", Sub: "givenName"}, {Name: "members", Sub: "display"}}},
	{Attributes: []AttrPath{{Name: EnterpriseUserSchema}, {URN: "urn:ietf:params:scim:schemas:extension:Acme:2.0:User", Name: "a"}}},
	{Excluded: []AttrPath{{Name: "members"}, {Name: "manager", Sub: "value"}, {Name: "meta"}, {Name: "seat"}}},
}

// nestingDepth returns the nesting depth of the valid JSON text data.
func nestingDepth(data []byte) int {
	depth, maxDepth := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			maxDepth = max(maxDepth, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return maxDepth
}

// checkDecodeError checks an error from decoding body: a 400 *Error with a
// detail, invalidSyntax exactly when the body is not one JSON object within
// the nesting limit.
func checkDecodeError(t *testing.T, body []byte, err error) {
	t.Helper()
	if err == nil {
		if !json.Valid(body) {
			t.Fatalf("decoded invalid JSON %q", body)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *Error", err)
	}
	if e.Status != 400 || e.Detail == "" || (e.Type != InvalidSyntax && e.Type != InvalidValue) {
		t.Fatalf("error %+v: want a 400 invalidSyntax or invalidValue with a detail", e)
	}
	valid := json.Valid(body)
	if !valid && e.Type != InvalidSyntax {
		t.Fatalf("invalid JSON %q gave %s %q", body, e.Type, e.Detail)
	}
	object := bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{"))
	if valid && object && nestingDepth(body) <= defaultMaxDepth && e.Type == InvalidSyntax {
		t.Fatalf("valid JSON %q gave invalidSyntax %q", body, e.Detail)
	}
}

// checkSchemas checks that "schemas" lists core and exactly the schemas
// whose attributes the body carries (see the rules of encode.go).
func checkSchemas(t *testing.T, out []byte, core string) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(out, &top); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var listed []string
	if err := json.Unmarshal(top["schemas"], &listed); err != nil || len(listed) == 0 || listed[0] != core {
		t.Fatalf("schemas %s: want %s first", top["schemas"], core)
	}
	used := map[string]bool{asciiLower(core): true}
	isURN := func(s string) bool { return len(s) > 4 && strings.EqualFold(s[:4], "urn:") }
	for k, v := range top {
		if !isURN(k) {
			continue
		}
		s := k
		if v[0] != '{' {
			s = k[:strings.LastIndexByte(k, ':')]
		}
		if isURN(s) {
			used[asciiLower(s)] = true
		}
	}
	seen := map[string]bool{}
	for _, s := range listed {
		ls := asciiLower(s)
		if seen[ls] {
			t.Errorf("schema %q listed twice: %s", s, out)
		}
		seen[ls] = true
		if !used[ls] {
			t.Errorf("schema %q listed but not used: %s", s, out)
		}
	}
	for s := range used {
		if !seen[s] {
			t.Errorf("schema %q used but not listed: %s", s, out)
		}
	}
}

func FuzzDecodeUser(f *testing.F) {
	for _, s := range fuzzUserSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := decodeUser(body, lenient)
		checkDecodeError(t, body, err)
		us, serr := decodeUser(body, strict)
		checkDecodeError(t, body, serr)
		if serr == nil {
			if err != nil {
				t.Fatalf("strict mode accepts what lenient mode rejects: %v", err)
			}
			if diff := cmp.Diff(u, us); diff != "" {
				t.Fatalf("strict and lenient decode differently (-lenient +strict):\n%s", diff)
			}
		}
		if err != nil {
			return
		}
		for _, base := range []string{"", "https://x.example/scim"} {
			out := appendUser(nil, u, Projection{}, base)
			checkOutput(t, out, false)
			checkSchemas(t, out, UserSchema)
		}
		for _, p := range fuzzProjections {
			out := appendUser(nil, u, p, "https://x.example/scim")
			checkOutput(t, out, false)
			checkSchemas(t, out, UserSchema)
		}
		// What the encoder writes, a strict decoder reads back, equal.
		out := appendUser(nil, u, Projection{}, "")
		u2, err := decodeUser(out, strict)
		if err != nil {
			t.Fatalf("decoding the encoding %s: %v", out, err)
		}
		if diff := cmp.Diff(readOnlyCleared(u), u2); diff != "" {
			t.Fatalf("decode(encode(u)) (-want +got):\n%s\n%s", diff, out)
		}
	})
}

func FuzzDecodeGroup(f *testing.F) {
	for _, s := range fuzzGroupSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		g, err := decodeGroup(body, lenient)
		checkDecodeError(t, body, err)
		gs, serr := decodeGroup(body, strict)
		checkDecodeError(t, body, serr)
		// The group leniencies (member-bare-id, member-display-name,
		// single-object-as-array) only accept more: what strict mode reads,
		// lenient mode reads the same.
		if serr == nil && err != nil {
			t.Fatalf("lenient mode refuses what strict mode reads: %v", err)
		}
		if err != nil {
			return
		}
		if serr == nil {
			if diff := cmp.Diff(g, gs); diff != "" {
				t.Fatalf("strict and lenient decode differently (-lenient +strict):\n%s", diff)
			}
		}
		for _, base := range []string{"", "https://x.example/scim"} {
			out := appendGroup(nil, g, Projection{}, base)
			checkOutput(t, out, false)
			checkSchemas(t, out, GroupSchema)
		}
		for _, p := range fuzzProjections {
			out := appendGroup(nil, g, p, "https://x.example/scim")
			checkOutput(t, out, false)
			checkSchemas(t, out, GroupSchema)
		}
		out := appendGroup(nil, g, Projection{}, "")
		g2, err := decodeGroup(out, strict)
		if err != nil {
			t.Fatalf("decoding the encoding %s: %v", out, err)
		}
		want := g.Clone()
		want.ID, want.Meta = "", Meta{}
		if diff := cmp.Diff(want, g2); diff != "" {
			t.Fatalf("decode(encode(g)) (-want +got):\n%s\n%s", diff, out)
		}
	})
}

// readAny builds the value at r.pos with the reader's primitives, numbers
// as json.Number, as json.Decoder with UseNumber does.
func readAny(r *reader) (any, error) {
	k, err := r.peek()
	if err != nil {
		return nil, err
	}
	switch k {
	case kindString:
		s, err := r.readString()
		return string(s), err
	case kindNumber:
		start := r.pos
		err := r.scanNumber()
		return json.Number(r.data[start:r.pos]), err
	case kindBool, kindNull:
		k, v, err := r.scanLiteral()
		if k == kindNull {
			return nil, err
		}
		return v, err
	case kindArray:
		if err := r.open(); err != nil {
			return nil, err
		}
		a := []any{}
		for first := true; ; first = false {
			ok, err := r.nextElem(first)
			if err != nil || !ok {
				return a, err
			}
			v, err := readAny(r)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	default:
		if err := r.open(); err != nil {
			return nil, err
		}
		m := map[string]any{}
		for first := true; ; first = false {
			key, ok, err := r.nextMember(first)
			if err != nil || !ok {
				return m, err
			}
			k := string(key)
			v, err := readAny(r)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
	}
}

// canonical encodes a decoded JSON value with sorted keys.
func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withoutNulls is what appendWithoutNulls should make of v.
func withoutNulls(v any) any {
	switch v := v.(type) {
	case []any:
		out := []any{}
		for _, e := range v {
			if e != nil {
				out = append(out, withoutNulls(e))
			}
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if e != nil {
				out[k] = withoutNulls(e)
			}
		}
		return out
	}
	return v
}

// FuzzJSONReader checks the reader against encoding/json: the same texts
// are valid, and they mean the same values, strings and keys decoded alike.
func FuzzJSONReader(f *testing.F) {
	for _, s := range []string{
		`null`, `true`, `-0.5e+10`, `"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800\udc00x\udfff"`, "\"\xff\xc3\"",
		`{"a":[1,{"b":null}],"a":2}`, `[ ]`, `{ }`, ` [1 , 2] `, `01`, `1.`, `"\u12"`, `{"a" 1}`, `[1,]`, "\"\x1f\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(fuzzReaderBody)
}

func fuzzReaderBody(t *testing.T, data []byte) {
	{
		r := newReader(data, 10000) // encoding/json's own limit
		got, err := readAny(&r)
		if err == nil {
			err = r.end()
		}
		valid := json.Valid(data)
		if valid != (err == nil) {
			t.Fatalf("json.Valid = %v, reader error %v for %q", valid, err, data)
		}
		r2 := newReader(data, 10000)
		if err2 := r2.skipValue(); (err2 == nil && r2.end() == nil) != valid {
			t.Fatalf("skipValue disagrees with json.Valid = %v for %q", valid, data)
		}
		if !valid {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		// Compared through their canonical encodings: cmp.Diff takes
		// exponential time on deeply nested slices, which the fuzzer finds.
		if w, g := canonical(t, want), canonical(t, got); w != g {
			t.Fatalf("reader and encoding/json disagree on %q:\njson   %s\nreader %s", data, w, g)
		}
		stripped := appendWithoutNulls(nil, data)
		if want == nil {
			if len(stripped) != 0 {
				t.Fatalf("appendWithoutNulls(null) = %q", stripped)
			}
		} else {
			dec := json.NewDecoder(bytes.NewReader(stripped))
			dec.UseNumber()
			var gotStripped any
			if err := dec.Decode(&gotStripped); err != nil {
				t.Fatalf("appendWithoutNulls(%q) = %q: %v", data, stripped, err)
			}
			if w, g := canonical(t, withoutNulls(want)), canonical(t, gotStripped); w != g {
				t.Fatalf("appendWithoutNulls(%q) = %q:\nwant %s\ngot  %s", data, stripped, w, g)
			}
		}
		empty := false
		switch w := want.(type) {
		case nil:
			empty = true
		case string:
			empty = w == ""
		case []any:
			empty = len(w) == 0
		case map[string]any:
			empty = len(w) == 0
		}
		if jsonEmpty(data) != empty {
			t.Fatalf("jsonEmpty(%q) = %v", data, !empty)
		}
	}
}
