// Package oauth is an OAuth 2.0 authorization server for SCIM clients: a
// token endpoint for the client credentials grant (RFC 6749 §4.4) and the
// [scim.TokenLookup] that admits the access tokens it issues, next to static
// bearer tokens.
//
// Microsoft onboards provisioning apps into the Entra App Gallery only when
// they authenticate with OAuth 2.0 client credentials or workload identity
// federation, no longer with a long-lived bearer token
// (https://learn.microsoft.com/entra/identity/enterprise-apps/app-gallery-user-provisioning-requirements).
// Okta and non-gallery Entra ID apps keep the static token of
// [scim.BearerAuth]; both work side by side, per tenant.
//
// # Mounting
//
//	srv, err := oauth.New(storage, oauth.Options{
//		Issuer:      "https://app.example.com",
//		SigningKeys: keys, // from the host's secret store, the same on every replica
//	})
//	mux.Handle("POST /oauth2/token", srv)
//	lookup := srv.LookupOr(tokens.Lookup) // OAuth access tokens, else static tokens
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(lookup)(h)))
//
// and set [scim.Options.OAuth] so that /ServiceProviderConfig lists the
// OAuth scheme. [Server.Metadata] serves RFC 8414 metadata if wanted. A
// request made with an access token carries the client's tenant, with
// [scim.Tenant.Client] set to the client id; [Options.TenantDisabled] lets
// the tenant's switch for SCIM sync ([scim.Tokens.Disabled]) apply to
// access tokens as it does to static ones.
//
// # Clients and how they authenticate
//
// A [Client] belongs to one tenant. It authenticates in one of three ways:
//
//   - client_secret_basic or client_secret_post, with one of its [Secret]
//     values. A client has several secrets at once, each with its own
//     expiry of one to three years ([NewSecret]), so that a new secret is in
//     Entra ID before the old one is revoked. Secrets are stored as their
//     SHA-256 and compared in constant time with every stored hash of the
//     client.
//   - a JWT assertion (RFC 7523 §2.2; client_assertion_type
//     urn:ietf:params:oauth:client-assertion-type:jwt-bearer), which is what
//     Entra ID's workload identity federation sends: the admin copies the
//     issuer, JWKS URL, subject and audience from Entra ID into the
//     client's [Federation]. The assertion's signature is verified with
//     github.com/go-jose/go-jose/v4 against the JWKS key its kid names, with
//     the algorithms of [AssertionAlgorithms] only (RS256 is what Entra ID
//     uses; "none" and HMAC are never accepted, so an HMAC keyed with the
//     issuer's public key is refused); iss and sub must equal, and aud
//     contain, the configured values exactly; exp is required, and exp, nbf
//     and iat are checked with [Options.ClockSkew] of tolerance. The jti is
//     not remembered, which RFC 7523 §3 leaves optional: refusing a replay
//     across replicas would need state shared between them on every token
//     request.
//
// # The JWKS cache
//
// Keys are cached per JWKS URL by kid. A set is fetched on first use, again
// after [Options.JWKSMaxAge], and again when an assertion names a kid the
// cached set lacks, since Entra ID rotates keys without notice, but never
// twice within [Options.JWKSRefreshInterval], so that made-up kids cannot
// turn the token endpoint into a flood of fetches. A fetch has a timeout
// ([Options.JWKSTimeout]) and a size cap ([Options.MaxJWKSBytes]); a failed
// one keeps the keys already known. JWKS URLs must be https, redirects
// included; [Options.AllowLoopbackHTTP] admits http:// on loopback for tests
// and demos.
//
// # Access tokens: signed, not stored
//
// An access token is a JWT (RFC 9068's shape: typ at+jwt) signed with
// HMAC-SHA256 by the first of [Options.SigningKeys], naming the client, its
// tenant, the secret used and its expiry, [Options.TokenLifetime] from
// issue (one to six hours; default one hour). Any replica with the same keys
// verifies it with no storage read and no shared session, so the host needs
// no sticky sessions. This was measured against the alternative, a random
// token stored and looked up on every request (BenchmarkSCIMAuth,
// oauthsql's BenchmarkClientRead): one read by primary key costs 50 µs or
// more on SQLite and 130 µs or more on PostgreSQL, where admitting a signed
// token costs about 1 µs, 1.3 to 2 times a static token. A verified token
// is remembered by its SHA-256 until it expires, so a client's requests
// after its first cost a hash and a map lookup; the JWS verification
// (25 µs or more) is paid once per token and replica. Keys rotate by putting a new key
// first and keeping the old one until the tokens it signed have expired.
//
// # Revocation
//
// Disabling or deleting a client, or revoking or deleting a secret, refuses
// the next token request at once: the token endpoint reads the storage on
// every request. A token already issued is refused once the replica that
// sees it reads the client again: each replica trusts what it read of a
// client (disabled or not, its tenant, which secrets are revoked) for
// [Options.ClientCheckInterval], 30 seconds by default, so the storage sees
// one read per client and interval rather than one per SCIM request.
// [Server.ForgetClient] makes a revocation hold at once on the replica that
// made it; a negative interval reads the storage on every request, at the
// cost measured above. A secret that merely expires leaves the tokens it
// got valid until they expire themselves.
//
// # Errors and brute force
//
// Refusals are RFC 6749 §5.2 JSON bodies: invalid_request,
// invalid_client (401 with WWW-Authenticate: Basic), unsupported_grant_type
// and invalid_scope, described in words of this package; no text of a
// library or a store reaches the client. RFC 7523 §3.2 has failed client
// assertions answered invalid_client too, so invalid_grant is not used.
// Every refusal is logged at Warn with the client id and the reason;
// secrets and assertions never are. Past [Options.MaxFailures] failures in
// [Options.FailureWindow], a client's requests are answered 429 with
// Retry-After, counted per process and only for clients that exist. The
// bound is a trade-off: whoever knows a client id can keep that client from
// getting a new token for as long as they keep failing. Client ids are not
// published, and an access token lives far longer than the one-minute
// window, so a client holding a valid token goes on provisioning; and the
// bound matters only for secrets a host chose itself, since no rate of
// guessing finds a 256-bit [NewSecret].
//
// # Storage
//
// [Storage] is two small interfaces, [ClientStorage] and [SecretStorage].
// [Memory] keeps them in memory; package
// github.com/scimhost/scim/oauth/oauthsql in PostgreSQL or SQLite; package
// github.com/scimhost/scim/oauth/oauthtest checks an implementation.
//
// # The workspace admin's page
//
// [AdminClients] implements the admin package's admin.OAuthClients over a
// Storage and a Server, so that the page and JSON API of package
// github.com/scimhost/scim/admin list a workspace's clients, create clients
// and secrets, revoke secrets and set the federation, beside the Token URL
// ([Options.TokenURL], required there). It acts on the workspace's own
// clients only, refuses what [Federation.Validate] and the secret
// lifetimes refuse, and calls [Server.ForgetClient] after a revocation or
// a federation change.
//
// # Why a module of its own
//
// This package is the module github.com/scimhost/scim/oauth, apart from the
// root module, so that a host that uses static tokens only never downloads
// a JOSE library: the root module requires only what its design names. Its
// SQL storage (oauthsql) lives here too rather than in sqlstore, so that
// sqlstore does not pull in JOSE either and each keeps its own tables and
// migrations (scim_oauth_* beside sqlstore's scim_*).
package oauth
