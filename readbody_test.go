package scim

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAllReadsWhatArrives: readAll returns exactly the bytes of the
// body, whatever its Content-Length announced (none, the truth, less or
// more) and however the reader splits them, and a read error is returned
// as io.ReadAll returns it; a body of the announced length takes one
// allocation of that length.
func TestReadAllReadsWhatArrives(t *testing.T) {
	body := strings.Repeat(`{"op":"replace","path":"title","value":"x"}`, 40)
	for _, size := range []int64{-1, 0, 1, int64(len(body)) - 1, int64(len(body)), int64(len(body)) + 1, 3 * int64(len(body))} {
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return strings.NewReader(body) },
			"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(body)) },
			"data+EOF": func() io.Reader { return iotest.DataErrReader(strings.NewReader(body)) },
		} {
			got, err := readAll(r(), size)
			if err != nil || string(got) != body {
				t.Fatalf("size %d, %s: %d bytes, %v; want the %d of the body", size, name, len(got), err, len(body))
			}
		}
	}
	if got, err := readAll(strings.NewReader(""), 0); err != nil || len(got) != 0 {
		t.Fatalf("empty body: %q, %v", got, err)
	}
	broken := errors.New("connection reset")
	got, err := readAll(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(broken)), 10)
	if !errors.Is(err, broken) || string(got) != "abc" {
		t.Fatalf("broken body: %q, %v; want abc and the error", got, err)
	}
	data := []byte(body)
	if n := testing.AllocsPerRun(100, func() {
		if b, _ := readAll(bytes.NewReader(data), int64(len(data))); len(b) != len(data) {
			t.Fatal("short read")
		}
	}); n != 2 { // the buffer, and bytes.NewReader's reader
		t.Errorf("a body of its announced length: %v allocations, want 2", n)
	}
}
