package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flushing goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Lines written concurrently all arrive whole, within flushEvery and at
// the latest on Close.
func TestLogBuffer(t *testing.T) {
	var out syncBuffer
	lb := newLogBuffer(&out)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				lb.Write([]byte("line from " + string(rune('a'+g)) + "\n"))
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(10 * flushEvery)
	for strings.Count(out.String(), "\n") < 400 && time.Now().Before(deadline) {
		time.Sleep(flushEvery / 4)
	}
	if n := strings.Count(out.String(), "\n"); n != 400 {
		t.Errorf("%d lines after %s, want 400", n, 10*flushEvery)
	}
	lb.Write([]byte("last\n"))
	if err := lb.Close(); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if line != "last" && !strings.HasPrefix(line, "line from ") {
			t.Errorf("a torn line: %q", line)
		}
	}
	if !strings.HasSuffix(out.String(), "last\n") {
		t.Error("Close did not flush the last line")
	}
}
