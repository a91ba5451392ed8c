// Package admin is the workspace admin's side of SCIM: the settings every
// setup guide asks for — the SCIM Base URL to copy, bearer tokens, the
// "SCIM sync" switch, verified email domains — and the provisioning log
// that shows what the identity provider sent, as an embeddable page and a
// JSON API.
//
// # Settings
//
// [Settings] holds the stores, each a small interface with a memory
// implementation here ([Memory], [MemoryLog]) and a SQL one in
// github.com/scimhost/scim/sqlstore (AdminStore, ProvisioningLog):
//
//   - [TokenStore]: tokens by SHA-256 hash. [Settings.CreateToken] returns
//     a token once; its record keeps a prefix ("scim_3f9a1c2b") to tell
//     tokens apart, when it was created and last used, and when it was
//     revoked. A workspace may have several valid tokens, for rotation.
//   - [SyncStore]: the switch. A workspace with sync off gets 403 on every
//     request, with a detail saying so.
//   - [DomainStore]: email domains, verified by a TXT record the admin
//     publishes at _scim-verification.<domain> ([TXTName]). The check uses
//     Settings.Resolver (a *net.Resolver, so a test or a host can point it
//     at its own DNS server) within Settings.CheckTimeout; it can be run
//     again, and a domain stays verified when a later check fails.
//   - [LogStore]: the provisioning log, a [scim.LogSink] that the admin
//     page can query.
//
// The SCIM side is served from the same stores:
//
//	settings := &admin.Settings{Tokens: st, Sync: st, Domains: st, Log: log}
//	queue := scim.NewLogQueue(settings.Log, 0)
//	h, err := scim.NewHandler(store, scim.Options{
//		AllowDomain: settings.AllowDomain, // verified domains only
//		Log:         queue,
//	})
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuthLog(settings.Lookup, queue)(h)))
//
// [Settings.Lookup] answers a revoked token with its workspace and
// [scim.ErrUnknownToken], so the 401 appears in that workspace's log.
//
// Lookup and AllowDomain run on every request: over a SQL store, wrap the
// stores with [CacheTokens] and [CacheDomains] (and the switch with a
// cache of the host's own) so that they cost no query while nothing
// changed. Changes made through a cache take effect at once; those made
// by another process sharing the database, within the cache's ttl: a
// token revoked there keeps working that long.
//
// # The page and the API
//
// [Handler] serves, under whatever prefix the host mounts it at, a
// server-rendered page (html/template, no JavaScript, no build step) and a
// JSON API under api/:
//
//	GET    api/settings                 Base URL, sync, tokens, domains, connection state, counts
//	POST   api/tokens                   {"name": ...} → 201 {"token": "scim_…", "record": {...}}, the only time the token is sent
//	DELETE api/tokens/{id}              revoke → 204
//	PUT    api/sync                     {"enabled": false}
//	POST   api/domains                  {"name": "example.com"} → 201 with the TXT name and value
//	POST   api/domains/{name}/verify    look up the TXT record now
//	DELETE api/domains/{name}           → 204
//	GET    api/log?failures=1&resource=User&client=...&before=RFC3339&limit=N
//
// With [Options].OAuth set, the page and the API also show the Token URL
// and manage the workspace's OAuth clients, for Entra App Gallery apps:
//
//	GET    api/oauth/clients                          Token URL, clients, their secrets (never a value)
//	POST   api/oauth/clients                          {"name": ...} → 201 the client, with its new client id
//	POST   api/oauth/clients/{id}/secrets             {"lifetimeDays": 730} (365 to 1095; 0 for one year) → 201 {"secret": "scimcs_…", "record": {...}}, once
//	DELETE api/oauth/clients/{id}/secrets/{secret}    revoke → 204
//	PUT    api/oauth/clients/{id}/federation          {"issuer", "jwksURL", "subject", "audience"} → 200 the client
//	DELETE api/oauth/clients/{id}/federation          → 204
//
// The root module does not depend on the OAuth module (which depends on
// it, and brings a JOSE library): [OAuthClients] is an interface of plain
// types here, and github.com/scimhost/scim/oauth implements it over its
// storage with oauth.AdminClients, which also validates federation
// settings and the one-to-three-year lifetime of a secret. Only the
// workspace in the context is reachable: another workspace's client is
// answered as one that does not exist. A new client secret is shown as a
// new token is: in the body of one answer, never again.
//
// The library never authenticates admins: the host mounts the Handler
// behind its own admin login and puts the workspace in the context with
// [scim.WithTenant]. The Handler defends the admin's browser: forms carry a
// CSRF token matched against a SameSite=Strict cookie, cross-site POSTs are
// refused by their Sec-Fetch-Site or Origin header, API writes must be
// application/json, every answer is Cache-Control: no-store, and the page's
// Content-Security-Policy allows no script. A new token is in the body of
// one answer only, never in a URL, and never shown again.
//
// The page shows the connection state from the log: the last request and
// its client, and the last Test connection (an entry with
// [scim.LogEntry.Probe], the shape of Entra ID's test query), with counts
// of users, active users and groups when [Options].Store is set.
//
// # What the log holds
//
// An entry ([scim.LogEntry]) holds the time, the client (User-Agent and the
// OAuth client), method, the path below the base URL (which names ids), the
// names of the query parameters, the status, scimType and the error detail
// the client read, the resource's type and id, the kinds of the events the
// request caused, and its duration. It never holds a body, a query value, a
// header but User-Agent, or a token. The only personal data it may carry is
// what an error's detail names: the domain and userName of a refused email,
// the userName a host's policy cites, an attribute path or value fragment
// of a malformed request. A host whose policies must not name people keeps
// names out of its details.
//
// # Testing a store
//
// Package admintest checks a TokenStore, SyncStore, DomainStore and
// LogStore against these contracts, as storetest does for a scim.Store.
package admin
