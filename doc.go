// Package scim lets a Go service accept SCIM 2.0 provisioning (RFC 7643,
// RFC 7644) from Microsoft Entra ID, Okta, OneLogin, Google Workspace,
// JumpCloud and Ping.
//
// # Mounting
//
// A host implements [Store] over its own database, builds a [Handler] and
// mounts it under the path it gives admins as the "SCIM Base URL":
//
//	h, err := scim.NewHandler(store, scim.Options{
//		BaseURL:     "https://app.example.com/scim/v2",
//		Prefix:      "/scim/v2",
//		AllowDomain: domains.Verified,
//	})
//	if err != nil { ... }
//	mux.Handle("/scim/v2/", scim.BearerAuth(tokens.Lookup)(h))
//	srv := &http.Server{
//		Handler:           scim.CleanPaths("/scim/v2", mux),
//		ReadHeaderTimeout: 10 * time.Second,
//		ReadTimeout:       30 * time.Second,
//		WriteTimeout:      60 * time.Second,
//		IdleTimeout:       30 * time.Second,
//		MaxHeaderBytes:    64 << 10,
//	}
//
// The Handler looks past Options.Prefix itself and routes the paths
// below it ("/Users/42"): /Users, /Groups, /ServiceProviderConfig, /Schemas,
// /ResourceTypes and POST /.search; without a Prefix it expects them as
// http.StripPrefix leaves them, at the cost of a copy of every request.
// BearerAuth hands the tenant to the Handler without another copy. Unknown paths and methods get SCIM
// errors (404, 405 with Allow), not net/http's plain text. Options' zero
// value works; NewHandler validates it.
//
// [CleanPaths] lets "POST /scim/v2//Users", which a Tenant URL pasted with
// a trailing slash produces, reach the Handler: http.ServeMux would answer
// it with a redirect that clients do not follow. The server's timeouts are
// chosen for SCIM: Entra ID and Okta wait about 60 s for an answer, so
// nothing is served longer than that, and a connection that sends nothing,
// dribbles its body or stays idle is closed instead of held (the demo
// server, examples/server, uses these values and tests them).
//
// # Tenants and tokens
//
// One endpoint serves every workspace: [BearerAuth] resolves the bearer
// token to a [Tenant] through a [TokenLookup] ([Tokens] is an in-memory one
// that keeps only SHA-256 hashes) and puts it in the request context, where a
// Store finds it with [TenantFrom] and scopes every call to it (memstore
// does so by default). A tenant whose
// sync is switched off ([Tenant.Disabled]) gets 403 with a detail that says so,
// which is what an admin reads after Entra's Test connection. Entra App
// Gallery apps authenticate with OAuth 2.0 instead of a static token: the
// module github.com/scimhost/scim/oauth serves the token endpoint and
// provides a TokenLookup for its access tokens that falls back to the static
// ones; [Tenant.Client] then names the OAuth client and [Options.OAuth]
// makes /ServiceProviderConfig say so.
//
// # The Store contract
//
// [Store] is small, typed and context-first; see store.go. A store owns IDs
// and [Meta] (created, lastModified, version), keeps userName unique
// case-insensitively, and answers with the sentinels [ErrNotFound],
// [ErrConflict], [ErrVersionMismatch] and [ErrUnsupported]. Groups are
// optional ([GroupStore]): a users-only store still passes Entra's Test
// connection, which probes /Groups. Optional capabilities, found by type
// assertion, make writes cheaper and atomic: [UserUpdater], [GroupUpdater] and
// [MemberPatcher], whose membership changes cost O(changed members) rather
// than O(group size). Because a method with a wrong signature silently
// fails the assertion, assert each interface at compile time
// (var _ scim.GroupStore = (*myStore)(nil)); NewHandler logs what it found,
// warns about an interface implemented in part, and with
// Options.RequireGroups refuses a store without groups. [UserKeysetLister]
// and [GroupKeysetLister] make cursor walks exact. [SharedUserReader]
// makes reads cheaper: a store whose stored users never change once handed
// out returns them without the copy the contract otherwise asks for, and the handler, which only encodes what it reads and
// copies before it changes anything, never modifies them; such a store's
// [SharedUserUpdater] makes writes cheaper the same way, keeping the
// handler's changed copy instead of copying a user in and out, and its
// [UserEncodingCacher] keeps the handler's encoding of each user beside it,
// so that reading an unchanged user copies bytes ([CachedUserReader] finds
// the user and its encoding in one call). List methods
// receive the parsed [Filter] AST, paging, sort and a [Projection], so
// `excludedAttributes=members` never loads a large group's members. A store
// that cannot evaluate a filter exactly returns
// ErrUnsupported, which the client reads as 400 invalidFilter; it must never
// return more than the filter matches. [FoldCase] is the key to index
// case-insensitive attributes by, so that a store agrees with the evaluator;
// [NewID] makes the GUID-shaped ids clients expect. [MarshalUserDocument]
// and [MarshalGroupDocument] encode a resource for a document column, in a
// versioned format later versions go on reading ([DocumentFormat]), so
// that a store over an existing schema keeps what it has no column for. Concurrent writes lose
// nothing: the handler writes through the store's atomic capability when it
// has one, and otherwise with the version it read, retrying on
// ErrVersionMismatch. A read-modify-write that keeps losing to writers of
// other processes runs inside the atomic step after 8 lost races, policies
// included, on a store whose reads may run there ([ReentrantReader]).
//
// # Cursors
//
// Lists page by startIndex and count (RFC 7644 §3.4.2.4) and, when the
// request has a cursor parameter (empty for the first page), by RFC 9865
// cursor: the page carries nextCursor and previousCursor, and
// /ServiceProviderConfig's pagination object advertises both methods, index
// the default. A cursor's position is encrypted with AES-256-GCM (keyed from
// Options.CursorKey, which replicas must share; random per Handler when
// empty) and bound to the tenant, resource type, filter and sort it was
// issued for: any other is 400 invalidCursor, one older than
// Options.CursorTimeout 400 expiredCursor. A store with [UserKeysetLister]
// or [GroupKeysetLister] seeks to the cursor's key, so a walk returns every
// resource that lives through it exactly once and its last page costs what
// its first does; without them, or with sortBy, a cursor carries an index.
//
// # Errors
//
// Every refusal is a SCIM error body (RFC 7644 §3.12) with the right status,
// a scimType where RFC 7644 defines one, and a detail that names the problem.
// A Store or a hook may return an [*Error] to choose exactly what the client
// reads. A Store that knows which unique attribute a write conflicts on
// (an index on emails, besides userName) returns a [*ConflictError], an
// ErrConflict whose 409 names the attribute. Any other error becomes a 500 whose detail says nothing of the cause,
// which is logged instead: a store's or Go's internal text never reaches a
// client. [WriteError] writes the same bodies from a host's own middleware.
//
// # Entra ID
//
// Entra ID's Test connection queries `userName eq "<random guid>"` and must
// get 200 with an empty list; so must its /Groups probe. Entra then reads and
// writes users by the SCIM id it got on create, so a user whose userName or
// email changes stays the same user with the same id, groups and data. It
// deactivates with active=false and expects the user to stay readable, with
// its group memberships, until a DELETE. Query strings arrive form-encoded
// ('+' for space), which net/url decodes. The scimcheck command
// (cmd/scimcheck) sends these sequences, and those of the gallery
// validation, Okta and the other clients, to a running server and says
// which one would fail: run it before pointing Entra at a host's endpoint.
//
// # PATCH
//
// PATCH /Users/{id} and /Groups/{id} implement RFC 7644 §3.5.2 on the
// typed model: add, remove and replace, with or without a path, value
// filters (`emails[type eq "work"].value`), sub-attributes and
// URN-qualified extension attributes. A PATCH applies all its operations or
// none; its result is validated as a create is and passes through
// Options.AllowDomain and the host's policies like any other write. Errors
// are 400s that name the operation and its path; read-only attributes (id,
// meta, groups) are 400 mutability; more than Options.MaxPatchOperations
// operations is 413. A PATCH that changes nothing writes nothing and raises
// no [Event], so a client's retry is harmless.
//
// A user PATCH answers 200 with the user, projected by "attributes" and
// "excludedAttributes". A group PATCH answers 204 No Content, as Entra ID
// recommends, unless the request has one of those parameters (RFC 7644
// requires 200 then). Both carry the new ETag, and If-Match makes either
// conditional (412 when stale). When the store implements [MemberPatcher],
// a group PATCH that only adds members and removes members by id goes to
// PatchMembers without loading the group, so it costs the same with ten
// members as with a hundred thousand; any other group PATCH is a
// read-modify-write of the whole group.
//
// The compatibility rules (entra.go, listed in the README) accept what
// Entra ID, Okta and JumpCloud send beyond the RFC: op names in any case,
// "True"/"False" for booleans, a no-path value whose keys are paths, a value
// filter that creates the value it selects, a remove of members that lists
// them in its value (never a removal of every member), the manager's shapes;
// and what Microsoft's reference tests and OneLogin send: endpoints in any
// case (/users), a value filter in attributes, a bare member id, a member's
// displayName, a lone object for an array, the pre-RFC Enterprise URN.
// Options.Strict turns them off. Two rules follow the RFCs and hold in every
// mode: Accept: application/json is answered in application/json (RFC 7644
// §3.8), and a custom extension's attribute sent flat in a POST or PUT is
// kept in its extension's object, as PATCH keeps it (RFC 7643 §3.3).
//
// A "primary": false a client sends is a value (RFC 7643 §2.5: only null and
// [] are unassigned), kept in [MultiValue.NotPrimary] and returned. A remove
// of "active" leaves it unassigned, which means active: see [User.Active].
// A store that cannot evaluate part of a filter says which with an
// [*UnsupportedError], and the client's 400 invalidFilter names it.
//
// # Schema extensions
//
// A host declares its own extension schemas in Options.Extensions (see
// [Extension]): the custom attributes an Entra ID admin maps as
// urn:ietf:params:scim:schemas:extension:<App>:2.0:User:<attribute>, with
// their types and characteristics. /Schemas serves them and /ResourceTypes
// lists them in schemaExtensions; every write checks their values by type
// (a wrong one is 400 invalidValue naming the attribute) and keeps them in
// Extra under the URN, one object with the declared names, whether sent
// flat, nested or by a PATCH path; [Extension.Lookup] reads them back as Go
// values. Filters, sortBy and projection understand them by the declared
// type and caseExact (the paths the handler hands a store carry the
// declaration, [AttrPath].Declared); a store that filters with [MatchUser]
// answers them, and storetest checks that a store does. A store that is an
// [ExtensionDeclarer] enforces their uniqueness. Extensions that are not
// declared are kept in Extra as sent.
//
// # Policies, events and limits
//
// Options.AllowDomain refuses emails on domains a workspace has not
// verified ([ErrDomainNotAllowed]), naming the domain in a 400.
// Options.UserPolicies and GroupPolicies run the host's own rules
// ([RequireEmail], [SeatLimit]) on the final state of every write; a
// policy refuses with an [*Error] whose words the client reads. Any other
// error from a hook means it could not decide: the client reads a 503 it
// retries, with a generic detail, and the cause is logged. Options.OnChange receives an [Event] after every
// successful write that changed something — created, updated, deactivated,
// reactivated, deleted, renamed, members added or removed — never for a
// refused one, so a host can revoke a deactivated user's sessions and keep
// an audit log.
//
// Every limit has a safe default and answers a SCIM error that names it:
// body size (413), filter length and nesting, page size (count is capped at
// MaxResults), PATCH operations (413), values per multi-valued attribute,
// JSON nesting. A panic while serving is recovered, logged and answered 500.
// With Options.Logger set, every request is logged (method, path, status,
// duration, tenant, scimType) without query values, bodies or tokens.
//
// Other limits keep one client, token or request from taking the service
// from the other tenants:
//
//   - Options.BodyReadTimeout: a request body must arrive within 10 s; a
//     body dribbled a byte at a time is cut off with 408.
//   - Options.MaxFilterCost: a filter's cost, estimated from its parsed
//     form (comparisons, substring comparisons, value paths) before any
//     store sees it, so the bound is the same for every store; a costlier
//     one is 400 invalidFilter naming the limit.
//   - Options.MaxPatchCost: a read-modify-write PATCH costing more than
//     operations × values touched allow is 413 before any operation is
//     applied. The PATCH is computed once, outside the store's lock, and
//     the store's atomic step only swaps in the result if the version is
//     unchanged (starting again otherwise).
//   - Options.MaxResponseBytes: a list page holds fewer resources than
//     asked when the next would pass the budget, with itemsPerPage telling
//     the truth (RFC 7644 §3.4.2.4); a single resource over it is 400
//     tooMany, never a truncated body.
//   - Options.RateLimit: an optional token bucket per tenant answering 429
//     with Retry-After; off by default (see its doc for why).
//
// # Provisioning log
//
// With Options.Log set to a [LogQueue], the handler records one [LogEntry]
// per request for the request's tenant: time, User-Agent and OAuth client
// ([Tenant.Client]), method, path (with ids, without the query's values),
// status, scimType, the error's detail, the resource, the kinds of the
// events caused, and the duration. [BearerAuthLog] records its refusals of
// known tenants through the same queue: a revoked token (the lookup returns
// the tenant with [ErrUnknownToken]) and sync switched off. The queue hands
// entries to a [LogSink] on its own goroutine, in batches, and drops (and
// counts) entries when the sink falls behind, so a slow or failing sink
// never fails or delays a request; without Options.Log the handler does no
// log work. No body, query value, header but User-Agent, or token is ever
// in an entry; personal data appears only where an error's detail names it
// (a refused email's domain and userName, a host policy's words). Package
// admin reads the log on its admin page; sqlstore stores it with retention.
//
// # Testing a Store
//
// Package storetest turns the Store contract into executable checks, with
// the capabilities the store declares and, for a multi-tenant store, the
// proof that nothing of one tenant shows in another:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) scim.Store { return newStoreForTest(t) },
//			storetest.Declare(storetest.Groups|storetest.MemberPatcher),
//			storetest.Tenants(twoTenantsOfOneTestDB))
//	}
package scim
