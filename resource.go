package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// resourceType is one SCIM resource endpoint (/Users or /Groups): the
// protocol logic is written once over it, and the two resource types differ
// only in these functions.
type resourceType[T interface{ *User | *Group }] struct {
	h        *Handler
	name     string // "User"
	endpoint string // "/Users"
	schema   string // core schema URN

	create  func(context.Context, T) (T, error)
	get     func(context.Context, string, Projection) (T, error)
	replace func(context.Context, T) (T, error)
	del     func(context.Context, string) error
	list    func(context.Context, Query) (Page[T], error)
	// getShared and listShared are get and list, or the store's
	// SharedUserReader: what they return must not be modified.
	getShared  func(context.Context, string, Projection) (T, error)
	listShared func(context.Context, Query) (Page[T], error)
	// shared says getShared returns the store's own values.
	shared bool
	// cacheOf is the store's UserEncodingCacher, nil when it has none (or
	// is not a SharedUserReader): the cache of a value getShared or
	// listShared returned for the default projection, or nil.
	cacheOf func(context.Context, T) *EncodingCache
	// getCached and listCached are the store's CachedUserReader, nil when
	// it has none or is not its own (see ownCachedReader): getShared and
	// listShared for the default projection, with cacheOf's answers.
	getCached  func(context.Context, string) (Cached[T], error)
	listCached func(context.Context, Query) (Page[Cached[T]], error)

	decode func([]byte, decodeOptions) (T, error)
	encode func([]byte, T, Projection, string) []byte
	meta   func(T) *Meta
	setID  func(T, string)
	// unique names the unique attribute of v, for the 409 detail.
	unique func(T) string
	// check runs the host's policies on the final state of a write; old is
	// nil on create.
	check func(ctx context.Context, old, v T) error
	// events describes a successful create (old nil) or update.
	events func(id string, old, v T) []Event
	// clone deep-copies; assign replaces dst's attributes with src's, all
	// but ID and Meta (a PUT).
	clone  func(T) T
	assign func(dst, src T)
	// adopt makes dst, the store's copy inside its atomic step, the state
	// src the handler computed (sharing src's slices: src is not used after).
	adopt func(dst, src T)
	// atomic is the store's UserUpdater or GroupUpdater, nil when it has none.
	atomic func(ctx context.Context, id string, update func(T) error) (T, error)
	// swap is the store's SharedUserUpdater, nil when it has none: update
	// is given the stored value and returns the new one, which the store
	// keeps without a copy; what swap returns must not be modified.
	swap func(ctx context.Context, id string, update func(stored T) (T, error)) (T, error)
	// reentrant says that atomic's update function may query the store
	// (ReentrantReader), so that update may run the policies inside it.
	reentrant bool
	// keyset is the store's UserKeysetLister or GroupKeysetLister, nil when
	// it has none.
	keyset func(ctx context.Context, q Query, k Keyset) (KeysetPage[T], error)
}

func newUserType(h *Handler, s UserStore) *resourceType[*User] {
	rt := &resourceType[*User]{
		h: h, name: "User", endpoint: "/Users", schema: UserSchema,
		create: s.CreateUser, get: s.GetUser, replace: s.ReplaceUser, del: s.DeleteUser, list: s.ListUsers,
		decode: decodeUser, encode: withExtensions(h.ext.user, appendUser, userExtra),
		meta:   func(u *User) *Meta { return &u.Meta },
		setID:  func(u *User, id string) { u.ID = id },
		unique: func(u *User) string { return "userName " + strconv.Quote(u.UserName) },
		check:  h.checkUser,
		events: userEvents,
		clone:  (*User).Clone,
		assign: replaceUser,
		adopt:  func(dst, src *User) { *dst = *src },
	}
	if a, ok := s.(UserUpdater); ok {
		rt.atomic, rt.reentrant = a.UpdateUser, reentrantReads(s)
		if su, ok := s.(SharedUserUpdater); ok {
			rt.swap = su.UpdateUserShared
			// An update's events carry a copy: a host's OnChange may
			// modify what it is given, and the result of swap is the
			// store's own (a create's is already a copy).
			rt.events = func(id string, old, u *User) []Event {
				if old != nil {
					u = u.Clone()
				}
				return userEvents(id, old, u)
			}
		}
	}
	if k, ok := s.(UserKeysetLister); ok {
		rt.keyset = k.ListUsersKeyset
	}
	rt.getShared, rt.listShared = rt.get, rt.list
	if sr, ok := s.(SharedUserReader); ok {
		rt.getShared, rt.listShared, rt.shared = sr.GetUserShared, sr.ListUsersShared, true
		if c, ok := s.(UserEncodingCacher); ok {
			rt.cacheOf = c.UserEncodingCache
			if cr, ok := s.(CachedUserReader); ok && ownCachedReader(cr, s) {
				rt.getCached, rt.listCached = cr.GetUserCached, cr.ListUsersCached
			}
		}
	}
	return rt
}

// reentrantReads reports whether s is a [ReentrantReader] that answers true.
func reentrantReads(s any) bool {
	r, ok := s.(ReentrantReader)
	return ok && r.ReentrantReads()
}

// ownCachedReader reports whether cr's CachedUserReader method is s's own:
// a type embedding a CachedUserReader inherits a method that returns the
// embedded value, not s, and may have overridden the reads the one-call
// methods stand for.
func ownCachedReader(cr CachedUserReader, s UserStore) bool {
	self := cr.CachedUserReader()
	if self == nil || !reflect.TypeOf(self).Comparable() || !reflect.TypeOf(s).Comparable() {
		return false // == on interfaces holding such values would panic
	}
	return any(self) == any(s)
}

// replaceUser is a PUT: every attribute of dst becomes src's, except the
// server's (ID, Meta), the read-only groups, and a password the client did
// not send, since PUT bodies from Okta and Entra never repeat it.
func replaceUser(dst, src *User) {
	keep := *dst
	*dst = *src.Clone()
	dst.ID, dst.Meta, dst.Groups = keep.ID, keep.Meta, keep.Groups
	if dst.Password == "" {
		dst.Password = keep.Password
	}
}

func newGroupType(h *Handler, s GroupStore) *resourceType[*Group] {
	rt := &resourceType[*Group]{
		h: h, name: "Group", endpoint: "/Groups", schema: GroupSchema,
		create: s.CreateGroup, get: s.GetGroup, replace: s.ReplaceGroup, del: s.DeleteGroup, list: s.ListGroups,
		decode: decodeGroup, encode: withExtensions(h.ext.group, appendGroup, groupExtra),
		meta:   func(g *Group) *Meta { return &g.Meta },
		setID:  func(g *Group, id string) { g.ID = id },
		unique: func(g *Group) string { return "displayName " + strconv.Quote(g.DisplayName) },
		check:  h.checkGroup,
		events: groupEvents,
		clone:  (*Group).Clone,
		assign: func(dst, src *Group) { id, meta := dst.ID, dst.Meta; *dst = *src.Clone(); dst.ID, dst.Meta = id, meta },
		adopt:  func(dst, src *Group) { *dst = *src },
	}
	if a, ok := s.(GroupUpdater); ok {
		rt.atomic, rt.reentrant = a.UpdateGroup, reentrantReads(s)
	}
	if k, ok := s.(GroupKeysetLister); ok {
		rt.keyset = k.ListGroupsKeyset
	}
	rt.getShared, rt.listShared = rt.get, rt.list
	return rt
}

// patchSupported says whether PATCH is served; ServiceProviderConfig
// reports it.
const patchSupported = true

func handleResource[T interface{ *User | *Group }](mux *http.ServeMux, prefix string, rt *resourceType[T]) {
	e := prefix + rt.endpoint
	mux.HandleFunc("GET "+e, rt.serveList)
	mux.HandleFunc("POST "+e+"/.search", rt.serveSearch)
	mux.HandleFunc("POST "+e, rt.serveCreate)
	mux.HandleFunc("GET "+e+"/{id}", rt.serveGet)
	mux.HandleFunc("PUT "+e+"/{id}", rt.serveReplace)
	mux.HandleFunc("PATCH "+e+"/{id}", rt.servePatch)
	mux.HandleFunc("DELETE "+e+"/{id}", rt.serveDelete)
}

// storeError turns a store's error into what the client reads, naming the
// resource where the sentinel alone would be vague.
func (rt *resourceType[T]) storeError(err error, id string, v T) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return &Error{Status: http.StatusNotFound, Detail: fmt.Sprintf("%s %q not found", rt.name, id), Err: err}
	case errors.Is(err, ErrConflict):
		var ce *ConflictError
		// A conflict on the unique attribute without its value: the value
		// is the one being written.
		if errors.As(err, &ce) && ce.Attribute != "" && (ce.Value != "" || v == nil || !strings.HasPrefix(rt.unique(v), ce.Attribute+" ")) {
			return &Error{Status: http.StatusConflict, Type: Uniqueness, Detail: ce.detail(rt.name), Err: err}
		}
		if v != nil {
			return &Error{Status: http.StatusConflict, Type: Uniqueness, Detail: fmt.Sprintf("a %s with %s already exists", rt.name, rt.unique(v)), Err: err}
		}
	}
	return err
}

func (rt *resourceType[T]) serveGet(w http.ResponseWriter, r *http.Request) {
	rt.serveGetID(w, r, r.PathValue("id"))
}

func (rt *resourceType[T]) serveGetID(w http.ResponseWriter, r *http.Request, id string) {
	h := rt.h
	want, err := parseProjection(r.URL.RawQuery, h.opts.Strict)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var v T
	var c *EncodingCache
	cached := false // c is v's cache, when the store has one
	if rt.getCached != nil && len(want.Attributes) == 0 && len(want.Excluded) == 0 {
		var cv Cached[T]
		cv, err = rt.getCached(requestContext(w, r), id)
		v, c, cached = cv.Value, cv.Cache, true
	} else {
		v, err = rt.getShared(requestContext(w, r), id, want)
	}
	if err != nil {
		h.fail(w, r, rt.storeError(err, id, nil))
		return
	}
	version := rt.meta(v).Version
	base := h.baseURL(r)
	if cached && c != nil {
		if e := c.hit(h, base); e != nil && len(e.body) <= h.opts.MaxResponseBytes {
			writeCachedRead(w, r, e, version)
			return
		}
	}
	etag := entityTag(version)
	if etag != "" {
		// The canonical key, set as Header.Set would, without canonicalizing
		// "ETag" on every read.
		w.Header()["Etag"] = []string{etag}
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, version) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	enc := func(b []byte) []byte { return rt.encode(b, v, want, base) }
	if !cached {
		c = rt.cache(requestContext(w, r), v, want)
	}
	if c != nil {
		h.writeRead(w, r, rt.name, id, func(b []byte) []byte { return c.appendCached(b, h, base, version, enc) })
		return
	}
	h.writeRead(w, r, rt.name, id, enc)
}

// writeCachedRead answers a GET of the user whose version is version from
// e, its cached encoding: what the encoding path writes (its ETag, or 304
// when If-None-Match names it, then the body), as writeCached writes it.
func writeCachedRead(w http.ResponseWriter, r *http.Request, e *cachedEncoding, version string) {
	if e.etag != "" {
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, version) {
			w.Header()["Etag"] = []string{e.etag}
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	writeCached(w, http.StatusOK, e)
}

// writeCached answers with e, a cached encoding of a user: its ETag and
// Content-Length (both in one allocation), and its body, written without
// a copy (a Write must not keep or change what it is given).
func writeCached(w http.ResponseWriter, status int, e *cachedEncoding) {
	hd := w.Header()
	if e.etag == "" {
		hd["Content-Length"] = []string{e.length}
	} else {
		vs := &[2]string{e.etag, e.length}
		hd["Etag"], hd["Content-Length"] = vs[0:1:1], vs[1:2:2]
	}
	hd["Content-Type"] = contentTypeHeader
	w.WriteHeader(status)
	_, _ = w.Write(e.body)
}

// cache returns the EncodingCache of v, read for the projection want, or
// nil: only the default projection is cached, and only by a store that is
// a UserEncodingCacher.
func (rt *resourceType[T]) cache(ctx context.Context, v T, want Projection) *EncodingCache {
	if rt.cacheOf == nil || len(want.Attributes) != 0 || len(want.Excluded) != 0 {
		return nil
	}
	return rt.cacheOf(ctx, v)
}

func (rt *resourceType[T]) serveCreate(w http.ResponseWriter, r *http.Request) {
	h := rt.h
	body, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := rt.decode(body, h.decode)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := rt.check(requestContext(w, r), nil, v); err != nil {
		h.fail(w, r, err)
		return
	}
	created, err := rt.create(requestContext(w, r), v)
	if err != nil {
		h.fail(w, r, rt.storeError(err, "", v))
		return
	}
	if h.opts.Log != nil {
		noteResource(w, resourceID(created))
	}
	h.emit(requestContext(w, r), w, func() []Event { return rt.events(resourceID(created), nil, created) }, nil)
	rt.writeResource(w, r, http.StatusCreated, created)
}

// writeResource answers a write with the resource, its ETag and, on create,
// its Location.
func (rt *resourceType[T]) writeResource(w http.ResponseWriter, r *http.Request, status int, v T) {
	base := rt.h.baseURL(r)
	hd := w.Header()
	if etag := entityTag(rt.meta(v).Version); etag != "" {
		hd["Etag"] = []string{etag} // as in serveGetID
	}
	if status == http.StatusCreated {
		hd["Location"] = []string{base + rt.endpoint + "/" + resourceID(v)}
	}
	writeJSON(w, status, func(b []byte) []byte { return rt.encode(b, v, Projection{}, base) })
}

func resourceID[T interface{ *User | *Group }](v T) string {
	switch x := any(v).(type) {
	case *User:
		return x.ID
	case *Group:
		return x.ID
	}
	return ""
}

func (rt *resourceType[T]) serveReplace(w http.ResponseWriter, r *http.Request) {
	rt.serveReplaceID(w, r, r.PathValue("id"))
}

func (rt *resourceType[T]) serveReplaceID(w http.ResponseWriter, r *http.Request, id string) {
	h := rt.h
	body, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := rt.decode(body, h.decode)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	old, replaced, err := rt.update(requestContext(w, r), id, r.Header.Get("If-Match"), func(_, cur T) error {
		rt.assign(cur, v)
		return nil
	})
	if err != nil {
		h.fail(w, r, rt.storeError(err, id, v))
		return
	}
	h.emit(requestContext(w, r), w, func() []Event { return rt.events(id, old, replaced) }, nil)
	rt.writeResource(w, r, http.StatusOK, replaced)
}

// maxUpdateAttempts and maxUpdateWait bound update's optimistic retries:
// it gives up with 409 only once it has lost both this many races and for
// this long. Each lost race means another writer made progress, so giving
// up takes sustained contention on one resource. Writers of one process
// take turns, so a retry races only with writers of other processes. When
// those write inside their store's lock (a PATCH without policies, on a
// store with an atomic update), a process whose policies make it read
// first loses every race for as long as the other has writes of that
// resource queued: on SQLite under load, a read of a 500-member group and
// the wait for the write lock took 30-170 ms against a write every 20-40
// ms (TestTwoProcesses in sqlstore, under -race). With a ReentrantReader,
// update stops racing after lockedUpdateAfter lost races and updates
// inside the store's lock instead (updateLocked). Otherwise the retries
// wait the contention out, backing off by a random pause of up to
// maxUpdateBackoff so as not to spin. A store that never agrees with
// itself still ends the request; the request's context ends the retries
// earlier.
const (
	maxUpdateAttempts = 100
	maxUpdateWait     = 10 * time.Second
	maxUpdateBackoff  = 2 * time.Millisecond
	lockedUpdateAfter = 8
)

// update is every read-modify-write of one resource (PUT, PATCH): it reads
// resource id, checks ifMatch (a header value; "" for none) against the
// version read, lets change modify a copy (cur; old is the state read,
// which change must not modify), runs the host's policies on the
// result, and stores it. It returns the resource before and after.
//
// change and the policies run outside any lock of the store's, because a
// policy may query the store (SeatLimit counts the active users) and a
// PATCH may be costly. The write then carries what the policies saw: with a
// UserUpdater or GroupUpdater, the store's atomic step stores the computed
// result only if the version is still the one read; otherwise ReplaceUser
// or ReplaceGroup carries that version. Either way a concurrent writer
// makes update start again from a fresh read, so no update is lost and no
// policy is skipped; when the client sent If-Match, the fresh read is its
// 412 instead. After lockedUpdateAfter such restarts, on a store whose
// reads are reentrant, the change and the policies run inside the store's
// atomic step (updateLocked).
func (rt *resourceType[T]) update(ctx context.Context, id, ifMatch string, change func(old, cur T) error) (old, updated T, err error) {
	// Writers to one resource in this process take turns, so they never
	// make each other start again; the version check still guards against
	// other processes, which is what the retries are for.
	mu := rt.h.updateLock(ctx, rt.name, id)
	mu.Lock()
	defer mu.Unlock()
	start := time.Now()
	for attempt := 0; attempt < maxUpdateAttempts || time.Since(start) < maxUpdateWait; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return old, updated, err
			}
		}
		if err := ctx.Err(); err != nil {
			return old, updated, err
		}
		if attempt == lockedUpdateAfter && rt.reentrant {
			return rt.updateLocked(ctx, id, ifMatch, change)
		}
		// old is only read (a shared store's own value); cur is the copy
		// the change is made on.
		old, err = rt.getShared(ctx, id, Projection{})
		if err != nil {
			return old, updated, err
		}
		read := rt.meta(old).Version
		if ifMatch != "" && !etagMatches(ifMatch, read) {
			return old, updated, errPreconditionFailed(rt.name, id)
		}
		cur := rt.clone(old)
		if err := change(old, cur); err != nil {
			return old, updated, err
		}
		rt.setID(cur, id)
		policyOld := old
		if rt.shared && len(rt.h.opts.UserPolicies) > 0 {
			policyOld = rt.clone(old) // a policy may modify what it is given
		}
		if err := rt.check(ctx, policyOld, cur); err != nil {
			return old, updated, err
		}
		if rt.swap != nil {
			// As below, without a copy: cur is the handler's own, and
			// nothing uses it after this.
			updated, err = rt.swap(ctx, id, func(stored T) (T, error) {
				if rt.meta(stored).Version != read {
					var none T
					return none, errChangedMeanwhile
				}
				return cur, nil
			})
		} else if rt.atomic != nil {
			// The change was computed above, outside the store's lock;
			// under it, the result is only swapped in, so a costly PATCH
			// holds the lock no longer than a PUT.
			computed := cur
			updated, err = rt.atomic(ctx, id, func(c T) error {
				if rt.meta(c).Version != read {
					return errChangedMeanwhile
				}
				rt.adopt(c, computed)
				return nil
			})
		} else {
			rt.meta(cur).Version = read
			updated, err = rt.replace(ctx, cur)
			if errors.Is(err, ErrVersionMismatch) {
				err = errChangedMeanwhile
			}
		}
		if !errors.Is(err, errChangedMeanwhile) {
			return old, updated, err
		}
		if ifMatch != "" {
			return old, updated, errPreconditionFailed(rt.name, id)
		}
	}
	return old, updated, &Error{Status: http.StatusConflict, Detail: fmt.Sprintf("%s %q is being changed by other requests; try again", rt.name, id)}
}

// updateLocked is update's last resort against writers it keeps losing to:
// it runs change and the policies inside the store's atomic step, on the
// stored resource, so that no other writer can come in between. The store's
// lock is then held while the policies run, which may query the store: it
// is used only on a ReentrantReader, and one at a time per Handler (see
// ReentrantReader).
func (rt *resourceType[T]) updateLocked(ctx context.Context, id, ifMatch string, change func(old, cur T) error) (old, updated T, err error) {
	select {
	case rt.h.lockedUpdates <- struct{}{}:
	case <-ctx.Done():
		return old, updated, ctx.Err()
	}
	defer func() { <-rt.h.lockedUpdates }()
	updated, err = rt.atomic(ctx, id, func(cur T) error {
		// cur is a fresh copy, the store's to keep; old is the handler's
		// own copy of the state the change starts from, for the policies
		// and the events. The store may call this more than once: the last
		// call's old is the one returned.
		old = rt.clone(cur)
		return rt.changeChecked(ctx, id, ifMatch, change, old, cur)
	})
	return old, updated, err
}

// backoff waits before update's attempt-th attempt: a random pause that
// doubles from a microsecond up to maxUpdateBackoff, so that processes
// racing for one resource drift apart rather than collide again. It
// returns the context's error when the request ends first.
func backoff(ctx context.Context, attempt int) error {
	limit := maxUpdateBackoff
	if attempt < 12 {
		limit = min(limit, time.Microsecond<<attempt)
	}
	t := time.NewTimer(rand.N(limit) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errChangedMeanwhile tells update that another writer changed the resource
// between its read and its write.
var errChangedMeanwhile = errors.New("scim: the resource changed during the update")

func (rt *resourceType[T]) serveDelete(w http.ResponseWriter, r *http.Request) {
	rt.serveDeleteID(w, r, r.PathValue("id"))
}

func (rt *resourceType[T]) serveDeleteID(w http.ResponseWriter, r *http.Request, id string) {
	h := rt.h
	ctx := requestContext(w, r)
	var old T
	im := r.Header.Get("If-Match")
	if im != "" || h.opts.OnChange != nil {
		// The event carries the deleted user; If-Match needs its version.
		var err error
		if old, err = rt.get(ctx, id, Projection{Excluded: []AttrPath{{Name: "members"}}}); err != nil {
			h.fail(w, r, rt.storeError(err, id, nil))
			return
		}
		if im != "" && !etagMatches(im, rt.meta(old).Version) {
			h.fail(w, r, errPreconditionFailed(rt.name, id))
			return
		}
	}
	if err := rt.del(ctx, id); err != nil {
		h.fail(w, r, rt.storeError(err, id, nil))
		return
	}
	h.emit(ctx, w, func() []Event { return []Event{deleteEvent(id, old)} }, nil)
	w.WriteHeader(http.StatusNoContent)
}

// deleteEvent describes a delete; old is the resource as read before it,
// or nil.
func deleteEvent[T interface{ *User | *Group }](id string, old T) Event {
	if u, ok := any(old).(*User); ok {
		return Event{Kind: UserDeleted, ResourceType: "User", ID: id, User: u}
	}
	return Event{Kind: GroupDeleted, ResourceType: "Group", ID: id}
}

func errPreconditionFailed(name, id string) *Error {
	return errorf(http.StatusPreconditionFailed, "", fmt.Sprintf("%s %q has changed: its meta.version does not match If-Match", name, id))
}

func (rt *resourceType[T]) serveList(w http.ResponseWriter, r *http.Request) {
	p := listQueryParams(r.URL.RawQuery)
	q, err := rt.h.listQuery(p, rt.name)
	if err != nil {
		rt.h.fail(w, r, err)
		return
	}
	rt.respondList(w, r, q, p)
}

func (rt *resourceType[T]) serveSearch(w http.ResponseWriter, r *http.Request) {
	p, err := rt.h.searchParams(w, r)
	if err != nil {
		rt.h.fail(w, r, err)
		return
	}
	q, err := rt.h.listQuery(p, rt.name)
	if err != nil {
		rt.h.fail(w, r, err)
		return
	}
	rt.respondList(w, r, q, p)
}

func (rt *resourceType[T]) respondList(w http.ResponseWriter, r *http.Request, q Query, p listParams) {
	if p.hasCursor {
		cp, err := rt.listByCursor(requestContext(w, r), q, p.cursor)
		if err != nil {
			rt.h.fail(w, r, err)
			return
		}
		base := rt.h.baseURL(r)
		writeJSON(w, http.StatusOK, func(b []byte) []byte {
			return appendCursorList(b, cp, func(b []byte, v T) []byte { return rt.encode(b, v, q.Want, base) })
		})
		return
	}
	ctx := requestContext(w, r)
	if rt.listCached != nil && len(q.Want.Attributes) == 0 && len(q.Want.Excluded) == 0 {
		page, err := rt.listCached(ctx, q)
		if err != nil {
			rt.h.fail(w, r, err)
			return
		}
		rt.writePage(w, r, q, page.TotalResults, len(page.Resources), func(i int) (T, *EncodingCache) {
			return page.Resources[i].Value, page.Resources[i].Cache
		})
		return
	}
	page, err := rt.listShared(ctx, q)
	if err != nil {
		rt.h.fail(w, r, err)
		return
	}
	rt.writePage(w, r, q, page.TotalResults, len(page.Resources), func(i int) (T, *EncodingCache) {
		return page.Resources[i], rt.cache(ctx, page.Resources[i], q.Want)
	})
}

// writePage answers a list with the n resources of its page (out of total
// matches), which at returns, each with its cache or nil.
func (rt *resourceType[T]) writePage(w http.ResponseWriter, r *http.Request, q Query, total, n int, at func(int) (T, *EncodingCache)) {
	if rt.h.opts.Log != nil && total == 0 && isProbe(q.Filter) {
		if sw, ok := w.(*statusWriter); ok {
			sw.probe = true
		}
	}
	n = min(n, q.Count)
	base := rt.h.baseURL(r)
	pb := rt.h.newPageBudget(total, q.StartIndex, n)
	for i := range n {
		v, c := at(i)
		enc := func(b []byte) []byte { return rt.encode(b, v, q.Want, base) }
		if c != nil {
			encode := enc
			enc = func(b []byte) []byte { return c.appendCached(b, rt.h, base, rt.meta(v).Version, encode) }
			if n == 1 {
				pb.one = c.hit(rt.h, base)
			}
		}
		if ok, err := pb.add(rt.name, resourceID(v), enc); err != nil {
			pb.free()
			rt.h.fail(w, r, err)
			return
		} else if !ok {
			break
		}
	}
	pb.write(w)
}

// pageBudget encodes the resources of one ListResponse within
// Options.MaxResponseBytes: RFC 7644 §3.4.2.4 lets a page hold fewer
// resources than asked, and itemsPerPage says how many it holds, so the
// client's next startIndex continues after them. The first resource alone
// not fitting is an error: a page of none would stall a client's paging.
type pageBudget struct {
	h                 *Handler
	total, startIndex int
	bp                *[]byte // pooled buffer: room for the ListResponse's header, then the encoded resources
	b                 []byte
	room              int // the header's room at the start of b
	budget            int // for b, without the "]}" that closes it
	n                 int
	full              bool
	// one is the cached encoding of the page's only resource, if any,
	// whose pageLength write uses when the page is its one-user page.
	one *cachedEncoding
}

// newPageBudget starts a page of at most max resources out of total. It
// leaves room for the longest header the page can have (with max items),
// which write fills in, so that the page is not copied to put its header
// before it.
func (h *Handler) newPageBudget(total, startIndex, max int) pageBudget {
	bp := bufPool.Get().(*[]byte)
	var hb [256]byte // the longest header is 185 bytes
	header := appendListHeader(hb[:0], total, startIndex, max)
	return pageBudget{
		h: h, total: total, startIndex: startIndex, bp: bp, b: append((*bp)[:0], header...),
		room: len(header), budget: h.opts.MaxResponseBytes - len("]}"),
	}
}

// add appends the resource name id that encode writes, and reports whether
// it fitted; once one has not, the page is full and add appends nothing.
func (pb *pageBudget) add(name, id string, encode func([]byte) []byte) (bool, error) {
	if pb.full {
		return false, nil
	}
	mark := len(pb.b)
	if pb.n > 0 {
		pb.b = append(pb.b, ',')
	}
	pb.b = encode(pb.b)
	if len(pb.b) > pb.budget {
		size := len(pb.b) - mark
		pb.b, pb.full = pb.b[:mark], true
		if pb.n == 0 {
			return false, pb.h.errTooLarge(name, id, size)
		}
		return false, nil
	}
	pb.n++
	return true, nil
}

// write answers 200 with the ListResponse and frees the buffer.
func (pb *pageBudget) write(w http.ResponseWriter) {
	// The header with n items is no longer than the one with max: it
	// ends where the room does.
	var hb [256]byte
	header := appendListHeader(hb[:0], pb.total, pb.startIndex, pb.n)
	start := pb.room - len(header)
	copy(pb.b[start:], header)
	pb.b = append(pb.b, "]}"...)
	body := pb.b[start:]
	// A Content-Length value depends on the length alone: the one-user
	// page of a cached user and the empty page (Test connection) have
	// theirs made already.
	length := ""
	if e := pb.one; e != nil && e.pageLen == len(body) {
		length = e.pageLength
	} else if len(body) == len(emptyPage) {
		length = emptyPageLength
	}
	if length != "" {
		hd := w.Header()
		hd["Content-Type"] = contentTypeHeader
		hd["Content-Length"] = []string{length}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	} else {
		writeBody(w, http.StatusOK, body)
	}
	pb.free()
}

// emptyPage is the ListResponse of no resources from startIndex 1.
var (
	emptyPage       = append(appendListHeader(nil, 0, 1, 0), "]}"...)
	emptyPageLength = strconv.Itoa(len(emptyPage))
)

func (pb *pageBudget) free() { putBuffer(pb.bp, pb.b) }

// appendList appends a ListResponse of items, each written by appendItem.
func appendList[T any](b []byte, total, startIndex int, items []T, appendItem func([]byte, T) []byte) []byte {
	b = appendListHeader(b, total, startIndex, len(items))
	for i, v := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, v)
	}
	return append(b, "]}"...)
}

// appendListHeader starts a ListResponse (RFC 7644 §3.4.2); the caller
// appends the resources and "]}". Resources is always an array, never null.
func appendListHeader(b []byte, total, startIndex, items int) []byte {
	b = append(b, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendInt(b, int64(startIndex), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(items), 10)
	return append(b, `,"Resources":[`...)
}

// listParams are a list request's parameters, from a query string or a
// SearchRequest body (RFC 7644 §3.4.3).
type listParams struct {
	filter, sortBy, sortOrder string
	startIndex, count         string
	attributes, excluded      []string
	// cursor is RFC 9865's cursor, "" for the first page; hasCursor says
	// the request has one, which asks for cursor pagination.
	cursor    string
	hasCursor bool
}

func queryParams(v url.Values) listParams {
	return listParams{
		cursor:     v.Get("cursor"),
		hasCursor:  v.Has("cursor"),
		filter:     v.Get("filter"),
		sortBy:     v.Get("sortBy"),
		sortOrder:  v.Get("sortOrder"),
		startIndex: v.Get("startIndex"),
		count:      v.Get("count"),
		attributes: splitList(v["attributes"]),
		excluded:   splitList(v["excludedAttributes"]),
	}
}

// splitList splits comma-separated attribute lists; a parameter may also
// be repeated.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// searchRequest is the body of POST .search (RFC 7644 §3.4.3). Numbers are
// json.Number so that a non-integer is reported, not truncated.
type searchRequest struct {
	Attributes         []string    `json:"attributes"`
	ExcludedAttributes []string    `json:"excludedAttributes"`
	Filter             string      `json:"filter"`
	SortBy             string      `json:"sortBy"`
	SortOrder          string      `json:"sortOrder"`
	StartIndex         json.Number `json:"startIndex"`
	Count              json.Number `json:"count"`
	Cursor             *string     `json:"cursor"`
}

func (h *Handler) searchParams(w http.ResponseWriter, r *http.Request) (listParams, error) {
	body, err := h.readBody(w, r)
	if err != nil {
		return listParams{}, err
	}
	var sr searchRequest
	if err := json.Unmarshal(body, &sr); err != nil {
		return listParams{}, &Error{Status: http.StatusBadRequest, Type: InvalidSyntax, Detail: "the body is not a valid SearchRequest: " + jsonErrorDetail(err), Err: err}
	}
	p := listParams{
		filter: sr.Filter, sortBy: sr.SortBy, sortOrder: sr.SortOrder,
		startIndex: sr.StartIndex.String(), count: sr.Count.String(),
		attributes: sr.Attributes, excluded: sr.ExcludedAttributes,
	}
	if sr.Cursor != nil {
		p.cursor, p.hasCursor = *sr.Cursor, true
	}
	return p, nil
}

// jsonErrorDetail describes a encoding/json error without echoing Go type
// names at the client.
func jsonErrorDetail(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("attribute %q has the wrong type (%s)", te.Field, te.Value)
		}
		return fmt.Sprintf("a value has the wrong type (%s)", te.Value)
	}
	return "malformed JSON"
}

// listQuery validates list parameters into a Query for resource (User or
// Group), applying RFC 7644 §3.4.2.4's rules: startIndex below 1 is 1, a
// negative count is 0, and count is capped at MaxResults.
func (h *Handler) listQuery(p listParams, resource string) (Query, error) {
	q := Query{StartIndex: 1, Count: h.opts.MaxResults}
	if p.filter != "" {
		f, err := parseFilter(p.filter, h.limits)
		if err != nil {
			return q, err
		}
		if resource != "" {
			if err := validateFilter(f, resource); err != nil {
				return q, err
			}
			if err := h.ext.validateFilter(f, resource); err != nil {
				return q, err
			}
			f = h.ext.typeFilter(f, resource)
		}
		if err := checkFilterCost(f, h.opts.MaxFilterCost); err != nil {
			return q, err
		}
		q.Filter = f
	}
	if p.startIndex != "" {
		n, err := strconv.Atoi(p.startIndex)
		if err != nil {
			return q, errorf(http.StatusBadRequest, InvalidValue, fmt.Sprintf("startIndex %q is not an integer", p.startIndex))
		}
		q.StartIndex = max(n, 1)
	}
	if p.count != "" {
		n, err := strconv.Atoi(p.count)
		if err != nil {
			typ := InvalidValue
			if p.hasCursor {
				typ = InvalidCount // RFC 9865 §2.1
			}
			return q, errorf(http.StatusBadRequest, typ, fmt.Sprintf("count %q is not an integer", p.count))
		}
		q.Count = min(max(n, 0), h.opts.MaxResults)
	}
	if p.sortBy != "" {
		by, err := ParseAttrPath(p.sortBy)
		if err != nil {
			return q, err
		}
		if resource != "" {
			if err := validateSort(by, resource); err != nil {
				return q, err
			}
			if by, err = h.ext.sortPath(by, resource); err != nil {
				return q, err
			}
		}
		q.SortBy = by
	}
	if p.hasCursor && p.startIndex != "" {
		// RFC 9865: startIndex belongs to index paging.
		return q, errorf(http.StatusBadRequest, InvalidValue, "startIndex and cursor cannot be combined: use one paging method")
	}
	switch strings.ToLower(p.sortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return q, errorf(http.StatusBadRequest, InvalidValue, fmt.Sprintf("sortOrder %q is neither ascending nor descending", p.sortOrder))
	}
	var err error
	q.Want, err = projectionOf(p.attributes, p.excluded, h.opts.Strict)
	return q, err
}

// parseProjection reads attributes and excludedAttributes from a query
// string; most reads have none, and then nothing is parsed.
func parseProjection(rawQuery string, strict bool) (Projection, error) {
	if rawQuery == "" {
		return Projection{}, nil
	}
	p := listQueryParams(rawQuery)
	return projectionOf(p.attributes, p.excluded, strict)
}

// projectionOf parses attributes and excludedAttributes. Unless strict, an
// attribute with a value filter (`emails[type eq "work"]`) stands for the
// attribute (rule attributes-value-filter): every value is returned, as
// RFC 7644 §3.4.2.5 defines no filtering of values in attributes.
func projectionOf(attrs, excluded []string, strict bool) (Projection, error) {
	var p Projection
	parse := func(param, s string) (AttrPath, error) {
		a, err := ParseAttrPath(s)
		if err == nil {
			return a, nil
		}
		if !strict && strings.Contains(s, "[") {
			if vp, perr := parsePath(s, false); perr == nil && vp.Filter != nil {
				vp.Attr.Sub = vp.SubAttr
				return vp.Attr, nil
			}
		}
		detail := fmt.Sprintf("%s: %q is not an attribute path", param, s)
		if strict && strings.Contains(s, "[") {
			detail += " (strict mode does not read a value filter there, compatibility rule " + ruleAttributesFilter + ")"
		}
		return AttrPath{}, errorf(http.StatusBadRequest, InvalidValue, detail)
	}
	for _, s := range attrs {
		a, err := parse("attributes", s)
		if err != nil {
			return p, err
		}
		p.Attributes = append(p.Attributes, a)
	}
	for _, s := range excluded {
		a, err := parse("excludedAttributes", s)
		if err != nil {
			return p, err
		}
		p.Excluded = append(p.Excluded, a)
	}
	return p, nil
}

// entityTag returns the weak ETag for a version, "" for none.
func entityTag(version string) string {
	if version == "" {
		return ""
	}
	return `W/"` + version + `"`
}

// etagMatches reports whether an If-Match or If-None-Match header value
// names version, comparing weakly (RFC 9110 §8.8.3.2): W/ prefixes are
// ignored, and "*" matches any existing version.
func etagMatches(header, version string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		tag = strings.TrimPrefix(tag, "W/")
		if len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' {
			tag = tag[1 : len(tag)-1]
		}
		if version != "" && tag == version {
			return true
		}
	}
	return false
}
