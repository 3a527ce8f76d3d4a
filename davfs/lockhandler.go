package davfs

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"shoebox/gateway"
)

const (
	defaultLockTimeout = time.Hour
	maxLockTimeout     = 24 * time.Hour
	// maxLockBody bounds a LOCK body; a longer one is answered 413.
	maxLockBody = 64 << 10
)

type lockInfo struct {
	XMLName   xml.Name  `xml:"DAV: lockinfo"`
	Exclusive *struct{} `xml:"DAV: lockscope>exclusive"`
	Shared    *struct{} `xml:"DAV: lockscope>shared"`
	Write     *struct{} `xml:"DAV: locktype>write"`
	Owner     struct {
		Inner string `xml:",innerxml"`
	} `xml:"DAV: owner"`
}

// readLockInfo reads a LOCK body: empty (refresh is true: the If header
// names the lock), or a DAV:lockinfo asking for a write lock with one
// scope. A body over maxLockBody fails with errBodyTooLarge, having read no
// more than one byte past the limit.
func readLockInfo(body io.Reader) (li lockInfo, refresh bool, err error) {
	b, err := io.ReadAll(io.LimitReader(body, maxLockBody+1))
	if err != nil {
		return li, false, fmt.Errorf("lockinfo: %w", err)
	}
	if len(b) > maxLockBody {
		return li, false, fmt.Errorf("lockinfo over %d bytes: %w", maxLockBody, errBodyTooLarge)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return li, true, nil
	}
	if err := xml.Unmarshal(b, &li); err != nil {
		return li, false, fmt.Errorf("lockinfo: %w", err)
	}
	if li.Write == nil || (li.Exclusive == nil) == (li.Shared == nil) {
		return li, false, errors.New("lockinfo needs locktype write and one lockscope")
	}
	return li, false, nil
}

// parseTimeout reads a Timeout header ("Second-3600", "Infinite", a list).
func parseTimeout(v string) time.Duration {
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimSpace(t)
		if strings.EqualFold(t, "Infinite") {
			return maxLockTimeout
		}
		if s, ok := strings.CutPrefix(t, "Second-"); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
				return min(time.Duration(n)*time.Second, maxLockTimeout)
			}
		}
	}
	return defaultLockTimeout
}

func activeLock(l Lock, base string) string {
	scope, depth := "exclusive", "0"
	if l.Shared {
		scope = "shared"
	}
	if l.Deep {
		depth = "infinity"
	}
	owner := ""
	if l.Owner != "" {
		owner = "<D:owner>" + l.Owner + "</D:owner>"
	}
	return fmt.Sprintf("<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:%s/></D:lockscope>"+
		"<D:depth>%s</D:depth>%s<D:timeout>Second-%d</D:timeout><D:locktoken><D:href>%s</D:href></D:locktoken>"+
		"<D:lockroot><D:href>%s</D:href></D:lockroot></D:activelock>",
		scope, depth, owner, int64(l.Timeout/time.Second), xmlEscape(l.Token), xmlEscape(hrefFor(base, l.Root, false)))
}

func writeLockResponse(w http.ResponseWriter, l Lock, base string, status int) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Lock-Token", "<"+l.Token+">")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<D:prop xmlns:D="DAV:"><D:lockdiscovery>%s</D:lockdiscovery></D:prop>`, activeLock(l, base))
}

func (h *Handler) lock(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	ctx := r.Context()
	if r.ContentLength > maxLockBody {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("lockinfo of %d bytes: %w", r.ContentLength, errBodyTooLarge)
	}
	li, refresh, err := readLockInfo(r.Body)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, err
	case err != nil:
		return http.StatusBadRequest, err
	}
	timeout := parseTimeout(r.Header.Get("Timeout"))
	o, statErr := h.stat(ctx, user, res)
	exists := statErr == nil
	if refresh {
		// A refresh: the If header names the lock.
		ih, err := parseIf(r.Header.Get("If"))
		if err != nil {
			return http.StatusBadRequest, errors.New("a LOCK refresh needs an If header with the lock token")
		}
		for tok := range ih.tokens() {
			if l, err := h.locks.Refresh(user, tok, res.path, timeout); err == nil {
				writeLockResponse(w, l, h.base(r), http.StatusOK)
				return 0, nil
			}
		}
		return http.StatusPreconditionFailed, errors.New("no lock named in the If header applies here")
	}
	deep := true
	switch d := r.Header.Get("Depth"); {
	case d == "" || strings.EqualFold(d, "infinity"):
	case d == "0":
		deep = false
	default:
		return http.StatusBadRequest, fmt.Errorf("bad Depth %q for LOCK", d)
	}
	if exists {
		if _, err := h.conditions(r, user, res, &o); err != nil {
			return statusFor(err), err
		}
	}
	l, err := h.locks.Create(Lock{
		User: user, Root: res.path, Deep: deep, Shared: li.Shared != nil,
		Owner: strings.TrimSpace(li.Owner.Inner), Timeout: timeout,
	})
	if err != nil {
		return http.StatusLocked, err
	}
	status := http.StatusOK
	if !exists {
		// Locking an unmapped URL creates an empty file (RFC 4918 §9.10.4).
		if res.virtual {
			h.locks.Unlock(user, l.Token, res.path)
			return http.StatusForbidden, errVirtualReadOnly
		}
		if res.isRoot() || res.key == "" {
			h.locks.Unlock(user, l.Token, res.path)
			return http.StatusConflict, fmt.Errorf("bucket %s does not exist", res.bucket)
		}
		_, err := h.gw.Put(ctx, gateway.PutInput{User: user, Bucket: res.bucket, Key: res.key, Body: strings.NewReader("")})
		if err != nil {
			h.locks.Unlock(user, l.Token, res.path)
			return statusFor(err), err
		}
		status = http.StatusCreated
	}
	writeLockResponse(w, l, h.base(r), status)
	return 0, nil
}

func (h *Handler) unlock(w http.ResponseWriter, r *http.Request, user string, res resource) (int, error) {
	tok := strings.TrimSpace(r.Header.Get("Lock-Token"))
	if len(tok) < 2 || tok[0] != '<' || tok[len(tok)-1] != '>' {
		return http.StatusBadRequest, errors.New("UNLOCK needs a Lock-Token header")
	}
	if err := h.locks.Unlock(user, tok[1:len(tok)-1], res.path); err != nil {
		return http.StatusConflict, fmt.Errorf("lock token does not match %s: %w", res.path, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return 0, nil
}
