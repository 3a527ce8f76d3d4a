package davfs

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"shoebox/catalog"
	"shoebox/gateway/auth"
)

// WebDAV SEARCH (RFC 5323 basicsearch) as the Nextcloud apps send it to
// /remote.php/dav/: a scope /files/USER/…, a where clause over
// getcontenttype, getlastmodified, oc:fileid, displayname and sizes,
// an order and a page. The common query (media below a scope, newest
// first, paged) reads the catalog's modification-time index, so a page
// reads about a page of rows; anything else walks the scope, at most
// Config.InfinityLimit rows.

// searchRequest is a parsed basicsearch.
type searchRequest struct {
	props    propRequest
	scope    string // href, e.g. /files/alice/photos
	depth    int    // -1: infinity
	where    *cond  // nil: everything
	order    []orderKey
	limit    int // 0: none
	first    int
	hasWhere bool
}

type orderKey struct {
	prop xml.Name
	desc bool
}

// cond is a node of a where clause: op is and, or, not (kids) or a
// comparison of prop with lit.
type cond struct {
	op   string
	prop xml.Name
	lit  string
	kids []*cond
}

var errBadSearch = errors.New("bad SEARCH body")

// xnode is a generic XML element tree.
type xnode struct {
	XMLName xml.Name
	Nodes   []xnode `xml:",any"`
	Text    string  `xml:",chardata"`
}

func (n *xnode) child(local string) *xnode {
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == local {
			return &n.Nodes[i]
		}
	}
	return nil
}

func parseSearch(body io.Reader) (searchRequest, error) {
	sr := searchRequest{depth: -1}
	var root xnode
	if err := xml.NewDecoder(body).Decode(&root); err != nil {
		return sr, fmt.Errorf("%w: %w", errBadSearch, err)
	}
	if root.XMLName.Space != nsDAV || root.XMLName.Local != "searchrequest" {
		return sr, fmt.Errorf("%w: root element is not DAV:searchrequest", errBadSearch)
	}
	bs := root.child("basicsearch")
	if bs == nil {
		return sr, fmt.Errorf("%w: only DAV:basicsearch is supported", errBadSearch)
	}
	if sel := bs.child("select"); sel != nil {
		if sel.child("allprop") != nil {
			sr.props.allprop = true
		} else if p := sel.child("prop"); p != nil {
			for _, n := range p.Nodes {
				if !ncName(n.XMLName.Local) {
					return sr, fmt.Errorf("%w: %q is not a property name", errBadSearch, n.XMLName.Local)
				}
				sr.props.names = append(sr.props.names, n.XMLName)
			}
		}
	}
	if !sr.props.allprop && len(sr.props.names) == 0 {
		sr.props.allprop = true
	}
	from := bs.child("from")
	var scope *xnode
	if from != nil {
		scope = from.child("scope")
	}
	if scope == nil || scope.child("href") == nil {
		return sr, fmt.Errorf("%w: no DAV:from/DAV:scope/DAV:href", errBadSearch)
	}
	sr.scope = strings.TrimSpace(scope.child("href").Text)
	if d := scope.child("depth"); d != nil {
		switch v := strings.TrimSpace(d.Text); v {
		case "0":
			sr.depth = 0
		case "1":
			sr.depth = 1
		case "", "infinity", "Infinity":
		default:
			return sr, fmt.Errorf("%w: depth %q", errBadSearch, v)
		}
	}
	if w := bs.child("where"); w != nil {
		for i := range w.Nodes {
			c, err := parseCond(&w.Nodes[i])
			if err != nil {
				return sr, err
			}
			sr.where, sr.hasWhere = c, true
			break
		}
	}
	if ob := bs.child("orderby"); ob != nil {
		for _, o := range ob.Nodes {
			if o.XMLName.Local != "order" {
				continue
			}
			p := o.child("prop")
			if p == nil || len(p.Nodes) == 0 {
				return sr, fmt.Errorf("%w: order without a prop", errBadSearch)
			}
			sr.order = append(sr.order, orderKey{prop: p.Nodes[0].XMLName, desc: o.child("descending") != nil})
		}
	}
	if l := bs.child("limit"); l != nil {
		for _, n := range l.Nodes {
			v, err := strconv.Atoi(strings.TrimSpace(n.Text))
			if err != nil || v < 0 {
				return sr, fmt.Errorf("%w: %s %q", errBadSearch, n.XMLName.Local, n.Text)
			}
			switch n.XMLName.Local {
			case "nresults":
				sr.limit = v
			case "firstresult":
				sr.first = v
			}
		}
	}
	return sr, nil
}

func parseCond(n *xnode) (*cond, error) {
	c := &cond{op: n.XMLName.Local}
	switch c.op {
	case "and", "or", "not":
		for i := range n.Nodes {
			k, err := parseCond(&n.Nodes[i])
			if err != nil {
				return nil, err
			}
			c.kids = append(c.kids, k)
		}
		if c.op == "not" && len(c.kids) != 1 {
			return nil, fmt.Errorf("%w: not takes one condition", errBadSearch)
		}
	case "eq", "like", "lt", "lte", "gt", "gte", "is-defined":
		p := n.child("prop")
		if p == nil || len(p.Nodes) == 0 {
			return nil, fmt.Errorf("%w: %s without a prop", errBadSearch, c.op)
		}
		c.prop = p.Nodes[0].XMLName
		if l := n.child("literal"); l != nil {
			c.lit = l.Text
		} else if c.op != "is-defined" {
			return nil, fmt.Errorf("%w: %s without a literal", errBadSearch, c.op)
		}
	case "is-collection":
	default:
		return nil, fmt.Errorf("%w: operator %q is not supported", errBadSearch, c.op)
	}
	return c, nil
}

const dirType = "httpd/unix-directory"

func contentType(o catalog.Object) string {
	if o.IsDir() {
		return dirType
	}
	if o.ContentType == "" {
		return "application/octet-stream"
	}
	return o.ContentType
}

// value is a row's value of a searchable property: a string or a number
// (ok false: not searchable, which matches nothing).
func value(user string, o catalog.Object, p xml.Name) (s string, num int64, isNum, ok bool) {
	switch {
	case p.Space == nsDAV && p.Local == "getcontenttype":
		return contentType(o), 0, false, true
	case p.Space == nsDAV && p.Local == "displayname":
		return o.Name(), 0, false, true
	case p.Space == nsDAV && p.Local == "getlastmodified":
		return "", o.ModNs / 1e9, true, true
	case p.Space == nsDAV && p.Local == "getcontentlength", p.Space == nsOC && p.Local == "size":
		return "", o.Size, true, true
	case p.Space == nsOC && p.Local == "fileid":
		return "", int64(catalog.FileIDOf(user, o)), true, true
	case p.Space == nsOC && p.Local == "owner-id":
		return user, 0, false, true
	}
	return "", 0, false, false
}

// like matches s against an SQL LIKE pattern (% any run, _ one
// character), ignoring case.
func like(s, pat string) bool {
	s, pat = strings.ToLower(s), strings.ToLower(pat)
	if pat == "" {
		return s == ""
	}
	switch pat[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if like(s[i:], pat[1:]) {
				return true
			}
		}
		return false
	case '_':
		return s != "" && like(s[1:], pat[1:])
	}
	return s != "" && s[0] == pat[0] && like(s[1:], pat[1:])
}

// literalNum reads a number literal: an integer (unix seconds for dates)
// or an HTTP or ISO 8601 date.
func literalNum(lit string) (int64, bool) {
	lit = strings.TrimSpace(lit)
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return n, true
	}
	for _, f := range []string{http.TimeFormat, time.RFC1123, time.RFC1123Z, time.RFC3339} {
		if t, err := time.Parse(f, lit); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

func (c *cond) match(user string, o catalog.Object) bool {
	switch c.op {
	case "and":
		for _, k := range c.kids {
			if !k.match(user, o) {
				return false
			}
		}
		return true
	case "or":
		for _, k := range c.kids {
			if k.match(user, o) {
				return true
			}
		}
		return false
	case "not":
		return !c.kids[0].match(user, o)
	case "is-collection":
		return o.IsDir()
	}
	s, n, isNum, ok := value(user, o, c.prop)
	if !ok {
		return false
	}
	if c.op == "is-defined" {
		return true
	}
	if c.op == "like" {
		return !isNum && like(s, c.lit)
	}
	cmp := 0
	if isNum {
		v, ok := literalNum(c.lit)
		if !ok {
			return false
		}
		cmp = compareInt(n, v)
	} else {
		cmp = strings.Compare(strings.ToLower(s), strings.ToLower(c.lit))
	}
	switch c.op {
	case "eq":
		return cmp == 0
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	}
	return false
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// filesOnly reports whether c can only match files (never a folder): it
// then can be served from the mtime index, which holds files only.
func (c *cond) filesOnly() bool {
	if c == nil {
		return false
	}
	switch c.op {
	case "and":
		return slices.ContainsFunc(c.kids, (*cond).filesOnly)
	case "or":
		return len(c.kids) > 0 && !slices.ContainsFunc(c.kids, func(k *cond) bool { return !k.filesOnly() })
	case "not":
		return c.kids[0].op == "is-collection"
	case "eq":
		return c.prop == xml.Name{Space: nsDAV, Local: "getcontenttype"} && !strings.EqualFold(c.lit, dirType)
	case "like":
		return c.prop == xml.Name{Space: nsDAV, Local: "getcontenttype"} && !like(dirType, c.lit)
	}
	return false
}

var errPageFull = errors.New("page full")

// Search answers a SEARCH request whose scope hrefs are under root (the
// URL path of the DAV root, e.g. "/remote.php/dav"): a scope
// /files/USER/… of the authenticated user (403 for another user's),
// answered 207 with the selected properties of each match, hrefs
// root/files/USER/….
func (h *Handler) Search(w http.ResponseWriter, r *http.Request, root string) {
	status, err := h.search(w, r, strings.TrimSuffix(root, "/"))
	h.finish(w, r, status, err)
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request, root string) (int, error) {
	ctx := r.Context()
	user := auth.User(ctx)
	if user == "" {
		return http.StatusUnauthorized, errors.New("no authenticated user")
	}
	var mbe *http.MaxBytesError
	sr, err := parseSearch(http.MaxBytesReader(w, r.Body, maxPropfindBody))
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("SEARCH body over %d bytes: %w", maxPropfindBody, errBodyTooLarge)
	} else if err != nil {
		return http.StatusBadRequest, err
	}
	scope := sr.scope
	if u, err := url.Parse(scope); err == nil && u.Path != "" {
		scope = u.Path // a full URL, or %-escapes
	}
	scope = strings.TrimPrefix(scope, root)
	rest, ok := strings.CutPrefix(scope, "/files/")
	if !ok {
		return http.StatusBadRequest, fmt.Errorf("%w: scope %q is not /files/USER/…", errBadSearch, sr.scope)
	}
	scopeUser, _, _ := strings.Cut(rest, "/")
	if scopeUser != user {
		return http.StatusForbidden, fmt.Errorf("scope %q: not the signed-in user's", sr.scope)
	}
	mount := root + "/files/" + user
	res, ok, err := h.parsePath(r.WithContext(WithMount(ctx, mount)), root+scope)
	if !ok || err != nil {
		return http.StatusBadRequest, fmt.Errorf("%w: scope %q: %w", errBadSearch, sr.scope, err)
	}
	if res.virtual {
		return http.StatusBadRequest, fmt.Errorf("%w: scope %q is a virtual folder", errBadSearch, sr.scope)
	}
	o, err := h.stat(ctx, user, res)
	if err != nil {
		return statusFor(err), err
	}
	ext := h.cfg.ExternalPrefix
	if fp := strings.TrimSuffix(r.Header.Get("X-Forwarded-Prefix"), "/"); fp != "" && strings.HasPrefix(fp, "/") {
		ext = fp
	}
	pw := &propWriter{
		h: h, ctx: ctx, user: user, req: sr.props, base: ext + mount,
		w:     bufio.NewWriterSize(w, 64<<10),
		locks: h.locks.Any(user),
	}
	type hit struct {
		res resource
		o   catalog.Object
	}
	var hits []hit
	indexed := sr.depth < 0 && sr.where.filesOnly() &&
		(len(sr.order) == 0 || (len(sr.order) == 1 && sr.order[0].prop == xml.Name{Space: nsDAV, Local: "getlastmodified"} && sr.order[0].desc))
	if indexed {
		prefix := ""
		if res.key != "" {
			prefix = res.key + "/"
		}
		skip := sr.first
		read, err := h.gw.Catalog().ByModTime(ctx, user, res.bucket, prefix, func(o catalog.Object) error {
			if !sr.where.match(user, o) {
				return nil
			}
			if skip > 0 {
				skip--
				return nil
			}
			hits = append(hits, hit{resource{path: "/" + o.Bucket + "/" + o.Key, bucket: o.Bucket, key: o.Key}, o})
			if sr.limit > 0 && len(hits) == sr.limit {
				return errPageFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errPageFull) {
			return statusFor(err), err
		}
		h.log.Debug("SEARCH from the mtime index", "scope", sr.scope, "rows", read, "hits", len(hits))
	} else {
		n := 0
		consider := func(res resource, o catalog.Object) error {
			if n++; n > h.cfg.InfinityLimit {
				return errPageFull
			}
			if o.Key == "" && !res.isRoot() {
				o.Key = res.key + "/" // a bucket
			}
			if sr.where == nil || sr.where.match(user, o) {
				hits = append(hits, hit{res, o})
			}
			return nil
		}
		if sr.depth == 0 || !isDirObj(res, o) {
			err = consider(res, o)
		} else {
			err = h.walk(ctx, user, res, sr.depth < 0, func(cr resource, co catalog.Object) error {
				if cr.virtual {
					return nil
				}
				return consider(cr, co)
			})
		}
		if errors.Is(err, errPageFull) {
			return http.StatusInsufficientStorage, fmt.Errorf("SEARCH of %q examines over %d entries: narrow it (media types, newest first)", sr.scope, h.cfg.InfinityLimit)
		}
		if err != nil {
			return statusFor(err), err
		}
		slices.SortStableFunc(hits, func(a, b hit) int {
			for _, k := range sr.order {
				as, an, num, _ := value(user, a.o, k.prop)
				bs, bn, _, _ := value(user, b.o, k.prop)
				c := strings.Compare(as, bs)
				if num {
					c = compareInt(an, bn)
				}
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
		hits = hits[min(sr.first, len(hits)):]
		if sr.limit > 0 && len(hits) > sr.limit {
			hits = hits[:sr.limit]
		}
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	pw.w.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:multistatus xmlns:D="DAV:">`)
	for _, ht := range hits {
		if err = pw.entry(ht.res, ht.o); err != nil {
			break
		}
	}
	pw.w.WriteString("</D:multistatus>\n")
	if ferr := pw.w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		h.log.Warn("SEARCH answer cut short", "scope", sr.scope, "err", err)
	}
	return 0, nil
}
