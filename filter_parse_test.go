package scim

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// Builders for expected trees. They split paths with plain string functions,
// independently of the parser under test.

// fpPath builds "urn:...:name.sub": the URN is what precedes the last ':'.
func fpPath(s string) AttrPath {
	var a AttrPath
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		a.URN, s = s[:i], s[i+1:]
	}
	a.Name, a.Sub, _ = strings.Cut(s, ".")
	return a
}

func fpCmp(path string, op Operator, v Value) *AttrExpr {
	return &AttrExpr{Path: fpPath(path), Op: op, Value: v}
}

func fpStr(path string, op Operator, text string) *AttrExpr {
	return fpCmp(path, op, Value{Kind: KindString, Text: text})
}

func fpPr(path string) *AttrExpr { return &AttrExpr{Path: fpPath(path), Op: OpPr} }

func fpAnd(l, r Filter) *LogicalExpr { return &LogicalExpr{Op: OpAnd, Left: l, Right: r} }

func fpOr(l, r Filter) *LogicalExpr { return &LogicalExpr{Op: OpOr, Left: l, Right: r} }

func fpNot(f Filter) *NotExpr { return &NotExpr{Filter: f} }

func fpVP(path string, f Filter) *ValuePathExpr {
	return &ValuePathExpr{Path: fpPath(path), Filter: f}
}

func fpNum(text string) Value { return Value{Kind: KindNumber, Text: text} }

var (
	fpTrue  = Value{Kind: KindBool, Text: "true"}
	fpFalse = Value{Kind: KindBool, Text: "false"}
	fpNull  = Value{Kind: KindNull}
)

const (
	fpEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	fpCore       = "urn:ietf:params:scim:schemas:core:2.0:User"
	fpGUID       = "2819c223-7f76-453a-919d-413861904646"
)

// fpFilterCase is a filter and the tree it parses to.
type fpFilterCase struct {
	name string
	in   string
	want Filter
}

// fpRFCFilterCases are the filters RFC 7644 §3.4.2.2 shows, every one of them:
// the case-insensitivity pair of its text and the examples of Figure 2.
var fpRFCFilterCases = []fpFilterCase{
	{"rfc/case-insensitive-operator", `userName Eq "john"`, fpStr("userName", OpEq, "john")},
	{"rfc/case-insensitive-name", `Username eq "john"`, fpStr("Username", OpEq, "john")},
	{"rfc/eq", `userName eq "bjensen"`, fpStr("userName", OpEq, "bjensen")},
	{"rfc/co-sub-attribute", `name.familyName co "O'Malley"`, fpStr("name.familyName", OpCo, "O'Malley")},
	{"rfc/sw", `userName sw "J"`, fpStr("userName", OpSw, "J")},
	{"rfc/sw-urn", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, fpStr(fpCore+":userName", OpSw, "J")},
	{"rfc/pr", `title pr`, fpPr("title")},
	{"rfc/gt-datetime", `meta.lastModified gt "2011-05-13T04:42:34Z"`, fpStr("meta.lastModified", OpGt, "2011-05-13T04:42:34Z")},
	{"rfc/ge-datetime", `meta.lastModified ge "2011-05-13T04:42:34Z"`, fpStr("meta.lastModified", OpGe, "2011-05-13T04:42:34Z")},
	{"rfc/lt-datetime", `meta.lastModified lt "2011-05-13T04:42:34Z"`, fpStr("meta.lastModified", OpLt, "2011-05-13T04:42:34Z")},
	{"rfc/le-datetime", `meta.lastModified le "2011-05-13T04:42:34Z"`, fpStr("meta.lastModified", OpLe, "2011-05-13T04:42:34Z")},
	{"rfc/and", `title pr and userType eq "Employee"`, fpAnd(fpPr("title"), fpStr("userType", OpEq, "Employee"))},
	{"rfc/or", `title pr or userType eq "Intern"`, fpOr(fpPr("title"), fpStr("userType", OpEq, "Intern"))},
	{"rfc/schemas", `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, fpStr("schemas", OpEq, fpEnterprise)},
	{
		"rfc/and-parenthesized-or",
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		fpAnd(fpStr("userType", OpEq, "Employee"), fpOr(fpStr("emails", OpCo, "example.com"), fpStr("emails.value", OpCo, "example.org"))),
	},
	{
		"rfc/and-not",
		`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		fpAnd(fpStr("userType", OpNe, "Employee"), fpNot(fpOr(fpStr("emails", OpCo, "example.com"), fpStr("emails.value", OpCo, "example.org")))),
	},
	{
		"rfc/and-parenthesized-comparison",
		`userType eq "Employee" and (emails.type eq "work")`,
		fpAnd(fpStr("userType", OpEq, "Employee"), fpStr("emails.type", OpEq, "work")),
	},
	{
		"rfc/and-value-path",
		`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		fpAnd(fpStr("userType", OpEq, "Employee"), fpVP("emails", fpAnd(fpStr("type", OpEq, "work"), fpStr("value", OpCo, "@example.com")))),
	},
	{
		"rfc/or-value-paths",
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		fpOr(
			fpVP("emails", fpAnd(fpStr("type", OpEq, "work"), fpStr("value", OpCo, "@example.com"))),
			fpVP("ims", fpAnd(fpStr("type", OpEq, "xmpp"), fpStr("value", OpCo, "@foo.com"))),
		),
	},
	// §3.4.3's POST .search example.
	{"rfc/search-body", `displayName sw "smith"`, fpStr("displayName", OpSw, "smith")},
}

// fpClientFilterCases are the filters docs/clients.md#filters and #okta report real
// clients sending, with the lenient ones last.
var fpClientFilterCases = []fpFilterCase{
	{"entra/test-connection-guid", `userName eq "` + fpGUID + `"`, fpStr("userName", OpEq, fpGUID)},
	{"entra/username", `userName eq "Test_User_9f2b1e4c@contoso.com"`, fpStr("userName", OpEq, "Test_User_9f2b1e4c@contoso.com")},
	{"entra/externalid-quoted", `externalId eq "johnwong"`, fpStr("externalId", OpEq, "johnwong")},
	{"entra/group-displayname", `displayName eq "displayName"`, fpStr("displayName", OpEq, "displayName")},
	{"entra/manager-check", `id eq "` + fpGUID + `" and manager eq "9d2f7c1e"`, fpAnd(fpStr("id", OpEq, fpGUID), fpStr("manager", OpEq, "9d2f7c1e"))},
	{"entra/member-check", `id eq "g1" and members eq "u1"`, fpAnd(fpStr("id", OpEq, "g1"), fpStr("members", OpEq, "u1"))},
	{"okta/username", `userName eq "isaac.brock@example.com"`, fpStr("userName", OpEq, "isaac.brock@example.com")},
	{"ping/username-eq", `username Eq "jdoe@example.com"`, fpStr("username", OpEq, "jdoe@example.com")},
	{"ping/email-co", `email Co "jdoe@example.com"`, fpStr("email", OpCo, "jdoe@example.com")},
	{"jumpcloud/members-value", `members[value eq "` + fpGUID + `"]`, fpVP("members", fpStr("value", OpEq, fpGUID))},
	{"entra/externalid-bare", `externalId eq jyoung`, fpStr("externalId", OpEq, "jyoung")},
	{
		"entra/work-email",
		`emails[type eq "work"].value eq "user@contoso.com"`,
		fpVP("emails", fpAnd(fpStr("type", OpEq, "work"), fpStr("value", OpEq, "user@contoso.com"))),
	},
}

// fpGrammarFilterCases cover the rest of the grammar.
var fpGrammarFilterCases = []fpFilterCase{
	{"op/eq", `a eq "x"`, fpStr("a", OpEq, "x")},
	{"op/ne", `a ne "x"`, fpStr("a", OpNe, "x")},
	{"op/co", `a co "x"`, fpStr("a", OpCo, "x")},
	{"op/sw", `a sw "x"`, fpStr("a", OpSw, "x")},
	{"op/ew", `a ew "x"`, fpStr("a", OpEw, "x")},
	{"op/gt", `a gt 1`, fpCmp("a", OpGt, fpNum("1"))},
	{"op/ge", `a ge 1`, fpCmp("a", OpGe, fpNum("1"))},
	{"op/lt", `a lt 1`, fpCmp("a", OpLt, fpNum("1"))},
	{"op/le", `a le 1`, fpCmp("a", OpLe, fpNum("1"))},
	{"op/pr", `a pr`, fpPr("a")},
	{"op/upper-case", `a EQ "x" AND b PR OR c NE "y"`, fpOr(fpAnd(fpStr("a", OpEq, "x"), fpPr("b")), fpStr("c", OpNe, "y"))},

	{"filterPrecedence/or-then-and", `a pr or b pr and c pr`, fpOr(fpPr("a"), fpAnd(fpPr("b"), fpPr("c")))},
	{"filterPrecedence/and-then-or", `a pr and b pr or c pr`, fpOr(fpAnd(fpPr("a"), fpPr("b")), fpPr("c"))},
	{"filterPrecedence/parentheses-override", `(a pr or b pr) and c pr`, fpAnd(fpOr(fpPr("a"), fpPr("b")), fpPr("c"))},
	{"filterPrecedence/mixed-chain", `a pr and b pr or c pr and d pr or e pr`, fpOr(fpOr(fpAnd(fpPr("a"), fpPr("b")), fpAnd(fpPr("c"), fpPr("d"))), fpPr("e"))},
	{"assoc/and-left", `a pr and b pr and c pr`, fpAnd(fpAnd(fpPr("a"), fpPr("b")), fpPr("c"))},
	{"assoc/or-left", `a pr or b pr or c pr`, fpOr(fpOr(fpPr("a"), fpPr("b")), fpPr("c"))},
	{"assoc/and-right-parenthesized", `a pr and (b pr and c pr)`, fpAnd(fpPr("a"), fpAnd(fpPr("b"), fpPr("c")))},
	{"assoc/or-right-parenthesized", `a pr or (b pr or c pr)`, fpOr(fpPr("a"), fpOr(fpPr("b"), fpPr("c")))},

	{"not/spaced", `not (a pr)`, fpNot(fpPr("a"))},
	{"not/unspaced", `not(a pr)`, fpNot(fpPr("a"))},
	{"not/upper-case", `NOT (a pr)`, fpNot(fpPr("a"))},
	{"not/binds-to-group", `not (a pr) and b pr`, fpAnd(fpNot(fpPr("a")), fpPr("b"))},
	{"not/double", `not (not (a pr))`, fpNot(fpNot(fpPr("a")))},
	{"not/attribute-named-not", `not pr`, fpPr("not")},
	{"not/attribute-named-not-eq", `not eq "x"`, fpStr("not", OpEq, "x")},
	{"keyword/attributes-named-and-or", `and pr or or pr`, fpOr(fpPr("and"), fpPr("or"))},

	{"parens/redundant", `((a pr))`, fpPr("a")},
	{"parens/inner-spaces", `( a pr )`, fpPr("a")},

	{"valuepath/one", `emails[type eq "work"]`, fpVP("emails", fpStr("type", OpEq, "work"))},
	{"valuepath/spaces", `emails [ type eq "work" ]`, fpVP("emails", fpStr("type", OpEq, "work"))},
	{"valuepath/not", `emails[not (type eq "work")]`, fpVP("emails", fpNot(fpStr("type", OpEq, "work")))},
	{
		"valuepath/chain-and-group",
		`emails[(type eq "work" or type eq "home") and primary eq true]`,
		fpVP("emails", fpAnd(fpOr(fpStr("type", OpEq, "work"), fpStr("type", OpEq, "home")), fpCmp("primary", OpEq, fpTrue))),
	},
	{"valuepath/urn", `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]`, fpVP(fpCore+":emails", fpStr("type", OpEq, "work"))},
	{"valuepath/in-not", `not (emails[type eq "work"])`, fpNot(fpVP("emails", fpStr("type", OpEq, "work")))},
	{"valuepath/ref", `members[$ref eq "https://example.com/v2/Users/1"]`, fpVP("members", fpStr("$ref", OpEq, "https://example.com/v2/Users/1"))},

	{"urn/core-sub-attribute", `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "Jensen"`, fpStr(fpCore+":name.familyName", OpEq, "Jensen")},
	{"urn/enterprise", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "m1"`, fpStr(fpEnterprise+":manager", OpEq, "m1")},
	{"urn/enterprise-sub-attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1"`, fpStr(fpEnterprise+":manager.value", OpEq, "m1")},
	{"urn/custom", `urn:ietf:params:scim:schemas:extension:Acme:2.0:User:costCode eq "CC-7"`, fpStr("urn:ietf:params:scim:schemas:extension:Acme:2.0:User:costCode", OpEq, "CC-7")},
	{"urn/underscore-and-dash", `urn:acme:my_ext-1:User:x pr`, fpPr("urn:acme:my_ext-1:User:x")},

	{"name/dash-underscore-digits", `x-y_z9.a-b_2 pr`, fpPr("x-y_z9.a-b_2")},
	{"name/ref", `$ref pr`, fpPr("$ref")},
	{"name/sub-ref", `members.$ref pr`, fpPr("members.$ref")},

	{"escape/quote", `a eq "say \"hi\""`, fpStr("a", OpEq, `say "hi"`)},
	{"escape/backslash", `a eq "C:\\dir"`, fpStr("a", OpEq, `C:\dir`)},
	{"escape/slash", `a eq "a\/b"`, fpStr("a", OpEq, "a/b")},
	{"escape/controls", `a eq "\b\f\n\r\t"`, fpStr("a", OpEq, "\b\f\n\r\t")},
	{"escape/unicode-lower", `a eq "caf\u00e9"`, fpStr("a", OpEq, "café")},
	{"escape/unicode-upper", `a eq "caf\u00E9"`, fpStr("a", OpEq, "café")},
	{"escape/surrogate-pair", `a eq "\ud83d\ude00"`, fpStr("a", OpEq, "😀")},
	{"escape/nul", `a eq "\u0000"`, fpStr("a", OpEq, "\x00")},
	{"escape/etag", `meta.version eq "W/\"990-6468886345120203448\""`, fpStr("meta.version", OpEq, `W/"990-6468886345120203448"`)},
	{"string/empty", `a eq ""`, fpStr("a", OpEq, "")},
	{"string/utf8", `displayName eq "Zoë 李"`, fpStr("displayName", OpEq, "Zoë 李")},
	{"string/delimiters-inside", `a eq "x) or (b pr] ["`, fpStr("a", OpEq, "x) or (b pr] [")},

	{"literal/true", `active eq true`, fpCmp("active", OpEq, fpTrue)},
	{"literal/false-any-case", `active eq FaLsE`, fpCmp("active", OpEq, fpFalse)},
	{"literal/null", `title eq null`, fpCmp("title", OpEq, fpNull)},
	{"literal/True", `active eq True`, fpCmp("active", OpEq, fpTrue)},

	{"number/zero", `n eq 0`, fpCmp("n", OpEq, fpNum("0"))},
	{"number/negative", `n eq -12`, fpCmp("n", OpEq, fpNum("-12"))},
	{"number/fraction", `n eq 3.25`, fpCmp("n", OpEq, fpNum("3.25"))},
	{"number/exponent", `n eq 1e10`, fpCmp("n", OpEq, fpNum("1e10"))},
	{"number/exponent-upper-signed", `n eq -0.5E+3`, fpCmp("n", OpEq, fpNum("-0.5E+3"))},
	{"number/beyond-float64-kept-as-text", `n eq 123456789012345678901234567890`, fpCmp("n", OpEq, fpNum("123456789012345678901234567890"))},
	{"number/closes-group", `(n eq 1)`, fpCmp("n", OpEq, fpNum("1"))},

	{"space/runs", `a   eq    "x"   and   b  pr`, fpAnd(fpStr("a", OpEq, "x"), fpPr("b"))},
	{"space/tabs", "a\teq\t\"x\"\tor\tb pr", fpOr(fpStr("a", OpEq, "x"), fpPr("b"))},
	{"space/leading-trailing", "  a pr \t", fpPr("a")},

	// Lenient form 1: bare values.
	{"bare/email", `emails eq user@contoso.com`, fpStr("emails", OpEq, "user@contoso.com")},
	{"bare/leading-zeros-is-string", `employeeNumber eq 00123`, fpStr("employeeNumber", OpEq, "00123")},
	{"bare/not-a-number-is-string", `n eq 1.`, fpStr("n", OpEq, "1.")},
	{"bare/ends-at-paren", `(externalId eq jyoung)`, fpStr("externalId", OpEq, "jyoung")},
	{"bare/ends-at-bracket", `members[value eq abc]`, fpVP("members", fpStr("value", OpEq, "abc"))},
	{"bare/keyword-looking", `a eq and`, fpStr("a", OpEq, "and")},
	{"bare/then-and", `a eq x and b eq y`, fpAnd(fpStr("a", OpEq, "x"), fpStr("b", OpEq, "y"))},
	{"bare/backslash-kept", `a eq x\y`, fpStr("a", OpEq, `x\y`)},

	// Lenient form 2: a comparison after a value path's sub-attribute.
	{"subcompare/pr", `emails[type eq "work"].value pr`, fpVP("emails", fpAnd(fpStr("type", OpEq, "work"), fpPr("value")))},
	{"subcompare/capitalized", `emails[type eq "work"].Value eq "x"`, fpVP("emails", fpAnd(fpStr("type", OpEq, "work"), fpStr("Value", OpEq, "x")))},
	{
		"subcompare/or-inside",
		`emails[type eq "work" or primary eq true].value co "@x.com"`,
		fpVP("emails", fpAnd(fpOr(fpStr("type", OpEq, "work"), fpCmp("primary", OpEq, fpTrue)), fpStr("value", OpCo, "@x.com"))),
	},
	{
		"subcompare/in-chain",
		`userName eq "u" or emails[type eq "work"].value eq "e" and active eq true`,
		fpOr(fpStr("userName", OpEq, "u"), fpAnd(fpVP("emails", fpAnd(fpStr("type", OpEq, "work"), fpStr("value", OpEq, "e"))), fpCmp("active", OpEq, fpTrue))),
	},
}

func fpAllFilterCases() []fpFilterCase {
	var all []fpFilterCase
	all = append(all, fpRFCFilterCases...)
	all = append(all, fpClientFilterCases...)
	return append(all, fpGrammarFilterCases...)
}

func TestParseFilter(t *testing.T) {
	for _, tc := range fpAllFilterCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFilter(tc.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseFilter(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestParseFilterRoundTrip checks that String gives a filter that parses to
// the same tree and prints the same again.
func TestParseFilterRoundTrip(t *testing.T) {
	for _, tc := range fpAllFilterCases() {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(tc.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tc.in, err)
			}
			s := f.String()
			g, err := parseFilter(s, filterLimits{strict: true})
			if err != nil {
				t.Fatalf("String() = %q does not parse strictly: %v", s, err)
			}
			if diff := cmp.Diff(f, g); diff != "" {
				t.Errorf("ParseFilter(%q).String() = %q parses differently (-first +second):\n%s", tc.in, s, diff)
			}
			if s2 := g.String(); s2 != s {
				t.Errorf("String() is not a fixpoint: %q then %q", s, s2)
			}
		})
	}
}

func TestFilterString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lower-cases-operators", `userName EQ "x" AND title PR`, `userName eq "x" and title pr`},
		{"one-space", "a   eq\t\"x\"", `a eq "x"`},
		{"drops-redundant-parentheses", `((a pr)) and (b pr)`, `a pr and b pr`},
		{"keeps-or-under-and", `(a pr or b pr) and c pr`, `(a pr or b pr) and c pr`},
		{"no-parentheses-for-and-under-or", `(a pr and b pr) or c pr`, `a pr and b pr or c pr`},
		{"right-nested-same-operator", `a pr or (b pr or c pr)`, `a pr or (b pr or c pr)`},
		{"left-nested-same-operator", `(a pr or b pr) or c pr`, `a pr or b pr or c pr`},
		{"not", `NOT(a pr)`, `not (a pr)`},
		{"value-path", `emails [ type eq "work" ]`, `emails[type eq "work"]`},
		{"json-escapes", `a eq "q\"b\\s\/t\tn\nu\u0001<&>"`, `a eq "q\"b\\s/t\tn\nu\u0001\u003c\u0026\u003e"`},
		{"number-as-written", `a eq -1.50E+3`, `a eq -1.50E+3`},
		{"literals-lower-case", `a eq TRUE or b eq NULL`, `a eq true or b eq null`},
		{"bare-value-quoted", `externalId eq jyoung`, `externalId eq "jyoung"`},
		{"subcompare-moves-inside", `emails[type eq "work"].value eq "e"`, `emails[type eq "work" and value eq "e"]`},
		{"subcompare-or-parenthesized", `emails[a pr or b pr].value pr`, `emails[(a pr or b pr) and value pr]`},
		{"urn", `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName pr`, `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName pr`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(tc.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tc.in, err)
			}
			if got := f.String(); got != tc.want {
				t.Errorf("ParseFilter(%q).String() = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestFilterStringHandBuilt checks that trees a host builds by hand, even
// incomplete ones, print without panicking.
func TestFilterStringHandBuilt(t *testing.T) {
	tests := []struct {
		name string
		f    Filter
		want string
	}{
		{"nil-operands", &LogicalExpr{Op: OpAnd}, "<nil> and <nil>"},
		{"nil-not", &NotExpr{}, "not (<nil>)"},
		{"typed-nil", (*AttrExpr)(nil), "<nil>"},
		{"value-without-kind", &AttrExpr{Path: AttrPath{Name: "a"}, Op: OpEq}, "a eq null"},
		{"nested-or-right-of-and", fpAnd(fpPr("a"), fpOr(fpPr("b"), fpPr("c"))), "a pr and (b pr or c pr)"},
		{"value-path-in-value-path", fpVP("a", fpVP("b", fpPr("c"))), "a[b[c pr]]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseFilterStrict(t *testing.T) {
	strict := filterLimits{maxLen: 4096, maxDepth: 32, strict: true}
	for _, tc := range fpAllFilterCases() {
		if strings.HasPrefix(tc.name, "bare/") || strings.HasPrefix(tc.name, "subcompare/") ||
			tc.name == "entra/externalid-bare" || tc.name == "entra/work-email" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFilter(tc.in, strict)
			if err != nil {
				t.Fatalf("strict parseFilter(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("strict parseFilter(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
	rejected := []struct {
		name, in, detail string
	}{
		{"bare-string", `externalId eq jyoung`, `invalid filter at position 15: expected a value (a quoted string, a number, true, false or null), found "jyoung"`},
		{"bare-leading-zeros", `n eq 007`, `invalid filter at position 6: expected a value (a quoted string, a number, true, false or null), found "007"`},
		{"subcompare", `emails[type eq "work"].value eq "x"`, `invalid filter at position 23: a comparison after a value filter's sub-attribute ("].value eq ...") is not standard SCIM; put it inside the brackets`},
	}
	for _, tc := range rejected {
		t.Run("rejects/"+tc.name, func(t *testing.T) {
			_, err := parseFilter(tc.in, strict)
			fpCheckError(t, err, InvalidFilter, tc.detail)
		})
	}
}

// fpCheckError checks that err is a 400 *Error of type typ with the detail.
func fpCheckError(t *testing.T, err error, typ ErrorType, detail string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *Error", err, err)
	}
	if e.Status != 400 || e.Type != typ {
		t.Errorf("error status, type = %d, %q; want 400, %q", e.Status, e.Type, typ)
	}
	if e.Detail != detail {
		t.Errorf("error detail = %q\n                 want %q", e.Detail, detail)
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		lim    filterLimits // zero: ParseFilter's defaults
		detail string
	}{
		{"unknown-operator", `userName equals "x"`, filterLimits{}, `invalid filter at position 10: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found "equals"`},
		{"empty", ``, filterLimits{}, `filter is empty`},
		{"blank", "  \t ", filterLimits{}, `filter is empty`},
		{"no-operator", `userName`, filterLimits{}, `invalid filter at position 9: expected a comparison operator after the attribute path, found the end of the filter`},
		{"no-operator-after-space", `userName `, filterLimits{}, `invalid filter at position 10: expected a comparison operator after the attribute path, found the end of the filter`},
		{"no-value", `userName eq`, filterLimits{}, `invalid filter at position 12: expected a value after "eq", found the end of the filter`},
		{"no-value-after-space", `userName eq )`, filterLimits{}, `invalid filter at position 13: expected a value (a quoted string, a number, true, false or null), found ")"`},
		{"operator-touches-value", `userName eq"x"`, filterLimits{}, `invalid filter at position 12: expected whitespace after "eq", found "\""`},
		{"plus-is-not-space", `userName+eq+"x"`, filterLimits{}, `invalid filter at position 9: expected whitespace and a comparison operator after the attribute path, found "+eq+"`},
		{"bad-path-char", `user@name eq "x"`, filterLimits{}, `invalid filter at position 5: expected whitespace and a comparison operator after the attribute path, found "@name"`},
		{"name-starts-with-digit", `1abc pr`, filterLimits{}, `invalid filter at position 1: expected an attribute name (a letter, then letters, digits, '-' or '_'), found "1abc"`},
		{"two-sub-attributes", `a.b.c pr`, filterLimits{}, `invalid filter at position 4: expected at most one sub-attribute in "a.b.c"`},
		{"empty-sub-attribute", `a. pr`, filterLimits{}, `invalid filter at position 3: expected an attribute name (a letter, then letters, digits, '-' or '_'), found " "`},
		{"empty-urn-segment", `urn::a pr`, filterLimits{}, `invalid filter at position 5: expected a schema URN before the attribute name, found an empty segment in "urn::a"`},
		{"dollar-in-urn", `urn:$x:a pr`, filterLimits{}, `invalid filter at position 5: invalid character '$' in the schema URN of "urn:$x:a"`},
		{"dollar-name", `$foo pr`, filterLimits{}, `invalid filter at position 1: expected an attribute name (a letter, then letters, digits, '-' or '_'), found "$foo"`},
		{"empty-name-after-urn", `urn:x: pr`, filterLimits{}, `invalid filter at position 7: expected an attribute name (a letter, then letters, digits, '-' or '_'), found " "`},
		{"starts-with-operator", `eq "x"`, filterLimits{}, `invalid filter at position 4: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found "\""`},
		{"starts-with-paren-close", `) a pr`, filterLimits{}, `invalid filter at position 1: expected an attribute name, "not" or "(", found ")"`},
		{"unterminated-string", `a eq "abc`, filterLimits{}, `invalid filter at position 6: the string that starts here has no closing quote`},
		{"unterminated-escaped-string", `a eq "a\"`, filterLimits{}, `invalid filter at position 6: the string that starts here has no closing quote`},
		{"invalid-escape", `a eq "a\x"`, filterLimits{}, `invalid filter at position 8: invalid escape "\\x" in a string; JSON allows \" \\ \/ \b \f \n \r \t and \uXXXX`},
		{"short-unicode-escape", `a eq "\u12"`, filterLimits{}, `invalid filter at position 7: invalid escape: \u must be followed by four hexadecimal digits`},
		{"lone-high-surrogate", `a eq "\ud800"`, filterLimits{}, `invalid filter at position 7: invalid escape "\\ud800": an unpaired UTF-16 surrogate`},
		{"lone-low-surrogate", `a eq "\udc00x"`, filterLimits{}, `invalid filter at position 7: invalid escape "\\udc00": an unpaired UTF-16 surrogate`},
		{"high-surrogate-then-letter", `a eq "\ud800\u0041"`, filterLimits{}, `invalid filter at position 7: invalid escape "\\ud800": an unpaired UTF-16 surrogate`},
		{"control-in-string", "a eq \"x\ny\"", filterLimits{}, `invalid filter at position 8: control character '\n' in a string; JSON strings must escape it`},
		{"invalid-utf8-in-string", "a eq \"x\xffy\"", filterLimits{}, `invalid filter at position 8: invalid UTF-8 in a string`},
		{"invalid-utf8-in-bare-value", "a eq x\xff", filterLimits{}, `invalid filter at position 7: invalid UTF-8 in a value`},
		{"control-in-bare-value", "a eq x\ny", filterLimits{}, `invalid filter at position 7: control character '\n' in a value`},
		{"and-at-end", `a pr and`, filterLimits{}, `invalid filter at position 9: expected a filter after "and", found the end of the filter`},
		{"and-then-spaces-at-end", `a pr or  `, filterLimits{}, `invalid filter at position 10: expected a filter after "or", found the end of the filter`},
		{"and-touches-next", `a pr and(b pr)`, filterLimits{}, `invalid filter at position 9: expected whitespace after "and", found "("`},
		{"and-touches-previous", `a eq "x"and b pr`, filterLimits{}, `invalid filter at position 9: expected whitespace before "and"`},
		{"word-after-term", `a pr andb pr`, filterLimits{}, `invalid filter at position 6: expected "and", "or" or the end of the filter, found "andb"`},
		{"two-terms", `a eq "x" b pr`, filterLimits{}, `invalid filter at position 10: expected "and", "or" or the end of the filter, found "b"`},
		{"pr-with-value", `a pr "x"`, filterLimits{}, `invalid filter at position 6: expected "and", "or" or the end of the filter, found "\""`},
		{"unclosed-paren", `(a pr`, filterLimits{}, `invalid filter at position 6: expected "and", "or" or ")", found the end of the filter`},
		{"extra-paren", `a pr)`, filterLimits{}, `invalid filter at position 5: expected "and", "or" or the end of the filter, found ")"`},
		{"unclosed-bracket", `emails[type eq "x"`, filterLimits{}, `invalid filter at position 19: expected "and", "or" or "]", found the end of the filter`},
		{"paren-closes-bracket", `emails[type eq "x")`, filterLimits{}, `invalid filter at position 19: expected "and", "or" or "]", found ")"`},
		{"empty-brackets", `emails[]`, filterLimits{}, `invalid filter at position 8: expected an attribute name, "not" or "(", found "]"`},
		{"empty-parens", `()`, filterLimits{}, `invalid filter at position 2: expected an attribute name, "not" or "(", found ")"`},
		{"not-without-parens", `not a pr`, filterLimits{}, `invalid filter at position 5: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found "a"`},
		{"nested-value-path", `emails[type[x pr]]`, filterLimits{}, `invalid filter at position 12: value filters cannot be nested: the sub-attributes of a multi-valued attribute are not multi-valued`},
		{"nested-value-path-in-group", `a[(b pr or c[d pr])]`, filterLimits{}, `invalid filter at position 13: value filters cannot be nested: the sub-attributes of a multi-valued attribute are not multi-valued`},
		{"value-path-on-sub-attribute", `name.givenName[x pr]`, filterLimits{}, `invalid filter at position 15: a value filter must follow a multi-valued attribute, not the sub-attribute "name.givenName"`},
		{"subcompare-without-operator", `emails[type eq "work"].value`, filterLimits{}, `invalid filter at position 29: expected whitespace and a comparison operator after "emails[type eq \"work\"].value", found the end of the filter`},
		{"subcompare-two-names", `emails[type eq "work"].value.x pr`, filterLimits{}, `invalid filter at position 29: expected one sub-attribute name after the value filter, found "value.x"`},
		{"subcompare-nested", `a[b[c pr].d pr]`, filterLimits{}, `invalid filter at position 4: value filters cannot be nested: the sub-attributes of a multi-valued attribute are not multi-valued`},
		{"long-found-is-cut", `a xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx "v"`, filterLimits{}, `invalid filter at position 3: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"...`},

		{"too-long", strings.Repeat("a", 5000), filterLimits{}, `filter is 5000 bytes long; the limit is 4096`},
		{"too-long-custom", `userName eq "x"`, filterLimits{maxLen: 10}, `filter is 15 bytes long; the limit is 10`},
		{"parens-33", strings.Repeat("(", 33) + "a pr" + strings.Repeat(")", 33), filterLimits{}, `filter is nested more than 32 levels deep`},
		{"nots-33", strings.Repeat("not (", 33) + "a pr" + strings.Repeat(")", 33), filterLimits{}, `filter is nested more than 32 levels deep`},
		{"and-chain-34", "a pr" + strings.Repeat(" and a pr", 33), filterLimits{}, `filter is nested more than 32 levels deep`},
		{"or-chain-34", "a pr" + strings.Repeat(" or a pr", 33), filterLimits{}, `filter is nested more than 32 levels deep`},
		{"mixed-depth-custom", `not ((a pr or b[c pr]))`, filterLimits{maxDepth: 3}, `filter is nested more than 3 levels deep`},
		{"value-path-depth-custom", `emails[a pr and b pr]`, filterLimits{maxDepth: 1}, `filter is nested more than 1 levels deep`},
		{"subcompare-depth-counts-printed-parens", `e[a pr or b pr].v pr`, filterLimits{maxDepth: 3}, `filter is nested more than 3 levels deep`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := tc.lim
			if lim == (filterLimits{}) {
				lim = defaultFilterLimits
			}
			f, err := parseFilter(tc.in, lim)
			if err == nil {
				t.Fatalf("parseFilter(%q) = %v, want an error", tc.in, f)
			}
			if f != nil {
				t.Errorf("parseFilter(%q) returned a filter with its error: %v", tc.in, f)
			}
			fpCheckError(t, err, InvalidFilter, tc.detail)
		})
	}
}

// TestParseFilterDepthLimit checks that exactly the limit is accepted, for
// every construct that counts.
func TestParseFilterDepthLimit(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"parens-32", strings.Repeat("(", 32) + "a pr" + strings.Repeat(")", 32)},
		{"nots-32", strings.Repeat("not (", 32) + "a pr" + strings.Repeat(")", 32)},
		{"and-chain-33", "a pr" + strings.Repeat(" and a pr", 32)},
		{"nots-31-and-brackets", strings.Repeat("not (", 31) + "e[a pr]" + strings.Repeat(")", 31)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(tc.in)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			// What String prints is never deeper than what was parsed.
			if _, err := ParseFilter(f.String()); err != nil {
				t.Errorf("ParseFilter(String()): %v", err)
			}
		})
	}
}

// TestParseFilterURLQuery pins the division of labour with net/url: the
// query decoder turns "+" into a space and %22 into a quote; ParseFilter
// sees the decoded filter (and does not treat "+" as a space itself, see
// TestParseFilterErrors/plus-is-not-space).
func TestParseFilterURLQuery(t *testing.T) {
	tests := []struct {
		name, query string
		want        Filter
	}{
		{"entra-plus", `filter=userName+eq+%22x%22`, fpStr("userName", OpEq, "x")},
		{"entra-log", `filter=externalId+eq+%22johnwong%22`, fpStr("externalId", OpEq, "johnwong")},
		{"validator-raw-quotes", `filter=userName+eq+"dale.mohr%40romaguera.uk"`, fpStr("userName", OpEq, "dale.mohr@romaguera.uk")},
		{"okta-percent-20", `filter=userName%20eq%20%22isaac%40example.com%22&startIndex=1&count=100`, fpStr("userName", OpEq, "isaac@example.com")},
		{"plus-inside-value", `filter=emails+co+%22a%2Bb%40x.com%22`, fpStr("emails", OpCo, "a+b@x.com")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseFilter(q.Get("filter"))
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", q.Get("filter"), err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseFilterSharesInput pins the promise that names and unescaped
// values point into the input rather than being copied.
func TestParseFilterSharesInput(t *testing.T) {
	in := `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "Jensen"`
	f, err := ParseFilter(in)
	if err != nil {
		t.Fatal(err)
	}
	e := f.(*AttrExpr)
	within := func(s string) bool {
		start := uintptr(unsafe.Pointer(unsafe.StringData(in)))
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return p >= start && p+uintptr(len(s)) <= start+uintptr(len(in))
	}
	for _, s := range []string{e.Path.URN, e.Path.Name, e.Path.Sub, e.Value.Text} {
		if !within(s) {
			t.Errorf("%q is a copy, not a substring of the input", s)
		}
	}
}

func TestParseFilterAllocs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  float64
	}{
		{"entra-username", `userName eq "` + fpGUID + `"`, 1},
		{"compound", `id eq "g" and members eq "u"`, 3},
		{"escaped-string", `a eq "x\"y"`, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := testing.AllocsPerRun(100, func() {
				if _, err := ParseFilter(tc.in); err != nil {
					t.Fatal(err)
				}
			})
			if n > tc.max {
				t.Errorf("ParseFilter(%q) makes %v allocations, want at most %v", tc.in, n, tc.max)
			}
		})
	}
}

// fpPathCase is a PATCH path and what it parses to.
type fpPathCase struct {
	name string
	in   string
	want Path
}

var fpPathCases = []fpPathCase{
	{"attribute", `members`, Path{Attr: fpPath("members")}},
	{"sub-attribute", `name.givenName`, Path{Attr: fpPath("name.givenName")}},
	{"enterprise", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`, Path{Attr: fpPath(fpEnterprise + ":manager")}},
	{"enterprise-sub", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, Path{Attr: fpPath(fpEnterprise + ":manager.value")}},
	{"enterprise-employee-number", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`, Path{Attr: fpPath(fpEnterprise + ":employeeNumber")}},
	{"core-sub", `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`, Path{Attr: fpPath(fpCore + ":name.givenName")}},
	{"custom-extension", `urn:ietf:params:scim:schemas:extension:Acme:2.0:User:costCode`, Path{Attr: fpPath("urn:ietf:params:scim:schemas:extension:Acme:2.0:User:costCode")}},
	{"value-path", `members[value eq "` + fpGUID + `"]`, Path{Attr: fpPath("members"), Filter: fpStr("value", OpEq, fpGUID)}},
	{"value-path-sub", `emails[type eq "work"].value`, Path{Attr: fpPath("emails"), Filter: fpStr("type", OpEq, "work"), SubAttr: "value"}},
	{"value-path-sub-capitalized", `addresses[type eq "other"].Formatted`, Path{Attr: fpPath("addresses"), Filter: fpStr("type", OpEq, "other"), SubAttr: "Formatted"}},
	{"rfc-and", `emails[type eq "work" and value ew "example.com"]`, Path{Attr: fpPath("emails"), Filter: fpAnd(fpStr("type", OpEq, "work"), fpStr("value", OpEw, "example.com"))}},
	{"rfc-member-display", `members[value eq "` + fpGUID + `"].displayName`, Path{Attr: fpPath("members"), Filter: fpStr("value", OpEq, fpGUID), SubAttr: "displayName"}},
	{"urn-value-path", `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`, Path{Attr: fpPath(fpCore + ":emails"), Filter: fpStr("type", OpEq, "work"), SubAttr: "value"}},
	{"bare-value", `members[value eq abc]`, Path{Attr: fpPath("members"), Filter: fpStr("value", OpEq, "abc")}},
	{"spaces", "  emails [ type eq \"work\" ].value\t", Path{Attr: fpPath("emails"), Filter: fpStr("type", OpEq, "work"), SubAttr: "value"}},
	{"ref-sub", `members[value eq "x"].$ref`, Path{Attr: fpPath("members"), Filter: fpStr("value", OpEq, "x"), SubAttr: "$ref"}},
}

func TestParsePath(t *testing.T) {
	for _, tc := range fpPathCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePath(tc.in)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParsePath(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			s := got.String()
			again, err := parsePath(s, true)
			if err != nil {
				t.Fatalf("String() = %q does not parse strictly: %v", s, err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("String() = %q parses differently (-first +second):\n%s", s, diff)
			}
			if s2 := again.String(); s2 != s {
				t.Errorf("String() is not a fixpoint: %q then %q", s, s2)
			}
		})
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct {
		name, in string
		strict   bool
		detail   string
	}{
		{"empty", ``, false, `path is empty`},
		{"blank", `  `, false, `path is empty`},
		{"too-long", strings.Repeat("a", 4097), false, `path is 4097 bytes long; the limit is 4096`},
		{"bad-start", `[type eq "x"]`, false, `invalid path at position 1: expected an attribute name, found "["`},
		{"trailing-token", `members x`, false, `invalid path at position 9: expected "[" or the end of the path, found "x"`},
		{"after-brackets", `emails[type eq "work"]x`, false, `invalid path at position 23: expected "." and a sub-attribute, or the end of the path, found "x"`},
		{"after-sub", `emails[type eq "work"].value eq "x"`, false, `invalid path at position 30: expected the end of the path, found "eq"`},
		{"two-subs", `emails[type eq "work"].value.x`, false, `invalid path at position 29: expected one sub-attribute name after the value filter, found "value.x"`},
		{"empty-sub", `emails[type eq "work"].`, false, `invalid path at position 24: expected an attribute name (a letter, then letters, digits, '-' or '_'), found the end of the path`},
		{"sub-then-brackets", `name.givenName[x pr]`, false, `invalid path at position 15: a value filter must follow a multi-valued attribute, not the sub-attribute "name.givenName"`},
		{"nested", `emails[type[x pr]]`, false, `invalid path at position 12: value filters cannot be nested: the sub-attributes of a multi-valued attribute are not multi-valued`},
		{"bad-filter", `members[value equals "x"]`, false, `invalid path at position 15: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found "equals"`},
		{"unclosed", `members[value eq "x"`, false, `invalid path at position 21: expected "and", "or" or "]", found the end of the path`},
		{"strict-bare", `members[value eq abc]`, true, `invalid path at position 18: expected a value (a quoted string, a number, true, false or null), found "abc"`},
		{"subcompare-in-path", `emails[type eq "work"].value[x pr]`, false, `invalid path at position 29: expected the end of the path, found "["`},
		{"deep", "a[" + strings.Repeat("(", 32) + "b pr" + strings.Repeat(")", 32) + "]", false, `path is nested more than 32 levels deep`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePath(tc.in, tc.strict)
			if err == nil {
				t.Fatalf("parsePath(%q) = %v, want an error", tc.in, p)
			}
			fpCheckError(t, err, InvalidPath, tc.detail)
		})
	}
}

func TestParseAttrPath(t *testing.T) {
	tests := []struct {
		name, in string
		want     AttrPath
	}{
		{"name", `userName`, fpPath("userName")},
		{"sub", `name.familyName`, fpPath("name.familyName")},
		{"ref", `members.$ref`, fpPath("members.$ref")},
		{"meta", `meta.lastModified`, fpPath("meta.lastModified")},
		{"core-urn", `urn:ietf:params:scim:schemas:core:2.0:User:userName`, fpPath(fpCore + ":userName")},
		{"core-urn-sub", `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName`, AttrPath{URN: fpCore, Name: "name", Sub: "familyName"}},
		{"enterprise", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`, AttrPath{URN: fpEnterprise, Name: "manager"}},
		{"custom", `urn:ietf:params:scim:schemas:extension:Acme:2.0:User:costCode`, AttrPath{URN: "urn:ietf:params:scim:schemas:extension:Acme:2.0:User", Name: "costCode"}},
		{"whole-schema-urn-is-ambiguous", fpEnterprise, AttrPath{URN: "urn:ietf:params:scim:schemas:extension:enterprise:2.0", Name: "User"}},
		{"spaces", ` displayName `, fpPath("displayName")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAttrPath(tc.in)
			if err != nil {
				t.Fatalf("ParseAttrPath(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseAttrPath(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			if again, err := ParseAttrPath(got.String()); err != nil || again != got {
				t.Errorf("ParseAttrPath(%q) = %v, %v; want %v", got.String(), again, err, got)
			}
		})
	}

	errs := []struct {
		name, in, detail string
	}{
		{"empty", ``, `attribute path is empty`},
		{"too-long", strings.Repeat("a", 4097), `attribute path is 4097 bytes long; the limit is 4096`},
		{"value-path", `emails[type eq "work"]`, `invalid attribute path at position 7: expected the end of the attribute path, found "["`},
		{"list", `userName,emails`, `invalid attribute path at position 9: expected the end of the attribute path, found ",emails"`},
		{"two-subs", `a.b.c`, `invalid attribute path at position 4: expected at most one sub-attribute in "a.b.c"`},
		{"digit", `9lives`, `invalid attribute path at position 1: expected an attribute name (a letter, then letters, digits, '-' or '_'), found "9lives"`},
		{"trailing-colon", `urn:x:`, `invalid attribute path at position 7: expected an attribute name (a letter, then letters, digits, '-' or '_'), found the end of the attribute path`},
		{"not-a-name", `"userName"`, `invalid attribute path at position 1: expected an attribute name, found "\""`},
	}
	for _, tc := range errs {
		t.Run("error/"+tc.name, func(t *testing.T) {
			a, err := ParseAttrPath(tc.in)
			if err == nil {
				t.Fatalf("ParseAttrPath(%q) = %v, want an error", tc.in, a)
			}
			fpCheckError(t, err, InvalidPath, tc.detail)
		})
	}
}
