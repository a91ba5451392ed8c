package scim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oneUserStore is a Store holding one user, for rule cases that go through
// the Handler (package scim's tests cannot import memstore).
type oneUserStore struct{ u *User }

var _ Store = oneUserStore{}

func (s oneUserStore) CreateUser(context.Context, *User) (*User, error) { return nil, ErrUnsupported }
func (s oneUserStore) GetUser(_ context.Context, id string, _ Projection) (*User, error) {
	if id != s.u.ID {
		return nil, ErrNotFound
	}
	return s.u.Clone(), nil
}
func (s oneUserStore) ReplaceUser(context.Context, *User) (*User, error) { return nil, ErrUnsupported }
func (s oneUserStore) DeleteUser(context.Context, string) error          { return ErrUnsupported }
func (s oneUserStore) ListUsers(_ context.Context, q Query) (Page[*User], error) {
	if !MatchUser(q.Filter, s.u) {
		return Page[*User]{Resources: []*User{}}, nil
	}
	return Page[*User]{Resources: []*User{s.u.Clone()}, TotalResults: 1}, nil
}

// serveCase sends req to a Handler over oneUserStore and returns the
// response, or the SCIM error it carries as an *Error.
func serveCase(t *testing.T, strict bool, method, target string, header http.Header) (*httptest.ResponseRecorder, error) {
	t.Helper()
	h, err := NewHandler(oneUserStore{entraUser()}, Options{Strict: strict})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequestWithContext(t.Context(), method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code < 400 {
		return w, nil
	}
	var body struct {
		Status   string
		ScimType string
		Detail   string
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w, &Error{Status: w.Code, Type: ErrorType(body.ScimType), Detail: body.Detail}
}

func init() {
	ruleCases[ruleEndpointCase] = []ruleCase{
		{name: "GET /users", run: func(t *testing.T, strict bool) error {
			w, err := serveCase(t, strict, "GET", "/users?filter=userName+eq+%22bjensen@contoso.com%22", nil)
			if err == nil && !strings.Contains(w.Body.String(), `"totalResults":1`) {
				t.Errorf("body %s", w.Body)
			}
			return err
		}, strict: "no SCIM endpoint at /users", strictStatus: 404},
		{name: "GET /USERS/{id}", run: func(t *testing.T, strict bool) error {
			_, err := serveCase(t, strict, "GET", "/USERS/"+entraUser().ID, nil)
			return err
		}, strict: "no SCIM endpoint", strictStatus: 404},
		{name: "/serviceproviderconfig", run: func(t *testing.T, strict bool) error {
			_, err := serveCase(t, strict, "GET", "/serviceproviderconfig", nil)
			return err
		}, strict: "no SCIM endpoint", strictStatus: 404},
	}
	ruleCases[ruleAttributesFilter] = []ruleCase{
		{name: `attributes=emails[type eq "work"]`, run: func(t *testing.T, strict bool) error {
			w, err := serveCase(t, strict, "GET", "/Users?attributes=emails%5Btype+eq+%22work%22%5D", nil)
			if err == nil {
				b := w.Body.String()
				if !strings.Contains(b, `"emails":[{"value":"bjensen@contoso.com"`) || strings.Contains(b, `"userName"`) {
					t.Errorf("body %s", b)
				}
			}
			return err
		}, strict: "compatibility rule attributes-value-filter"},
		{name: "a sub-attribute after the filter", run: func(t *testing.T, strict bool) error {
			p, err := projectionOf([]string{`emails[type eq "work"].value`}, []string{`phoneNumbers[type eq "fax"]`}, strict)
			if err == nil {
				want := Projection{Attributes: []AttrPath{{Name: "emails", Sub: "value"}}, Excluded: []AttrPath{{Name: "phoneNumbers"}}}
				if diff := cmp.Diff(want, p); diff != "" {
					t.Errorf("projection (-want +got):\n%s", diff)
				}
			}
			return err
		}, strict: "is not an attribute path"},
	}
	ruleCases[ruleMemberBareID] = []ruleCase{
		{name: "add", run: patchGroupCase(patchBody(`{"op":"add","path":"members","value":"string id 1"}`), wantMembers("u1091", "7f4bc1a3-285e-48ae-8202-5accb43efb0e", "f648f8d5ea4e4cd38e9c", "string id 1")), strict: "bare member id"},
		{name: "the fast path reads it too", run: func(t *testing.T, strict bool) error {
			opt := patchOptions{decode: decodeOptions{strict: strict}}
			ops, err := parsePatch(patchBody(`{"op":"add","path":"members","value":"u2"}`), opt)
			if err != nil {
				return err
			}
			mp, ok, err := memberPatchOf(ops, opt)
			if err == nil && (!ok || !cmp.Equal(mp.Add, []Member{{Value: "u2"}})) {
				t.Errorf("member patch %+v, %v", mp, ok)
			}
			return err
		}, strict: ruleMemberBareID},
	}
	ruleCases[ruleMemberDisplayName] = []ruleCase{
		{name: "Microsoft's reference add", run: patchGroupCase(patchBody(`{"name":"addMember","op":"add","path":"members","value":[{"displayName":"new User","value":"u2"}]}`), func(t *testing.T, g *Group) {
			if m := g.Members[len(g.Members)-1]; m != (Member{Value: "u2", Display: "new User"}) {
				t.Errorf("member %+v", m)
			}
		}), strict: ruleMemberDisplayName},
		{name: "display wins when both are sent", run: func(t *testing.T, strict bool) error {
			g, err := decodeGroup([]byte(`{"displayName":"G","members":[{"value":"u2","display":"D","displayName":""}]}`), decodeOptions{strict: strict})
			if err == nil && g.Members[0].Display != "D" {
				t.Errorf("members %+v", g.Members)
			}
			return err
		}, strict: ruleMemberDisplayName},
	}
	ruleCases[ruleSingleObject] = []ruleCase{
		{name: "OneLogin's emails", run: decodeCase(`{"userName":"x","emails":{"value":"x@contoso.com","type":"work","primary":true}}`, func(t *testing.T, u *User) {
			if !cmp.Equal(u.Emails, []MultiValue{{Value: "x@contoso.com", Type: "work", Primary: true}}) {
				t.Errorf("emails %+v", u.Emails)
			}
		}), strict: ruleSingleObject},
		{name: "a PATCH add", run: patchUserCase(patchBody(`{"op":"add","path":"phoneNumbers","value":{"value":"555","type":"mobile"}}`), wantUser(func(u *User) {
			u.PhoneNumbers = append(u.PhoneNumbers, MultiValue{Value: "555", Type: "mobile"})
		})), strict: "found a single object"},
	}
	ruleCases[ruleLegacyEnterprise] = []ruleCase{
		{name: "OneLogin's enterprise object", run: decodeCase(`{"schemas":["urn:scim:schemas:core:2.0","urn:scim:schemas:extension:enterprise:2.0"],"userName":"x","urn:scim:schemas:extension:enterprise:2.0":{"department":"Sales","manager":{"managerId":"271"}}}`, func(t *testing.T, u *User) {
			want := &EnterpriseUser{Department: "Sales", Manager: &Manager{Value: "271"}}
			if diff := cmp.Diff(want, u.Enterprise); diff != "" || u.Extra != nil {
				t.Errorf("enterprise (-want +got):\n%s; extra %v", diff, u.Extra)
			}
			out := string(appendUser(nil, u, Projection{}, ""))
			if strings.Contains(out, "urn:scim:") || !strings.Contains(out, `"`+EnterpriseUserSchema+`":{"department":"Sales"`) {
				t.Errorf("encoded %s", out)
			}
		}), strict: ruleLegacyEnterprise},
		{name: "a PATCH path", run: patchUserCase(patchBody(`{"op":"replace","path":"urn:scim:schemas:extension:enterprise:2.0:department","value":"Sales"}`), wantUser(func(u *User) {
			u.Enterprise.Department = "Sales"
		})), strict: ruleLegacyEnterprise},
	}
	ruleCases[ruleManagerShapes] = append(ruleCases[ruleManagerShapes],
		ruleCase{name: "OneLogin's managerId", run: decodeCase(`{"userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"managerId":"271"}}}`, func(t *testing.T, u *User) {
			if u.Enterprise.Manager.Value != "271" {
				t.Errorf("manager %+v", u.Enterprise.Manager)
			}
		}), strict: "managerId"},
		ruleCase{name: "the path manager.managerId", run: patchUserCase(patchBody(`{"op":"replace","path":"manager.managerId","value":"271"}`), wantUser(func(u *User) {
			u.Enterprise.Manager = &Manager{Value: "271"}
		})), strict: "managerId"},
	)
	ruleCases[ruleAcceptJSON] = []ruleCase{
		{name: "Accept: application/json", run: func(t *testing.T, strict bool) error {
			w, err := serveCase(t, strict, "GET", "/Users/"+entraUser().ID, http.Header{"Accept": {"application/json"}})
			if ct := w.Header().Get("Content-Type"); err == nil && ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			return err
		}},
		{name: "errors too", run: func(t *testing.T, strict bool) error {
			w, _ := serveCase(t, strict, "GET", "/Users/nobody", http.Header{"Accept": {"application/json;q=0.9, text/plain"}})
			if ct := w.Header().Get("Content-Type"); w.Code != 404 || ct != "application/json" {
				t.Errorf("%d, Content-Type %q", w.Code, ct)
			}
			return nil
		}},
		{name: "scim+json is preferred when both are named", run: func(t *testing.T, strict bool) error {
			w, err := serveCase(t, strict, "GET", "/Users/"+entraUser().ID, http.Header{"Accept": {"application/json, application/scim+json"}})
			if ct := w.Header().Get("Content-Type"); err == nil && ct != contentType {
				t.Errorf("Content-Type %q", ct)
			}
			return err
		}},
	}
	ruleCases[ruleFlatExtension] = []ruleCase{
		{name: "a flat custom attribute in a POST", run: decodeCase(`{"userName":"x","urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:costCenter":"42","urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:site":"Oslo"}`, func(t *testing.T, u *User) {
			want := map[string]json.RawMessage{"urn:ietf:params:scim:schemas:extension:Contoso:2.0:User": json.RawMessage(`{"costCenter":"42","site":"Oslo"}`)}
			if diff := cmp.Diff(want, u.Extra); diff != "" {
				t.Errorf("extra (-want +got):\n%s", diff)
			}
		})},
		{name: "the same as a PATCH of the path", run: func(t *testing.T, strict bool) error {
			posted, err := decodeUser([]byte(`{"userName":"x","urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:costCenter":"42"}`), decodeOptions{strict: strict})
			if err != nil {
				return err
			}
			patched := &User{UserName: "x", Active: true}
			if err := ApplyPatchForTest(patched, patchBody(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:costCenter","value":"42"}`), strict); err != nil {
				return err
			}
			if diff := cmp.Diff(patched, posted); diff != "" {
				t.Errorf("POST and PATCH differ (-patch +post):\n%s", diff)
			}
			return nil
		}},
		{name: "an extension object is kept as it is", run: decodeCase(`{"userName":"x","urn:ietf:params:scim:schemas:extension:Contoso:2.0:User":{"costCenter":"42"}}`, func(t *testing.T, u *User) {
			if got := string(u.Extra["urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"]); got != `{"costCenter":"42"}` {
				t.Errorf("extra %v", u.Extra)
			}
		})},
	}
}
