package sqlstore

import (
	"context"

	"github.com/scimhost/scim"
)

var (
	_ scim.SharedUserReader   = (*Store)(nil)
	_ scim.UserEncodingCacher = (*Store)(nil)
	_ scim.CachedUserReader   = (*Store)(nil)
)

// GetUserShared is GetUser returning a user the caller must not modify
// (see [scim.SharedUserReader]): with a user cache (WithUserCache) and the
// groups wanted, the user the cache decoded the last time it read the
// same row, or the copy it kept of the user an update of this process
// wrote there, instead of a new decoding. It is one statement, as GetUser:
// the row is read every time, and a row another process changed, or whose
// groups changed, is decoded anew.
func (s *Store) GetUserShared(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	return s.getUserSharing(ctx, id, want, true)
}

// ListUsersShared is ListUsers returning users the caller must not modify,
// as GetUserShared does, when the page is read with its groups in one
// statement; otherwise it is ListUsers.
func (s *Store) ListUsersShared(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	return s.listUsersSharing(ctx, q, true)
}

// UserEncodingCache returns the cache of u's encoding when u is the user
// GetUserShared or ListUsersShared last handed out for its row, and no
// group write of this process has run in the tenant since that read
// began (see [scim.UserEncodingCacher]); otherwise nil, and always nil
// without a user cache. PatchMembers is the exception: it drops the users
// whose memberships it changed instead, and a read that ran beside it may
// have kept such a user as it was before. What another process wrote, and
// such a race, is seen by the next read, not here: the handler asks about
// the user it has just read.
func (s *Store) UserEncodingCache(ctx context.Context, u *scim.User) *scim.EncodingCache {
	tenant, err := s.tenantOf(ctx)
	if err != nil {
		return nil
	}
	return s.db.users.encodingCache(tenant, u)
}

// CachedUserReader returns s (see [scim.CachedUserReader]).
func (s *Store) CachedUserReader() scim.CachedUserReader { return s }

// GetUserCached is GetUserShared for the default projection, with
// UserEncodingCache's answer for the user.
func (s *Store) GetUserCached(ctx context.Context, id string) (scim.Cached[*scim.User], error) {
	u, err := s.GetUserShared(ctx, id, scim.Projection{})
	if err != nil {
		return scim.Cached[*scim.User]{}, err
	}
	return scim.Cached[*scim.User]{Value: u, Cache: s.UserEncodingCache(ctx, u)}, nil
}

// ListUsersCached is ListUsersShared, with UserEncodingCache's answer for
// each user of the page.
func (s *Store) ListUsersCached(ctx context.Context, q scim.Query) (scim.Page[scim.Cached[*scim.User]], error) {
	page, err := s.ListUsersShared(ctx, q)
	if err != nil {
		return scim.Page[scim.Cached[*scim.User]]{}, err
	}
	out := scim.Page[scim.Cached[*scim.User]]{TotalResults: page.TotalResults, Resources: make([]scim.Cached[*scim.User], len(page.Resources))}
	for i, u := range page.Resources {
		out.Resources[i] = scim.Cached[*scim.User]{Value: u, Cache: s.UserEncodingCache(ctx, u)}
	}
	return out, nil
}
