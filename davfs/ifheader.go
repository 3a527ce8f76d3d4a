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

// parseIf parses an If header value.
func parseIf(s string) (ifHeader, error) {
	var h ifHeader
	tag := ""
	tagged := false
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			break
		}
		switch s[0] {
		case '<':
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return h, errBadIf
			}
			if len(h.lists) > 0 && !tagged {
				return h, errBadIf // mixing untagged and tagged lists
			}
			tag, tagged, s = s[1:end], true, s[end+1:]
		case '(':
			end := -1
			// find the matching ')' outside <...> and [...]
			inAngle, inSquare := false, false
			for i := 1; i < len(s); i++ {
				switch c := s[i]; {
				case c == '<' && !inSquare:
					inAngle = true
				case c == '>' && !inSquare:
					inAngle = false
				case c == '[' && !inAngle:
					inSquare = true
				case c == ']' && !inAngle:
					inSquare = false
				case c == ')' && !inAngle && !inSquare:
					end = i
				}
				if end >= 0 {
					break
				}
			}
			if end < 0 {
				return h, errBadIf
			}
			conds, err := parseConds(s[1:end])
			if err != nil {
				return h, err
			}
			if tagged && len(h.lists) > 0 && tag == "" {
				return h, errBadIf
			}
			h.lists = append(h.lists, ifList{tag: tag, conds: conds})
			s = s[end+1:]
		default:
			return h, errBadIf
		}
	}
	if len(h.lists) == 0 {
		return h, errBadIf
	}
	return h, nil
}

func parseConds(s string) ([]ifCond, error) {
	var out []ifCond
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			break
		}
		var c ifCond
		if len(s) >= 3 && strings.EqualFold(s[:3], "not") {
			c.not = true
			s = strings.TrimLeft(s[3:], " \t\r\n")
		}
		if s == "" {
			return nil, errBadIf
		}
		switch s[0] {
		case '<':
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return nil, errBadIf
			}
			c.token, s = s[1:end], s[end+1:]
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, errBadIf
			}
			c.etag, s = s[1:end], s[end+1:]
		default:
			return nil, errBadIf
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errBadIf
	}
	return out, nil
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
