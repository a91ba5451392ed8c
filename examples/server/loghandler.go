package main

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// textLog is a slog.Handler that writes exactly the lines slog.TextHandler
// (with default options) writes, faster for the records the demo logs on
// every request: the request line and the change line, whose attributes
// are strings, integers, durations, booleans and []string. TextHandler
// formats each line through a pooled state with a per-attribute quoting
// pass, and a []string through fmt; at a line or two per request that was
// about a twentieth of the demo's CPU time. A record with anything else
// (another kind of value, a group, a key or value with a byte outside
// ASCII, a handler made by WithAttrs or WithGroup) goes to the
// TextHandler itself, so every line is what TextHandler would write.
type textLog struct {
	w    io.Writer // safe for concurrent use; one Write per line
	text slog.Handler
}

// newTextLog returns the handler writing to w, which must accept
// concurrent Writes of whole lines (logBuffer does).
func newTextLog(w io.Writer) *textLog {
	return &textLog{w: w, text: slog.NewTextHandler(w, nil)}
}

func (h *textLog) Enabled(ctx context.Context, l slog.Level) bool { return h.text.Enabled(ctx, l) }

func (h *textLog) WithAttrs(as []slog.Attr) slog.Handler { return h.text.WithAttrs(as) }

func (h *textLog) WithGroup(name string) slog.Handler { return h.text.WithGroup(name) }

// lineBufs holds the buffers lines are formatted in.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h *textLog) Handle(ctx context.Context, r slog.Record) error {
	bp := lineBufs.Get().(*[]byte)
	b, ok := appendTextLine((*bp)[:0], r)
	if !ok {
		lineBufs.Put(bp)
		return h.text.Handle(ctx, r)
	}
	_, err := h.w.Write(b)
	if cap(b) <= 4<<10 {
		*bp = b
		lineBufs.Put(bp)
	}
	return err
}

// appendTextLine appends r as slog.TextHandler writes it, or reports false
// when r holds something it leaves to TextHandler.
func appendTextLine(b []byte, r slog.Record) ([]byte, bool) {
	if !r.Time.IsZero() {
		b = append(b, "time="...)
		b = appendLogTime(b, r.Time)
		b = append(b, ' ')
	}
	b = append(b, "level="...)
	b, _ = appendTextString(b, r.Level.String())
	b = append(b, " msg="...)
	b, ok := appendTextString(b, r.Message)
	if !ok {
		return b, false
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Equal(slog.Attr{}) {
			return true // TextHandler skips an empty attribute
		}
		b = append(b, ' ')
		if b, ok = appendTextString(b, a.Key); !ok {
			return false
		}
		b = append(b, '=')
		b, ok = appendTextValue(b, a.Value)
		return ok
	})
	return append(b, '\n'), ok
}

func appendTextValue(b []byte, v slog.Value) ([]byte, bool) {
	switch v.Kind() {
	case slog.KindString:
		return appendTextString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool()), true
	case slog.KindDuration:
		return append(b, v.Duration().String()...), true
	case slog.KindAny:
		// fmt's %+v of a []string: the values between brackets, separated
		// by spaces, quoted as one string when that needs quoting.
		ss, ok := v.Any().([]string)
		if !ok {
			return b, false
		}
		start := len(b)
		b = append(b, '[')
		for i, s := range ss {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, s...)
		}
		b = append(b, ']')
		q, ok := textQuoting(string(b[start:]))
		if !ok {
			return b, false
		}
		if q {
			b = append(b[:start], strconv.Quote(string(b[start:]))...)
		}
		return b, true
	}
	return b, false
}

// appendTextString appends s as TextHandler does: as it is, or quoted when
// it is empty or holds a space, '=', '"' or a control character (not DEL,
// which JSON leaves unescaped).
func appendTextString(b []byte, s string) ([]byte, bool) {
	q, ok := textQuoting(s)
	switch {
	case !ok:
		return b, false
	case q:
		return strconv.AppendQuote(b, s), true
	}
	return append(b, s...), true
}

// textQuoting reports whether TextHandler quotes s, for an ASCII s (ok is
// false for any other, whose rules, Unicode's spaces and printable runes,
// are left to TextHandler).
func textQuoting(s string) (quote, ok bool) {
	if s == "" {
		return true, true
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return false, false
		case c <= ' ', c == '=', c == '"':
			quote = true
		}
	}
	return quote, true
}

// lastTime is the last line's time as appendLogTime wrote it: lines come
// tens to a millisecond, and formatting a time cost a sixth of a line.
var lastTime atomic.Pointer[formattedTime]

type formattedTime struct {
	ms   int64 // Unix milliseconds
	loc  *time.Location
	text string
}

// appendLogTime appends t as TextHandler does, from lastTime when t is in
// the same millisecond and location.
func appendLogTime(b []byte, t time.Time) []byte {
	ms, loc := t.UnixMilli(), t.Location()
	if f := lastTime.Load(); f != nil && f.ms == ms && f.loc == loc {
		return append(b, f.text...)
	}
	n := len(b)
	b = appendRFC3339Millis(b, t.Round(0))
	lastTime.Store(&formattedTime{ms: ms, loc: loc, text: string(b[n:])})
	return b
}

// appendRFC3339Millis is TextHandler's time format: RFC 3339 with exactly
// three digits of milliseconds.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	// RFC3339Nano trims trailing zeros: adding a tenth of a millisecond
	// keeps four digits, and the fourth is dropped.
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}
