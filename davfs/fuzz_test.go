package davfs

// Fuzz tests of the request parsers this package owns: the If header, the
// PROPFIND and LOCK bodies, and PROPPATCH as served (x/net/webdav parses
// it; the body limit, the store and the PROPFIND that shows the result are
// this package's). Seeds are what litmus, cadaver, rclone, the Windows
// redirector and macOS Finder send. `make fuzz` runs each for a while;
// plain `go test` runs the seeds and testdata/fuzz/.

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
	"shoebox/gateway/auth"
	"shoebox/gateway/localfs"
)

// printIf writes h back as an If header.
func printIf(h ifHeader) string {
	var b strings.Builder
	tag := ""
	for i, l := range h.lists {
		if l.tag != "" && (i == 0 || l.tag != tag) {
			b.WriteString("<" + l.tag + "> ")
		}
		tag = l.tag
		b.WriteString("(")
		for j, c := range l.conds {
			if j > 0 {
				b.WriteString(" ")
			}
			if c.not {
				b.WriteString("Not ")
			}
			if c.token != "" {
				b.WriteString("<" + c.token + ">")
			} else {
				b.WriteString("[" + c.etag + "]")
			}
		}
		b.WriteString(") ")
	}
	return b.String()
}

func FuzzParseIf(f *testing.F) {
	for _, s := range []string{
		// RFC 4918 §10.4 examples, litmus (locks, cond_put) and cadaver.
		`(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> ["I am an ETag"]) (["I am another ETag"])`,
		`(Not <urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> <urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092>)`,
		`(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>) (Not <DAV:no-lock>)`,
		`<http://www.example.com/specs/> (<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> [W/"A weak ETag"]) (["strong ETag"])`,
		`</specs/rfc2518.doc> (Not ["4217"])`,
		`<http://localhost/dav/litmus/lockme> (<opaquelocktoken:fe184f2e-6eec-41d0-c765-01adc56e6bb4>)`,
		`(<opaquelocktoken:fe184f2e-6eec-41d0-c765-01adc56e6bb4> ["0f8fad5bd9cb0f2b5e3e7e4b1b6a5c3d"]) (Not <DAV:no-lock> ["0f8fad5bd9cb0f2b5e3e7e4b1b6a5c3d"])`,
		`</a> (<t1>) </b> (<t2>) (["x"])`,
		`(["a)b"] <t>)`,
		`(<a>) </r> (<b>)`,
		`(Nota)`,
		"(\t<a>\r\n)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseIf(s)
		if err != nil {
			if !errors.Is(err, errBadIf) {
				t.Fatalf("parseIf(%q): error %v; want errBadIf", s, err)
			}
			return
		}
		if len(h.lists) == 0 {
			t.Fatalf("parseIf(%q): no lists and no error", s)
		}
		for _, l := range h.lists {
			if len(l.conds) == 0 {
				t.Fatalf("parseIf(%q): an empty list", s)
			}
			for _, c := range l.conds {
				if (c.token == "") == (c.etag == "") {
					t.Fatalf("parseIf(%q): condition %+v is neither a token nor an etag", s, c)
				}
			}
		}
		// Every token submitted is one the header names outside Not.
		for tok := range h.tokens() {
			if !strings.Contains(s, "<"+tok+">") {
				t.Fatalf("parseIf(%q): token %q not in the header", s, tok)
			}
		}
		// parse → print → parse gives the same header.
		p := printIf(h)
		h2, err := parseIf(p)
		if err != nil {
			t.Fatalf("parseIf(%q) = %+v, printed %q: %v", s, h.lists, p, err)
		}
		if !reflect.DeepEqual(h.lists, h2.lists) {
			t.Fatalf("round trip of %q through %q: got %+v; want %+v", s, p, h2.lists, h.lists)
		}
	})
}

// printPropfind writes pr back as a PROPFIND body.
func printPropfind(pr propRequest) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:">`)
	names := func() {
		for _, n := range pr.names {
			if n.Space == "" {
				b.WriteString(`<` + n.Local + ` xmlns=""/>`)
				continue
			}
			b.WriteString(`<p:` + n.Local + ` xmlns:p="` + xmlEscape(n.Space) + `"/>`)
		}
	}
	switch {
	case pr.allprop || pr.propname:
		if pr.allprop {
			b.WriteString("<D:allprop/>")
		}
		if pr.propname {
			b.WriteString("<D:propname/>")
		}
		if len(pr.names) > 0 {
			b.WriteString("<D:include>")
			names()
			b.WriteString("</D:include>")
		}
	default:
		b.WriteString("<D:prop>")
		names()
		b.WriteString("</D:prop>")
	}
	b.WriteString("</D:propfind>")
	return b.String()
}

func FuzzPropfindBody(f *testing.F) {
	for _, s := range []string{
		``,
		// cadaver, litmus (propfind_d0, propget), Windows, Finder, rclone.
		`<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><allprop/></propfind>`,
		`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`,
		`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<propfind xmlns="DAV:"><prop>` + "\n" +
			`<getcontentlength xmlns="DAV:"/><getlastmodified xmlns="DAV:"/><executable xmlns="http://apache.org/dav/props/"/>` +
			`<resourcetype xmlns="DAV:"/><checked-in xmlns="DAV:"/><checked-out xmlns="DAV:"/></prop></propfind>`,
		`<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop><D:name/><D:parentname/><D:href/><D:ishidden/>` +
			`<D:isreadonly/><D:getcontenttype/><D:contentclass/><D:getcontentlanguage/><D:creationdate/><D:lastaccessed/>` +
			`<D:getlastmodified/><D:getcontentlength/><D:iscollection/><D:isstructureddocument/><D:defaultdocument/>` +
			`<D:displayname/><D:isroot/><D:resourcetype/></D:prop></D:propfind>`,
		`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/>` +
			`<D:quota/><D:quotaused/></D:prop></D:propfind>`,
		`<?xml version="1.0" encoding="UTF-8"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>` +
			`<d:displayname/><d:getlastmodified/><d:getcontentlength/><d:resourcetype/><d:getcontenttype/><oc:checksums/>` +
			`<oc:permissions/></d:prop></d:propfind>`,
		`<propfind xmlns="DAV:"><allprop/><include><supported-live-property-set/><supported-report-set/></include></propfind>`,
		`<propfind xmlns="DAV:"><prop><bar:foo xmlns:bar=""/></prop></propfind>`,
		`<foo/>`,
		`<propfind xmlns="DAV:"></propfind>`,
		`<propfind xmlns="DAV:"><prop><a:b:c xmlns:a="x"/></prop></propfind>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pr, err := parsePropfind(bytes.NewReader(body))
		if err != nil {
			if !errors.Is(err, errBadXML) {
				t.Fatalf("parsePropfind(%q): error %v; want errBadXML", body, err)
			}
			return
		}
		if !pr.allprop && !pr.propname && len(pr.names) == 0 && len(bytes.TrimSpace(body)) > 0 {
			// <prop/> alone asks for nothing, which is allowed; but then
			// the body said prop.
			if !bytes.Contains(body, []byte("prop")) {
				t.Fatalf("parsePropfind(%q): nothing asked", body)
			}
		}
		p := printPropfind(pr)
		pr2, err := parsePropfind(strings.NewReader(p))
		if err != nil {
			t.Fatalf("parsePropfind(%q) = %+v, printed %q: %v", body, pr, p, err)
		}
		if len(pr.names) == 0 {
			pr.names = nil
		}
		if len(pr2.names) == 0 {
			pr2.names = nil
		}
		if !reflect.DeepEqual(pr, pr2) {
			t.Fatalf("round trip of %q through %q: got %+v; want %+v", body, p, pr2, pr)
		}
	})
}

func FuzzLockBody(f *testing.F) {
	for _, s := range []string{
		``,
		// litmus (locks), cadaver, Windows (Office), Finder.
		`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<lockinfo xmlns='DAV:'>` + "\n" +
			` <lockscope><exclusive/></lockscope>` + "\n" + `<locktype><write/></locktype><owner>litmus test suite</owner>` + "\n" + `</lockinfo>`,
		`<?xml version="1.0" encoding="utf-8"?><lockinfo xmlns='DAV:'><lockscope><shared/></lockscope><locktype><write/></locktype>` +
			`<owner>litmus test suite</owner></lockinfo>`,
		`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<lockinfo xmlns='DAV:'>` + "\n" +
			` <lockscope><exclusive/></lockscope>` + "\n" + `<locktype><write/></locktype><owner><href>http://www.webdav.org/cadaver/</href></owner>` + "\n" + `</lockinfo>`,
		`<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>` +
			`<D:locktype><D:write/></D:locktype><D:owner><D:href>DESKTOP\user</D:href></D:owner></D:lockinfo>`,
		`<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>` +
			`<D:locktype><D:write/></D:locktype><D:owner><D:href>http://www.apple.com/webdav_fs/</D:href></D:owner></D:lockinfo>`,
		`<lockinfo xmlns="DAV:"><lockscope><exclusive/><shared/></lockscope><locktype><write/></locktype></lockinfo>`,
		`<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope></lockinfo>`,
		`<lockinfo xmlns="DAV:" xmlns:z="urn:z"><lockscope><exclusive/></lockscope><locktype><write/></locktype><owner><z:who>&amp;<![CDATA[<x>]]></z:who></owner></lockinfo>`,
	} {
		f.Add([]byte(s), false)
	}
	f.Add(bytes.Repeat([]byte(" "), maxLockBody+1), false)
	f.Add([]byte(`<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype></lockinfo>`), true)
	f.Fuzz(func(t *testing.T, body []byte, pad bool) {
		if pad {
			// A valid start and more than the limit after it.
			body = append(body, bytes.Repeat([]byte(" "), maxLockBody)...)
		}
		li, refresh, err := readLockInfo(bytes.NewReader(body))
		if len(body) > maxLockBody {
			if !errors.Is(err, errBodyTooLarge) {
				t.Fatalf("readLockInfo of %d bytes: %v; want errBodyTooLarge", len(body), err)
			}
			return
		}
		if err != nil {
			return
		}
		if refresh {
			if len(bytes.TrimSpace(body)) != 0 {
				t.Fatalf("readLockInfo(%q): a refresh, but the body is not empty", body)
			}
			return
		}
		if li.Write == nil || (li.Exclusive == nil) == (li.Shared == nil) {
			t.Fatalf("readLockInfo(%q) = %+v: accepted without write and one scope", body, li)
		}
		// The answer is well-formed XML that gives the owner back.
		l := Lock{Token: "opaquelocktoken:x", Root: "/b/f", Shared: li.Shared != nil, Owner: strings.TrimSpace(li.Owner.Inner), Timeout: time.Hour}
		w := httptest.NewRecorder()
		writeLockResponse(w, l, "/dav", http.StatusOK)
		var got struct {
			Owner struct {
				Inner string `xml:",innerxml"`
			} `xml:"lockdiscovery>activelock>owner"`
			Shared *struct{} `xml:"lockdiscovery>activelock>lockscope>shared"`
		}
		if err := xmlWellFormed(w.Body.Bytes()); err != nil {
			t.Fatalf("LOCK %q: answer %q is not well-formed: %v", body, w.Body.Bytes(), err)
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("LOCK %q: answer %q: %v", body, w.Body.Bytes(), err)
		}
		if got.Owner.Inner != l.Owner || (got.Shared != nil) != l.Shared {
			t.Fatalf("LOCK %q: answer owner %q shared %v; want %q %v", body, got.Owner.Inner, got.Shared != nil, l.Owner, l.Shared)
		}
	})
}

// xmlWellFormed reads a document to its end with a strict decoder.
func xmlWellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if depth != 0 || roots != 1 {
				return errors.New("not one root element")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

// newFuzzHandler serves alice's library (a bucket "b" holding "f.txt")
// from a catalog in memory.
func newFuzzHandler(tb testing.TB) (http.Handler, *gateway.Gateway) {
	tb.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := catalog.Open("", catalog.Options{InMemory: true, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cat.Close() })
	be, err := localfs.New(tb.TempDir(), localfs.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { be.Close() })
	gw := gateway.New(be, cat, gateway.Options{Logger: quiet})
	h := NewHandler(gw, Config{Prefix: "/dav", Logger: quiet})
	srv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), "alice")))
	})
	for _, req := range []*http.Request{
		httptest.NewRequest("MKCOL", "/dav/bkt", nil),
		httptest.NewRequest("PUT", "/dav/bkt/f.txt", strings.NewReader("hello")),
	} {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code >= 300 {
			tb.Fatalf("%s %s: %d %s", req.Method, req.URL, w.Code, w.Body)
		}
	}
	return srv, gw
}

func FuzzProppatchBody(f *testing.F) {
	for _, s := range []string{
		// litmus (props), cadaver propset, rclone owncloud, Windows (Win32 times).
		`<?xml version="1.0" encoding="utf-8" ?><propertyupdate xmlns="DAV:"><set><prop>` +
			`<prop0 xmlns="http://example.com/neon/litmus/">value0</prop0></prop></set></propertyupdate>`,
		`<?xml version="1.0" encoding="utf-8" ?><propertyupdate xmlns="DAV:"><remove><prop>` +
			`<prop0 xmlns="http://example.com/neon/litmus/"/></prop></remove></propertyupdate>`,
		`<?xml version="1.0" encoding="utf-8" ?><propertyupdate xmlns="DAV:"><set><prop>` +
			`<high-unicode xmlns="http://example.com/neon/litmus/">&#x10000;</high-unicode></prop></set></propertyupdate>`,
		`<?xml version="1.0" encoding="utf-8" ?><propertyupdate xmlns="DAV:"><set><prop>` +
			`<valnspace xmlns="http://example.com/neon/litmus/"><foo xmlns='bar'/></valnspace></prop></set></propertyupdate>`,
		`<?xml version="1.0" encoding="utf-8" ?><propertyupdate xmlns="DAV:"><set><prop>` +
			`<t:foo xmlns:t="http://example.com/" xml:lang="en">bar</t:foo></prop></set><remove><prop><t:x xmlns:t="y"/></prop></remove></propertyupdate>`,
		`<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>` +
			`<Z:Win32CreationTime>Mon, 01 Jan 2024 10:00:00 GMT</Z:Win32CreationTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>` +
			`</D:prop></D:set></D:propertyupdate>`,
		`<?xml version="1.0" encoding="utf-8"?><d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:set><d:prop>` +
			`<d:getlastmodified>Mon, 01 Jan 2024 10:00:00 GMT</d:getlastmodified></d:prop></d:set></d:propertyupdate>`,
		`<propertyupdate xmlns="DAV:"><set><prop><x xmlns="u">a<![CDATA[<b>]]>&lt;&amp;</x></prop></set></propertyupdate>`,
	} {
		f.Add([]byte(s))
	}
	h, gw := newFuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		// Each input starts from a file without properties.
		defer func() {
			props, err := gw.Props(context.Background(), "alice", "bkt", "f.txt")
			if err != nil {
				t.Fatal(err)
			}
			ops := make([]catalog.PropOp, len(props))
			for i, p := range props {
				ops[i] = catalog.PropOp{Remove: true, Prop: p}
			}
			if err := gw.PatchProps(context.Background(), "alice", "bkt", "f.txt", ops); err != nil {
				t.Fatal(err)
			}
		}()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("PROPPATCH", "/dav/bkt/f.txt", bytes.NewReader(body)))
		if w.Code >= 500 {
			t.Fatalf("PROPPATCH %q: %d %s", body, w.Code, w.Body)
		}
		if w.Code == http.StatusMultiStatus {
			if err := xmlWellFormed(w.Body.Bytes()); err != nil {
				t.Fatalf("PROPPATCH %q: answer %q is not well-formed: %v", body, w.Body, err)
			}
		}
		// Whatever was stored, the file's properties still list.
		for _, pf := range []string{"", `<propfind xmlns="DAV:"><propname/></propfind>`} {
			w = httptest.NewRecorder()
			req := httptest.NewRequest("PROPFIND", "/dav/bkt/f.txt", strings.NewReader(pf))
			req.Header.Set("Depth", "0")
			h.ServeHTTP(w, req)
			if w.Code != http.StatusMultiStatus {
				t.Fatalf("PROPFIND after PROPPATCH %q: %d %s", body, w.Code, w.Body)
			}
			if err := xmlWellFormed(w.Body.Bytes()); err != nil {
				t.Fatalf("PROPFIND after PROPPATCH %q: answer %q is not well-formed: %v", body, w.Body, err)
			}
		}
	})
}

// TestBodyLimits: bodies over their limit are refused with 413, whether
// Content-Length says so or not, and valid XML before the excess does not
// get them in.
func TestBodyLimits(t *testing.T) {
	h, _ := newFuzzHandler(t)
	for _, c := range []struct {
		method, start string
		limit         int
	}{
		{"PROPFIND", `<propfind xmlns="DAV:"><allprop/></propfind>`, maxPropfindBody},
		{"PROPPATCH", `<propertyupdate xmlns="DAV:"><set><prop><x xmlns="u">v</x></prop></set></propertyupdate>`, maxProppatchBody},
		{"LOCK", `<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype></lockinfo>`, maxLockBody},
	} {
		body := c.start + strings.Repeat(" ", c.limit)
		for _, known := range []bool{true, false} {
			req := httptest.NewRequest(c.method, "/dav/bkt/f.txt", strings.NewReader(body))
			if !known {
				req.ContentLength = -1
			}
			req.Header.Set("Depth", "0")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("%s of %d bytes (length known: %v): %d %s; want 413", c.method, len(body), known, w.Code, w.Body)
			}
		}
		// At the limit it is served.
		req := httptest.NewRequest(c.method, "/dav/bkt/f.txt", strings.NewReader(body[:c.limit]))
		req.Header.Set("Depth", "0")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 300 && w.Code != http.StatusMultiStatus {
			t.Errorf("%s of %d bytes: %d %s; want success", c.method, c.limit, w.Code, w.Body)
		}
		if c.method == "LOCK" {
			unlock := httptest.NewRequest("UNLOCK", "/dav/bkt/f.txt", nil)
			unlock.Header.Set("Lock-Token", w.Header().Get("Lock-Token"))
			h.ServeHTTP(httptest.NewRecorder(), unlock)
		}
	}
}
