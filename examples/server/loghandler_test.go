package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// lineRecorder keeps each Write as a line, to check that a record is one
// Write.
type lineRecorder struct{ lines []string }

func (l *lineRecorder) Write(p []byte) (int, error) {
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

// textLine returns what textLog and what slog.TextHandler write for r.
func textLine(t *testing.T, r slog.Record) (got, want string) {
	t.Helper()
	var fast lineRecorder
	var text bytes.Buffer
	if err := newTextLog(&fast).Handle(context.Background(), r.Clone()); err != nil {
		t.Fatal(err)
	}
	if err := slog.NewTextHandler(&text, nil).Handle(context.Background(), r.Clone()); err != nil {
		t.Fatal(err)
	}
	if len(fast.lines) != 1 {
		t.Fatalf("textLog wrote %d times for one record: %q", len(fast.lines), fast.lines)
	}
	return fast.lines[0], text.String()
}

func TestTextLogWritesTextHandlerLines(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890_123_456, time.UTC)
	records := []struct {
		msg   string
		time  time.Time
		level slog.Level
		attrs []slog.Attr
	}{
		{"scim request", at, slog.LevelInfo, []slog.Attr{
			slog.String("method", "GET"), slog.String("path", "/Users/2819c223"), slog.Int("status", 200),
			slog.Duration("duration", 123456*time.Nanosecond), slog.String("query", "filter"), slog.String("tenant", "demo"),
		}},
		{"scim change", at, slog.LevelInfo, []slog.Attr{
			slog.String("kind", "user.updated"), slog.String("tenant", "demo"), slog.String("type", "User"),
			slog.String("id", "2819c223"), slog.Any("changed", []string{"title"}), slog.Any("members", []string(nil)),
		}},
		{"scim change", at, slog.LevelInfo, []slog.Attr{
			slog.Any("changed", []string{"active", "title"}), slog.Any("members", []string{"a=b"}), slog.Any("x", []string{""}),
		}},
		{"plain", time.Time{}, slog.LevelWarn, []slog.Attr{slog.Bool("ok", false), slog.Int64("n", -42), {}, slog.String("", "")}},
		{"", at.In(time.FixedZone("x", 5*3600+1800)), slog.LevelDebug - 2, nil},
		// Left to TextHandler: non-ASCII text, other kinds, groups, errors.
		{"café", at, slog.LevelError, []slog.Attr{slog.String("é", "ü\u00a0")}},
		{"kinds", at, slog.LevelInfo, []slog.Attr{
			slog.Float64("f", 1.5), slog.Uint64("u", 7), slog.Time("t", at), slog.Any("err", errors.New("boom")),
			slog.Group("g", slog.String("a", "b")), slog.Any("ints", []int{1, 2}), slog.Any("b", []byte("x y")),
		}},
	}
	for _, rc := range records {
		r := slog.NewRecord(rc.time, rc.level, rc.msg, 0)
		r.AddAttrs(rc.attrs...)
		if got, want := textLine(t, r); got != want {
			t.Errorf("textLog wrote\n%q\nTextHandler\n%q", got, want)
		}
	}
}

// TestTextLogQuotesAsTextHandler compares the two on random strings of the
// characters whose quoting matters, ASCII and not.
func TestTextLogQuotesAsTextHandler(t *testing.T) {
	alphabet := []rune("ab =\"\\\t\n\x00\x1f\x7f~[]{}<>&'é\u00a0\u2028\ufffd")
	rng := rand.New(rand.NewPCG(1, 2))
	randomString := func() string {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 5000 {
		r := slog.NewRecord(time.Unix(1_700_000_000, rng.Int64N(1e9)), slog.LevelInfo, randomString(), 0)
		r.AddAttrs(slog.String(randomString(), randomString()), slog.Any(randomString(), []string{randomString(), randomString()}))
		if got, want := textLine(t, r); got != want {
			t.Fatalf("textLog wrote\n%q\nTextHandler\n%q", got, want)
		}
	}
}

// A handler made with WithAttrs or WithGroup writes TextHandler's lines,
// to the same writer.
func TestTextLogWithAttrsAndGroup(t *testing.T) {
	var fast, text bytes.Buffer
	for _, c := range []struct {
		h   slog.Handler
		out *bytes.Buffer
	}{{newTextLog(&fast), &fast}, {slog.NewTextHandler(&text, nil), &text}} {
		l := slog.New(c.h)
		l.With("a", 1).WithGroup("g").Info("m", "k", "v")
		if l.Enabled(context.Background(), slog.LevelDebug) {
			t.Error("Debug is enabled, as TextHandler's default level does not")
		}
	}
	got, want := stripTimes(fast.String()), stripTimes(text.String())
	if got != want || !strings.Contains(want, "a=1 g.k=v") {
		t.Errorf("textLog wrote %q, TextHandler %q", got, want)
	}
}

func stripTimes(s string) string {
	if _, rest, ok := strings.Cut(s, " level="); ok {
		return "level=" + rest
	}
	return s
}

func BenchmarkTextLogChangeLine(b *testing.B) {
	for _, c := range []struct {
		name string
		h    slog.Handler
	}{{"textLog", newTextLog(discard{})}, {"TextHandler", slog.NewTextHandler(discard{}, nil)}} {
		b.Run(c.name, func(b *testing.B) {
			l := slog.New(c.h)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				l.LogAttrs(ctx, slog.LevelInfo, "scim change", slog.String("kind", "user.updated"), slog.String("tenant", "demo"),
					slog.String("type", "User"), slog.String("id", "5b3c1a8e-7f0e-4f64-9c1e-0a8d3b6f2e11"),
					slog.Any("changed", []string{"title"}), slog.Any("members", []string(nil)))
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
