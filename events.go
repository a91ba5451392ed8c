package scim

import (
	"context"
	"net/http"
	"slices"
)

// EventKind says what a successful write changed.
type EventKind string

// The kinds of [Event]. A user update is exactly one of UserUpdated,
// UserDeactivated and UserReactivated; a group update produces one event
// for each of GroupRenamed, MembersAdded, MembersRemoved and GroupUpdated
// (other attributes) that applies.
const (
	UserCreated     EventKind = "user.created"
	UserUpdated     EventKind = "user.updated"
	UserDeactivated EventKind = "user.deactivated" // active went from true to false
	UserReactivated EventKind = "user.reactivated" // active went from false to true
	UserDeleted     EventKind = "user.deleted"
	GroupCreated    EventKind = "group.created"
	GroupRenamed    EventKind = "group.renamed"
	GroupUpdated    EventKind = "group.updated" // attributes other than displayName and members
	GroupDeleted    EventKind = "group.deleted"
	MembersAdded    EventKind = "group.members_added"
	MembersRemoved  EventKind = "group.members_removed"
)

// Event tells Options.OnChange about a successful write: what happened, to
// which resource, for which tenant. A host revokes the sessions of a
// deactivated user on UserDeactivated, and keeps an audit log like Entra's
// provisioning log from the whole stream.
type Event struct {
	Kind EventKind
	// Tenant is the ID of the tenant BearerAuth put in the context; "" when
	// there is none.
	Tenant string
	// ResourceType is "User" or "Group"; ID is the resource's id.
	ResourceType string
	ID           string
	// Changed names the top-level attributes a user or group update changed
	// (for instance "active", "emails", "displayName"); nil for creates and
	// deletes. meta is never listed.
	Changed []string
	// Members holds the member ids a MembersAdded or MembersRemoved event is
	// about; nil for other kinds.
	Members []string
	// User is the user after the write (before it, for UserDeleted when the
	// handler had read it; else nil); nil for group events.
	User *User
	// Group is the group after the write, nil for user events and for
	// GroupDeleted. Its Members may be nil when the handler changed
	// membership without loading the group's members.
	Group *Group
}

// emit calls Options.OnChange with each event describe returns, and notes
// their kinds for the provisioning log in w. describe runs only when
// OnChange or Options.Log is set: telling what an update changed compares
// the two states attribute by attribute, work a request need not do when
// nobody listens. kinds, when
// not nil, names the same kinds without that work; it is used when only the
// log listens.
func (h *Handler) emit(ctx context.Context, w http.ResponseWriter, describe func() []Event, kinds func() []EventKind) {
	if h.opts.OnChange == nil && h.opts.Log == nil {
		return
	}
	sw, _ := w.(*statusWriter)
	if h.opts.OnChange == nil && kinds != nil {
		if sw != nil {
			sw.events = kinds()
		}
		return
	}
	tenant, _ := TenantFrom(ctx)
	evs := describe()
	if sw != nil && h.opts.Log != nil && len(evs) > 0 {
		ks := make([]EventKind, len(evs))
		for i := range evs {
			ks[i] = evs[i].Kind
		}
		sw.events = ks
	}
	if h.opts.OnChange == nil {
		return
	}
	for _, e := range evs {
		e.Tenant = tenant.ID
		h.opts.OnChange(ctx, e)
	}
}

// patchedUserKinds names the event of a user PATCH that changed something,
// as userEvents would, without comparing the attributes.
func patchedUserKinds(old, u *User) []EventKind {
	switch {
	case old.Active && !u.Active:
		return []EventKind{UserDeactivated}
	case !old.Active && u.Active:
		return []EventKind{UserReactivated}
	}
	return []EventKind{UserUpdated}
}

// userEvents describes a user create (old nil) or update.
func userEvents(id string, old, u *User) []Event {
	if old == nil {
		return []Event{{Kind: UserCreated, ResourceType: "User", ID: id, User: u}}
	}
	var changed []string
	diffUsers(old, u, &changed)
	slices.Sort(changed)
	if old.Password != u.Password && u.Password != "" {
		changed = append(changed, "password")
	}
	if len(changed) == 0 {
		return nil
	}
	kind := UserUpdated
	switch {
	case old.Active && !u.Active:
		kind = UserDeactivated
	case !old.Active && u.Active:
		kind = UserReactivated
	}
	return []Event{{Kind: kind, ResourceType: "User", ID: id, Changed: changed, User: u}}
}

// groupEvents describes a group create (old nil) or update; both carry
// their members.
func groupEvents(id string, old, g *Group) []Event {
	if old == nil {
		evs := []Event{{Kind: GroupCreated, ResourceType: "Group", ID: id, Group: g}}
		if ids := memberIDs(g.Members); len(ids) > 0 {
			evs = append(evs, Event{Kind: MembersAdded, ResourceType: "Group", ID: id, Members: ids, Group: g})
		}
		return evs
	}
	var changed []string
	diffGroups(old, g, &changed)
	added, removed := memberDiff(old.Members, g.Members)
	var evs []Event
	var other []string
	for _, a := range changed {
		switch a {
		case "displayName":
			evs = append(evs, Event{Kind: GroupRenamed, ResourceType: "Group", ID: id, Changed: []string{a}, Group: g})
		case "members":
		default:
			other = append(other, a)
		}
	}
	if len(other) > 0 {
		evs = append(evs, Event{Kind: GroupUpdated, ResourceType: "Group", ID: id, Changed: other, Group: g})
	}
	return append(evs, memberEvents(id, g, added, removed)...)
}

// memberEvents describes a membership change.
func memberEvents(id string, g *Group, added, removed []string) []Event {
	var evs []Event
	if len(added) > 0 {
		evs = append(evs, Event{Kind: MembersAdded, ResourceType: "Group", ID: id, Changed: []string{"members"}, Members: added, Group: g})
	}
	if len(removed) > 0 {
		evs = append(evs, Event{Kind: MembersRemoved, ResourceType: "Group", ID: id, Changed: []string{"members"}, Members: removed, Group: g})
	}
	return evs
}

func memberIDs(ms []Member) []string {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.Value
	}
	return ids
}

// memberDiff returns the member ids in after but not before, and in before
// but not after, each in list order.
func memberDiff(before, after []Member) (added, removed []string) {
	in := func(ms []Member) map[string]bool {
		s := make(map[string]bool, len(ms))
		for _, m := range ms {
			s[m.Value] = true
		}
		return s
	}
	was, is := in(before), in(after)
	for _, m := range after {
		if !was[m.Value] {
			added = append(added, m.Value)
			was[m.Value] = true
		}
	}
	for _, m := range before {
		if !is[m.Value] {
			removed = append(removed, m.Value)
			is[m.Value] = true
		}
	}
	return added, removed
}
