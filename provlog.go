package scim

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LogEntry is one request in a workspace's provisioning log: what a client
// asked and what it was told, without what it sent. It encodes as JSON with
// lower-case names and the duration in nanoseconds. It holds no request
// body, no query value, no header but User-Agent, and no token; the only
// text from the request that it may carry is in Detail (see there) and the
// ids in Path and ResourceID.
type LogEntry struct {
	// Time is when the request arrived.
	Time time.Time `json:"time"`
	// Tenant is the workspace the request acted for; "" when no tenant was
	// in the context (a host without BearerAuth or WithTenant).
	Tenant string `json:"tenant"`
	// Client is the OAuth client that authenticated the request
	// ([Tenant.Client]); "" for a static bearer token.
	Client string `json:"client,omitempty"`
	// UserAgent is the client's User-Agent header, cut to 200 bytes; Entra
	// ID's Test connection sometimes sends none.
	UserAgent string `json:"userAgent,omitempty"`
	// Method and Path are the request's; Path is the cleaned path below the
	// base URL ("/Users/2819c223"), which names ids but never the query.
	Method string `json:"method"`
	Path   string `json:"path"`
	// Query lists the names of the query parameters ("filter,count"),
	// never their values: a filter carries userNames and email addresses.
	Query string `json:"query,omitempty"`
	// Status is the HTTP status answered; Type the scimType, if any.
	Status int       `json:"status"`
	Type   ErrorType `json:"scimType,omitempty"`
	// Detail is the detail of the SCIM error the client read; "" for a
	// success. It is the text the client was sent, never a store's or Go's
	// error, so it names only what the refusal is about: the domain and the
	// attribute of a refused email, the userName a host's policy cites
	// ([RequireEmail], [SeatLimit]), a resource id, an attribute path or
	// filter fragment of a malformed request, and whatever a host's own
	// *[Error] says. A host whose policies must not name people keeps their
	// names out of its details.
	Detail string `json:"detail,omitempty"`
	// ResourceType is "User" or "Group" for requests to /Users and /Groups;
	// ResourceID the resource's id when the request names one or created
	// one.
	ResourceType string `json:"resourceType,omitempty"`
	ResourceID   string `json:"resourceId,omitempty"`
	// Events lists the kinds of the [Event]s the request caused, in order.
	Events []EventKind `json:"events,omitempty"`
	// Probe reports a query that looked like a client's connection test:
	// a filter `<attribute> eq "<GUID>"` on /Users or /Groups that matched
	// nothing. Entra ID's Test connection queries the endpoint "for a user
	// that doesn't exist, using a random GUID" and expects 200 with an
	// empty list (https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups).
	Probe bool `json:"probe,omitempty"`
	// Duration is how long the request took to answer.
	Duration time.Duration `json:"durationNs"`

	// rawQuery is the request's query, turned into Query's names by the
	// queue's goroutine (off the request's path) and cleared before the
	// entry reaches a sink.
	rawQuery string
}

// Failed reports whether the request was refused or failed (status 400 or
// more).
func (e *LogEntry) Failed() bool { return e.Status >= 400 }

// LogSink stores provisioning log entries: in memory, in a database, in a
// host's own log pipeline. The handler never calls it on a request's path:
// entries reach it through a [LogQueue], which calls Record from one
// goroutine at a time with the entries in the order they were added.
//
// Record must not keep entries after it returns (the queue reuses the
// slice); the strings and Events in them may be kept. An error is counted
// ([LogQueue.Failed]) and logged once in a while; the entries are not
// retried.
type LogSink interface {
	Record(ctx context.Context, entries []LogEntry) error
}

// DefaultLogQueueSize is how many entries a [LogQueue] holds for its sink
// when NewLogQueue is given 0.
const DefaultLogQueueSize = 4096

// logRecordTimeout bounds one call of a sink's Record.
const logRecordTimeout = 10 * time.Second

// Timing of a LogQueue's goroutine.
const (
	// logFlushEvery is how often the goroutine hands what has queued up to
	// the sink: entries reach the log within about this long.
	logFlushEvery = 10 * time.Millisecond
	// logIdleExit is how long the goroutine waits for entries before it
	// ends; the next entry starts a new one.
	logIdleExit = time.Second
)

// LogQueue is the bounded buffer between the requests that produce
// provisioning log entries and the [LogSink] that stores them, so that a
// slow or failing sink never fails or delays a SCIM request.
//
// [LogQueue.Add] appends an entry under a mutex and returns: a request pays
// for that and nothing else. A goroutine hands the queued entries to the
// sink in batches every 10 ms, or at once when half the queue has filled;
// each call of the sink is bounded by a 10-second timeout, and a sink's
// error or panic is counted ([LogQueue.Failed]) and logged once a minute
// with slog.Default. The goroutine starts with the first entry and ends
// after a second without one, so an idle queue holds no goroutine. When the
// sink falls behind and the queue is full, new entries are dropped and
// counted ([LogQueue.Dropped]): losing a log line is better than slowing
// provisioning.
//
// Set it as Options.Log and pass it to [BearerAuthLog], so that the
// handler and the authentication share it. A LogQueue is safe for
// concurrent use. Its zero value is not usable; make one with
// [NewLogQueue].
type LogQueue struct {
	sink LogSink
	max  int

	mu       sync.Mutex
	buf      []LogEntry
	spare    []LogEntry
	running  bool
	added    uint64        // entries ever queued
	done     uint64        // entries handed to the sink (or lost by it)
	progress chan struct{} // closed and replaced when done grows or the goroutine ends
	wake     chan struct{} // asks the goroutine to hand entries over now

	dropped  atomic.Uint64
	failed   atomic.Uint64
	lastWarn atomic.Int64 // unix nanos of the last logged sink error
}

// NewLogQueue returns a queue in front of sink holding at most size entries
// (0 means [DefaultLogQueueSize]). It panics when sink is nil or size is
// negative: both are mistakes in the host's code.
func NewLogQueue(sink LogSink, size int) *LogQueue {
	if sink == nil {
		panic("scim: NewLogQueue: nil sink")
	}
	if size < 0 {
		panic("scim: NewLogQueue: negative size")
	}
	if size == 0 {
		size = DefaultLogQueueSize
	}
	return &LogQueue{sink: sink, max: size, wake: make(chan struct{}, 1), progress: make(chan struct{})}
}

// Add queues e for the sink and returns at once. When the queue is full,
// e is dropped and counted. A nil queue does nothing.
func (q *LogQueue) Add(e LogEntry) {
	if q == nil {
		return
	}
	q.mu.Lock()
	if len(q.buf) >= q.max {
		q.mu.Unlock()
		q.dropped.Add(1)
		return
	}
	q.buf = append(q.buf, e)
	q.added++
	start := !q.running
	q.running = true
	half := len(q.buf) == q.max/2+1
	q.mu.Unlock()
	switch {
	case start:
		go q.drain()
	case half:
		q.poke()
	}
}

// poke asks the goroutine to hand entries over now.
func (q *LogQueue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// drain hands the queued entries to the sink until none has come for
// logIdleExit.
func (q *LogQueue) drain() {
	tick := time.NewTicker(logFlushEvery)
	defer tick.Stop()
	idle := 0
	for {
		select {
		case <-tick.C:
		case <-q.wake:
		}
		q.mu.Lock()
		if len(q.buf) == 0 {
			idle++
			if time.Duration(idle)*logFlushEvery >= logIdleExit {
				q.running = false
				close(q.progress)
				q.progress = make(chan struct{})
				q.mu.Unlock()
				return
			}
			q.mu.Unlock()
			continue
		}
		idle = 0
		batch := q.buf
		if q.spare == nil {
			// A second buffer, so that Add appends without growing a
			// slice while the sink works on this batch.
			q.spare = make([]LogEntry, 0, cap(batch))
		}
		q.buf = q.spare[:0]
		q.spare = nil
		q.mu.Unlock()

		for i := range batch {
			if e := &batch[i]; e.rawQuery != "" {
				if e.Query == "" {
					e.Query = queryNames(e.rawQuery)
				}
				e.rawQuery = ""
			}
		}
		if err := q.record(batch); err != nil {
			q.failed.Add(uint64(len(batch)))
			q.warn(err)
		}
		n := len(batch)
		clear(batch) // let the strings go
		q.mu.Lock()
		if cap(batch) <= q.max {
			q.spare = batch[:0]
		}
		q.done += uint64(n)
		close(q.progress)
		q.progress = make(chan struct{})
		q.mu.Unlock()
	}
}

// record calls the sink with a timeout; a panicking sink is an error, not
// a crash of the process.
func (q *LogQueue) record(batch []LogEntry) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), logRecordTimeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("scim: log sink panicked: %v", v)
		}
	}()
	return q.sink.Record(ctx, batch)
}

// warn logs a sink error at most once a minute.
func (q *LogQueue) warn(err error) {
	now := time.Now().UnixNano()
	last := q.lastWarn.Load()
	if now-last < int64(time.Minute) || !q.lastWarn.CompareAndSwap(last, now) {
		return
	}
	slog.Default().Error("scim: provisioning log sink failed; entries lost", "error", err, "failed_total", q.failed.Load())
}

// Flush waits until every entry added before the call has been handed to
// the sink, or ctx is done (then it returns ctx's error). A host calls it
// at shutdown, after its http.Server has stopped serving; tests call it
// before reading the sink.
func (q *LogQueue) Flush(ctx context.Context) error {
	q.mu.Lock()
	target := q.added
	q.mu.Unlock()
	for {
		q.mu.Lock()
		if q.done >= target || !q.running {
			q.mu.Unlock()
			return nil
		}
		progress := q.progress
		q.mu.Unlock()
		q.poke()
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Dropped returns how many entries were dropped because the queue was full.
func (q *LogQueue) Dropped() uint64 { return q.dropped.Load() }

// Failed returns how many entries were lost because the sink returned an
// error (or panicked).
func (q *LogQueue) Failed() uint64 { return q.failed.Load() }

// maxUserAgent caps LogEntry.UserAgent.
const maxUserAgent = 200

// newLogEntry starts the entry of request r, for tenant t, whose path
// below the SCIM base URL is path.
func newLogEntry(r *http.Request, path string, t Tenant, start time.Time) LogEntry {
	ua := r.Header.Get("User-Agent")
	if len(ua) > maxUserAgent {
		ua = strings.ToValidUTF8(ua[:maxUserAgent], "")
	}
	e := LogEntry{
		Time:      start,
		Tenant:    t.ID,
		Client:    t.Client,
		UserAgent: ua,
		Method:    r.Method,
		Path:      path,
		rawQuery:  r.URL.RawQuery,
	}
	switch {
	case strings.HasPrefix(e.Path, "/Users"):
		e.ResourceType = "User"
	case strings.HasPrefix(e.Path, "/Groups"):
		e.ResourceType = "Group"
	}
	return e
}

// logEntry adds the entry of a request the handler answered, which took d.
func (h *Handler) logEntry(r *http.Request, sw *statusWriter, start time.Time, d time.Duration) {
	t, _ := TenantFrom(requestContext(sw, r))
	e := newLogEntry(r, h.relPath(r), t, start)
	e.Status = sw.status()
	e.Type = sw.scimType
	e.Detail = sw.detail
	e.ResourceID = sw.resourceID
	if e.ResourceID == "" && e.ResourceType != "" {
		e.ResourceID = r.PathValue("id")
	}
	e.Events = sw.events
	e.Probe = sw.probe
	e.Duration = d
	h.opts.Log.Add(e)
}

// logRefusal adds the entry of a request BearerAuth refused for a known
// tenant. path is the request's path below the SCIM base URL, cleaned.
func logRefusal(q *LogQueue, r *http.Request, path string, t Tenant, e *Error, start time.Time) {
	le := newLogEntry(r, path, t, start)
	le.Status = e.status()
	le.Type = e.Type
	le.Detail = e.Detail
	le.Duration = time.Since(start)
	q.Add(le)
}

// isProbe reports whether f is `<attr> eq "<GUID>"`, the shape of Entra
// ID's Test connection query.
func isProbe(f Filter) bool {
	a, ok := f.(*AttrExpr)
	return ok && a.Op == OpEq && a.Value.Kind == KindString && isGUID(a.Value.Text)
}

// isGUID reports whether s is 8-4-4-4-12 hex digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// noteResource records, for the provisioning log, the id of the resource a
// request created.
func noteResource(w http.ResponseWriter, id string) {
	if sw, ok := w.(*statusWriter); ok {
		sw.resourceID = id
	}
}
