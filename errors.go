package scim

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// ErrorType is an RFC 7644 §3.12 scimType: the machine-readable reason for a
// 400 (or 409, 413) error.
type ErrorType string

// The scimType values of RFC 7644 §3.12 (table 9).
const (
	InvalidFilter ErrorType = "invalidFilter"
	TooMany       ErrorType = "tooMany"
	Uniqueness    ErrorType = "uniqueness"
	Mutability    ErrorType = "mutability"
	InvalidSyntax ErrorType = "invalidSyntax"
	InvalidPath   ErrorType = "invalidPath"
	NoTarget      ErrorType = "noTarget"
	InvalidValue  ErrorType = "invalidValue"
	InvalidVers   ErrorType = "invalidVers"
	Sensitive     ErrorType = "sensitive"
)

// The scimType values RFC 9865 §4 adds for cursor pagination.
const (
	// InvalidCursor: the cursor is malformed, or was not issued for this
	// query, tenant or server.
	InvalidCursor ErrorType = "invalidCursor"
	// ExpiredCursor: the cursor is older than the server's cursorTimeout.
	ExpiredCursor ErrorType = "expiredCursor"
	// InvalidCount: the count of a cursor request is not an integer.
	InvalidCount ErrorType = "invalidCount"
)

// Error is a SCIM error response (RFC 7644 §3.12). Every error the handler
// writes is one, and a host's hook or Store may return one to choose exactly
// what the client reads:
//
//	return &scim.Error{Status: 400, Type: scim.InvalidValue, Detail: "seat limit of 50 reached"}
//
// Detail is sent to the client, so it must never carry internal text; Err is
// the cause, kept for logs and errors.Is, and never sent. Error values are
// not modified after they are returned, so they are safe to share.
type Error struct {
	Status int       // HTTP status; 0 is treated as 500
	Type   ErrorType // scimType; may be empty (for 401, 403, 404, 5xx)
	Detail string    // human-readable, sent to the client
	Err    error     // the cause, never sent
	// RetryAfter, when positive, is sent as the Retry-After header, in
	// whole seconds rounded up (RFC 9110 §10.2.3): how long a client
	// should wait before it retries a 429 or 503.
	RetryAfter time.Duration
}

// Error returns the detail, with the cause when there is one.
func (e *Error) Error() string {
	s := "scim: " + strconv.Itoa(e.status()) + " " + string(e.Type) + ": " + e.Detail
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) status() int {
	if e.Status < 400 || e.Status > 599 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// ConflictError is how a Store says which attribute a uniqueness conflict
// is on, when it knows (a unique index on emails, on externalId, besides
// userName):
//
//	return nil, &scim.ConflictError{Attribute: "emails", Value: addr, Err: err}
//
// It is an [ErrConflict]: errors.Is(err, scim.ErrConflict) holds for it and
// for any error wrapping it, so code that tests for the sentinel keeps
// working. The handler answers 409 uniqueness with a detail that names
// Attribute and, when set, Value, which should be what the client sent:
// never put another tenant's data or internal text in it. Err is the
// cause, kept for logs and never sent. The zero value is a conflict on an
// unnamed attribute.
type ConflictError struct {
	// Attribute is the SCIM attribute whose value is taken: "userName",
	// "emails", "externalId", a group's "displayName". Empty when unknown.
	Attribute string
	// Value is the conflicting value, as the client sent it; may be empty.
	Value string
	// Err is the store's cause (a driver's error); may be nil.
	Err error
}

// Error describes the conflict, with the cause when there is one.
func (e *ConflictError) Error() string {
	s := ErrConflict.Error()
	if e.Attribute != "" {
		s += " on " + e.Attribute
	}
	if e.Value != "" {
		s += " " + strconv.Quote(e.Value)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Unwrap returns the cause.
func (e *ConflictError) Unwrap() error { return e.Err }

// detail is what the client reads about the conflict of a resource of type
// kind ("User", "Group", or "resource"); "" when Attribute is empty.
func (e *ConflictError) detail(kind string) string {
	switch {
	case e.Attribute == "":
		return ""
	case e.Value == "":
		return "a " + kind + " with the same " + e.Attribute + " already exists"
	}
	return "a " + kind + " with " + e.Attribute + " " + strconv.Quote(e.Value) + " already exists"
}

// errorf builds an *Error; a small constructor keeps call sites on one line.
func errorf(status int, typ ErrorType, detail string) *Error {
	return &Error{Status: status, Type: typ, Detail: detail}
}

// internalError is the only 500 a client ever reads: the cause goes to the log.
const internalDetail = "internal server error"

// toError turns any error into the *Error the client will read. A *Error in
// the chain is used as it is; the Store sentinels get their status; anything
// else is a 500 whose detail says nothing of the cause.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ue *UnsupportedError
	if errors.As(err, &ue) {
		return &Error{Status: http.StatusBadRequest, Type: InvalidFilter, Detail: ue.Error(), Err: err}
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return &Error{Status: http.StatusNotFound, Detail: "resource not found", Err: err}
	case errors.Is(err, ErrConflict):
		detail := "a resource with the same unique attribute already exists"
		var ce *ConflictError
		if errors.As(err, &ce) && ce.Attribute != "" {
			detail = ce.detail("resource")
		}
		return &Error{Status: http.StatusConflict, Type: Uniqueness, Detail: detail, Err: err}
	case errors.Is(err, ErrVersionMismatch):
		return &Error{Status: http.StatusPreconditionFailed, Detail: "the resource has changed: meta.version does not match If-Match", Err: err}
	case errors.Is(err, ErrUnsupported):
		return &Error{Status: http.StatusBadRequest, Type: InvalidFilter, Detail: "this filter or sort is not supported by the server", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Detail: "request cancelled or timed out", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Detail: internalDetail, Err: err}
}

// WriteError writes err as a SCIM error response, for hosts' own middleware
// (a rate limiter, a tenant check) that must answer in SCIM's format. A
// *Error anywhere in err's chain is written as it is; the Store sentinels map
// to their statuses; any other error is written as a 500 whose detail does
// not reveal err, which is logged with slog.Default instead.
func WriteError(w http.ResponseWriter, err error) {
	writeError(w, nil, slog.Default(), err)
}

// writeError writes err; r and log may be nil.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := toError(err)
	status := e.status()
	if (status == http.StatusInternalServerError || e.Err != nil && status >= 500) && log != nil {
		ctx := context.Background()
		attrs := []any{"status", status, "error", err}
		if r != nil {
			ctx = requestContext(w, r)
			attrs = append(attrs, "method", r.Method, "path", r.URL.Path)
		}
		log.ErrorContext(ctx, "scim: request failed", attrs...)
	}
	b := make([]byte, 0, 128+len(e.Detail))
	b = append(b, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, '"')
	if e.Type != "" {
		b = append(b, `,"scimType":`...)
		b = appendJSONString(b, string(e.Type))
	}
	if e.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, e.Detail)
	}
	b = append(b, '}')
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if e.RetryAfter > 0 && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="scim"`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// contentType is the media type of every SCIM response (RFC 7644 §3.1).
const contentType = "application/scim+json"
