package davfs

import (
	"errors"
	"strings"
)

// ifHeader is a parsed WebDAV If header (RFC 4918 §10.4): a disjunction of
// lists, each a conjunction of conditions, optionally tagged with the
// resource it applies to.
type ifHeader struct {
	lists []ifList
}

type ifList struct {
	tag   string // resource URL; "" for the request URL
	conds []ifCond
}

type ifCond struct {
	not   bool
	token string // a state token (lock token or DAV:no-lock), or
	etag  string // an entity tag, quotes included
}

var errBadIf = errors.New("malformed If header")

// parseIf parses an If header value:
//
//	If = 1*No-tag-list | 1*Tagged-list
//	Tagged-list = "<" URL ">" 1*List
//	List = "(" 1*(["Not"] ("<" state-token ">" | "[" entity-tag "]")) ")"
func parseIf(s string) (ifHeader, error) {
	var h ifHeader
	tagged, untagged := false, false
	tag, tagHasList := "", true
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			break
		}
		switch s[0] {
		case '<':
			if untagged || !tagHasList {
				return h, errBadIf // a tag after untagged lists, or a tag without a list
			}
			end := strings.IndexByte(s, '>')
			if end <= 1 {
				return h, errBadIf
			}
			tag, s = s[1:end], s[end+1:]
			tagged, tagHasList = true, false
		case '(':
			if !tagged {
				untagged = true
			}
			conds, rest, err := parseList(s[1:])
			if err != nil {
				return h, err
			}
			h.lists = append(h.lists, ifList{tag: tag, conds: conds})
			tagHasList, s = true, rest
		default:
			return h, errBadIf
		}
	}
	if len(h.lists) == 0 || !tagHasList {
		return h, errBadIf
	}
	return h, nil
}

// parseList parses the conditions of one list, s being what follows its
// "("; it returns what follows the closing ")".
func parseList(s string) ([]ifCond, string, error) {
	var out []ifCond
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return nil, "", errBadIf
		}
		if s[0] == ')' {
			if len(out) == 0 {
				return nil, "", errBadIf
			}
			return out, s[1:], nil
		}
		var c ifCond
		if len(s) >= 3 && strings.EqualFold(s[:3], "not") {
			c.not = true
			s = strings.TrimLeft(s[3:], " \t\r\n")
			if s == "" {
				return nil, "", errBadIf
			}
		}
		switch s[0] {
		case '<':
			end := strings.IndexByte(s, '>')
			if end <= 1 {
				return nil, "", errBadIf
			}
			c.token, s = s[1:end], s[end+1:]
		case '[':
			etag, rest, ok := cutEntityTag(s[1:])
			if !ok {
				return nil, "", errBadIf
			}
			c.etag, s = etag, rest
		default:
			return nil, "", errBadIf
		}
		out = append(out, c)
	}
}

// cutEntityTag reads `["W/"] quoted-string "]"` and returns the tag and the rest.
func cutEntityTag(s string) (etag, rest string, ok bool) {
	i := 0
	if strings.HasPrefix(s, "W/") {
		i = 2
	}
	if i >= len(s) || s[i] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[i+1:], '"')
	if end < 0 {
		return "", "", false
	}
	end += i + 2 // past the closing quote
	if end >= len(s) || s[end] != ']' {
		return "", "", false
	}
	return s[:end], s[end+1:], true
}

// tokens returns every state token the header names outside a Not: the
// lock tokens the client submits.
func (h ifHeader) tokens() map[string]bool {
	m := map[string]bool{}
	for _, l := range h.lists {
		for _, c := range l.conds {
			if c.token != "" && !c.not {
				m[c.token] = true
			}
		}
	}
	return m
}

// resourceState is what an If condition is tested against.
type resourceState struct {
	exists bool
	etag   string
	valid  func(token string) bool // is token a current lock token of the resource
}

// eval reports whether the header holds: some list whose every condition
// holds for its resource. state resolves a list's tag ("" = request URL).
func (h ifHeader) eval(state func(tag string) resourceState) bool {
	for _, l := range h.lists {
		st := state(l.tag)
		ok := true
		for _, c := range l.conds {
			var m bool
			if c.token != "" {
				m = st.valid != nil && st.valid(c.token) // a lock may cover a resource not yet created
			} else {
				m = st.exists && etagEqual(c.etag, st.etag)
			}
			if m == c.not {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// etagEqual compares entity tags weakly (W/ prefixes ignored).
func etagEqual(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}
