package admin

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/scimhost/scim"
)

// pageState is what a POST adds to the page it renders.
type pageState struct {
	// NewToken is a token just created, shown in this answer only.
	NewToken       string
	NewTokenRecord *Token
	// NewOAuthSecret is a client secret just created, shown in this answer
	// only.
	NewOAuthSecret       string
	NewOAuthSecretRecord *OAuthSecret
	NewOAuthSecretClient string
	// FederationDraft is federation settings refused, shown again in the
	// client's form for the admin to correct.
	FederationDraft *federationDraft
	// Problem is what went wrong with the admin's input.
	Problem string
}

// pageData is the template's input.
type pageData struct {
	Overview
	pageState
	CSRF     string
	Nonce    string
	Root     string // the relative URL of the page, for forms and links
	Notice   string
	Log      []scim.LogEntry
	Clients  []string
	Filter   LogFilter
	HasLog   bool
	Failures int
	Now      time.Time // for a secret's expiry
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, pageState{})
}

// render writes the page with st.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, st pageState) {
	ctx, tenant := r.Context(), tenantOf(r)
	o, err := h.overview(ctx, tenant)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	d := pageData{Overview: o, pageState: st, CSRF: csrfToken(w, r), HasLog: h.s.Log != nil, Root: rootOf(r), Now: time.Now()}
	if r.Method == http.MethodGet {
		d.Notice = cmp.Or(notices[r.URL.Query().Get("done")], oauthNotices[r.URL.Query().Get("done")])
		d.Filter = logFilter(r.URL.Query())
	}
	if d.Filter.Limit == 0 {
		d.Filter.Limit = 50
	}
	if h.s.Log != nil {
		if d.Log, err = h.s.Log.ListLog(ctx, tenant, d.Filter); err != nil {
			h.internal(w, r, err)
			return
		}
		if d.Clients, err = h.s.Log.LogClients(ctx, tenant); err != nil {
			h.internal(w, r, err)
			return
		}
	}
	var nonce [18]byte
	_, _ = rand.Read(nonce[:])
	d.Nonce = base64.RawStdEncoding.EncodeToString(nonce[:])
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		h.internal(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+d.Nonce+"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ms": func(d time.Duration) string {
		if d < time.Millisecond {
			return fmt.Sprintf("%d µs", d.Microseconds())
		}
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	},
	"client":   clientOf,
	"events":   func(ks []scim.EventKind) string { return joinKinds(ks) },
	"selected": func(a, b string) bool { return a == b },
	"count": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	},
}).Parse(pageHTML))

// clientOf names the client of a log entry, given as a value or a pointer.
func clientOf(v any) string {
	var e scim.LogEntry
	switch x := v.(type) {
	case scim.LogEntry:
		e = x
	case *scim.LogEntry:
		e = *x
	}
	return cmp.Or(e.Client, e.UserAgent, "(no User-Agent)")
}

func joinKinds(ks []scim.EventKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SCIM provisioning</title>
<style nonce="{{.Nonce}}">
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:2rem 0 .5rem;border-bottom:1px solid #ccc;padding-bottom:.25rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e2e2e2;vertical-align:top}
th{background:#f4f4f4}caption{text-align:left;font-weight:600;padding:.25rem 0}
input[type=text],select{font:inherit;padding:.3rem .4rem;border:1px solid #767676;border-radius:3px}
input.copy{box-sizing:border-box;width:100%;max-width:40rem;font-family:ui-monospace,monospace;font-size:.95rem;padding:.35rem .5rem;border:1px solid #767676;border-radius:3px;background:#f7f7f7}
input#token,input#oauth-secret{max-width:none}form.fed input.copy{max-width:56rem}
button{font:inherit;padding:.3rem .8rem;border:1px solid #1a4e8a;border-radius:3px;background:#1f5fa8;color:#fff;cursor:pointer}
button.quiet{background:#fff;color:#1a4e8a}button.danger{background:#fff;color:#a4262c;border-color:#a4262c}
button:focus-visible,input:focus-visible,select:focus-visible,a:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.notice{background:#e7f3e8;border:1px solid #2e7d32;padding:.5rem .75rem;border-radius:3px}
.problem{background:#fdecea;border:1px solid #a4262c;padding:.5rem .75rem;border-radius:3px}
.secret{background:#fff8e1;border:2px solid #b26a00;padding:.75rem 1rem;border-radius:3px;margin:1rem 0}.secret h2{margin-top:0}
.ok{color:#1e6b22;font-weight:600}.bad{color:#a4262c;font-weight:600}.muted{color:#555}
code{font-family:ui-monospace,monospace;font-size:.9em;overflow-wrap:anywhere}td.nowrap,code.kw{white-space:nowrap;overflow-wrap:normal}code.all{user-select:all}
dl.state{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dl.state dt{font-weight:600}dl.state dd{margin:0}
form.inline{display:inline}.row{display:flex;gap:.5rem;align-items:end;flex-wrap:wrap;margin:.5rem 0}
label{display:block;font-weight:600;font-size:.9rem}
h3{font-size:1.05rem;margin:1.25rem 0 .25rem}article.client{border:1px solid #ccc;border-radius:3px;padding:.25rem 1rem .75rem;margin:1rem 0}
details{margin:.5rem 0}summary{cursor:pointer;font-weight:600}form.fed>div{margin:.4rem 0}.check{padding-bottom:.35rem}.check label{display:inline}
</style>
</head>
<body>
<header><h1>SCIM provisioning</h1></header>
<main>
{{with .Notice}}<p class="notice" role="status">{{.}}</p>{{end}}
{{with .Problem}}<p class="problem" role="alert">{{.}}</p>{{end}}

{{if .NewToken}}
<section class="secret" aria-labelledby="new-token">
<h2 id="new-token">Your new token</h2>
<p>Copy it now into the identity provider's <strong>Secret Token</strong> field. It is shown this once and never again: only its hash is kept.</p>
<label for="token">Token{{with .NewTokenRecord.Name}} “{{.}}”{{end}}</label>
<input id="token" class="copy" type="text" readonly value="{{.NewToken}}" autocomplete="off" spellcheck="false">
<p><a href="{{.Root}}">Done, I have copied it</a></p>
</section>
{{end}}

{{if .NewOAuthSecret}}
<section class="secret" aria-labelledby="new-oauth-secret">
<h2 id="new-oauth-secret">Your new client secret</h2>
<p>Copy it now into the identity provider's <strong>Client Secret</strong> field, with the client ID and the Token URL. It is shown this once and never again: only its hash is kept. It expires {{when .NewOAuthSecretRecord.Expires}}.</p>
<label for="oauth-client-id">Client ID</label>
<input id="oauth-client-id" class="copy" type="text" readonly value="{{.NewOAuthSecretClient}}">
<label for="oauth-secret">Client secret</label>
<input id="oauth-secret" class="copy" type="text" readonly value="{{.NewOAuthSecret}}" autocomplete="off" spellcheck="false">
<p><a href="{{.Root}}">Done, I have copied it</a></p>
</section>
{{end}}

<section aria-labelledby="connection">
<h2 id="connection">Connection</h2>
<label for="base-url">SCIM Base URL (Entra ID calls it Tenant URL)</label>
<input id="base-url" class="copy" type="text" readonly value="{{.BaseURL}}">
{{with .OAuth}}<label for="token-url">OAuth Token URL (for Entra App Gallery apps)</label>
<input id="token-url" class="copy" type="text" readonly value="{{.TokenURL}}">{{end}}
<dl class="state">
<dt>SCIM sync</dt><dd>{{if .SyncEnabled}}<span class="ok">On</span>{{else}}<span class="bad">Off</span> — every request gets 403{{end}}</dd>
{{with .Connection.LastRequest}}
<dt>Last request</dt><dd><time datetime="{{iso .Time}}">{{when .Time}}</time>: {{.Method}} <code>{{.Path}}</code> → {{.Status}}</dd>
<dt>Client</dt><dd>{{client .}}</dd>
{{else}}<dt>Last request</dt><dd>none yet</dd>{{end}}
<dt>Last Test connection</dt><dd>{{with .Connection.LastTestConnection}}<time datetime="{{iso .Time}}">{{when .Time}}</time> → {{.Status}}{{if .Failed}} <span class="bad">failed</span>{{else}} <span class="ok">passed</span>{{end}}{{else}}none seen{{end}}</dd>
{{with .Counts}}<dt>Provisioned</dt><dd>{{count .Users "user" "users"}} ({{.ActiveUsers}} active), {{count .Groups "group" "groups"}}</dd>{{end}}
</dl>
<form method="post" action="{{$.Root}}sync" class="row">
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{if .SyncEnabled}}<input type="hidden" name="sync" value="off"><button type="submit" class="danger">Switch SCIM sync off</button>
{{else}}<input type="hidden" name="sync" value="on"><button type="submit">Switch SCIM sync on</button>{{end}}
</form>
</section>

<section aria-labelledby="tokens">
<h2 id="tokens">Tokens</h2>
<p class="muted">Several tokens can be valid at once: create a new one, paste it into the identity provider, then revoke the old one.</p>
<table>
<caption class="muted">Tokens of this workspace</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Starts with</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead>
<tbody>
{{range .Tokens}}<tr>
<td>{{or .Name "—"}}</td><td><code>{{.Prefix}}…</code></td><td>{{when .Created}}</td><td>{{when .LastUsed}}</td>
<td>{{if .Active}}<form method="post" action="{{$.Root}}tokens/revoke" class="inline"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="id" value="{{.ID}}"><button type="submit" class="danger" aria-label="Revoke token {{.Prefix}}">Revoke</button></form>{{else}}revoked {{when .Revoked}}{{end}}</td>
</tr>{{else}}<tr><td colspan="5">No tokens yet.</td></tr>{{end}}
</tbody>
</table>
<form method="post" action="{{$.Root}}tokens" class="row">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<div><label for="token-name">Name (optional)</label><input id="token-name" type="text" name="name" maxlength="100" placeholder="Entra ID production"></div>
<button type="submit">Create token</button>
</form>
</section>

<section aria-labelledby="domains">
<h2 id="domains">Email domains</h2>
<p class="muted">Users are provisioned only with emails on verified domains. To verify one, publish its TXT record in the domain's DNS, then press Verify.</p>
<table>
<caption class="muted">Domains of this workspace</caption>
<thead><tr><th scope="col">Domain</th><th scope="col">State</th><th scope="col">TXT record</th><th scope="col">Actions</th></tr></thead>
<tbody>
{{range .Domains}}<tr>
<td>{{.Name}}</td>
<td>{{if .IsVerified}}<span class="ok">Verified</span> {{when .Verified}}{{else}}<span class="bad">Not verified</span>{{end}}{{with .CheckError}}<br><span class="muted">Last check: {{.}}</span>{{end}}</td>
<td>Name <code class="all">{{.TXTName}}</code><br>Value <code class="all">{{.Token}}</code></td>
<td><form method="post" action="{{$.Root}}domains/verify" class="inline"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="domain" value="{{.Name}}"><button type="submit" class="quiet" aria-label="Verify {{.Name}}">{{if .IsVerified}}Check again{{else}}Verify{{end}}</button></form>
<form method="post" action="{{$.Root}}domains/remove" class="inline"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="domain" value="{{.Name}}"><button type="submit" class="danger" aria-label="Remove {{.Name}}">Remove</button></form></td>
</tr>{{else}}<tr><td colspan="4">No domains yet.</td></tr>{{end}}
</tbody>
</table>
<form method="post" action="{{$.Root}}domains" class="row">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<div><label for="domain">Domain</label><input id="domain" type="text" name="domain" required placeholder="example.com" autocomplete="off"></div>
<button type="submit">Add domain</button>
</form>
</section>

{{with .OAuth}}
<section aria-labelledby="oauth">
<h2 id="oauth">OAuth clients</h2>
<p class="muted">Entra App Gallery apps sign in with OAuth 2.0 client credentials: copy the Token URL, a client's ID and one of its secrets into Entra ID, or set up workload identity federation so that Entra ID needs no secret. A client may have several secrets at once, for rotation.</p>
{{range .Clients}}{{$c := .}}
<article class="client" aria-labelledby="client-{{.ID}}">
<h3 id="client-{{.ID}}">{{or .Name "Unnamed client"}}</h3>
<dl class="state"><dt>Client ID</dt><dd><code class="all">{{.ID}}</code></dd><dt>Created</dt><dd>{{when .Created}}</dd>{{if .Disabled}}<dt>State</dt><dd><span class="bad">Disabled</span>: it gets no tokens</dd>{{end}}</dl>
<table>
<caption class="muted">Secrets of the client</caption>
<thead><tr><th scope="col">Secret ID</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">State</th></tr></thead>
<tbody>
{{range .Secrets}}<tr>
<td><code>{{.ID}}</code></td><td>{{when .Created}}</td><td>{{when .Expires}}</td>
<td>{{if not .Revoked.IsZero}}revoked {{when .Revoked}}{{else}}{{if not (.Active $.Now)}}<span class="bad">expired</span> {{end}}<form method="post" action="{{$.Root}}oauth/secrets/revoke" class="inline"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="client" value="{{$c.ID}}"><input type="hidden" name="secret" value="{{.ID}}"><button type="submit" class="danger" aria-label="Revoke secret {{.ID}}">Revoke</button></form>{{end}}</td>
</tr>{{else}}<tr><td colspan="4">No secrets yet.</td></tr>{{end}}
</tbody>
</table>
<form method="post" action="{{$.Root}}oauth/secrets" class="row">
<input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="client" value="{{.ID}}">
<div><label for="years-{{.ID}}">Expires after</label><select id="years-{{.ID}}" name="years"><option value="1">1 year</option><option value="2">2 years</option><option value="3">3 years</option></select></div>
<button type="submit" aria-label="Create a secret for {{.ID}}">Create secret</button>
</form>
{{$f := .Federation}}{{with $.FederationDraft}}{{if eq .Client $c.ID}}{{$f = .Federation}}{{end}}{{end}}
<details{{if $f}} open{{end}}>
<summary>Workload identity federation{{if .Federation}}: set{{else}}: not set{{end}}</summary>
<p class="muted">Copy the four values from the Entra ID application's federated credential. The audience may be pasted with or without “/.default”.</p>
<form method="post" action="{{$.Root}}oauth/federation" class="fed">
<input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="client" value="{{.ID}}">
<div><label for="iss-{{.ID}}">Issuer</label><input id="iss-{{.ID}}" class="copy" type="text" name="issuer" value="{{with $f}}{{.Issuer}}{{end}}" placeholder="https://login.microsoftonline.com/TENANT-ID/v2.0" autocomplete="off"></div>
<div><label for="jwks-{{.ID}}">JWKS URL</label><input id="jwks-{{.ID}}" class="copy" type="text" name="jwks" value="{{with $f}}{{.JWKSURL}}{{end}}" placeholder="https://login.microsoftonline.com/TENANT-ID/discovery/v2.0/keys" autocomplete="off"></div>
<div><label for="sub-{{.ID}}">Subject</label><input id="sub-{{.ID}}" class="copy" type="text" name="subject" value="{{with $f}}{{.Subject}}{{end}}" autocomplete="off"></div>
<div><label for="aud-{{.ID}}">Audience</label><input id="aud-{{.ID}}" class="copy" type="text" name="audience" value="{{with $f}}{{.Audience}}{{end}}" placeholder="api://APPLICATION-ID" autocomplete="off"></div>
<div class="row"><button type="submit" name="action" value="save">Save federation</button>{{if .Federation}} <button type="submit" name="action" value="clear" class="danger">Clear federation</button>{{end}}</div>
</form>
</details>
</article>
{{else}}<p>No OAuth clients yet.</p>{{end}}
<form method="post" action="{{$.Root}}oauth/clients" class="row">
<input type="hidden" name="csrf" value="{{$.CSRF}}">
<div><label for="oauth-client-name">Name (optional)</label><input id="oauth-client-name" type="text" name="name" maxlength="100" placeholder="Entra ID gallery app"></div>
<button type="submit">Create OAuth client</button>
</form>
</section>
{{end}}

{{if .HasLog}}
<section aria-labelledby="log">
<h2 id="log">Provisioning log</h2>
<form method="get" action="{{.Root}}" class="row" aria-label="Filter the log">
<div class="check"><input id="failures" type="checkbox" name="failures" value="1"{{if .Filter.FailuresOnly}} checked{{end}}> <label for="failures">Failures only</label></div>
<div><label for="resource">Resource</label><select id="resource" name="resource">
<option value="">Any</option><option{{if selected .Filter.ResourceType "User"}} selected{{end}}>User</option><option{{if selected .Filter.ResourceType "Group"}} selected{{end}}>Group</option></select></div>
<div><label for="client">Client</label><select id="client" name="client"><option value="">Any</option>
{{range .Clients}}<option{{if selected $.Filter.Client .}} selected{{end}}>{{.}}</option>{{end}}</select></div>
<button type="submit" class="quiet">Filter</button>
</form>
<table>
<caption class="muted">Newest first; no bodies, query values or tokens are kept. A detail may name the value it refuses.</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Client</th><th scope="col">Request</th><th scope="col">Status</th><th scope="col">Detail</th><th scope="col">Resource</th><th scope="col">Events</th><th scope="col">Took</th></tr></thead>
<tbody>
{{range .Log}}<tr>
<td><time datetime="{{iso .Time}}">{{when .Time}}</time></td><td>{{client .}}</td>
<td>{{.Method}} <code>{{.Path}}</code>{{with .Query}} <span class="muted">?{{.}}</span>{{end}}{{if .Probe}} <span class="muted">(Test connection)</span>{{end}}</td>
<td>{{if .Failed}}<span class="bad">{{.Status}}</span>{{else}}{{.Status}}{{end}}{{with .Type}}<br><code class="kw">{{.}}</code>{{end}}</td>
<td>{{.Detail}}</td><td>{{.ResourceType}}{{with .ResourceID}} <code>{{.}}</code>{{end}}</td><td>{{events .Events}}</td><td class="nowrap">{{ms .Duration}}</td>
</tr>{{else}}<tr><td colspan="8">No requests match.</td></tr>{{end}}
</tbody>
</table>
</section>
{{end}}
</main>
</body>
</html>
`
