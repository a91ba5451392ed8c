package scim

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// The filters below are built by hand, so that these tests pin the
// evaluator alone; filter strings in the row names say what each one is.

// ap splits "urn:...:name.sub" into an AttrPath.
func ap(s string) AttrPath {
	var p AttrPath
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		i := strings.LastIndexByte(s, ':')
		p.URN, s = s[:i], s[i+1:]
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, p.Sub = s[:i], s[i+1:]
	}
	p.Name = s
	return p
}

func str(s string) Value { return Value{Kind: KindString, Text: s} }
func num(s string) Value { return Value{Kind: KindNumber, Text: s} }
func boolean(b bool) Value {
	if b {
		return Value{Kind: KindBool, Text: "true"}
	}
	return Value{Kind: KindBool, Text: "false"}
}

var null = Value{Kind: KindNull}

func expr(path string, op Operator, v Value) Filter {
	return &AttrExpr{Path: ap(path), Op: op, Value: v}
}
func eq(path, v string) Filter        { return expr(path, OpEq, str(v)) }
func pr(path string) Filter           { return &AttrExpr{Path: ap(path), Op: OpPr} }
func and(l, r Filter) Filter          { return &LogicalExpr{Op: OpAnd, Left: l, Right: r} }
func or(l, r Filter) Filter           { return &LogicalExpr{Op: OpOr, Left: l, Right: r} }
func not(f Filter) Filter             { return &NotExpr{Filter: f} }
func vp(path string, f Filter) Filter { return &ValuePathExpr{Path: ap(path), Filter: f} }

const (
	acme    = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"
	ent     = EnterpriseUserSchema
	bjensID = "2819c223-7f76-453a-919d-413861904646"
	mgrID   = "26118915-6090-4610-87e4-49d8ca9f808d"
	groupID = "e9e30dba-f08f-4109-8486-d5c6a331660a"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// bjensen is RFC 7643 §8.2's full user, with a custom extension and other
// attributes the model does not name.
func bjensen() *User {
	return &User{
		ID:         bjensID,
		ExternalID: "bjensen-ext",
		UserName:   "bjensen@example.com",
		Name: Name{
			Formatted:  "Ms. Barbara J Jensen III",
			FamilyName: "Jensen",
			GivenName:  "Barbara",
		},
		DisplayName: "Babs Jensen",
		NickName:    "Babs",
		Title:       "Tour Guide",
		UserType:    "Employee",
		Active:      true,
		Password:    "t1meMa$heen",
		Emails: []MultiValue{
			{Value: "bjensen@example.com", Type: "work", Primary: true},
			{Value: "babs@jensen.org", Type: "home"},
		},
		PhoneNumbers: []MultiValue{{Value: "555-555-5555", Type: "work"}},
		Addresses: []Address{
			{Type: "work", StreetAddress: "100 Universal City Plaza", Locality: "Hollywood", Region: "CA", PostalCode: "91608", Country: "USA", Primary: true},
			{Type: "home", PostalCode: "91609"},
		},
		Groups: []GroupRef{{Value: groupID, Display: "Tour Guides", Type: "direct"}},
		Enterprise: &EnterpriseUser{
			EmployeeNumber: "701984",
			CostCenter:     "4130",
			Organization:   "Universal Studios",
			Division:       "Theme Park",
			Department:     "Tour Operations",
			Manager:        &Manager{Value: mgrID, DisplayName: "John Smith"},
		},
		Extra: map[string]json.RawMessage{
			acme:            json.RawMessage(`{"costCode":"CC-17","level":7,"remote":true,"badges":[{"type":"gold","value":"B1"},{"type":"silver","value":"B2"}]}`),
			"favoriteColor": json.RawMessage(`"Blue"`),
			"luckyNumbers":  json.RawMessage(`[3, 7, 42]`),
			"nothing":       json.RawMessage(`null`),
			"emptyList":     json.RawMessage(`[]`),
			"broken":        json.RawMessage(`{"value":`),
			"urn:ietf:params:scim:schemas:extension:Other:2.0:User:shoeSize": json.RawMessage(`44`),
		},
		Meta: Meta{
			Created:      mustTime("2010-01-23T04:56:22Z"),
			LastModified: mustTime("2011-05-13T04:42:34Z"),
			Version:      "a330bc54f0671c9",
		},
	}
}

type matchCase struct {
	name string
	f    Filter
	want bool
}

func runMatchUser(t *testing.T, u *User, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := u.Clone()
			if got := MatchUser(tc.f, u); got != tc.want {
				t.Errorf("MatchUser = %v, want %v", got, tc.want)
			}
			if diff := cmp.Diff(before, u); diff != "" {
				t.Errorf("MatchUser modified the user (-before +after):\n%s", diff)
			}
		})
	}
}

func TestMatchUserStrings(t *testing.T) {
	runMatchUser(t, bjensen(), []matchCase{
		// caseExact false: userName, title, name.*
		{`userName eq "BJENSEN@example.com"`, eq("userName", "BJENSEN@example.com"), true},
		{`userName eq "bjensen"`, eq("userName", "bjensen"), false},
		{`userName ne "x"`, expr("userName", OpNe, str("x")), true},
		{`userName ne "BJENSEN@EXAMPLE.COM"`, expr("userName", OpNe, str("BJENSEN@EXAMPLE.COM")), false},
		{`userName co "JENSEN@"`, expr("userName", OpCo, str("JENSEN@")), true},
		{`userName co "jensen.org"`, expr("userName", OpCo, str("jensen.org")), false},
		{`userName sw "BJEN"`, expr("userName", OpSw, str("BJEN")), true},
		{`userName sw "jensen"`, expr("userName", OpSw, str("jensen")), false},
		{`userName ew ".COM"`, expr("userName", OpEw, str(".COM")), true},
		{`userName ew "example"`, expr("userName", OpEw, str("example")), false},
		{`userName co ""`, expr("userName", OpCo, str("")), true},
		{`userName gt "a"`, expr("userName", OpGt, str("a")), true},
		{`userName gt "Z" (case-insensitive order)`, expr("userName", OpGt, str("Z")), false},
		{`userName gt "BJENSEN@EXAMPLE.COM"`, expr("userName", OpGt, str("BJENSEN@EXAMPLE.COM")), false},
		{`userName ge "BJENSEN@EXAMPLE.COM"`, expr("userName", OpGe, str("BJENSEN@EXAMPLE.COM")), true},
		{`userName lt "C"`, expr("userName", OpLt, str("C")), true},
		{`userName lt "B"`, expr("userName", OpLt, str("B")), false},
		{`userName le "bjensen@example.com"`, expr("userName", OpLe, str("bjensen@example.com")), true},
		{`title eq "tour guide"`, eq("title", "tour guide"), true},
		{`name.familyName sw "j"`, expr("name.familyName", OpSw, str("j")), true},
		{`name.givenName eq "BARBARA"`, eq("name.givenName", "BARBARA"), true},
		// caseExact true: id, externalId, meta.version, meta.resourceType
		{`id eq <id>`, eq("id", bjensID), true},
		{`id eq <ID upper-cased>`, eq("id", strings.ToUpper(bjensID)), false},
		{`id ne <ID upper-cased>`, expr("id", OpNe, str(strings.ToUpper(bjensID))), true},
		{`externalId eq "bjensen-ext"`, eq("externalId", "bjensen-ext"), true},
		{`externalId eq "BJENSEN-EXT"`, eq("externalId", "BJENSEN-EXT"), false},
		{`externalId sw "bjensen"`, expr("externalId", OpSw, str("bjensen")), true},
		{`externalId sw "BJENSEN"`, expr("externalId", OpSw, str("BJENSEN")), false},
		{`externalId co "ext"`, expr("externalId", OpCo, str("ext")), true},
		{`externalId co "EXT"`, expr("externalId", OpCo, str("EXT")), false},
		{`externalId ew "-ext"`, expr("externalId", OpEw, str("-ext")), true},
		{`externalId ew "-EXT"`, expr("externalId", OpEw, str("-EXT")), false},
		{`externalId gt "Z" (code point order)`, expr("externalId", OpGt, str("Z")), true},
		{`externalId lt "bjensen-ext0"`, expr("externalId", OpLt, str("bjensen-ext0")), true},
		{`meta.version eq "a330bc54f0671c9"`, eq("meta.version", "a330bc54f0671c9"), true},
		{`meta.version eq "A330BC54F0671C9"`, eq("meta.version", "A330BC54F0671C9"), false},
		{`meta.resourceType eq "User"`, eq("meta.resourceType", "User"), true},
		{`meta.resourceType eq "user"`, eq("meta.resourceType", "user"), false},
		{`meta.resourceType eq "Group"`, eq("meta.resourceType", "Group"), false},
		// A number compares as text with a string attribute.
		{`employeeNumber eq 701984`, expr("employeeNumber", OpEq, num("701984")), true},
		{`costCenter gt "4000"`, expr("costCenter", OpGt, str("4000")), true},
		// A boolean cannot compare with a string attribute, not even with ne.
		{`title eq true`, expr("title", OpEq, boolean(true)), false},
		{`title ne true`, expr("title", OpNe, boolean(true)), false},
		// Attribute names ignore case.
		{`USERNAME eq "bjensen@example.com"`, eq("USERNAME", "bjensen@example.com"), true},
		{`NAME.FAMILYNAME eq "jensen"`, eq("NAME.FAMILYNAME", "jensen"), true},
		{`META.RESOURCETYPE eq "User"`, eq("META.RESOURCETYPE", "User"), true},
	})
}

func TestMatchUserBooleansAndDates(t *testing.T) {
	runMatchUser(t, bjensen(), []matchCase{
		{`active eq true`, expr("active", OpEq, boolean(true)), true},
		{`active eq false`, expr("active", OpEq, boolean(false)), false},
		{`active ne false`, expr("active", OpNe, boolean(false)), true},
		{`active eq "True" (Entra's string boolean)`, expr("active", OpEq, str("True")), true},
		{`active eq "yes"`, expr("active", OpEq, str("yes")), false},
		{`active ne "yes" (not a boolean: no match)`, expr("active", OpNe, str("yes")), false},
		{`active eq 1`, expr("active", OpEq, num("1")), false},
		{`active gt false (no order on booleans)`, expr("active", OpGt, boolean(false)), false},
		{`active co "t"`, expr("active", OpCo, str("t")), false},
		{`active pr`, pr("active"), true},
		{`emails.primary eq true`, expr("emails.primary", OpEq, boolean(true)), true},
		{`emails.primary eq false (the home email)`, expr("emails.primary", OpEq, boolean(false)), true},
		{`phoneNumbers.primary eq true`, expr("phoneNumbers.primary", OpEq, boolean(true)), false},
		{`meta.lastModified eq "2011-05-13T04:42:34Z"`, eq("meta.lastModified", "2011-05-13T04:42:34Z"), true},
		{`meta.lastModified eq "2011-05-13T06:42:34+02:00" (same instant)`, eq("meta.lastModified", "2011-05-13T06:42:34+02:00"), true},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, expr("meta.lastModified", OpGt, str("2011-05-13T04:42:34Z")), false},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, expr("meta.lastModified", OpGe, str("2011-05-13T04:42:34Z")), true},
		{`meta.lastModified gt "2011-05-13T04:42:33.999Z"`, expr("meta.lastModified", OpGt, str("2011-05-13T04:42:33.999Z")), true},
		{`meta.lastModified lt "2011-05-13T04:42:34.000000001Z"`, expr("meta.lastModified", OpLt, str("2011-05-13T04:42:34.000000001Z")), true},
		{`meta.created le "2010-01-23T04:56:22Z"`, expr("meta.created", OpLe, str("2010-01-23T04:56:22Z")), true},
		{`meta.created lt "2010-01-23T04:56:22Z"`, expr("meta.created", OpLt, str("2010-01-23T04:56:22Z")), false},
		{`meta.created gt "2011-05-13" (not a dateTime)`, expr("meta.created", OpGt, str("2011-05-13")), false},
		{`meta.created ne "yesterday" (not a dateTime)`, expr("meta.created", OpNe, str("yesterday")), false},
		{`meta.created ne "2010-01-23T04:56:23Z"`, expr("meta.created", OpNe, str("2010-01-23T04:56:23Z")), true},
		{`meta.created sw "2010"`, expr("meta.created", OpSw, str("2010")), false},
		{`meta.created eq 2010`, expr("meta.created", OpEq, num("2010")), false},
		{`meta.created pr`, pr("meta.created"), true},
		{`meta.created eq null`, expr("meta.created", OpEq, null), false},
		{`meta.location pr (derived by the handler)`, pr("meta.location"), false},
	})
}

func TestMatchUserMultiValuedAndComplex(t *testing.T) {
	runMatchUser(t, bjensen(), []matchCase{
		{`emails co "@jensen.org"`, expr("emails", OpCo, str("@jensen.org")), true},
		{`emails eq "BJENSEN@EXAMPLE.COM"`, eq("emails", "BJENSEN@EXAMPLE.COM"), true},
		{`emails eq "nobody@example.com"`, eq("emails", "nobody@example.com"), false},
		{`emails.value eq "babs@jensen.org"`, eq("emails.value", "babs@jensen.org"), true},
		{`emails.type eq "home"`, eq("emails.type", "home"), true},
		{`emails.type eq "other"`, eq("emails.type", "other"), false},
		{`emails ne "babs@jensen.org" (ne is not eq: one value equals)`, expr("emails", OpNe, str("babs@jensen.org")), false},
		{`emails.value ne "nobody@example.com"`, expr("emails.value", OpNe, str("nobody@example.com")), true},
		{`emails.value gt "c"`, expr("emails.value", OpGt, str("c")), false},
		{`emails.value lt "c"`, expr("emails.value", OpLt, str("c")), true},
		{`emails pr`, pr("emails"), true},
		{`emails.display pr`, pr("emails.display"), false},
		{`emails eq null`, expr("emails", OpEq, null), false},
		{`emails ne null`, expr("emails", OpNe, null), true},
		{`phoneNumbers.value sw "555"`, expr("phoneNumbers.value", OpSw, str("555")), true},
		{`ims pr`, pr("ims"), false},
		{`ims eq null`, expr("ims", OpEq, null), true},
		{`ims.value ne "x"`, expr("ims.value", OpNe, str("x")), true},
		{`emails.nope eq "x" (unknown sub-attribute)`, eq("emails.nope", "x"), false},
		{`emails.nope ne "x" (unknown sub-attribute)`, expr("emails.nope", OpNe, str("x")), false},
		{`userName.value eq "x" (simple attribute with a sub)`, eq("userName.value", "x"), false},
		// A complex attribute without "value" cannot be compared directly.
		{`addresses eq "91608"`, eq("addresses", "91608"), false},
		{`addresses ne "91608"`, expr("addresses", OpNe, str("91608")), false},
		{`addresses pr`, pr("addresses"), true},
		{`addresses.postalCode eq "91609"`, eq("addresses.postalCode", "91609"), true},
		{`name pr`, pr("name"), true},
		{`name eq "Barbara"`, eq("name", "Barbara"), false},
		{`name.middleName pr`, pr("name.middleName"), false},
		{`name.middleName eq null`, expr("name.middleName", OpEq, null), true},
		// groups (read-only, filled by the store)
		{`groups.value eq <group id>`, eq("groups.value", groupID), true},
		{`groups eq <GROUP ID> (groups.value is caseExact false)`, eq("groups", strings.ToUpper(groupID)), true},
		{`groups.display co "guides"`, expr("groups.display", OpCo, str("guides")), true},
		{`groups[type eq "direct"]`, vp("groups", eq("type", "direct")), true},
		{`groups[type eq "indirect"]`, vp("groups", eq("type", "indirect")), false},
		// meta as a whole
		{`meta pr`, pr("meta"), true},
		{`meta eq "x"`, eq("meta", "x"), false},
	})
}

func TestMatchUserValuePaths(t *testing.T) {
	runMatchUser(t, bjensen(), []matchCase{
		{`emails[type eq "work"]`, vp("emails", eq("type", "work")), true},
		{`emails[type eq "other"]`, vp("emails", eq("type", "other")), false},
		{`emails[type eq "work" and value co "example.com"]`, vp("emails", and(eq("type", "work"), expr("value", OpCo, str("example.com")))), true},
		{`emails[type eq "home" and value co "example.com"] (one element must match both)`, vp("emails", and(eq("type", "home"), expr("value", OpCo, str("example.com")))), false},
		{`emails[type eq "work"].value eq "BJENSEN@example.com" (Entra, as parsed)`, vp("emails", and(eq("type", "work"), eq("value", "BJENSEN@example.com"))), true},
		{`emails[type eq "work"].value eq "babs@jensen.org"`, vp("emails", and(eq("type", "work"), eq("value", "babs@jensen.org"))), false},
		{`emails[type eq "work" and primary eq false]`, vp("emails", and(eq("type", "work"), expr("primary", OpEq, boolean(false)))), false},
		{`emails[not (type eq "work")]`, vp("emails", not(eq("type", "work"))), true},
		{`emails[type eq "home" or type eq "other"]`, vp("emails", or(eq("type", "home"), eq("type", "other"))), true},
		{`emails[display pr]`, vp("emails", pr("display")), false},
		{`emails[bogus eq "x"]`, vp("emails", eq("bogus", "x")), false},
		{`emails[TYPE eq "work"] (names ignore case)`, vp("EMAILS", eq("TYPE", "work")), true},
		{`emails[value.x eq "y"] (no sub-attribute of a sub-attribute)`, vp("emails", eq("value.x", "y")), false},
		{`addresses[type eq "work" and postalCode eq "91608"]`, vp("addresses", and(eq("type", "work"), eq("postalCode", "91608"))), true},
		{`addresses[type eq "home" and postalCode eq "91608"]`, vp("addresses", and(eq("type", "home"), eq("postalCode", "91608"))), false},
		{`addresses[postalCode eq "91609"]`, vp("addresses", eq("postalCode", "91609")), true},
		{`name[givenName eq "barbara"] (a singular complex attribute)`, vp("name", eq("givenName", "barbara")), true},
		{`manager[value eq <id>]`, vp("manager", eq("value", mgrID)), true},
		{`userName[value eq "x"] (not complex)`, vp("userName", eq("value", "x")), false},
		{`emails[type eq "work"] with a nested value path`, vp("emails", vp("emails", eq("type", "work"))), false},
		{`emails[] (nil inner filter: any element)`, vp("emails", nil), true},
		{`ims[] (nil inner filter, no element)`, vp("ims", nil), false},
	})
}

func TestMatchUserEnterpriseAndURNs(t *testing.T) {
	runMatchUser(t, bjensen(), []matchCase{
		{`department eq "tour operations"`, eq("department", "tour operations"), true},
		{`<enterprise>:department eq "Tour Operations"`, eq(ent+":department", "Tour Operations"), true},
		{`<ENTERPRISE>:DEPARTMENT eq "Tour Operations"`, eq(strings.ToUpper(ent)+":DEPARTMENT", "Tour Operations"), true},
		{`<core>:department eq "Tour Operations" (wrong schema)`, eq(UserSchema+":department", "Tour Operations"), false},
		{`manager eq <id> (Entra's check)`, eq("manager", mgrID), true},
		{`id eq <id> and manager eq <id>`, and(eq("id", bjensID), eq("manager", mgrID)), true},
		{`id eq <id> and manager eq "other"`, and(eq("id", bjensID), eq("manager", "other")), false},
		{`manager.value eq <id>`, eq("manager.value", mgrID), true},
		{`<enterprise>:manager.value eq <id>`, eq(ent+":manager.value", mgrID), true},
		{`<enterprise>:manager eq <id>`, eq(ent+":manager", mgrID), true},
		{`manager.displayName co "smith"`, expr("manager.displayName", OpCo, str("smith")), true},
		{`manager pr`, pr("manager"), true},
		{`manager.$ref pr`, pr("manager.$ref"), false},
		{`<core>:userName eq "bjensen@example.com"`, eq(UserSchema+":userName", "bjensen@example.com"), true},
		{`<core>:name.givenName eq "barbara"`, eq(UserSchema+":name.givenName", "barbara"), true},
		{`<core>:emails[type eq "work"]`, vp(UserSchema+":emails", eq("type", "work")), true},
		{`<enterprise>:userName eq "bjensen@example.com" (wrong schema)`, eq(ent+":userName", "bjensen@example.com"), false},
		{`schemas eq <enterprise>`, eq("schemas", ent), true},
		{`schemas eq <acme>`, eq("schemas", acme), true},
		{`schemas eq <core>`, eq("schemas", UserSchema), true},
		{`schemas eq "urn:x"`, eq("schemas", "urn:x"), false},
		{`password eq <password> (never returned)`, eq("password", "t1meMa$heen"), false},
		{`password pr`, pr("password"), false},
	})
}

func TestMatchUserExtra(t *testing.T) {
	runMatchUser(t, bjensen(), []matchCase{
		{`<acme>:costCode eq "cc-17"`, eq(acme+":costCode", "cc-17"), true},
		{`<ACME>:COSTCODE eq "CC-17"`, eq(strings.ToUpper(acme)+":COSTCODE", "CC-17"), true},
		{`costCode eq "CC-17" (unqualified, found in the extension)`, eq("costCode", "CC-17"), true},
		{`<acme>:costCode sw "cc"`, expr(acme+":costCode", OpSw, str("cc")), true},
		{`<acme>:costCode ne "CC-17"`, expr(acme+":costCode", OpNe, str("CC-17")), false},
		{`<acme>:level eq 7`, expr(acme+":level", OpEq, num("7")), true},
		{`<acme>:level eq 7.0`, expr(acme+":level", OpEq, num("7.0")), true},
		{`<acme>:level eq 7e0`, expr(acme+":level", OpEq, num("7e0")), true},
		{`<acme>:level gt 5`, expr(acme+":level", OpGt, num("5")), true},
		{`<acme>:level gt 10 (numeric, not lexical)`, expr(acme+":level", OpGt, num("10")), false},
		{`<acme>:level lt 7`, expr(acme+":level", OpLt, num("7")), false},
		{`<acme>:level le 7`, expr(acme+":level", OpLe, num("7")), true},
		{`<acme>:level eq "7" (a string is not a number)`, eq(acme+":level", "7"), false},
		{`<acme>:level co 7`, expr(acme+":level", OpCo, num("7")), false},
		{`<acme>:level pr`, pr(acme + ":level"), true},
		{`<acme>:remote eq true`, expr(acme+":remote", OpEq, boolean(true)), true},
		{`<acme>:remote eq "TRUE"`, expr(acme+":remote", OpEq, str("TRUE")), true},
		{`<acme>:remote ne true`, expr(acme+":remote", OpNe, boolean(true)), false},
		{`<acme>:remote gt false`, expr(acme+":remote", OpGt, boolean(false)), false},
		{`<acme>:badges[type eq "gold"]`, vp(acme+":badges", eq("type", "gold")), true},
		{`<acme>:badges[type eq "gold" and value eq "B2"]`, vp(acme+":badges", and(eq("type", "gold"), eq("value", "B2"))), false},
		{`<acme>:badges[type eq "silver" and value eq "b2"]`, vp(acme+":badges", and(eq("type", "silver"), eq("value", "b2"))), true},
		{`<acme>:badges[missing pr]`, vp(acme+":badges", pr("missing")), false},
		{`<acme>:badges[not (missing pr)]`, vp(acme+":badges", not(pr("missing"))), true},
		{`<acme>:badges.value eq "b2"`, eq(acme+":badges.value", "b2"), true},
		{`<acme>:badges eq "B1" (an object compares its value)`, eq(acme+":badges", "B1"), true},
		{`<acme>:badges pr`, pr(acme + ":badges"), true},
		{`<acme>:nope eq "x"`, eq(acme+":nope", "x"), false},
		{`<acme>:nope ne "x"`, expr(acme+":nope", OpNe, str("x")), true},
		{`favoriteColor eq "blue"`, eq("favoriteColor", "blue"), true},
		{`FAVORITECOLOR co "LU"`, expr("FAVORITECOLOR", OpCo, str("LU")), true},
		{`favoriteColor gt "Azure"`, expr("favoriteColor", OpGt, str("Azure")), true},
		{`<core>:favoriteColor eq "Blue"`, eq(UserSchema+":favoriteColor", "Blue"), true},
		{`luckyNumbers eq 42`, expr("luckyNumbers", OpEq, num("42")), true},
		{`luckyNumbers gt 100`, expr("luckyNumbers", OpGt, num("100")), false},
		{`luckyNumbers ne 42`, expr("luckyNumbers", OpNe, num("42")), false},
		{`luckyNumbers[value eq 7]`, vp("luckyNumbers", expr("value", OpEq, num("7"))), true},
		{`nothing pr (JSON null)`, pr("nothing"), false},
		{`nothing eq null`, expr("nothing", OpEq, null), true},
		{`emptyList pr`, pr("emptyList"), false},
		{`emptyList eq null`, expr("emptyList", OpEq, null), true},
		{`broken pr (invalid JSON is absent)`, pr("broken"), false},
		{`<other>:shoeSize eq 44 (a key that is the qualified name)`, expr("urn:ietf:params:scim:schemas:extension:Other:2.0:User:shoeSize", OpEq, num("44")), true},
		{`missing eq "x"`, eq("missing", "x"), false},
		{`missing ne "x"`, expr("missing", OpNe, str("x")), true},
		{`not (missing eq "x")`, not(eq("missing", "x")), true},
		{`missing pr`, pr("missing"), false},
		{`missing eq null`, expr("missing", OpEq, null), true},
		{`missing gt 1`, expr("missing", OpGt, num("1")), false},
	})
}

func TestMatchUserLogicAndMalformed(t *testing.T) {
	yes, no := eq("userName", "bjensen@example.com"), eq("userName", "other")
	runMatchUser(t, bjensen(), []matchCase{
		{`nil filter`, nil, true},
		{`yes and yes`, and(yes, yes), true},
		{`yes and no`, and(yes, no), false},
		{`no or yes`, or(no, yes), true},
		{`no or no`, or(no, no), false},
		{`not yes`, not(yes), false},
		{`not (no or no)`, not(or(no, no)), true},
		{`not (not yes)`, not(not(yes)), true},
		{`title pr and (emails[type eq "work"] or userName eq "x")`, and(pr("title"), or(vp("emails", eq("type", "work")), no)), true},
		{`and with a nil side`, and(nil, yes), true},
		{`or with nil sides`, or(nil, nil), true},
		{`not of nil`, not(nil), false},
		{`typed nil *AttrExpr`, (*AttrExpr)(nil), true},
		{`typed nil *LogicalExpr`, (*LogicalExpr)(nil), true},
		{`typed nil *NotExpr`, (*NotExpr)(nil), true},
		{`typed nil *ValuePathExpr`, (*ValuePathExpr)(nil), true},
		{`and of typed nils`, and((*AttrExpr)(nil), (*NotExpr)(nil)), true},
		{`logical operator 0`, &LogicalExpr{Left: yes, Right: yes}, false},
		{`logical operator 9`, &LogicalExpr{Op: 9, Left: yes, Right: yes}, false},
		{`comparison operator 0`, &AttrExpr{Path: ap("userName"), Value: str("bjensen@example.com")}, false},
		{`comparison operator 99`, &AttrExpr{Path: ap("userName"), Op: 99, Value: str("bjensen@example.com")}, false},
		{`value kind 0`, &AttrExpr{Path: ap("userName"), Op: OpEq, Value: Value{Text: "bjensen@example.com"}}, false},
		{`value kind 9`, &AttrExpr{Path: ap("userName"), Op: OpEq, Value: Value{Kind: 9}}, false},
		{`empty path`, eq("", "x"), false},
		{`null with gt`, expr("title", OpGt, null), false},
		{`pr with a value`, &AttrExpr{Path: ap("title"), Op: OpPr, Value: str("ignored")}, true},
		{`number that is not a number`, expr(acme+":level", OpEq, num("seven")), false},
	})
}

func TestMatchUserAbsent(t *testing.T) {
	empty := &User{}
	noManager := &User{Enterprise: &EnterpriseUser{Department: "R&D"}}
	cases := []struct {
		name string
		u    *User
		f    Filter
		want bool
	}{
		{`userName eq "x"`, empty, eq("userName", "x"), false},
		{`userName ne "x"`, empty, expr("userName", OpNe, str("x")), true},
		{`userName co ""`, empty, expr("userName", OpCo, str("")), false},
		{`userName eq ""`, empty, eq("userName", ""), false},
		{`userName gt ""`, empty, expr("userName", OpGt, str("")), false},
		{`userName lt "zzz"`, empty, expr("userName", OpLt, str("zzz")), false},
		{`userName pr`, empty, pr("userName"), false},
		{`userName eq null`, empty, expr("userName", OpEq, null), true},
		{`userName ne null`, empty, expr("userName", OpNe, null), false},
		{`name pr`, empty, pr("name"), false},
		{`name eq null`, empty, expr("name", OpEq, null), true},
		{`name[givenName pr]`, empty, vp("name", pr("givenName")), false},
		{`name[not (givenName pr)] (no name: no element)`, empty, vp("name", not(pr("givenName"))), false},
		{`emails pr`, empty, pr("emails"), false},
		{`emails co "@"`, empty, expr("emails", OpCo, str("@")), false},
		{`emails ne "x"`, empty, expr("emails", OpNe, str("x")), true},
		{`emails[type eq "work"]`, empty, vp("emails", eq("type", "work")), false},
		{`groups pr`, empty, pr("groups"), false},
		{`manager pr (nil Enterprise)`, empty, pr("manager"), false},
		{`manager eq null (nil Enterprise)`, empty, expr("manager", OpEq, null), true},
		{`manager eq "m" (nil Enterprise)`, empty, eq("manager", "m"), false},
		{`manager ne "m" (nil Enterprise)`, empty, expr("manager", OpNe, str("m")), true},
		{`department eq "x" (nil Enterprise)`, empty, eq("department", "x"), false},
		{`department pr (nil Enterprise)`, empty, pr("department"), false},
		{`manager pr (nil Manager)`, noManager, pr("manager"), false},
		{`manager.value eq "m" (nil Manager)`, noManager, eq("manager.value", "m"), false},
		{`department eq "r&d"`, noManager, eq("department", "r&d"), true},
		{`schemas eq <enterprise>`, noManager, eq("schemas", ent), true},
		{`schemas eq <enterprise> (nil Enterprise)`, empty, eq("schemas", ent), false},
		{`meta.created pr`, empty, pr("meta.created"), false},
		{`meta.created gt "2000-01-01T00:00:00Z"`, empty, expr("meta.created", OpGt, str("2000-01-01T00:00:00Z")), false},
		{`meta.created ne "2000-01-01T00:00:00Z"`, empty, expr("meta.created", OpNe, str("2000-01-01T00:00:00Z")), true},
		{`meta.resourceType eq "User"`, empty, eq("meta.resourceType", "User"), true},
		{`active eq false (the zero User is inactive)`, empty, expr("active", OpEq, boolean(false)), true},
		{`extra attribute, nil Extra`, empty, eq("costCode", "x"), false},
		{`extra attribute ne, nil Extra`, empty, expr("costCode", OpNe, str("x")), true},
		{`nil user, nil filter`, nil, nil, false},
		{`nil user`, nil, expr("userName", OpNe, str("x")), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := MatchUser(tc.f, tc.u); got != tc.want {
				t.Errorf("MatchUser = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMatchUserNeIsNotEq pins the documented rule: x ne v is not (x eq v)
// whenever v can be compared with x.
func TestMatchUserNeIsNotEq(t *testing.T) {
	users := map[string]*User{"bjensen": bjensen(), "empty": {}}
	paths := []string{"userName", "title", "profileUrl", "emails", "emails.value", "emails.type", "ims", "groups",
		"manager", "department", "id", "externalId", "costCode", acme + ":costCode", "favoriteColor", "missing",
		"name.givenName", "members"}
	values := []Value{str("bjensen@example.com"), str("work"), str("Blue"), str("cc-17"), str(""), str(mgrID), null}
	for un, u := range users {
		for _, p := range paths {
			for _, v := range values {
				ne, eqv := MatchUser(expr(p, OpNe, v), u), MatchUser(expr(p, OpEq, v), u)
				if ne == eqv {
					t.Errorf("%s: %s ne %q = %v and %s eq %q = %v", un, p, v.Text, ne, p, v.Text, eqv)
				}
			}
		}
	}
}

func tourGuides() *Group {
	return &Group{
		ID:          groupID,
		ExternalID:  "a1b2",
		DisplayName: "Tour Guides",
		Members: []Member{
			{Value: bjensID, Display: "Babs Jensen", Type: "User"},
			{Value: "G2", Display: "Guides Abroad", Type: "Group"},
		},
		Extra: map[string]json.RawMessage{"urn:example:Acme:2.0:Group": json.RawMessage(`{"region":"EMEA"}`)},
		Meta:  Meta{Created: mustTime("2010-01-23T04:56:22Z"), LastModified: mustTime("2011-05-13T04:42:34Z"), Version: "3"},
	}
}

func TestMatchGroup(t *testing.T) {
	g := tourGuides()
	empty := &Group{DisplayName: "Empty"}
	cases := []struct {
		name string
		g    *Group
		f    Filter
		want bool
	}{
		{`displayName eq "tour guides"`, g, eq("displayName", "tour guides"), true},
		{`displayName sw "TOUR"`, g, expr("displayName", OpSw, str("TOUR")), true},
		{`<core>:displayName eq "Tour Guides"`, g, eq(GroupSchema+":displayName", "Tour Guides"), true},
		{`<user core>:displayName eq "Tour Guides" (wrong schema)`, g, eq(UserSchema+":displayName", "Tour Guides"), false},
		{`externalId eq "A1B2" (caseExact)`, g, eq("externalId", "A1B2"), false},
		{`externalId eq "a1b2"`, g, eq("externalId", "a1b2"), true},
		{`members eq <user id>`, g, eq("members", bjensID), true},
		{`members eq <USER ID> (members.value is caseExact false)`, g, eq("members", strings.ToUpper(bjensID)), true},
		{`members eq "u3"`, g, eq("members", "u3"), false},
		{`members ne "u3"`, g, expr("members", OpNe, str("u3")), true},
		{`members ne <user id>`, g, expr("members", OpNe, str(bjensID)), false},
		{`members.value eq "g2"`, g, eq("members.value", "g2"), true},
		{`members.display co "abroad"`, g, expr("members.display", OpCo, str("abroad")), true},
		{`members[type eq "Group" and value eq "G2"]`, g, vp("members", and(eq("type", "Group"), eq("value", "G2"))), true},
		{`members[type eq "User" and value eq "G2"]`, g, vp("members", and(eq("type", "User"), eq("value", "G2"))), false},
		{`members pr`, g, pr("members"), true},
		{`id eq <id> and members eq <user id> (Entra's membership check)`, g, and(eq("id", groupID), eq("members", bjensID)), true},
		{`id eq <id> and members eq "u3"`, g, and(eq("id", groupID), eq("members", "u3")), false},
		{`meta.resourceType eq "Group"`, g, eq("meta.resourceType", "Group"), true},
		{`meta.version eq "3"`, g, eq("meta.version", "3"), true},
		{`meta.lastModified gt "2011-01-01T00:00:00Z"`, g, expr("meta.lastModified", OpGt, str("2011-01-01T00:00:00Z")), true},
		{`schemas eq <group>`, g, eq("schemas", GroupSchema), true},
		{`userName eq "x" (not a group attribute)`, g, eq("userName", "x"), false},
		{`manager eq "x" (not a group attribute)`, g, eq("manager", "x"), false},
		{`region eq "emea" (extension attribute, unqualified)`, g, eq("region", "emea"), true},
		{`urn:example:Acme:2.0:Group:region eq "EMEA"`, g, eq("urn:example:Acme:2.0:Group:region", "EMEA"), true},
		{`members pr (no members)`, empty, pr("members"), false},
		{`members eq null (no members)`, empty, expr("members", OpEq, null), true},
		{`members eq "u1" (no members)`, empty, eq("members", "u1"), false},
		{`members ne "u1" (no members)`, empty, expr("members", OpNe, str("u1")), true},
		{`nil group`, nil, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := MatchGroup(tc.f, tc.g); got != tc.want {
				t.Errorf("MatchGroup = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAttrDefLookup checks that the allocation-free lookup agrees with the
// schema table's own.
func TestAttrDefLookup(t *testing.T) {
	var names []string
	for _, s := range []*resourceSchema{userSchema, enterpriseSchema, groupSchema, commonAttrs} {
		for _, a := range s.attrs {
			names = append(names, a.name, strings.ToUpper(a.name), strings.ToLower(a.name))
		}
	}
	names = append(names, "", "nope", strings.Repeat("x", 40), "userNäme")
	for _, urn := range []string{"", UserSchema, strings.ToLower(EnterpriseUserSchema), GroupSchema, "urn:x"} {
		for _, n := range names {
			p := AttrPath{URN: urn, Name: n}
			if got, want := userField(p), lookupUserAttr(p); defOf(got) != want {
				t.Errorf("userField(%+v) = %v, lookupUserAttr = %v", p, got, want)
			}
			if got, want := groupField(p), lookupGroupAttr(p); defOf(got) != want {
				t.Errorf("groupField(%+v) = %v, lookupGroupAttr = %v", p, got, want)
			}
		}
	}
}

func userNames(us []*User) []string {
	var s []string
	for _, u := range us {
		if u == nil {
			s = append(s, "<nil>")
			continue
		}
		s = append(s, u.UserName)
	}
	return s
}

func TestSortUsers(t *testing.T) {
	t0 := mustTime("2020-01-01T00:00:00Z")
	users := func() []*User {
		return []*User{
			{UserName: "carol", ExternalID: "b", Title: "Eng", Active: true, Meta: Meta{Created: t0.Add(2 * time.Hour)},
				Emails: []MultiValue{{Value: "z@x.com"}, {Value: "a@x.com", Primary: true}},
				Extra:  map[string]json.RawMessage{acme: json.RawMessage(`{"level":10}`)}},
			{UserName: "Alice", ExternalID: "B", Meta: Meta{Created: t0.Add(3 * time.Hour)},
				Emails: []MultiValue{{Value: "m@x.com"}, {Value: "b@x.com"}},
				Extra:  map[string]json.RawMessage{acme: json.RawMessage(`{"level":9}`)},
				Name:   Name{FamilyName: "Zeta"}},
			{UserName: "dave", Title: "eng", Active: true, Meta: Meta{Created: t0.Add(1 * time.Hour)},
				Enterprise: &EnterpriseUser{Manager: &Manager{Value: "m2"}}},
			{UserName: "Bob", ExternalID: "a", Title: "Sales", Meta: Meta{Created: t0},
				Name: Name{FamilyName: "alpha"}, Enterprise: &EnterpriseUser{Manager: &Manager{Value: "M1"}}},
		}
	}
	cases := []struct {
		name string
		by   AttrPath
		desc bool
		want []string
	}{
		{"userName ascending (case-insensitive)", ap("userName"), false, []string{"Alice", "Bob", "carol", "dave"}},
		{"userName descending", ap("userName"), true, []string{"dave", "carol", "Bob", "Alice"}},
		{"USERNAME (names ignore case)", ap("USERNAME"), false, []string{"Alice", "Bob", "carol", "dave"}},
		{"externalId ascending (caseExact: upper case first), absent last", ap("externalId"), false, []string{"Alice", "Bob", "carol", "dave"}},
		{"externalId descending, absent first", ap("externalId"), true, []string{"dave", "carol", "Bob", "Alice"}},
		{"title ascending: Eng and eng tie, kept in input order", ap("title"), false, []string{"carol", "dave", "Bob", "Alice"}},
		{"title descending: ties still in input order", ap("title"), true, []string{"Alice", "Bob", "carol", "dave"}},
		{"meta.created", ap("meta.created"), false, []string{"Bob", "dave", "carol", "Alice"}},
		{"meta.created descending", ap("meta.created"), true, []string{"Alice", "carol", "dave", "Bob"}},
		{"active: false before true", ap("active"), false, []string{"Alice", "Bob", "carol", "dave"}},
		{"emails: primary value, else the first", ap("emails"), false, []string{"carol", "Alice", "dave", "Bob"}},
		{"emails.value: the same", ap("emails.value"), false, []string{"carol", "Alice", "dave", "Bob"}},
		{"name.familyName", ap("name.familyName"), false, []string{"Bob", "Alice", "carol", "dave"}},
		{"manager.value (enterprise, case-insensitive)", ap(ent + ":manager.value"), false, []string{"Bob", "dave", "carol", "Alice"}},
		{"manager (its value)", ap("manager"), false, []string{"Bob", "dave", "carol", "Alice"}},
		{"extension number: numeric order", ap(acme + ":level"), false, []string{"Alice", "carol", "dave", "Bob"}},
		{"unknown attribute: order unchanged", ap("nope"), false, []string{"carol", "Alice", "dave", "Bob"}},
		{"zero path: order unchanged", AttrPath{}, true, []string{"carol", "Alice", "dave", "Bob"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			us := users()
			SortUsers(us, tc.by, tc.desc)
			if diff := cmp.Diff(tc.want, userNames(us)); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("nil users sort as absent", func(t *testing.T) {
		us := []*User{nil, {UserName: "b"}, nil, {UserName: "a"}}
		SortUsers(us, ap("userName"), false)
		if diff := cmp.Diff([]string{"a", "b", "<nil>", "<nil>"}, userNames(us)); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
	})
}

func TestSortGroups(t *testing.T) {
	gs := []*Group{
		{DisplayName: "beta", Members: []Member{{Value: "u9"}}},
		{DisplayName: "Alpha"},
		{DisplayName: "gamma", Members: []Member{{Value: "u1"}, {Value: "u0"}}},
	}
	names := func() []string {
		var s []string
		for _, g := range gs {
			s = append(s, g.DisplayName)
		}
		return s
	}
	SortGroups(gs, ap("displayName"), false)
	if diff := cmp.Diff([]string{"Alpha", "beta", "gamma"}, names()); diff != "" {
		t.Errorf("displayName ascending (-want +got):\n%s", diff)
	}
	SortGroups(gs, ap("members"), false)
	if diff := cmp.Diff([]string{"gamma", "beta", "Alpha"}, names()); diff != "" {
		t.Errorf("members (first value) ascending (-want +got):\n%s", diff)
	}
	SortGroups(gs, ap("displayName"), true)
	if diff := cmp.Diff([]string{"gamma", "beta", "Alpha"}, names()); diff != "" {
		t.Errorf("displayName descending (-want +got):\n%s", diff)
	}
}

func TestValidateSort(t *testing.T) {
	cases := []struct {
		name     string
		by       AttrPath
		resource string
		ok       bool
	}{
		{"zero", AttrPath{}, "User", true},
		{"userName", ap("userName"), "User", true},
		{"USERNAME", ap("USERNAME"), "User", true},
		{"core-qualified userName", ap(UserSchema + ":userName"), "User", true},
		{"name.familyName", ap("name.familyName"), "User", true},
		{"emails (primary value)", ap("emails"), "User", true},
		{"emails.type", ap("emails.type"), "User", true},
		{"meta.lastModified", ap("meta.lastModified"), "User", true},
		{"department", ap("department"), "User", true},
		{"enterprise manager", ap(ent + ":manager"), "User", true},
		{"custom extension attribute", ap(acme + ":costCode"), "User", true},
		{"id", ap("id"), "Group", true},
		{"displayName", ap("displayName"), "Group", true},
		{"members.display", ap("members.display"), "Group", true},
		{"unknown attribute", ap("usrName"), "User", false},
		{"unknown core-qualified attribute", ap(UserSchema + ":costCode"), "User", false},
		{"unknown enterprise attribute", ap(ent + ":costCode"), "User", false},
		{"name (complex)", ap("name"), "User", false},
		{"addresses (complex, no value)", ap("addresses"), "User", false},
		{"meta", ap("meta"), "Group", false},
		{"unknown sub-attribute", ap("name.nickName"), "User", false},
		{"sub-attribute of a simple attribute", ap("userName.value"), "User", false},
		{"password", ap("password"), "User", false},
		{"userName on Group", ap("userName"), "Group", false},
		{"only a sub-attribute", AttrPath{Sub: "value"}, "User", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validateSort(tc.by, tc.resource)
			if tc.ok {
				if err != nil {
					t.Fatalf("validateSort = %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("validateSort = %v, want a *Error", err)
			}
			if e.Status != 400 || e.Type != InvalidValue || !strings.Contains(e.Detail, "sortBy") {
				t.Errorf("validateSort = %+v, want 400 invalidValue naming sortBy", e)
			}
			if tc.by.Name != "" && !strings.Contains(e.Detail, tc.by.Name) {
				t.Errorf("detail %q does not name %q", e.Detail, tc.by.Name)
			}
		})
	}
	t.Run("unknown resource", func(t *testing.T) {
		err := validateSort(ap("userName"), "Device")
		var e *Error
		if err == nil || errors.As(err, &e) {
			t.Errorf("validateSort on an unknown resource = %v, want an internal error", err)
		}
	})
}

func TestFoldHelpers(t *testing.T) {
	cases := []struct {
		s, sub              string
		prefix, suffix, has bool
	}{
		{"Hello, World", "hello", true, false, true},
		{"Hello, World", "WORLD", false, true, true},
		{"Hello, World", "O, w", false, false, true},
		{"Hello, World", "", true, true, true},
		{"", "", true, true, true},
		{"", "a", false, false, false},
		{"abc", "abcd", false, false, false},
		{"\u212Aelvin", "kelvin", true, true, true}, // KELVIN SIGN folds to k
		{"kelvin", "\u212Aelvin", true, true, true}, // and back
		{"maße", "SSE", false, false, false},        // ß has no simple fold to ss
		{"ſtraße", "STRASSE", false, false, false},  // long s folds to s, ß does not
		{"ſtraße", "Straß", true, false, true},
		{"Σίσυφος", "ΣΊΣΥΦΟΣ", true, true, true},      // final sigma folds with Σ
		{"İstanbul", "istanbul", false, false, false}, // dotted I is its own orbit
		{"x\xffy", "\xfey", false, true, true},        // invalid bytes fold as U+FFFD, as EqualFold does
	}
	for _, tc := range cases {
		if got := foldHasPrefix(tc.s, tc.sub); got != tc.prefix {
			t.Errorf("foldHasPrefix(%q, %q) = %v", tc.s, tc.sub, got)
		}
		if got := foldHasSuffix(tc.s, tc.sub); got != tc.suffix {
			t.Errorf("foldHasSuffix(%q, %q) = %v", tc.s, tc.sub, got)
		}
		if got := foldContains(tc.s, tc.sub); got != tc.has {
			t.Errorf("foldContains(%q, %q) = %v", tc.s, tc.sub, got)
		}
	}
	order := []string{"", "A", "a", "ab", "AB", "b", "_", "é", "É", "\u212A", "k", "z"}
	for _, a := range order {
		for _, b := range order {
			if (foldCompare(a, b) == 0) != strings.EqualFold(a, b) {
				t.Errorf("foldCompare(%q, %q) = %d, EqualFold = %v", a, b, foldCompare(a, b), strings.EqualFold(a, b))
			}
			if foldCompare(a, b) != -foldCompare(b, a) {
				t.Errorf("foldCompare(%q, %q) is not antisymmetric", a, b)
			}
		}
	}
	if foldCompare("_", "a") >= 0 {
		t.Error(`foldCompare("_", "a") >= 0: ASCII letters must order as lower case`)
	}
}

// FuzzFoldHelpers checks the case-insensitive helpers against definitions
// by strings.EqualFold over every rune-aligned piece of s.
func FuzzFoldHelpers(f *testing.F) {
	for _, seed := range [][2]string{
		{"Hello, World", "o, W"}, {"\u212Aelvin", "KEL"}, {"ſtraße", "STRAß"}, {"Σίσυφος", "ΦΟΣ"},
		{"x\xffy", "\xfeY"}, {"abc", ""}, {"ǅ", "ǆ"}, {"ΐ", "ΐ"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, s, sub string) {
		var cuts []int
		for i := range s {
			cuts = append(cuts, i)
		}
		cuts = append(cuts, len(s))
		var prefix, suffix, has bool
		for _, i := range cuts {
			prefix = prefix || strings.EqualFold(s[:i], sub)
			suffix = suffix || strings.EqualFold(s[i:], sub)
			for _, j := range cuts {
				if j >= i && strings.EqualFold(s[i:j], sub) {
					has = true
				}
			}
		}
		if !utf8.ValidString(s) || !utf8.ValidString(sub) {
			// Backward decoding of invalid UTF-8 may split bytes differently
			// from forward decoding; only the forward helpers are exact there.
			suffix = foldHasSuffix(s, sub)
		}
		if got := foldHasPrefix(s, sub); got != prefix {
			t.Errorf("foldHasPrefix(%q, %q) = %v, want %v", s, sub, got, prefix)
		}
		if got := foldHasSuffix(s, sub); got != suffix {
			t.Errorf("foldHasSuffix(%q, %q) = %v, want %v", s, sub, got, suffix)
		}
		if got := foldContains(s, sub); got != has {
			t.Errorf("foldContains(%q, %q) = %v, want %v", s, sub, got, has)
		}
		if c := foldCompare(s, sub); (c == 0) != strings.EqualFold(s, sub) || c != -foldCompare(sub, s) {
			t.Errorf("foldCompare(%q, %q) = %d, EqualFold = %v", s, sub, c, strings.EqualFold(s, sub))
		}
	})
}

func defOf(fd *fieldDef) *attrDef {
	if fd == nil {
		return nil
	}
	return fd.def
}

// TestFieldTable checks that every attribute and sub-attribute of the
// schema table has a field of the model, so that none is silently absent.
func TestFieldTable(t *testing.T) {
	for _, tab := range []fieldTable{userFields, enterpriseFields, groupFields} {
		for _, fd := range tab {
			if fd.kind == akNone {
				t.Errorf("attribute %s has no field", fd.def.name)
			}
			for _, sd := range fd.subs {
				if sd.id == sNone {
					t.Errorf("sub-attribute %s.%s has no field", fd.def.name, sd.def.name)
				}
			}
		}
	}
}

// TestEveryAttributeReachesTheModel asks "pr" of every attribute and
// sub-attribute of the User and Group schemas on resources where each is
// set, so that a field the evaluator forgot shows up as absent.
func TestEveryAttributeReachesTheModel(t *testing.T) {
	mv := []MultiValue{{Value: "v", Display: "d", Type: "t", Primary: true}}
	u := bjensen()
	u.ProfileURL, u.PreferredLanguage, u.Locale, u.Timezone = "https://x", "en", "en-US", "UTC"
	u.Name.MiddleName, u.Name.HonorificPrefix, u.Name.HonorificSuffix = "J", "Ms.", "III"
	u.Emails, u.PhoneNumbers, u.IMs, u.Photos, u.Entitlements, u.Roles, u.X509Certificates = mv, mv, mv, mv, mv, mv, mv
	u.Addresses[0].Formatted = "100 Universal City Plaza, Hollywood"
	u.Groups[0].Ref = "https://x/Groups/1"
	u.Enterprise.Manager.Ref = "https://x/Users/2"
	g := tourGuides()
	g.Members[0].Ref = "https://x/Users/1"
	// Absent by design: never returned, or derived by the handler.
	absent := map[string]bool{"password": true, "meta.location": true}
	check := func(t *testing.T, tab fieldTable, urn string, match func(Filter) bool) {
		for _, fd := range tab {
			paths := []string{fd.def.name}
			for _, sd := range fd.subs {
				paths = append(paths, fd.def.name+"."+sd.def.name)
			}
			for _, p := range paths {
				if got := match(pr(urn + p)); got == absent[p] {
					t.Errorf("%s%s pr = %v", urn, p, got)
				}
			}
		}
	}
	check(t, userFields, "", func(f Filter) bool { return MatchUser(f, u) })
	check(t, enterpriseFields, ent+":", func(f Filter) bool { return MatchUser(f, u) })
	check(t, groupFields, "", func(f Filter) bool { return MatchGroup(f, g) })
}

// astReader builds filter trees from fuzz input, over paths and values that
// reach every branch of the evaluator.
type astReader struct{ b []byte }

func (r *astReader) next() int {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return int(c)
}

var fuzzPaths = []string{
	"userName", "USERNAME", "id", "externalId", "title", "active", "password", "schemas", "name", "name.givenName",
	"name.nope", "emails", "emails.value", "emails.primary", "emails.type", "addresses", "addresses.postalCode",
	"groups", "groups.value", "meta", "meta.created", "meta.lastModified", "meta.resourceType", "meta.location",
	"members", "members.value", "displayName", "manager", "manager.value", "department",
	ent + ":manager.value", ent + ":department", UserSchema + ":userName", GroupSchema + ":members",
	acme + ":costCode", acme + ":level", acme + ":badges", acme + ":badges.value", "costCode", "favoriteColor",
	"luckyNumbers", "nothing", "broken", "missing", "type", "value", "primary", "postalCode", "", "userName.value",
}

var fuzzValues = []Value{
	str("bjensen@example.com"), str("work"), str(""), str("2011-05-13T04:42:34Z"), str("not a date"), str("True"),
	str(mgrID), str("CC-17"), num("7"), num("7.5"), num("1e400"), num("x"), boolean(true), boolean(false), null,
	{Kind: 0, Text: "x"}, {Kind: 42},
}

func (r *astReader) filter(depth int) Filter {
	if depth > 6 {
		return eq("userName", "bjensen@example.com")
	}
	switch r.next() % 8 {
	case 0, 1, 2:
		v := fuzzValues[r.next()%len(fuzzValues)]
		return &AttrExpr{Path: ap(fuzzPaths[r.next()%len(fuzzPaths)]), Op: Operator(r.next() % 12), Value: v}
	case 3:
		return &LogicalExpr{Op: LogicalOp(r.next() % 3), Left: r.filter(depth + 1), Right: r.filter(depth + 1)}
	case 4:
		return &NotExpr{Filter: r.filter(depth + 1)}
	case 5:
		return &ValuePathExpr{Path: ap(fuzzPaths[r.next()%len(fuzzPaths)]), Filter: r.filter(depth + 1)}
	case 6:
		return []Filter{(*AttrExpr)(nil), (*LogicalExpr)(nil), (*NotExpr)(nil), (*ValuePathExpr)(nil)}[r.next()%4]
	}
	return nil
}

// FuzzMatch evaluates arbitrary filter trees: the evaluator must not panic
// or modify the resource, ne must be the negation of eq whenever eq or ne is
// true, and sorting by any of the paths must not panic.
func FuzzMatch(f *testing.F) {
	f.Add([]byte{0, 1, 1, 1})
	f.Add([]byte{3, 1, 0, 0, 1, 1, 2, 5, 10, 3})
	f.Add([]byte{5, 11, 3, 2, 0, 4, 1, 0, 5, 14, 1})
	f.Add([]byte{4, 4, 6, 2})
	f.Add([]byte{2, 14, 21, 10, 1, 8, 37, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &astReader{b: data}
		flt := r.filter(0)
		u, g := bjensen(), tourGuides()
		u0, g0 := u.Clone(), g.Clone()
		MatchUser(flt, u)
		MatchUser(flt, &User{})
		MatchGroup(flt, g)
		MatchGroup(flt, &Group{})
		if !cmp.Equal(u, u0) || !cmp.Equal(g, g0) {
			t.Fatalf("evaluating %v modified the resource", flt)
		}
		if a, ok := flt.(*AttrExpr); ok && a != nil && (a.Op == OpEq || a.Op == OpNe) {
			neg := *a
			neg.Op = OpEq + OpNe - a.Op
			if x, y := MatchUser(a, u), MatchUser(&neg, u); x && y {
				t.Fatalf("%v and its negation both match", flt)
			}
		}
		p := ap(fuzzPaths[r.next()%len(fuzzPaths)])
		SortUsers([]*User{u, {}, nil, bjensen()}, p, r.next()%2 == 0)
		SortGroups([]*Group{g, {}, nil}, p, false)
		_ = validateSort(p, "User")
		_ = validateSort(p, "Group")
	})
}
