package check

import (
	"crypto/rand"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

func init() {
	register("rfc",
		check{name: "service-provider-config", reproduces: "GET /ServiceProviderConfig: its schema, patch, filter, sort, etag and authenticationSchemes (RFC 7643 §5)", run: rfcServiceProviderConfig},
		check{name: "resource-types", reproduces: "GET /ResourceTypes: a ListResponse naming User at /Users and Group at /Groups (RFC 7643 §6)", run: rfcResourceTypes},
		check{name: "schemas", reproduces: "GET /Schemas: a ListResponse of schemas with ids and attributes; GET /Schemas/{id} (RFC 7643 §7, RFC 7644 §4)", run: rfcSchemas},
		check{name: "content-type", reproduces: "responses are application/scim+json (RFC 7644 §3.1), as Entra ID asks", run: rfcContentType},
		check{name: "error-bodies", reproduces: "404 for an unknown user and group, 400 invalidFilter for a filter that does not parse: SCIM error bodies with status as a string (RFC 7644 §3.12)", run: rfcErrors},
		check{name: "invalid-requests-400", reproduces: "a body that is not JSON, a user without userName, a PATCH with an unknown op: 400 with a SCIM error and the right scimType, and nothing changed (RFC 7644 §3.12)", run: rfcInvalid},
		check{name: "unknown-endpoint", optional: true, reproduces: "an unknown path answers 404 and an unsupported method 405, as SCIM errors (RFC 7644 §3.12)", run: rfcUnknownEndpoint},
		check{name: "uniqueness-409", reproduces: "a second user with the same userName in other case: 409 with scimType uniqueness (RFC 7644 §3.3; userName is caseExact false, RFC 7643 §4.1.1)", run: rfcUniqueness},
		check{name: "rename-uniqueness", reproduces: "a rename to the userName of another user, in other case, is 409 uniqueness and changes nothing; a rename of a user to its own userName in other case succeeds (RFC 7644 §3.3, §3.5.2)", run: rfcRenameUniqueness},
		check{name: "etags", reproduces: "meta.version as the ETag: If-None-Match answers 304, a stale If-Match answers 412 (RFC 7644 §3.14)", run: rfcETags},
		check{name: "paging", reproduces: "startIndex and count: count=0 gives totalResults only, a startIndex past the end gives an empty page, startIndex below 1 reads as 1 (RFC 7644 §3.4.2.4)", run: rfcPaging},
		check{name: "cursor-pagination", reproduces: "RFC 9865 cursor paging, when ServiceProviderConfig advertises pagination.cursor: GET /Users?cursor&count=5 over at least 11 users, page after page by nextCursor, returns each user exactly once; previousCursor leads back to the page before; a tampered cursor is 400 invalidCursor", run: rfcCursorPaging},
		check{name: "sorting", reproduces: "sortBy=userName with sortOrder ascending and descending (RFC 7644 §3.4.2.3), when ServiceProviderConfig says sort is supported", run: rfcSorting},
		check{name: "projection", reproduces: "attributes and excludedAttributes on GET by id and on queries (RFC 7644 §3.4.2.5): id and schemas always returned", run: rfcProjection},
		check{name: "post-search", optional: true, reproduces: "POST /Users/.search with a filter (RFC 7644 §3.4.3)", run: rfcSearch},
	)
}

// isSCIMJSON reports whether a Content-Type is application/scim+json.
func isSCIMJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/scim+json"
}

// randomGUID returns a random version 4 UUID, as Entra's Test connection
// filters on.
func randomGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// spc reads /ServiceProviderConfig (nil when it cannot be read).
func (t *T) spc() map[string]any {
	r, err := t.do("GET", "/ServiceProviderConfig", nil)
	if err != nil || r.Status != http.StatusOK {
		return nil
	}
	return r.Object()
}

func rfcServiceProviderConfig(t *T) error {
	r, m, err := t.read("/ServiceProviderConfig", "clients read the server's capabilities there (RFC 7644 §4)")
	if err != nil {
		return err
	}
	if !slices.Contains(stringList(list(m, "schemas")), "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig") {
		return failf(on(r), "schemas does not list urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig (RFC 7643 §5)")
	}
	for _, k := range []string{"patch", "bulk", "filter", "changePassword", "sort", "etag"} {
		if _, ok := get(m, k, "supported").(bool); !ok {
			return failf(on(r), "%s.supported is %s, want a JSON boolean: RFC 7643 §5 requires it", k, show(get(m, k, "supported")))
		}
	}
	if get(m, "patch", "supported") != true {
		return failf(on(r), "patch.supported is false: Entra ID provisions groups only through PATCH and sends every user update as a PATCH (%s)", learnSCIM)
	}
	if len(list(m, "authenticationSchemes")) == 0 {
		return failf(on(r), "authenticationSchemes is empty: RFC 7643 §5 requires it")
	}
	return nil
}

func rfcResourceTypes(t *T) error {
	r, res, err := t.query("/ResourceTypes", "clients read the resource types there (RFC 7644 §4)")
	if err != nil {
		return err
	}
	found := map[string]string{}
	for _, rt := range res {
		found[str(rt, "name")] = str(rt, "endpoint")
		if str(rt, "schema") == "" {
			return failf(on(r), "resource type %q has no schema (RFC 7643 §6)", str(rt, "name"))
		}
	}
	if found["User"] != "/Users" {
		return failf(on(r), "/ResourceTypes has no User at endpoint /Users (found %s)", show(found))
	}
	if found["Group"] != "/Groups" {
		return failf(on(r), "/ResourceTypes has no Group at endpoint /Groups (found %s): Entra ID and the gallery validation need groups", show(found))
	}
	return nil
}

func rfcSchemas(t *T) error {
	r, res, err := t.query("/Schemas", "clients read the schemas there (RFC 7644 §4)")
	if err != nil {
		return err
	}
	if len(res) == 0 {
		return failf(on(r), "/Schemas lists no schema")
	}
	for _, s := range res {
		if str(s, "id") == "" || len(list(s, "attributes")) == 0 {
			return failf(on(r), "a schema has no id or no attributes: %s", show(s))
		}
		for _, a := range list(s, "attributes") {
			if str(a, "name") == "" || str(a, "type") == "" {
				return failf(on(r), "schema %s has an attribute without name or type: %s (RFC 7643 §7)", str(s, "id"), show(a))
			}
		}
	}
	one, m, err := t.read("/Schemas/"+userURN, "GET /Schemas/{id} returns one schema (RFC 7644 §4)")
	if err != nil {
		return err
	}
	if str(m, "id") != userURN {
		return failf(on(one), "GET /Schemas/%s answered the schema %q", userURN, str(m, "id"))
	}
	return nil
}

func rfcContentType(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	for _, p := range []string{"/Users/" + u.id, "/Users?" + eqFilter("userName", u.userName), "/ServiceProviderConfig", "/Users/" + randomGUID()} {
		r, err := t.do("GET", p, nil)
		if err != nil {
			return err
		}
		if ct := r.Header.Get("Content-Type"); !isSCIMJSON(ct) {
			return failf(on(r), "GET %s answered Content-Type %q: answer application/scim+json (RFC 7644 §3.1); Entra ID asks for it on every response (%s)", shortTarget(r.Target), ct, learnSCIM)
		}
	}
	return nil
}

func rfcErrors(t *T) error {
	r, err := t.do("GET", "/Users/"+randomGUID(), nil)
	if err != nil {
		return err
	}
	if err := notFoundError(r, "a user that does not exist"); err != nil {
		return err
	}
	r, err = t.do("GET", "/Groups/"+randomGUID(), nil)
	if err != nil {
		return err
	}
	if err := notFoundError(r, "a group that does not exist"); err != nil {
		return err
	}
	r, err = t.do("GET", "/Users?filter="+url.QueryEscape(`userName zz "x"`), nil)
	if err != nil {
		return err
	}
	if err := expect(r, "a filter that does not parse is the client's error (RFC 7644 §3.4.2.2)", http.StatusBadRequest); err != nil {
		return err
	}
	if st := str(r.JSON(), "scimType"); st != "invalidFilter" {
		return failf(on(r), "the 400 for a filter that does not parse has scimType %q, want invalidFilter (RFC 7644 §3.12)", st)
	}
	if s, ok := get(r.JSON(), "status").(string); !ok || s != "400" {
		return failf(on(r), "the error's status is %s, want the string \"400\" (RFC 7644 §3.12)", show(get(r.JSON(), "status")))
	}
	return nil
}

func rfcUniqueness(t *T) error {
	body := t.entraUser()
	if _, err := t.setupUser(body); err != nil {
		return err
	}
	body["userName"] = strings.ToUpper(body["userName"].(string))
	body["externalId"] = t.s.name("x")
	r, err := t.do("POST", "/Users", body)
	if err != nil {
		return err
	}
	if err := expect(r, "userName is unique and caseExact false (RFC 7643 §4.1.1): a second user whose userName differs only in case is a duplicate (RFC 7644 §3.3)", http.StatusConflict); err != nil {
		return err
	}
	if st := str(r.JSON(), "scimType"); st != "uniqueness" {
		return failf(on(r), "the 409 has scimType %q, want uniqueness (RFC 7644 §3.3)", st)
	}
	return nil
}

func rfcETags(t *T) error {
	if get(t.spc(), "etag", "supported") != true {
		return skipf("ServiceProviderConfig says etag is not supported")
	}
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	r, _, err := t.read("/Users/"+u.id, "reading the user")
	if err != nil {
		return err
	}
	etag := r.Header.Get("ETag")
	if etag == "" {
		return failf(on(r), "ServiceProviderConfig says etag is supported but GET /Users/{id} has no ETag header (RFC 7644 §3.14)")
	}
	if v := str(r.JSON(), "meta", "version"); v != "" && v != etag {
		return failf(on(r), "the ETag header %s is not meta.version %s (RFC 7644 §3.14)", etag, v)
	}
	nr, err := t.do("GET", "/Users/"+u.id, nil, header{"If-None-Match", etag})
	if err != nil {
		return err
	}
	if err := expect(nr, "a read with If-None-Match of the current version answers 304 Not Modified (RFC 7644 §3.14)", http.StatusNotModified); err != nil {
		return err
	}
	if _, err := t.patch("/Users/"+u.id, patchOp(op("replace", "displayName", "v2")), "updating the user"); err != nil {
		return err
	}
	sr, err := t.do("PATCH", "/Users/"+u.id, patchOp(op("replace", "displayName", "v3")), header{"If-Match", etag})
	if err != nil {
		return err
	}
	return expect(sr, "a write with a stale If-Match answers 412 Precondition Failed and changes nothing (RFC 7644 §3.14)", http.StatusPreconditionFailed)
}

func rfcPaging(t *T) error {
	if _, err := t.setupUser(nil); err != nil {
		return err
	}
	r, res, err := t.query("/Users?count=0", "count=0 asks for totalResults only (RFC 7644 §3.4.2.4)")
	if err != nil {
		return err
	}
	total, _ := integer(get(r.JSON(), "totalResults"))
	if len(res) != 0 || total < 1 {
		return failf(on(r), "count=0 answered %d resources and totalResults %d, want none and the number of users (RFC 7644 §3.4.2.4)", len(res), total)
	}
	r, res, err = t.query(fmt.Sprintf("/Users?startIndex=%d&count=5", total+1000), "a startIndex past the end answers an empty page")
	if err != nil {
		return err
	}
	if len(res) != 0 {
		return failf(on(r), "a startIndex past the last user answered %d users, want none", len(res))
	}
	r, res, err = t.query("/Users?startIndex=0&count=1", "startIndex below 1 is read as 1 (RFC 7644 §3.4.2.4)")
	if err != nil {
		return err
	}
	if si, _ := integer(get(r.JSON(), "startIndex")); si != 1 || len(res) != 1 {
		return failf(on(r), "startIndex=0 answered startIndex %d and %d users, want 1 and one user: a startIndex below 1 is read as 1 (RFC 7644 §3.4.2.4)", si, len(res))
	}
	return nil
}

func rfcSorting(t *T) error {
	if get(t.spc(), "sort", "supported") != true {
		return skipf("ServiceProviderConfig says sort is not supported")
	}
	tag := t.s.name("sort")
	names := []string{tag + "-b@" + t.s.domain, tag + "-c@" + t.s.domain, tag + "-a@" + t.s.domain}
	for _, n := range names {
		body := t.entraUser()
		body["userName"] = n
		if _, err := t.setupUser(body); err != nil {
			return err
		}
	}
	filter := url.QueryEscape(`userName sw "` + tag + `-"`)
	for _, order := range []string{"ascending", "descending"} {
		r, res, err := t.query("/Users?filter="+filter+"&sortBy=userName&sortOrder="+order, "ServiceProviderConfig says sort is supported")
		if err != nil {
			return err
		}
		var got []string
		for _, u := range res {
			got = append(got, str(u, "userName"))
		}
		want := slices.Sorted(slices.Values(names))
		if order == "descending" {
			slices.Reverse(want)
		}
		if !slices.Equal(got, want) {
			return failf(on(r), "sortBy=userName&sortOrder=%s answered %s, want %s (RFC 7644 §3.4.2.3)", order, quote(got), quote(want))
		}
	}
	return nil
}

func rfcProjection(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id+"?attributes=userName", "attributes=userName asks for userName only")
	if err != nil {
		return err
	}
	if str(m, "id") != u.id || str(m, "userName") != u.userName || len(list(m, "schemas")) == 0 {
		return failf(on(r), "attributes=userName lost id, userName or schemas: id and schemas are always returned (RFC 7643 §2.4, RFC 7644 §3.4.2.5)")
	}
	if get(m, "emails") != nil || get(m, "name") != nil {
		return failf(on(r), "attributes=userName also returned emails or name: return only the attributes asked for, and those always returned (RFC 7644 §3.4.2.5)")
	}
	r, m, err = t.read("/Users/"+u.id+"?excludedAttributes=emails,name", "excludedAttributes=emails,name leaves those out")
	if err != nil {
		return err
	}
	if get(m, "emails") != nil || get(m, "name") != nil || str(m, "userName") != u.userName {
		return failf(on(r), "excludedAttributes=emails,name returned them, or lost userName (RFC 7644 §3.4.2.5)")
	}
	qr, res, err := t.query("/Users?"+eqFilter("userName", u.userName)+"&attributes=id", "Entra asks some queries for attributes=id")
	if err != nil {
		return err
	}
	if len(res) != 1 || str(res[0], "id") != u.id || get(res[0], "emails") != nil {
		return failf(on(qr), "a query with attributes=id answered %s, want the user with its id and schemas only", show(res))
	}
	return nil
}

func rfcSearch(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	r, err := t.do("POST", "/Users/.search", obj{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
		"filter":  `userName eq "` + u.userName + `"`,
	})
	if err != nil {
		return err
	}
	if err := expect(r, "POST /Users/.search queries users with the filter in the body (RFC 7644 §3.4.3)", http.StatusOK); err != nil {
		return err
	}
	res, err := listResponse(r)
	if err != nil {
		return err
	}
	if len(res) != 1 || str(res[0], "id") != u.id {
		return failf(on(r), "POST /Users/.search found %s, want %q", quote(ids(res)), u.id)
	}
	return nil
}

func rfcInvalid(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	tests := []struct {
		what, method, path string
		body               any
		scimType           string
	}{
		{"a body that is not JSON", "POST", "/Users", `{"userName": `, "invalidSyntax"},
		{"a user without userName (required, RFC 7643 §4.1.1)", "POST", "/Users", obj{"schemas": []string{userURN}, "displayName": "no userName"}, "invalidValue"},
		{"a PATCH whose op is not add, remove or replace", "PATCH", "/Users/" + u.id, patchOp(op("frobnicate", "displayName", "x")), "invalidSyntax"},
	}
	for _, tt := range tests {
		r, err := t.do(tt.method, tt.path, tt.body)
		if err != nil {
			return err
		}
		if r.Status >= 500 {
			return failf(on(r), "%s answered %d: input the client controls is the client's error, never a server error; answer 400 with scimType %s (RFC 7644 §3.12)", tt.what, r.Status, tt.scimType)
		}
		if err := expect(r, tt.what+" is refused with 400 (RFC 7644 §3.12)", http.StatusBadRequest); err != nil {
			return err
		}
		m := r.Object()
		if m == nil || !slices.Contains(stringList(list(m, "schemas")), errorURN) {
			return failf(on(r), "the 400 for %s is not a SCIM error body (RFC 7644 §3.12)", tt.what)
		}
		if st := str(m, "scimType"); st == "" {
			return warnf(on(r), "the 400 for %s has no scimType: send %s, so that a client and an admin know what to fix (RFC 7644 §3.12)", tt.what, tt.scimType)
		}
	}
	r, m, err := t.read("/Users/"+u.id, "reading the user after the refused PATCH")
	if err != nil {
		return err
	}
	if str(m, "displayName") == "x" {
		return failf(on(r), "a refused PATCH changed the user: a PATCH applies all its operations or none (RFC 7644 §3.5.2)")
	}
	return nil
}

func rfcUnknownEndpoint(t *T) error {
	r, err := t.do("GET", "/"+t.s.name("NoSuchEndpoint"), nil)
	if err != nil {
		return err
	}
	if err := expect(r, "an unknown endpoint answers 404", http.StatusNotFound); err != nil {
		return err
	}
	if !slices.Contains(stringList(list(r.JSON(), "schemas")), errorURN) {
		return failf(on(r), "the 404 for an unknown endpoint is not a SCIM error body (RFC 7644 §3.12): clients show the detail to the admin")
	}
	r, err = t.do("DELETE", "/Users", nil)
	if err != nil {
		return err
	}
	if err := expect(r, "DELETE of the whole /Users collection is not a SCIM operation: answer 405 Method Not Allowed", http.StatusMethodNotAllowed); err != nil {
		return err
	}
	return nil
}

func rfcRenameUniqueness(t *T) error {
	users, err := t.setupUsers(2)
	if err != nil {
		return err
	}
	a, b := users[0], users[1]
	r, err := t.do("PATCH", "/Users/"+a.id, patchOp(op("replace", "userName", strings.ToUpper(b.userName))))
	if err != nil {
		return err
	}
	if err := expect(r, "renaming a user to another user's userName would make two users match one userName; refuse it with 409 (RFC 7644 §3.3)", http.StatusConflict); err != nil {
		return err
	}
	if st := str(r.JSON(), "scimType"); st != "uniqueness" {
		return failf(on(r), "the 409 has scimType %q, want uniqueness (RFC 7644 §3.3)", st)
	}
	gr, m, err := t.read("/Users/"+a.id, "reading the user after the refused rename")
	if err != nil {
		return err
	}
	if str(m, "userName") != a.userName {
		return failf(on(r, gr), "the refused rename changed userName to %q", str(m, "userName"))
	}
	upper := strings.ToUpper(a.userName)
	pr, err := t.patch("/Users/"+a.id, patchOp(op("replace", "userName", upper)), "a user whose userPrincipalName changes only in case is renamed; it conflicts with nobody")
	if err != nil {
		return err
	}
	gr, m, err = t.read("/Users/"+a.id, "reading the renamed user")
	if err != nil {
		return err
	}
	if str(m, "userName") != upper {
		return failf(on(pr, gr), "after the rename to %q userName reads %q: store it as sent", upper, str(m, "userName"))
	}
	return nil
}

// rfc9865 is RFC 9865, SCIM cursor-based pagination.
const rfc9865 = "https://www.rfc-editor.org/rfc/rfc9865"

func rfcCursorPaging(t *T) error {
	if get(t.spc(), "pagination", "cursor") != true {
		return skipf("ServiceProviderConfig does not advertise pagination.cursor: true (RFC 9865)")
	}
	tag := t.s.name("cur")
	var mine []string
	for i := range 11 {
		body := t.entraUser()
		body["userName"] = fmt.Sprintf("%s-%02d@%s", tag, i, t.s.domain)
		u, err := t.setupUser(body)
		if err != nil {
			return err
		}
		mine = append(mine, u.id)
	}
	base := "/Users?filter=" + url.QueryEscape(`userName sw "`+tag+`-"`) + "&count=5&cursor="
	why := "a client walks a cursor-paged list from an empty cursor, then by each page's nextCursor (RFC 9865, " + rfc9865 + ")"
	seen := map[string]int{} // id → page
	var pages [][]string
	var cursors []string // the cursor each page was asked with
	var last *Response
	cursor := ""
	for page := 0; ; page++ {
		if page == 10 {
			return failf(on(last), "the walk over 11 users five at a time still has a nextCursor after 10 pages: the last page has no nextCursor (RFC 9865, %s)", rfc9865)
		}
		r, res, err := t.query(base+url.QueryEscape(cursor), why)
		if err != nil {
			return err
		}
		last = r
		if len(res) > 5 {
			return failf(on(r), "page %d has %d users for count=5: a page holds at most count resources (RFC 9865, %s)", page, len(res), rfc9865)
		}
		got := ids(res)
		for _, id := range got {
			if p, dup := seen[id]; dup {
				return failf(on(r), "user %q is on page %d and again on page %d of a cursor walk: each resource is returned exactly once (RFC 9865, %s)", id, p, page, rfc9865)
			}
			seen[id] = page
		}
		pages = append(pages, got)
		cursors = append(cursors, cursor)
		next, _ := get(r.JSON(), "nextCursor").(string)
		if next == "" {
			break
		}
		cursor = next
	}
	var lost []string
	for _, id := range mine {
		if _, ok := seen[id]; !ok {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 || len(seen) != len(mine) {
		return failf(on(last), "the cursor walk returned %d users over %d pages and missed %s of the 11 the filter matches: each resource is returned exactly once (RFC 9865, %s)", len(seen), len(pages), quote(lost), rfc9865)
	}
	if len(pages) < 3 {
		return failf(on(last), "11 users five at a time came in %d pages, want 3 (RFC 9865, %s)", len(pages), rfc9865)
	}
	// The last page's previousCursor leads to the page before it.
	prev, _ := get(last.JSON(), "previousCursor").(string)
	if prev == "" {
		return failf(on(last), "the last page of a cursor walk has no previousCursor: a page after the first carries the cursor of the page before (RFC 9865, %s)", rfc9865)
	}
	pr, res, err := t.query(base+url.QueryEscape(prev), "a client goes back a page by its previousCursor (RFC 9865, "+rfc9865+")")
	if err != nil {
		return err
	}
	if want := pages[len(pages)-2]; !sameSet(ids(res), want) {
		return failf(on(last, pr), "the last page's previousCursor leads to %s, want the page before it, %s (RFC 9865, %s)", quote(ids(res)), quote(want), rfc9865)
	}
	// A cursor changed by one character is refused.
	tampered := []byte(cursors[1])
	i := len(tampered) / 2
	if tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	tr, err := t.do("GET", base+url.QueryEscape(string(tampered)), nil)
	if err != nil {
		return err
	}
	if err := expect(tr, "a cursor the server did not issue is refused with 400 invalidCursor (RFC 9865, "+rfc9865+")", http.StatusBadRequest); err != nil {
		return err
	}
	if st := str(tr.JSON(), "scimType"); st != "invalidCursor" {
		return failf(on(tr), "the 400 for a tampered cursor has scimType %q, want invalidCursor (RFC 9865, %s)", st, rfc9865)
	}
	return nil
}
