package scim

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonStringByRune is appendJSONString's specification, one rune at a
// time: what the word-at-a-time encoder must write.
func jsonStringByRune(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			sb.WriteString(`\ufffd`)
		case r == '"' || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	sb.WriteByte('"')
	return sb.String()
}

func checkJSONString(t *testing.T, s string) {
	t.Helper()
	got := string(appendJSONString([]byte("x"), s))
	if want := "x" + jsonStringByRune(s); got != want {
		t.Fatalf("appendJSONString(%q) = %s, want %s", s, got[1:], want[1:])
	}
	var back, viaStd string
	std, _ := json.Marshal(s)
	if err := json.Unmarshal([]byte(got[1:]), &back); err != nil {
		t.Fatalf("appendJSONString(%q) = %s, not a JSON string: %v", s, got[1:], err)
	}
	if err := json.Unmarshal(std, &viaStd); err != nil || back != viaStd {
		t.Fatalf("appendJSONString(%q) decodes to %q, encoding/json's to %q", s, back, viaStd)
	}
}

// TestAppendJSONStringEveryOffset puts each byte that needs an escape,
// and the first byte of each multi-byte sequence, at every offset of
// strings of 1 to 24 bytes, across the eight-byte words the encoder tests.
func TestAppendJSONStringEveryOffset(t *testing.T) {
	specials := []string{"\x00", "\x1f", "\n", "\r", "\t", `"`, `\`, "<", ">", "&", "\x7f", " ", "~",
		"é", "\u2028", "\u2029", "\ufffd", "😀", "\xff", "\xc3", "\xe2\x80", "\x80"}
	for n := 1; n <= 24; n++ {
		for i := 0; i < n; i++ {
			for _, sp := range specials {
				s := strings.Repeat("a", i) + sp + strings.Repeat("b", n-i-1)
				checkJSONString(t, s)
			}
		}
	}
	for c := 0; c < 256; c++ {
		checkJSONString(t, strings.Repeat(string(rune(c)), 9))
		checkJSONString(t, strings.Repeat(string([]byte{byte(c)}), 17))
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "bjensen@example.com", "Barbara Jensen", `a"b\c<d>e&f`, "ä\u2028x\xffy", "0123456789abcdef\x01"} {
		f.Add(s)
	}
	f.Fuzz(checkJSONString)
}

// TestReaderStringEveryOffset puts each byte that ends the reader's
// eight-byte scan of a string at every offset of strings of 1 to 24
// bytes, in and out of an object key, and checks the reader against
// encoding/json as FuzzJSONReader does.
func TestReaderStringEveryOffset(t *testing.T) {
	specials := []string{`"`, `\"`, `\\`, `\u00e9`, `\ud83d\ude00`, `\x`, "\x00", "\x1f", "\x7f", "é", "\xff", "\xe2\x80", "😀"}
	for n := 1; n <= 24; n++ {
		for i := 0; i < n; i++ {
			for _, sp := range specials {
				s := strings.Repeat("a", i) + sp + strings.Repeat("b", n-i-1)
				fuzzReaderBody(t, []byte(`"`+s+`"`))
				fuzzReaderBody(t, []byte(`{"`+s+`":"`+s+`"}`))
				fuzzReaderBody(t, []byte(`"`+s)) // unterminated
			}
		}
	}
}
