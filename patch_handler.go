package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// This file serves PATCH /Users/{id} and /Groups/{id} (RFC 7644 §3.5.2):
// it parses the body once (patch.go), then either hands a membership-only
// PATCH of a group to the store's MemberPatcher, or applies the operations
// inside one read-modify-write: the store's atomic update itself when the
// PATCH is cheap and nothing of the host's must run outside its lock
// (updateInStore), else the handler's read followed by the store's write
// (resourceType.update).
//
// The response (RFC 7644 §3.5.2 lets the server choose between 200 with the
// resource and 204):
//
//   - a user: 200 with the user, projected by "attributes" and
//     "excludedAttributes" when the client sends them;
//   - a group: 204 No Content, as Entra ID recommends ("Returning a body
//     with a list of all the members isn't advisable", docs/clients.md#groups), so
//     that a membership change never loads the group's members; but 200
//     with the group when the request has "attributes" or
//     "excludedAttributes", as RFC 7644 §3.5.2 requires for "attributes".
//
// Both carry the resource's new version as the ETag. A PATCH that changes
// nothing (a replayed add, a remove of what is not there) succeeds without
// writing, so the version and lastModified stay, and raises no event.

// errPatchNoChange ends update's read-modify-write when the operations
// changed nothing: there is nothing to store.
var errPatchNoChange = errors.New("scim: the PATCH changes nothing")

// patchOptions are the handler's options for parsing and applying PATCH.
func (h *Handler) patchOptions() patchOptions {
	return patchOptions{decode: h.decode, maxOps: h.opts.MaxPatchOperations}
}

// servePatch serves PATCH on one resource: parse, then the membership fast
// path or the read-modify-write, then events and the answer described at
// the top of this file.
func (rt *resourceType[T]) servePatch(w http.ResponseWriter, r *http.Request) {
	rt.servePatchID(w, r, r.PathValue("id"))
}

func (rt *resourceType[T]) servePatchID(w http.ResponseWriter, r *http.Request, id string) {
	h, ctx := rt.h, requestContext(w, r)
	body, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	opt := h.patchOptions()
	ops, err := parsePatch(body, opt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	want, err := parseProjection(r.URL.RawQuery, h.opts.Strict)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	withBody := rt.name == "User" || hasProjection(r.URL.RawQuery)
	ifMatch := r.Header.Get("If-Match")

	if rt.name == "Group" && h.members != nil {
		mp, fast, err := memberPatchOf(ops, opt)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if version, ok := ifMatchVersion(ifMatch); fast && ok {
			mp.Version = version
			rt.patchMembers(w, r, id, ifMatch != "", mp, withBody, want)
			return
		}
	}

	var unchanged, attempted T
	// change applies the operations to cur, a copy of old the handler may
	// modify, and compares the result with old attribute by attribute
	// (diffUsers) to tell a PATCH that changes nothing.
	change := func(old, cur T) error {
		if err := checkPatchCost(cur, ops, h.opts.MaxPatchCost); err != nil {
			return err
		}
		if err := applyPatchTo(cur, ops, opt); err != nil {
			return err
		}
		if unchangedBy(old, cur) {
			unchanged = cur
			return errPatchNoChange
		}
		attempted = cur
		return nil
	}
	var old, updated T
	err = errPatchOutsideStore
	if rt.patchesInStore() {
		old, updated, err = rt.updateInStore(ctx, id, ifMatch, func(old, cur T) error {
			if cost, _ := patchCost(cur, ops); cost > maxPatchCostInStore {
				return errPatchOutsideStore
			}
			if err := change(old, cur); err != nil {
				return err
			}
			if rt.asksOutsideStore(old, cur) {
				return errPatchOutsideStore
			}
			return nil
		})
	}
	if errors.Is(err, errPatchOutsideStore) {
		old, updated, err = rt.update(ctx, id, ifMatch, change)
	}
	switch {
	case errors.Is(err, errPatchNoChange):
		rt.writePatched(w, r, unchanged, withBody, want, nil)
		return
	case err != nil:
		h.fail(w, r, rt.storeError(err, id, attempted))
		return
	}
	var kinds func() []EventKind
	if u, ok := any(updated).(*User); ok {
		kinds = func() []EventKind { return patchedUserKinds(any(old).(*User), u) }
	}
	h.emit(ctx, w, func() []Event { return rt.events(id, old, updated) }, kinds)
	// The answer is the user's new state in the default projection, what
	// the next GET or match of it sends: encoded into the store's cache
	// for it (when the store keeps one for what its update returned), the
	// read that follows a PATCH copies bytes instead of encoding again.
	rt.writePatched(w, r, updated, withBody, want, rt.cache(ctx, updated, want))
}

// maxPatchCostInStore is the costliest PATCH (in Options.MaxPatchCost's
// units) applied inside the store's atomic update: tens of microseconds of
// work, past the tens that Entra ID's PATCHes cost. A costlier one is
// computed outside the store's lock, so that it holds the lock for a
// sliver of its time (a SQLite write transaction locks the database).
const maxPatchCostInStore = 1000

// errPatchOutsideStore ends updateInStore's atomic update without a write
// when the PATCH is too costly to apply inside it.
var errPatchOutsideStore = errors.New("scim: the PATCH is applied outside the store's atomic update")

// patchesInStore reports whether a PATCH may run inside the store's atomic
// update (UserUpdater, GroupUpdater) instead of after a read of its own:
// when the store has one and the host has no callback that runs on every
// result (UserPolicies for users, GroupPolicies for groups), which may call
// the store and so run outside its lock (update runs them inside only as
// its last resort, on a ReentrantReader). AllowDomain runs only on a
// result that introduces an address (see asksOutsideStore), so a host with
// it still patches in the store what introduces none, as Entra ID's
// PATCHes of title or active do.
func (rt *resourceType[T]) patchesInStore() bool {
	if rt.atomic == nil {
		return false
	}
	if rt.name == "User" {
		return len(rt.h.opts.UserPolicies) == 0
	}
	return len(rt.h.opts.GroupPolicies) == 0
}

// asksOutsideStore reports whether a PATCH that ran inside the store's
// atomic update must be done again outside it, because its result
// introduces an email address whose domain AllowDomain must be asked about:
// the hook may query a database, which it does outside the store's lock
// but in update's last resort (see ReentrantReader).
func (rt *resourceType[T]) asksOutsideStore(old, cur T) bool {
	if rt.h.opts.AllowDomain == nil {
		return false
	}
	u, ok := any(cur).(*User)
	return ok && introducesAddress(any(old).(*User), u)
}

// updateInStore is update for patchesInStore: the store's atomic update
// reads the resource once, and change runs on it there, after the If-Match
// check; the handler's checks of the result (extension values) follow. No
// other writer can come in between, so there is nothing to retry. Only a
// PATCH of cost maxPatchCostInStore or less runs there, so the store's lock
// is held for microseconds. With a SharedUserUpdater the stored value is
// old itself and the handler's copy of it, changed, is what the store
// keeps: one copy where UpdateUser makes three.
func (rt *resourceType[T]) updateInStore(ctx context.Context, id, ifMatch string, change func(old, cur T) error) (old, updated T, err error) {
	mu := rt.h.updateLock(ctx, rt.name, id)
	mu.Lock()
	defer mu.Unlock()
	if rt.swap != nil {
		updated, err = rt.swap(ctx, id, func(stored T) (T, error) {
			old = stored
			cur := rt.clone(stored)
			return cur, rt.changeChecked(ctx, id, ifMatch, change, old, cur)
		})
		return old, updated, err
	}
	updated, err = rt.atomic(ctx, id, func(cur T) error {
		old = rt.clone(cur)
		return rt.changeChecked(ctx, id, ifMatch, change, old, cur)
	})
	return old, updated, err
}

// changeChecked is what an update does inside the store's atomic step
// (updateInStore, updateLocked): it checks ifMatch against old, the state
// read there, lets change make cur of it, and runs the handler's checks of
// the result.
func (rt *resourceType[T]) changeChecked(ctx context.Context, id, ifMatch string, change func(old, cur T) error, old, cur T) error {
	if ifMatch != "" && !etagMatches(ifMatch, rt.meta(old).Version) {
		return errPreconditionFailed(rt.name, id)
	}
	if err := change(old, cur); err != nil {
		return err
	}
	rt.setID(cur, id)
	return rt.check(ctx, old, cur)
}

// applyPatchTo applies ops to a user or a group that is the handler's own
// copy, discarded when the PATCH fails (see patchUserCopy).
func applyPatchTo[T interface{ *User | *Group }](v T, ops []patchOp, opt patchOptions) error {
	switch x := any(v).(type) {
	case *User:
		return patchUserCopy(x, ops, opt)
	case *Group:
		return patchGroupCopy(x, ops, opt)
	}
	return nil
}

// writePatched answers a successful PATCH: the ETag, and 200 with v
// projected by want, or 204. With c, the cache of v's encoding, the
// answer is copied into c and written from what c keeps, its header
// values included.
func (rt *resourceType[T]) writePatched(w http.ResponseWriter, r *http.Request, v T, withBody bool, want Projection, c *EncodingCache) {
	version := rt.meta(v).Version
	if !withBody {
		if etag := entityTag(version); etag != "" {
			w.Header().Set("ETag", etag)
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	base := rt.h.baseURL(r)
	bp := bufPool.Get().(*[]byte)
	b := rt.encode((*bp)[:0], v, want, base)
	if c != nil {
		if e := c.fill(rt.h, base, version, b); e != nil {
			putBuffer(bp, b)
			writeCached(w, http.StatusOK, e)
			return
		}
	}
	if etag := entityTag(version); etag != "" {
		w.Header().Set("ETag", etag)
	}
	writeBuffer(w, http.StatusOK, bp, b)
}

// memberPatchOf reports whether every operation only adds members (path
// "members", a list of values) or removes members by id
// (`members[value eq "<id>"]`, or by rule remove-members-by-value path
// "members" with a list of values), the membership changes Entra ID, Okta
// and JumpCloud send; and if so returns them as one MemberPatch. Operations
// apply in order, so for each id the last operation that names it decides
// whether it ends up a member; an id removed and then added again is left
// to the slow path. A value that does not decode is the error the slow
// path would report.
func memberPatchOf(ops []patchOp, opt patchOptions) (MemberPatch, bool, error) {
	type change struct {
		add bool
		m   Member
	}
	var (
		order []string
		last  = make(map[string]change, len(ops))
	)
	readded := false
	set := func(add bool, m Member) {
		k := foldString(m.Value)
		prev, seen := last[k]
		if !seen {
			order = append(order, k)
		}
		// A member removed and added again by one PATCH is a new member,
		// whose display or type may differ: PatchMembers, which keeps a
		// member it has, cannot say that.
		readded = readded || (add && seen && !prev.add)
		last[k] = change{add: add, m: m}
	}
	for i := range ops {
		o := &ops[i]
		p := o.path
		if !o.hasPath || groupAttrOf([]byte(pathKey(p.Attr))) != gaMembers || p.Attr.Sub != "" || p.SubAttr != "" {
			return MemberPatch{}, false, nil
		}
		switch {
		case o.kind == patchAdd && p.Filter == nil:
			// Decoded as the read-modify-write decodes it, so that an
			// empty value that is not a list ("" or {}) is the same 400
			// on both paths.
			ms, err := membersAttr.decodeList(o.value, opt)
			if err != nil {
				return MemberPatch{}, false, o.wrap(err)
			}
			for _, m := range ms {
				set(true, m)
			}
		case o.kind == patchRemove && p.Filter == nil:
			// Without a value this removes every member, and in strict
			// mode a value is refused: both are the slow path's.
			if !hasValue(o.value) || opt.strict() {
				return MemberPatch{}, false, nil
			}
			ms, err := membersAttr.decodeList(o.value, opt)
			if err != nil {
				return MemberPatch{}, false, o.wrap(err)
			}
			for _, m := range ms {
				set(false, Member{Value: m.Value})
			}
		case o.kind == patchRemove:
			v, ok := memberValueFilter(p.Filter)
			if !ok || (hasValue(o.value) && opt.strict()) {
				return MemberPatch{}, false, nil
			}
			set(false, Member{Value: v})
		default:
			return MemberPatch{}, false, nil
		}
	}
	if readded {
		return MemberPatch{}, false, nil
	}
	var mp MemberPatch
	for _, k := range order {
		if c := last[k]; c.add {
			mp.Add = append(mp.Add, c.m)
		} else {
			mp.Remove = append(mp.Remove, c.m.Value)
		}
	}
	return mp, true, nil
}

// memberValueFilter returns x when f is `value eq "x"`.
func memberValueFilter(f Filter) (string, bool) {
	e, ok := f.(*AttrExpr)
	if !ok || e == nil || e.Op != OpEq || e.Path.URN != "" || e.Path.Sub != "" || !equalFoldASCII(e.Path.Name, "value") {
		return "", false
	}
	if e.Value.Kind != KindString && e.Value.Kind != KindNumber {
		return "", false
	}
	return e.Value.Text, e.Value.Text != ""
}

// ifMatchVersion returns the version an If-Match header requires, "" for
// none (no header, or "*": the group must exist, which PatchMembers checks
// anyway). ok is false for a list of tags, which only the slow path's
// etagMatches understands.
func ifMatchVersion(h string) (version string, ok bool) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return "", true
	}
	if strings.Contains(h, ",") {
		return "", false
	}
	h = strings.TrimPrefix(h, "W/")
	if len(h) >= 2 && h[0] == '"' && h[len(h)-1] == '"' {
		h = h[1 : len(h)-1]
	}
	return h, h != ""
}

// patchMembers applies a membership-only PATCH through the store's
// MemberPatcher, without loading the group's members: the cost is that of
// the members changed, whatever the size of the group. The host's group
// policies see a group holding only the members being added (see
// GroupPolicy), and old holding only the group's id.
func (rt *resourceType[T]) patchMembers(w http.ResponseWriter, r *http.Request, id string, ifMatch bool, mp MemberPatch, withBody bool, want Projection) {
	h, ctx := rt.h, requestContext(w, r)
	if len(h.opts.GroupPolicies) > 0 {
		if err := h.checkGroup(ctx, &Group{ID: id}, &Group{ID: id, Members: mp.Add}); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	res, err := h.members.PatchMembers(ctx, id, mp)
	if err != nil {
		if ifMatch && errors.Is(err, ErrVersionMismatch) {
			err = errPreconditionFailed(rt.name, id)
		}
		h.fail(w, r, rt.storeError(err, id, nil))
		return
	}
	h.emit(ctx, w, func() []Event { return memberEvents(id, res.Group, res.Added, res.Removed) }, nil)
	if withBody {
		// The client asked to see the group (RFC 7644 §3.5.2): read it,
		// members only if it wants them.
		v, err := rt.get(ctx, id, want)
		if err != nil {
			h.fail(w, r, rt.storeError(err, id, nil))
			return
		}
		rt.writePatched(w, r, v, true, want, nil)
		return
	}
	if res.Group != nil {
		if etag := entityTag(res.Group.Meta.Version); etag != "" {
			w.Header().Set("ETag", etag)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
