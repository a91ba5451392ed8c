package scim

import (
	"strconv"
	"strings"
	"testing"
)

// TestCachedEncodingHeaderValues: the header values a cached encoding
// keeps (made together in one string) are the ETag of its version, and
// the Content-Length of its body and of its one-user page.
func TestCachedEncodingHeaderValues(t *testing.T) {
	h := &Handler{encOwner: new(encodingOwner)}
	for _, version := range []string{"", "1", "42", strings.Repeat("9", 100)} {
		for _, n := range []int{0, 7, 615, 123456} {
			body := make([]byte, n)
			e := newCachedEncoding(h, "https://x/scim/v2", version, body)
			pageLen := len(appendListHeader(nil, 1, 1, 1)) + n + len("]}")
			if e.etag != entityTag(version) || e.length != strconv.Itoa(n) || e.pageLength != strconv.Itoa(pageLen) || e.pageLen != pageLen {
				t.Errorf("version %q, %d bytes: etag %q, length %q, pageLength %q, pageLen %d; want %q, %d, %d, %d",
					version, n, e.etag, e.length, e.pageLength, e.pageLen, entityTag(version), n, pageLen, pageLen)
			}
		}
	}
	if got := testing.AllocsPerRun(100, func() { newCachedEncoding(h, "b", "17", nil) }); got != 2 {
		t.Errorf("newCachedEncoding allocates %v times; want 2 (the encoding and its header values)", got)
	}
}
