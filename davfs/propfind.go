package davfs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"shoebox/catalog"
)

const (
	nsDAV = "DAV:"
	nsOC  = "http://owncloud.org/ns"
)

// propRequest is a parsed PROPFIND body.
type propRequest struct {
	allprop  bool
	propname bool
	names    []xml.Name // prop, or allprop's include
}

var errBadXML = errors.New("malformed PROPFIND body")

// maxPropfindBody bounds a PROPFIND body; a longer one is answered 413.
const maxPropfindBody = 1 << 20

// parsePropfind reads a PROPFIND body; an empty body means allprop.
func parsePropfind(body io.Reader) (propRequest, error) {
	var pr propRequest
	d := xml.NewDecoder(body)
	depth := 0
	section := ""
	sawRoot, sawSection := false, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return pr, fmt.Errorf("%w: %w", errBadXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			for _, a := range t.Attr {
				// xmlns:p="" is not allowed by Namespaces in XML 1.0.
				if a.Name.Space == "xmlns" && a.Value == "" {
					return pr, fmt.Errorf("%w: empty namespace for prefix %q", errBadXML, a.Name.Local)
				}
			}
			depth++
			switch depth {
			case 1:
				if t.Name.Space != nsDAV || t.Name.Local != "propfind" {
					return pr, fmt.Errorf("%w: root element is not DAV:propfind", errBadXML)
				}
				sawRoot = true
			case 2:
				if t.Name.Space == nsDAV {
					section = t.Name.Local
					switch section {
					case "allprop":
						pr.allprop, sawSection = true, true
					case "propname":
						pr.propname, sawSection = true, true
					case "prop":
						sawSection = true
					}
				}
			case 3:
				if section == "prop" || section == "include" {
					if !ncName(t.Name.Local) {
						// It would be echoed in the answer, making it malformed.
						return pr, fmt.Errorf("%w: %q is not a property name", errBadXML, t.Name.Local)
					}
					pr.names = append(pr.names, t.Name)
				}
			}
		case xml.EndElement:
			depth--
			if depth == 1 {
				section = ""
			}
		}
	}
	if !sawRoot {
		if d.InputOffset() == 0 {
			pr.allprop = true
			return pr, nil
		}
		return pr, fmt.Errorf("%w: no propfind element", errBadXML)
	}
	if !sawSection {
		return pr, fmt.Errorf("%w: propfind needs prop, allprop or propname", errBadXML)
	}
	return pr, nil
}

// ncName reports whether s can be the local part of an element's name in
// XML with namespaces. encoding/xml checks the characters of a name but
// gives "<:/>" the local name ":" and "<a:/>" the local name "a:".
func ncName(s string) bool {
	return s != "" && !strings.Contains(s, ":")
}

func (h *Handler) propfind(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	ctx := r.Context()
	depth := -1
	switch d := r.Header.Get("Depth"); {
	case d == "0":
		depth = 0
	case d == "1":
		depth = 1
	case d == "" || strings.EqualFold(d, "infinity"):
	default:
		return http.StatusBadRequest, fmt.Errorf("bad Depth %q", d)
	}
	var pr propRequest
	var err error
	var mbe *http.MaxBytesError
	switch {
	case r.ContentLength == 0:
		pr.allprop = true
	case r.ContentLength > maxPropfindBody:
		return http.StatusRequestEntityTooLarge, fmt.Errorf("PROPFIND body of %d bytes: %w", r.ContentLength, errBodyTooLarge)
	default:
		if pr, err = parsePropfind(http.MaxBytesReader(w, r.Body, maxPropfindBody)); errors.As(err, &mbe) {
			return http.StatusRequestEntityTooLarge, fmt.Errorf("PROPFIND body over %d bytes: %w", maxPropfindBody, errBodyTooLarge)
		} else if err != nil {
			return http.StatusBadRequest, err
		}
	}
	o, err := h.stat(ctx, user, res)
	if err != nil {
		return statusFor(err), err
	}
	dir := isDirObj(res, o)
	if depth < 0 && dir && res.virtual {
		// Virtual trees are views of the whole library: one level at a time.
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>`)
		return 0, nil
	}
	if depth < 0 && dir {
		n, err := h.countTree(ctx, user, res, h.cfg.InfinityLimit+1)
		if err != nil {
			return statusFor(err), err
		}
		if n > h.cfg.InfinityLimit {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>`)
			return 0, nil
		}
	}
	pw := &propWriter{
		h: h, ctx: ctx, user: user, req: pr, base: h.base(r),
		w:     bufio.NewWriterSize(w, 64<<10),
		locks: h.locks.Any(user),
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	pw.w.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:multistatus xmlns:D="DAV:">`)
	err = pw.entry(res, o)
	if err == nil && dir && depth != 0 {
		err = h.walk(ctx, user, res, depth < 0, pw.entry)
	}
	pw.w.WriteString("</D:multistatus>\n")
	if ferr := pw.w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		h.log.Warn("PROPFIND answer cut short", "path", res.path, "err", err)
	}
	return 0, nil
}

// walk calls fn for the children of the folder res and, when deep, for all
// descendants, parents before children, in name order.
func (h *Handler) walk(ctx context.Context, user string, res resource, deep bool, fn func(resource, catalog.Object) error) error {
	if !deep {
		return h.children(ctx, user, res, fn)
	}
	if res.isRoot() {
		return h.children(ctx, user, res, func(b resource, o catalog.Object) error {
			if err := fn(b, o); err != nil {
				return err
			}
			if b.virtual {
				return nil // listed, not walked: see propfind
			}
			return h.walk(ctx, user, b, true, fn)
		})
	}
	prefix := ""
	if res.key != "" {
		prefix = res.key + "/"
	}
	return h.gw.Walk(ctx, user, res.bucket, prefix, "", func(o catalog.Object) error {
		if o.Key == prefix {
			return nil // the folder's own row
		}
		k := strings.TrimSuffix(o.Key, "/")
		return fn(resource{path: "/" + res.bucket + "/" + k, bucket: res.bucket, key: k}, o)
	})
}

// countTree counts the entries below res, stopping at limit.
func (h *Handler) countTree(ctx context.Context, user string, res resource, limit int) (int, error) {
	n := 0
	errStop := errors.New("stop")
	err := h.walk(ctx, user, res, true, func(resource, catalog.Object) error {
		if n++; n >= limit {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return n, err
}

// propWriter streams multistatus responses.
type propWriter struct {
	h     *Handler
	ctx   context.Context
	user  string
	req   propRequest
	base  string
	w     *bufio.Writer
	locks bool // the user holds locks: look them up per entry
	buf   bytes.Buffer
	// statCache holds the folder stats computed for this answer (ocprops.go).
	statCache map[string]folderStats
	// trash holds the trash items read for this answer (trashprops.go).
	trash map[string]catalog.TrashItem
}

type propVal struct {
	name  xml.Name
	value string // XML content, already escaped
}

// live returns the live properties of an entry.
func (p *propWriter) live(res resource, o catalog.Object) []propVal {
	dir := isDirObj(res, o)
	name := res.path[strings.LastIndexByte(res.path, '/')+1:]
	mod := o.ModTime().UTC()
	created := time.Unix(0, o.UploadNs).UTC()
	if o.UploadNs == 0 {
		created = mod
	}
	vals := make([]propVal, 0, 10)
	add := func(local, v string) { vals = append(vals, propVal{xml.Name{Space: nsDAV, Local: local}, v}) }
	add("displayname", xmlEscape(name))
	add("creationdate", created.Format("2006-01-02T15:04:05Z"))
	add("getlastmodified", mod.Format(http.TimeFormat))
	if dir {
		add("resourcetype", "<D:collection/>")
	} else {
		add("resourcetype", "")
		add("getcontentlength", fmt.Sprint(o.Size))
		ct := o.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		add("getcontenttype", xmlEscape(ct))
	}
	add("getetag", xmlEscape(o.ETag()))
	add("supportedlock", `<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>`+
		`<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>`)
	var ld strings.Builder
	if p.locks {
		for _, l := range p.h.locks.On(p.user, res.path) {
			ld.WriteString(activeLock(l, p.base))
		}
	}
	add("lockdiscovery", ld.String())
	return append(vals, p.trashProps(res, o)...)
}

func (p *propWriter) dead(res resource, o catalog.Object) ([]catalog.Prop, error) {
	if res.isRoot() || res.virtual || (res.key != "" && !o.HasProps) {
		return nil, nil
	}
	return p.h.gw.Props(p.ctx, p.user, res.bucket, o.Key)
}

func (p *propWriter) entry(res resource, o catalog.Object) error {
	if err := p.ctx.Err(); err != nil {
		return err
	}
	b := &p.buf
	b.Reset()
	b.WriteString("<D:response><D:href>")
	b.WriteString(xmlEscape(hrefFor(p.base, res.path, isDirObj(res, o))))
	b.WriteString("</D:href>")
	live := p.live(res, o)
	dead, err := p.dead(res, o)
	if err != nil {
		return err
	}
	switch {
	case p.req.propname:
		b.WriteString("<D:propstat><D:prop>")
		for _, v := range live {
			writeElem(b, v.name, "", "")
		}
		for _, d := range dead {
			writeElem(b, xml.Name{Space: d.Space, Local: d.Local}, "", "")
		}
		b.WriteString("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>")
	case p.req.allprop:
		b.WriteString("<D:propstat><D:prop>")
		for _, v := range live {
			writeElem(b, v.name, "", v.value)
		}
		for _, d := range dead {
			writeElem(b, xml.Name{Space: d.Space, Local: d.Local}, d.Lang, d.Inner)
		}
		for _, n := range p.req.names { // include
			if v, ok := p.extra(res, o, n); ok {
				writeElem(b, n, "", v)
			}
		}
		b.WriteString("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>")
	default:
		var missing []xml.Name
		b.WriteString("<D:propstat><D:prop>")
		found := 0
	names:
		for _, n := range p.req.names {
			if v, ok := p.named(res, o, n); ok {
				writeElem(b, n, "", v)
				found++
				continue
			}
			for _, v := range live {
				if v.name == n {
					writeElem(b, n, "", v.value)
					found++
					continue names
				}
			}
			for _, d := range dead {
				if d.Space == n.Space && d.Local == n.Local {
					writeElem(b, n, d.Lang, d.Inner)
					found++
					continue names
				}
			}
			if v, ok := p.extra(res, o, n); ok {
				writeElem(b, n, "", v)
				found++
				continue
			}
			missing = append(missing, n)
		}
		if found > 0 {
			b.WriteString("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>")
		} else {
			b.Reset()
			b.WriteString("<D:response><D:href>")
			b.WriteString(xmlEscape(hrefFor(p.base, res.path, isDirObj(res, o))))
			b.WriteString("</D:href>")
		}
		if len(missing) > 0 {
			b.WriteString("<D:propstat><D:prop>")
			for _, n := range missing {
				writeElem(b, n, "", "")
			}
			b.WriteString("</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>")
		}
	}
	b.WriteString("</D:response>")
	_, err = p.w.Write(b.Bytes())
	return err
}

// writeElem writes <name>value</name>, naming the namespace on the element
// itself so values keep the default namespace they were sent with.
func writeElem(b *bytes.Buffer, n xml.Name, lang, value string) {
	var open, close string
	switch n.Space {
	case nsDAV:
		open, close = "D:"+n.Local, "D:"+n.Local
	case nsOC:
		open, close = n.Local+` xmlns="`+nsOC+`" xmlns:oc="`+nsOC+`"`, n.Local
	case nsNC:
		open, close = n.Local+` xmlns="`+nsNC+`"`, n.Local
	case nsSB:
		open, close = "sb:"+n.Local+` xmlns:sb="`+nsSB+`"`, "sb:"+n.Local
	default:
		open, close = n.Local+` xmlns="`+xmlEscape(n.Space)+`"`, n.Local
	}
	b.WriteByte('<')
	b.WriteString(open)
	if lang != "" {
		b.WriteString(` xml:lang="`)
		b.WriteString(xmlEscape(lang))
		b.WriteByte('"')
	}
	if value == "" {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	b.WriteString(value)
	b.WriteString("</")
	b.WriteString(close)
	b.WriteByte('>')
}

func xmlEscape(s string) string {
	if !strings.ContainsAny(s, `&<>"'`+"\r\n\t") {
		return s
	}
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&#34;")
}
