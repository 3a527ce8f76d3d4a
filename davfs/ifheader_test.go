package davfs

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseIf(t *testing.T) {
	const (
		tok1 = "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2"
		tok2 = "urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092"
	)
	tokCond := func(tok string) ifCond { return ifCond{token: tok} }
	notTok := func(tok string) ifCond { return ifCond{not: true, token: tok} }
	etag := func(e string) ifCond { return ifCond{etag: e} }
	tests := []struct {
		name string
		in   string
		want []ifList
	}{
		{
			// RFC 4918 §10.4.6
			"token and etag, or another etag",
			`(<` + tok1 + `> ["I am an ETag"]) (["I am another ETag"])`,
			[]ifList{
				{conds: []ifCond{tokCond(tok1), etag(`"I am an ETag"`)}},
				{conds: []ifCond{etag(`"I am another ETag"`)}},
			},
		},
		{
			// RFC 4918 §10.4.7
			"not a token, and a token",
			`(Not <` + tok1 + `> <` + tok2 + `>)`,
			[]ifList{{conds: []ifCond{notTok(tok1), tokCond(tok2)}}},
		},
		{
			// RFC 4918 §10.4.8
			"token or not no-lock",
			`(<` + tok1 + `>) (Not <DAV:no-lock>)`,
			[]ifList{
				{conds: []ifCond{tokCond(tok1)}},
				{conds: []ifCond{notTok("DAV:no-lock")}},
			},
		},
		{
			// RFC 4918 §10.4.9
			"tagged list with weak etag",
			`<http://www.example.com/specs/> (<` + tok1 + `> [W/"A weak ETag"]) (["strong ETag"])`,
			[]ifList{
				{tag: "http://www.example.com/specs/", conds: []ifCond{tokCond(tok1), etag(`W/"A weak ETag"`)}},
				{tag: "http://www.example.com/specs/", conds: []ifCond{etag(`"strong ETag"`)}},
			},
		},
		{
			// RFC 4918 §10.4.10
			"tagged not etag",
			`</specs/rfc2518.doc> (Not ["4217"])`,
			[]ifList{{tag: "/specs/rfc2518.doc", conds: []ifCond{{not: true, etag: `"4217"`}}}},
		},
		{
			"two tags",
			`</a> (<` + tok1 + `>) </b> (<` + tok2 + `>) (["x"])`,
			[]ifList{
				{tag: "/a", conds: []ifCond{tokCond(tok1)}},
				{tag: "/b", conds: []ifCond{tokCond(tok2)}},
				{tag: "/b", conds: []ifCond{etag(`"x"`)}},
			},
		},
		{
			"no spaces, lower-case not, folded whitespace",
			"(not<a>)(<b>)\r\n\t([\"c\"])",
			[]ifList{
				{conds: []ifCond{notTok("a")}},
				{conds: []ifCond{tokCond("b")}},
				{conds: []ifCond{etag(`"c"`)}},
			},
		},
		{
			"parenthesis inside an etag",
			`(["a)b"] <t>)`,
			[]ifList{{conds: []ifCond{etag(`"a)b"`), tokCond("t")}}},
		},
		{
			"angle bracket inside an etag",
			`(["a>b"])`,
			[]ifList{{conds: []ifCond{etag(`"a>b"`)}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parseIf(tc.in)
			if err != nil {
				t.Fatalf("parseIf(%s): got error %v; want nil", tc.in, err)
			}
			if !reflect.DeepEqual(h.lists, tc.want) {
				t.Errorf("parseIf(%s): got %+v; want %+v", tc.in, h.lists, tc.want)
			}
		})
	}
}

func TestParseIfMalformed(t *testing.T) {
	for _, in := range []string{
		``,
		`   `,
		`token`,
		`<a>`,
		`(`,
		`()`,
		`( )`,
		`(<a>`,
		`(<a> ["e"]`,
		`(<a`,
		`(["e")`,
		`(<a> bare)`,
		`(Not)`,
		`(Not )`,
		`(Nota)`,
		`(<a>) junk`,
		`(<a>) </r> (<b>)`, // untagged, then tagged
		`</r> (<a>) <> (<b>)`,
		`<r (<a>)`,
	} {
		if _, err := parseIf(in); !errors.Is(err, errBadIf) {
			t.Errorf("parseIf(%q): got %v; want errBadIf", in, err)
		}
	}
}

func TestIfEval(t *testing.T) {
	valid := map[string]bool{"tok-ok": true}
	here := resourceState{exists: true, etag: `"e1"`, valid: func(tok string) bool { return valid[tok] }}
	other := resourceState{exists: true, etag: `"o1"`, valid: func(tok string) bool { return tok == "tok-other" }}
	missing := resourceState{exists: false, valid: func(tok string) bool { return tok == "tok-ok" }}
	tests := []struct {
		name  string
		in    string
		state resourceState // for the request URL; "/other" is other
		want  bool
	}{
		{"valid token", `(<tok-ok>)`, here, true},
		{"unknown token", `(<tok-bad>)`, here, false},
		{"matching etag", `(["e1"])`, here, true},
		{"other etag", `(["e2"])`, here, false},
		{"weak etag matches strong", `([W/"e1"])`, here, true},
		{"all conditions hold", `(<tok-ok> ["e1"])`, here, true},
		{"one condition fails", `(<tok-ok> ["e2"])`, here, false},
		{"second list passes", `(<tok-bad>) (["e1"])`, here, true},
		{"no list passes", `(<tok-bad>) (["e2"])`, here, false},
		{"not of an invalid token", `(Not <tok-bad>)`, here, true},
		{"not of a valid token", `(Not <tok-ok>)`, here, false},
		{"not no-lock", `(Not <DAV:no-lock>)`, here, true},
		{"no-lock", `(<DAV:no-lock>)`, here, false},
		{"not of a matching etag", `(Not ["e1"])`, here, false},
		{"not of another etag", `(Not ["e2"])`, here, true},
		{"token, or not no-lock", `(<tok-bad>) (Not <DAV:no-lock>)`, here, true},
		{"etag of a missing resource", `([""])`, missing, false},
		{"not etag of a missing resource", `(Not ["e1"])`, missing, true},
		{"token of a missing resource", `(<tok-ok>)`, missing, true},
		{"no valid func", `(<tok-ok>)`, resourceState{exists: true}, false},
		{"tagged list uses its resource", `</other> (["o1"] <tok-other>)`, here, true},
		{"tagged list fails on its resource", `</other> (["e1"])`, here, false},
		{"tagged lists, second passes", `</other> (["e1"]) </here> (["e1"])`, here, true},
	}
	for _, tc := range tests {
		h, err := parseIf(tc.in)
		if err != nil {
			t.Fatalf("%s: parseIf(%s): %v", tc.name, tc.in, err)
		}
		var asked []string
		got := h.eval(func(tag string) resourceState {
			asked = append(asked, tag)
			switch tag {
			case "", "/here":
				return tc.state
			case "/other":
				return other
			}
			t.Errorf("%s: state asked for unexpected tag %q", tc.name, tag)
			return resourceState{}
		})
		if got != tc.want {
			t.Errorf("%s: eval(%s) got %v; want %v (tags asked %q)", tc.name, tc.in, got, tc.want, asked)
		}
	}
}

func TestIfTokens(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]bool
	}{
		{`(<a>)`, map[string]bool{"a": true}},
		{`(<a> ["e"]) (Not <b>) (<c> Not <d>)`, map[string]bool{"a": true, "c": true}},
		{`</r> (<a>) </s> (Not <b>) (<c>)`, map[string]bool{"a": true, "c": true}},
		{`(Not <DAV:no-lock>)`, map[string]bool{}},
		{`(["e"]) (<a>) (<a>)`, map[string]bool{"a": true}},
	}
	for _, tc := range tests {
		h, err := parseIf(tc.in)
		if err != nil {
			t.Fatalf("parseIf(%s): %v", tc.in, err)
		}
		if got := h.tokens(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("tokens of %s: got %v; want %v", tc.in, got, tc.want)
		}
	}
}

func TestEtagEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`"x"`, `"x"`, true},
		{`W/"x"`, `"x"`, true},
		{`"x"`, `W/"x"`, true},
		{`"x"`, `"y"`, false},
		{`"x"`, `x`, false},
	}
	for _, tc := range tests {
		if got := etagEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("etagEqual(%s, %s): got %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParseIfStrict(t *testing.T) {
	for _, bad := range []string{`<a> (<x>) <b>`, `<a> <b> (<x>)`, `(<>)`, `([])`, `(<x>) <a> (<y>)`, `([unquoted])`} {
		if _, err := parseIf(bad); err == nil {
			t.Errorf("parseIf(%q) = nil error; want one", bad)
		}
	}
	h, err := parseIf(`(["a]b"] [W/"x"])`)
	if err != nil {
		t.Fatalf("parseIf with ']' inside an entity tag: %v", err)
	}
	if got := h.lists[0].conds; len(got) != 2 || got[0].etag != `"a]b"` || got[1].etag != `W/"x"` {
		t.Errorf("conds = %+v; want etags \"a]b\" and W/\"x\"", got)
	}
}
