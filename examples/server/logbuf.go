package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logBuffer batches the request log's lines into few writes: a line per
// request, each its own write(2) on an unbuffered stdout, costs a
// provisioning burst more than the requests it logs. Lines reach the
// underlying writer when the buffer fills, at least every flushEvery, and
// on Close; a crash loses at most that much of the log. It is safe for
// concurrent use.
type logBuffer struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// flushEvery bounds how long a log line waits in the buffer.
const flushEvery = 100 * time.Millisecond

// newLogBuffer returns a logBuffer writing to w. Close it to flush the
// last lines and stop its flushing goroutine.
func newLogBuffer(w io.Writer) *logBuffer {
	b := &logBuffer{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushLoop()
	return b
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Flush writes the buffered lines now.
func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

func (b *logBuffer) flushLoop() {
	defer close(b.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = b.Flush()
		case <-b.stop:
			return
		}
	}
}

// Close stops the flushing goroutine and writes what is buffered. It must
// be called once.
func (b *logBuffer) Close() error {
	close(b.stop)
	<-b.done
	return b.Flush()
}
