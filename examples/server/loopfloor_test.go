package main

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/sqlstore"
)

// The loopback floor: a SCIM server that does the least real work for the
// requests of BenchmarkLoopbackEntraMix and writes the same status,
// headers and bytes as the demo (checkSameBytes compares them, ids, times,
// versions and ports aside). It checks the bearer token, parses the
// request, and reads or writes the user in a map (memory) or with one SQL
// statement on an indexed table (SQLite, PostgreSQL; adding a member takes
// two: bump the group's version, insert the pair). It has no request log,
// no provisioning log, no events, no schema checks: what it skips is what
// the demo's ratio to it measures.

// loopUser is a user as the floor keeps it: the attributes Entra ID sends.
type loopUser struct {
	id, externalID, userName, displayName, title string
	formatted, familyName, givenName             string
	email, emailType                             string
	emailPrimary, active                         bool
	department                                   string
	created, modified                            int64 // Unix milliseconds
	version                                      int64
	body                                         []byte // the encoded user, kept by the memory floor
}

// loopGroup is a group as the floor keeps it (its members apart).
type loopGroup struct {
	id, externalID, displayName string
	created, modified, version  int64
}

// loopFloorData is where the floor keeps users and groups. A nil user or
// group with a nil error is "not found"; errConflict is a taken name.
type loopFloorData interface {
	userByID(ctx context.Context, id string) (*loopUser, error)
	userByName(ctx context.Context, lowerName string) (*loopUser, error)
	createUser(ctx context.Context, u *loopUser) error
	patchUser(ctx context.Context, id string, title *string, active *bool, modified int64) (*loopUser, error)
	createGroup(ctx context.Context, g *loopGroup) error
	groupByName(ctx context.Context, lowerName string) (*loopGroup, error)
	// addMember returns the group's new version; false if there is no
	// such group.
	addMember(ctx context.Context, groupID, userID string, modified int64) (int64, bool, error)
}

var errConflict = errors.New("name taken")

// loopFloor is the floor's handler, mounted at /scim/v2.
type loopFloor struct {
	token string
	base  string // the absolute base URL, for meta.location
	data  loopFloorData
}

func (f *loopFloor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, ok := strings.CutPrefix(r.URL.Path, "/scim/v2/")
	auth := r.Header["Authorization"]
	if !ok || len(auth) != 1 || subtle.ConstantTimeCompare([]byte(auth[0]), []byte("Bearer "+f.token)) != 1 {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	ctx := r.Context()
	kind, id, _ := strings.Cut(p, "/")
	switch {
	case kind == "Users" && id == "" && r.Method == http.MethodGet:
		f.listUsers(ctx, w, r)
	case kind == "Users" && id == "" && r.Method == http.MethodPost:
		f.createUser(ctx, w, r)
	case kind == "Users" && r.Method == http.MethodGet:
		u, err := f.data.userByID(ctx, id)
		if !f.found(w, u != nil, err) {
			return
		}
		f.writeUser(w, 200, u)
	case kind == "Users" && r.Method == http.MethodPatch:
		f.patchUser(ctx, w, r, id)
	case kind == "Groups" && id == "" && r.Method == http.MethodGet:
		f.listGroups(ctx, w, r)
	case kind == "Groups" && id == "" && r.Method == http.MethodPost:
		f.createGroup(ctx, w, r)
	case kind == "Groups" && r.Method == http.MethodPatch:
		f.addMembers(ctx, w, r, id)
	default:
		http.Error(w, "not served", http.StatusNotFound)
	}
}

// found answers 404 or 500 unless ok and err is nil.
func (f *loopFloor) found(w http.ResponseWriter, ok bool, err error) bool {
	switch {
	case err != nil:
		http.Error(w, "store error", http.StatusInternalServerError)
		return false
	case !ok:
		http.Error(w, "not found", http.StatusNotFound)
		return false
	}
	return true
}

func loopWrite(w http.ResponseWriter, status int, version int64, body []byte) {
	hd := w.Header()
	if version != 0 {
		hd["Etag"] = []string{`W/"` + strconv.FormatInt(version, 10) + `"`}
	}
	hd["Content-Type"] = []string{"application/scim+json"}
	hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

func (f *loopFloor) writeUser(w http.ResponseWriter, status int, u *loopUser) {
	body := u.body
	if body == nil {
		bp := floorBufs.Get().(*[]byte)
		body = f.encodeUser((*bp)[:0], u)
		defer func() { *bp = body; floorBufs.Put(bp) }()
	}
	loopWrite(w, status, u.version, body)
}

var floorBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// filterValue returns the value of `filter=<attr> eq "<value>"` in the
// query, and whether excludedAttributes=members came with it.
func filterValue(rawQuery, attr string) (value string, noMembers, ok bool) {
	for part := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		v, err := url.QueryUnescape(v)
		if err != nil {
			return "", false, false
		}
		switch k {
		case "excludedAttributes":
			noMembers = v == "members"
		case "filter":
			a, q, found := strings.Cut(v, " eq ")
			if !found || !strings.EqualFold(a, attr) || len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
				return "", false, false
			}
			value, ok = q[1:len(q)-1], true
		}
	}
	return value, noMembers, ok
}

const listHead = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":`

func (f *loopFloor) listUsers(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	name, _, ok := filterValue(r.URL.RawQuery, "userName")
	if !ok {
		http.Error(w, "unsupported query", http.StatusBadRequest)
		return
	}
	u, err := f.data.userByName(ctx, strings.ToLower(name))
	if !f.found(w, true, err) {
		return
	}
	bp := floorBufs.Get().(*[]byte)
	b := append((*bp)[:0], listHead...)
	if u != nil {
		b = append(b, `1,"startIndex":1,"itemsPerPage":1,"Resources":[`...)
		if u.body != nil {
			b = append(b, u.body...)
		} else {
			b = f.encodeUser(b, u)
		}
	} else {
		b = append(b, `0,"startIndex":1,"itemsPerPage":0,"Resources":[`...)
	}
	b = append(b, "]}"...)
	loopWrite(w, 200, 0, b)
	*bp = b
	floorBufs.Put(bp)
}

func (f *loopFloor) listGroups(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	name, noMembers, ok := filterValue(r.URL.RawQuery, "displayName")
	if !ok || !noMembers {
		http.Error(w, "unsupported query", http.StatusBadRequest)
		return
	}
	g, err := f.data.groupByName(ctx, strings.ToLower(name))
	if !f.found(w, true, err) {
		return
	}
	b := []byte(listHead)
	if g != nil {
		b = append(b, `1,"startIndex":1,"itemsPerPage":1,"Resources":[`...)
		b = f.encodeGroup(b, g, false)
	} else {
		b = append(b, `0,"startIndex":1,"itemsPerPage":0,"Resources":[`...)
	}
	loopWrite(w, 200, 0, append(b, "]}"...))
}

// entraUser is the body of Entra ID's POST /Users.
type entraUser struct {
	ExternalID  string `json:"externalId"`
	UserName    string `json:"userName"`
	Active      *bool  `json:"active"`
	DisplayName string `json:"displayName"`
	Title       string `json:"title"`
	Emails      []struct {
		Primary bool   `json:"primary"`
		Type    string `json:"type"`
		Value   string `json:"value"`
	} `json:"emails"`
	Name struct {
		Formatted  string `json:"formatted"`
		FamilyName string `json:"familyName"`
		GivenName  string `json:"givenName"`
	} `json:"name"`
	Enterprise struct {
		Department string `json:"department"`
	} `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
}

func nowMillis() int64 { return time.Now().UnixMilli() }

func (f *loopFloor) createUser(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	var in entraUser
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.UserName == "" || len(in.Emails) > 1 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	now := nowMillis()
	u := &loopUser{id: scim.NewID(), externalID: in.ExternalID, userName: in.UserName, displayName: in.DisplayName,
		title: in.Title, formatted: in.Name.Formatted, familyName: in.Name.FamilyName, givenName: in.Name.GivenName,
		active: in.Active == nil || *in.Active, department: in.Enterprise.Department, created: now, modified: now}
	if len(in.Emails) == 1 {
		u.email, u.emailType, u.emailPrimary = in.Emails[0].Value, in.Emails[0].Type, in.Emails[0].Primary
	}
	err := f.data.createUser(ctx, u)
	if errors.Is(err, errConflict) {
		http.Error(w, "conflict", http.StatusConflict)
		return
	}
	if !f.found(w, true, err) {
		return
	}
	w.Header()["Location"] = []string{f.base + "/Users/" + u.id}
	f.writeUser(w, 201, u)
}

// loopPatch is a PATCH body as the floor decodes it.
type loopPatch struct {
	Operations []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	} `json:"Operations"`
}

// patchUser applies replace operations on title and active.
func (f *loopFloor) patchUser(ctx context.Context, w http.ResponseWriter, r *http.Request, id string) {
	var p loopPatch
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || len(p.Operations) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var title *string
	var active *bool
	for _, op := range p.Operations {
		var err error
		switch {
		case !strings.EqualFold(op.Op, "replace"):
			err = errors.New("unsupported")
		case op.Path == "title":
			title = new(string)
			err = json.Unmarshal(op.Value, title)
		case op.Path == "active":
			active = new(bool)
			err = json.Unmarshal(op.Value, active)
		default:
			err = errors.New("unsupported")
		}
		if err != nil {
			http.Error(w, "unsupported operation", http.StatusBadRequest)
			return
		}
	}
	u, err := f.data.patchUser(ctx, id, title, active, nowMillis())
	if !f.found(w, u != nil, err) {
		return
	}
	f.writeUser(w, 200, u)
}

func (f *loopFloor) createGroup(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	var in struct {
		ExternalID  string            `json:"externalId"`
		DisplayName string            `json:"displayName"`
		Members     []json.RawMessage `json:"members"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.DisplayName == "" || len(in.Members) > 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	now := nowMillis()
	g := &loopGroup{id: scim.NewID(), externalID: in.ExternalID, displayName: in.DisplayName, created: now, modified: now}
	err := f.data.createGroup(ctx, g)
	if errors.Is(err, errConflict) {
		http.Error(w, "conflict", http.StatusConflict)
		return
	}
	if !f.found(w, true, err) {
		return
	}
	w.Header()["Location"] = []string{f.base + "/Groups/" + g.id}
	loopWrite(w, 201, g.version, f.encodeGroup(nil, g, true))
}

// addMembers applies one add of one member, and answers 204 as the demo
// does.
func (f *loopFloor) addMembers(ctx context.Context, w http.ResponseWriter, r *http.Request, id string) {
	var p loopPatch
	var members []struct {
		Value string `json:"value"`
	}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || len(p.Operations) != 1 ||
		!strings.EqualFold(p.Operations[0].Op, "add") || p.Operations[0].Path != "members" ||
		json.Unmarshal(p.Operations[0].Value, &members) != nil || len(members) != 1 {
		http.Error(w, "unsupported operation", http.StatusBadRequest)
		return
	}
	version, ok, err := f.data.addMember(ctx, id, members[0].Value, nowMillis())
	if !f.found(w, ok, err) {
		return
	}
	w.Header()["Etag"] = []string{`W/"` + strconv.FormatInt(version, 10) + `"`}
	w.WriteHeader(http.StatusNoContent)
}

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// encodeUser appends u as the demo writes it.
func (f *loopFloor) encodeUser(b []byte, u *loopUser) []byte {
	b = append(b, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"`...)
	if u.department != "" {
		b = append(b, `,"`+enterpriseURN+`"`...)
	}
	b = append(b, `],"id":`...)
	b = loopString(b, u.id)
	b = loopField(b, "externalId", u.externalID)
	b = loopField(b, "userName", u.userName)
	if u.formatted != "" || u.familyName != "" || u.givenName != "" {
		b = append(b, `,"name":{`...)
		n := len(b)
		for _, kv := range [...][2]string{{"formatted", u.formatted}, {"familyName", u.familyName}, {"givenName", u.givenName}} {
			b = loopField(b, kv[0], kv[1])
		}
		b = append(append(b[:n], b[n+1:]...), '}') // the first field's comma
	}
	b = loopField(b, "displayName", u.displayName)
	b = loopField(b, "title", u.title)
	b = append(b, `,"active":`...)
	b = strconv.AppendBool(b, u.active)
	if u.email != "" {
		b = append(b, `,"emails":[{"value":`...)
		b = loopString(b, u.email)
		b = loopField(b, "type", u.emailType)
		if u.emailPrimary {
			b = append(b, `,"primary":true`...)
		}
		b = append(b, "}]"...)
	}
	if u.department != "" {
		b = append(b, `,"`+enterpriseURN+`":{"department":`...)
		b = append(loopString(b, u.department), '}')
	}
	return f.meta(b, "User", u.id, u.created, u.modified, u.version)
}

// encodeGroup appends g as the demo writes it: with an empty members
// list after a create, without members when they are excluded.
func (f *loopFloor) encodeGroup(b []byte, g *loopGroup, members bool) []byte {
	b = append(b, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":`...)
	b = loopString(b, g.id)
	b = loopField(b, "externalId", g.externalID)
	b = loopField(b, "displayName", g.displayName)
	if members {
		b = append(b, `,"members":[]`...)
	}
	return f.meta(b, "Group", g.id, g.created, g.modified, g.version)
}

func (f *loopFloor) meta(b []byte, kind, id string, created, modified, version int64) []byte {
	b = append(b, `,"meta":{"resourceType":"`+kind+`","created":"`...)
	b = time.UnixMilli(created).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","lastModified":"`...)
	b = time.UnixMilli(modified).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","location":"`...)
	b = append(b, f.base...)
	b = append(b, "/"+kind+"s/"...)
	b = append(b, id...)
	b = append(b, `","version":"W/\"`...)
	b = strconv.AppendInt(b, version, 10)
	return append(b, `\""}}`...)
}

// loopField appends `,"k":"v"` unless v is empty.
func loopField(b []byte, k, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return loopString(b, v)
}

// loopString appends v as a JSON string: as is when nothing needs
// escaping, else through encoding/json (which escapes as the demo does).
func loopString(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			e, _ := json.Marshal(v)
			return append(b, e...)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// ---- in memory ----

// loopMemory keeps the floor's data in maps, each user beside its
// encoded body, so that a read is a lookup and a copy.
type loopMemory struct {
	f       *loopFloor
	mu      sync.RWMutex
	users   map[string]*loopUser
	byName  map[string]*loopUser
	groups  map[string]*loopGroup
	gByName map[string]*loopGroup
	members map[[2]string]bool
	seq     atomic.Int64
}

func newLoopMemory(f *loopFloor) *loopMemory {
	return &loopMemory{f: f, users: map[string]*loopUser{}, byName: map[string]*loopUser{},
		groups: map[string]*loopGroup{}, gByName: map[string]*loopGroup{}, members: map[[2]string]bool{}}
}

func (m *loopMemory) userByID(_ context.Context, id string) (*loopUser, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.users[id], nil
}

func (m *loopMemory) userByName(_ context.Context, name string) (*loopUser, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.byName[name], nil
}

func (m *loopMemory) createUser(_ context.Context, u *loopUser) error {
	key := strings.ToLower(u.userName)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byName[key] != nil {
		return errConflict
	}
	u.version = m.seq.Add(1)
	u.body = m.f.encodeUser(nil, u)
	m.users[u.id], m.byName[key] = u, u
	return nil
}

func (m *loopMemory) patchUser(_ context.Context, id string, title *string, active *bool, modified int64) (*loopUser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.users[id]
	if old == nil {
		return nil, nil
	}
	u := *old
	if title != nil {
		u.title = *title
	}
	if active != nil {
		u.active = *active
	}
	u.modified, u.version = max(modified, old.modified+1), m.seq.Add(1)
	u.body = m.f.encodeUser(nil, &u)
	m.users[id], m.byName[strings.ToLower(u.userName)] = &u, &u
	return &u, nil
}

func (m *loopMemory) createGroup(_ context.Context, g *loopGroup) error {
	key := strings.ToLower(g.displayName)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gByName[key] != nil {
		return errConflict
	}
	g.version = m.seq.Add(1)
	m.groups[g.id], m.gByName[key] = g, g
	return nil
}

func (m *loopMemory) groupByName(_ context.Context, name string) (*loopGroup, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if g := m.gByName[name]; g != nil {
		c := *g
		return &c, nil
	}
	return nil, nil
}

func (m *loopMemory) addMember(_ context.Context, groupID, userID string, modified int64) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.groups[groupID]
	if g == nil || m.users[userID] == nil {
		return 0, false, nil
	}
	m.members[[2]string{groupID, userID}] = true
	g.modified, g.version = max(modified, g.modified+1), m.seq.Add(1)
	return g.version, true, nil
}

// ---- in SQL ----

// loopSQL keeps the floor's data in three indexed tables, a statement a
// request (two to add a member), each statement prepared once, as a server
// that cares for its database's CPU prepares them (sqlstore keeps its
// statements prepared too).
type loopSQL struct {
	db      *sql.DB
	dialect sqlstore.Dialect
	stmts   sync.Map // statement text → *sql.Stmt
	// writes serializes SQLite's writes, one writer at a time as the
	// database allows (and as sqlstore does), instead of letting them
	// spin in busy_timeout.
	writes sync.Mutex
}

// write holds the write lock on SQLite.
func (s *loopSQL) write() func() {
	if s.dialect != sqlstore.SQLite {
		return func() {}
	}
	s.writes.Lock()
	return s.writes.Unlock
}

const loopUserColumns = `id, external_id, user_name, display_name, title, formatted, family_name, given_name,
	email, email_type, email_primary, active, department, created, modified, version`

func newLoopSQL(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect) (*loopSQL, error) {
	s := &loopSQL{db: db, dialect: dialect}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS floor_users (id TEXT PRIMARY KEY, user_name_lower TEXT NOT NULL UNIQUE,
			external_id TEXT NOT NULL, user_name TEXT NOT NULL, display_name TEXT NOT NULL, title TEXT NOT NULL,
			formatted TEXT NOT NULL, family_name TEXT NOT NULL, given_name TEXT NOT NULL, email TEXT NOT NULL,
			email_type TEXT NOT NULL, email_primary BOOLEAN NOT NULL, active BOOLEAN NOT NULL, department TEXT NOT NULL,
			created BIGINT NOT NULL, modified BIGINT NOT NULL, version BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS floor_groups (id TEXT PRIMARY KEY, name_lower TEXT NOT NULL UNIQUE,
			external_id TEXT NOT NULL, display_name TEXT NOT NULL, created BIGINT NOT NULL, modified BIGINT NOT NULL,
			version BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS floor_members (group_id TEXT NOT NULL, user_id TEXT NOT NULL,
			PRIMARY KEY (group_id, user_id))`,
	}
	if dialect == sqlstore.SQLite {
		stmts = append(stmts, "PRAGMA journal_mode=WAL") // as sqlstore.Open sets it
	}
	for _, stmt := range stmts {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// q returns the statement prepared, its $n placeholders written as the
// dialect wants them.
func (s *loopSQL) q(ctx context.Context, text string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(text); ok {
		return st.(*sql.Stmt), nil
	}
	q := text
	if s.dialect == sqlstore.SQLite {
		q = strings.ReplaceAll(text, "$", "?")
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if old, loaded := s.stmts.LoadOrStore(text, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// queryRow is QueryRowContext on the prepared statement.
func (s *loopSQL) queryRow(ctx context.Context, text string, args ...any) (*sql.Row, error) {
	st, err := s.q(ctx, text)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

// exec is ExecContext on the prepared statement.
func (s *loopSQL) exec(ctx context.Context, text string, args ...any) error {
	st, err := s.q(ctx, text)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

func scanLoopUser(row *sql.Row, err error) (*loopUser, error) {
	if err != nil {
		return nil, err
	}
	var u loopUser
	err = row.Scan(&u.id, &u.externalID, &u.userName, &u.displayName, &u.title, &u.formatted, &u.familyName,
		&u.givenName, &u.email, &u.emailType, &u.emailPrimary, &u.active, &u.department, &u.created, &u.modified, &u.version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &u, err
}

func (s *loopSQL) userByID(ctx context.Context, id string) (*loopUser, error) {
	return scanLoopUser(s.queryRow(ctx, `SELECT `+loopUserColumns+` FROM floor_users WHERE id = $1`, id))
}

func (s *loopSQL) userByName(ctx context.Context, name string) (*loopUser, error) {
	return scanLoopUser(s.queryRow(ctx, `SELECT `+loopUserColumns+` FROM floor_users WHERE user_name_lower = $1`, name))
}

// isConflict reports a unique violation, in either dialect's words.
func isConflict(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "23505"))
}

func (s *loopSQL) createUser(ctx context.Context, u *loopUser) error {
	defer s.write()()
	u.version = 1
	err := s.exec(ctx, `INSERT INTO floor_users (user_name_lower, `+loopUserColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		strings.ToLower(u.userName), u.id, u.externalID, u.userName, u.displayName, u.title, u.formatted, u.familyName,
		u.givenName, u.email, u.emailType, u.emailPrimary, u.active, u.department, u.created, u.modified, u.version)
	if isConflict(err) {
		return errConflict
	}
	return err
}

func (s *loopSQL) patchUser(ctx context.Context, id string, title *string, active *bool, modified int64) (*loopUser, error) {
	var t sql.NullString
	var a sql.NullBool
	if title != nil {
		t = sql.NullString{String: *title, Valid: true}
	}
	if active != nil {
		a = sql.NullBool{Bool: *active, Valid: true}
	}
	defer s.write()()
	return scanLoopUser(s.queryRow(ctx, `UPDATE floor_users SET title = COALESCE($1, title),
		active = COALESCE($2, active), modified = $3, version = version + 1 WHERE id = $4 RETURNING `+loopUserColumns,
		t, a, modified, id))
}

func (s *loopSQL) createGroup(ctx context.Context, g *loopGroup) error {
	defer s.write()()
	g.version = 1
	err := s.exec(ctx, `INSERT INTO floor_groups (id, name_lower, external_id, display_name, created, modified, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, g.id, strings.ToLower(g.displayName), g.externalID, g.displayName, g.created, g.modified, g.version)
	if isConflict(err) {
		return errConflict
	}
	return err
}

func (s *loopSQL) groupByName(ctx context.Context, name string) (*loopGroup, error) {
	var g loopGroup
	row, err := s.queryRow(ctx, `SELECT id, external_id, display_name, created, modified, version FROM floor_groups WHERE name_lower = $1`, name)
	if err != nil {
		return nil, err
	}
	err = row.Scan(&g.id, &g.externalID, &g.displayName, &g.created, &g.modified, &g.version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &g, err
}

func (s *loopSQL) addMember(ctx context.Context, groupID, userID string, modified int64) (int64, bool, error) {
	defer s.write()()
	var version int64
	row, err := s.queryRow(ctx, `UPDATE floor_groups SET modified = $1, version = version + 1 WHERE id = $2 RETURNING version`, modified, groupID)
	if err != nil {
		return 0, false, err
	}
	err = row.Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	err = s.exec(ctx, `INSERT INTO floor_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, groupID, userID)
	return version, err == nil, err
}
