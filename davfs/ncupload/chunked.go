package ncupload

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/adler32"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"shoebox/gateway/syncfile"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
)

// transferRecord is transfer.json.
type transferRecord struct {
	User        string    `json:"user"`
	ID          string    `json:"id"`                    // the client's transfer id
	Destination []string  `json:"destination,omitempty"` // below files/USER/, when the MKCOL said
	Total       int64     `json:"total,omitempty"`       // OC-Total-Length of the MKCOL, when sent
	Created     time.Time `json:"created"`
}

const recordName = "transfer.json"

// chunkNameRe: chunk names are numbers (1…10000 in v2, byte offsets in
// older clients) or, in v1, "START-END" byte ranges (zero-padded). They
// assemble in the numeric order of their first number.
var chunkNameRe = regexp.MustCompile(`^[0-9]{1,19}(-[0-9]{1,19})?$`)

var tidRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// tid is the folder of a user's transfer.
func tid(user, id string) string {
	h := sha256.Sum256([]byte(user + "\x00" + id))
	return hex.EncodeToString(h[:16])
}

func (s *Server) path(t string, name ...string) string {
	return filepath.Join(append([]string{s.dir, t}, name...)...)
}

func (s *Server) lock(t string) *sync.Mutex {
	b, _ := hex.DecodeString(t[:2])
	return &s.locks[int(b[0])%len(s.locks)]
}

func (s *Server) read(t string) (transferRecord, error) {
	var rec transferRecord
	data, err := os.ReadFile(s.path(t, recordName))
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	return rec, err
}

// uploads serves /remote.php/dav/uploads/USER/…
func (s *Server) uploads(w http.ResponseWriter, r *request) error {
	switch {
	case len(r.segs) == 0 && r.Method == "PROPFIND":
		return s.listTransfers(w, r)
	case len(r.segs) == 0 && r.Method == http.MethodOptions:
		w.Header().Set("Allow", "OPTIONS, PROPFIND")
		w.Header().Set("DAV", "1")
		return nil
	case len(r.segs) == 1:
		t := tid(r.user, r.segs[0])
		switch r.Method {
		case "MKCOL":
			return s.mkcol(w, r, t)
		case "PROPFIND":
			return s.listChunks(w, r, t)
		case http.MethodDelete:
			return s.abort(w, r, t)
		case http.MethodOptions:
			w.Header().Set("Allow", "OPTIONS, MKCOL, PROPFIND, DELETE")
			return nil
		}
	case len(r.segs) == 2:
		t := tid(r.user, r.segs[0])
		switch {
		case r.Method == http.MethodPut && chunkNameRe.MatchString(r.segs[1]):
			return s.putChunk(w, r, t, r.segs[1])
		case r.Method == http.MethodPut:
			return fail(http.StatusBadRequest, "chunk names are numbers, not %q", r.segs[1])
		case r.Method == "MOVE" && r.segs[1] == ".file":
			return s.assemble(w, r, t)
		case r.Method == http.MethodDelete && chunkNameRe.MatchString(r.segs[1]):
			return s.deleteChunk(w, r, t, r.segs[1])
		}
	}
	return fail(http.StatusMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path)
}

// load returns the record of the caller's transfer t, or 404.
func (s *Server) load(r *request, t string) (transferRecord, error) {
	rec, err := s.read(t)
	if err != nil || rec.User != r.user || rec.ID != r.segs[0] {
		return rec, fail(http.StatusNotFound, "no upload %s", r.segs[0])
	}
	return rec, nil
}

func (s *Server) mkcol(w http.ResponseWriter, r *request, t string) error {
	rec := transferRecord{User: r.user, ID: r.segs[0], Created: time.Now().UTC()}
	if r.Header.Get("Destination") != "" {
		d, err := s.destination(r, FilesPrefix)
		if err != nil {
			return err
		}
		rec.Destination = d
	}
	if v := r.Header.Get("OC-Total-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fail(http.StatusBadRequest, "OC-Total-Length %q is not a length", v)
		}
		if err := s.gw.Admit(n); err != nil {
			return fmt.Errorf("upload %s: %w", rec.ID, err)
		}
		rec.Total = n
	}
	mu := s.lock(t)
	mu.Lock()
	defer mu.Unlock()
	if _, err := os.Stat(s.path(t)); err == nil {
		return fail(http.StatusMethodNotAllowed, "upload %s exists", rec.ID)
	}
	// The record is written in a temp folder renamed into place: a
	// transfer folder always has its record.
	tmp, err := os.MkdirTemp(s.dir, ".tmp-transfer-")
	if err != nil {
		return fmt.Errorf("upload %s: %w", rec.ID, err)
	}
	defer os.RemoveAll(tmp) // after the rename, a no-op
	data, _ := json.Marshal(rec)
	if err := syncfile.WriteFile(filepath.Join(tmp, recordName), data, 0o600); err != nil {
		return fmt.Errorf("upload %s: %w", rec.ID, err)
	}
	if err := os.Rename(tmp, s.path(t)); err != nil {
		return fmt.Errorf("upload %s: %w", rec.ID, err)
	}
	if err := syncfile.SyncDir(s.dir); err != nil {
		return fmt.Errorf("upload %s: %w", rec.ID, err)
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// putChunk stores a chunk: to a temp file, synced, renamed into place,
// the folder synced; only then is it acknowledged.
func (s *Server) putChunk(w http.ResponseWriter, r *request, t, name string) error {
	ctx := r.Context()
	rec, err := s.load(r, t)
	if err != nil {
		return err
	}
	if err := s.gw.Admit(max(r.ContentLength, 0)); err != nil {
		return fmt.Errorf("upload %s chunk %s: %w", rec.ID, name, err)
	}
	tmp, err := os.CreateTemp(s.path(t), ".tmp-chunk-")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) { // aborted meanwhile
			return fail(http.StatusNotFound, "no upload %s", rec.ID)
		}
		return fmt.Errorf("upload %s chunk %s: %w", rec.ID, name, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	got, err := io.Copy(tmp, gateway.ContextReader(ctx, s.gw.Counted(r.Body)))
	if err == nil && r.ContentLength >= 0 && got != r.ContentLength {
		err = fail(http.StatusBadRequest, "chunk %s: got %d of %d bytes", name, got, r.ContentLength)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("upload %s chunk %s: %w", rec.ID, name, err)
	}
	mu := s.lock(t)
	mu.Lock()
	defer mu.Unlock()
	if _, err := os.Stat(s.path(t, recordName)); err != nil {
		return fail(http.StatusNotFound, "no upload %s", rec.ID) // aborted or completed meanwhile
	}
	final := s.path(t, "chunk-"+name)
	_, err = os.Stat(final)
	existed := err == nil
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("upload %s chunk %s: %w", rec.ID, name, err)
	}
	if err := syncfile.SyncDir(s.path(t)); err != nil {
		return fmt.Errorf("upload %s chunk %s: %w", rec.ID, name, err)
	}
	if existed {
		w.WriteHeader(http.StatusNoContent)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
	return nil
}

type chunk struct {
	name string
	n    uint64
	size int64
	mod  time.Time
}

// chunks lists the chunks of transfer t in the order they assemble.
func (s *Server) chunks(t string) ([]chunk, error) {
	ents, err := os.ReadDir(s.path(t))
	if err != nil {
		return nil, err
	}
	var cs []chunk
	for _, e := range ents {
		name, ok := strings.CutPrefix(e.Name(), "chunk-")
		if !ok || !chunkNameRe.MatchString(name) {
			continue
		}
		first, _, _ := strings.Cut(name, "-")
		n, err := strconv.ParseUint(first, 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		cs = append(cs, chunk{name: name, n: n, size: info.Size(), mod: info.ModTime()})
	}
	slices.SortFunc(cs, func(a, b chunk) int { return cmp.Compare(a.n, b.n) })
	return cs, nil
}

func (s *Server) deleteChunk(w http.ResponseWriter, r *request, t, name string) error {
	if _, err := s.load(r, t); err != nil {
		return err
	}
	mu := s.lock(t)
	mu.Lock()
	defer mu.Unlock()
	if err := os.Remove(s.path(t, "chunk-"+name)); errors.Is(err, fs.ErrNotExist) {
		return fail(http.StatusNotFound, "no chunk %s", name)
	} else if err != nil {
		return fmt.Errorf("upload %s chunk %s: %w", r.segs[0], name, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) abort(w http.ResponseWriter, r *request, t string) error {
	rec, err := s.load(r, t)
	if err != nil {
		return err
	}
	mu := s.lock(t)
	mu.Lock()
	defer mu.Unlock()
	if err := s.remove(t); err != nil {
		return fmt.Errorf("abort upload %s: %w", rec.ID, err)
	}
	s.log.Info("chunked upload aborted", "user", rec.User, "upload", rec.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// remove deletes a transfer's folder, its record first, so that a crash
// half way leaves no transfer that seems whole (the sweep removes the
// rest). The caller holds its lock.
func (s *Server) remove(t string) error {
	if err := os.Remove(s.path(t, recordName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.RemoveAll(s.path(t))
}

func (s *Server) listTransfers(w http.ResponseWriter, r *request) error {
	rs := []response{{href: s.href(UploadsPrefix, r.user) + "/", props: []prop{collection(), text("d", "displayname", r.user)}}}
	if depth(r.Request) == 1 {
		ents, err := os.ReadDir(s.dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if !tidRe.MatchString(e.Name()) {
				continue
			}
			rec, err := s.read(e.Name())
			if err != nil || rec.User != r.user {
				continue
			}
			rs = append(rs, response{href: s.href(UploadsPrefix, r.user, rec.ID) + "/",
				props: []prop{collection(), text("d", "displayname", rec.ID), text("d", "getlastmodified", httpTime(rec.Created.UnixNano()))}})
		}
	}
	writeMultistatus(w, rs)
	return nil
}

func (s *Server) listChunks(w http.ResponseWriter, r *request, t string) error {
	rec, err := s.load(r, t)
	if err != nil {
		return err
	}
	rs := []response{{href: s.href(UploadsPrefix, r.user, rec.ID) + "/",
		props: []prop{collection(), text("d", "displayname", rec.ID), text("d", "getlastmodified", httpTime(rec.Created.UnixNano()))}}}
	if depth(r.Request) == 1 {
		cs, err := s.chunks(t)
		if err != nil {
			return err
		}
		for _, c := range cs {
			sz := strconv.FormatInt(c.size, 10)
			rs = append(rs, response{href: s.href(UploadsPrefix, r.user, rec.ID, c.name),
				props: []prop{fileType(), text("d", "displayname", c.name), text("d", "getcontentlength", sz), text("oc", "size", sz),
					text("d", "getlastmodified", c.mod.UTC().Format(http.TimeFormat))}})
		}
	}
	writeMultistatus(w, rs)
	return nil
}

// checksum parses OC-Checksum ("SHA1:hex", "MD5:hex", "ADLER32:hex",
// "SHA256:hex"; several may be given, space-separated) into the hashes it
// can verify; others are ignored.
func checksum(v string) (map[string]hash.Hash, map[string]string, error) {
	hs, want := map[string]hash.Hash{}, map[string]string{}
	for _, f := range strings.Fields(v) {
		alg, sum, ok := strings.Cut(f, ":")
		if !ok {
			return nil, nil, fail(http.StatusBadRequest, "OC-Checksum %q: want TYPE:value", v)
		}
		alg = strings.ToUpper(alg)
		var h hash.Hash
		switch alg {
		case "SHA1":
			h = sha1.New()
		case "MD5":
			h = md5.New()
		case "SHA256":
			h = sha256.New()
		case "ADLER32":
			h = adler32.New()
		default:
			continue
		}
		hs[alg], want[alg] = h, strings.ToLower(sum)
	}
	return hs, want, nil
}

// assemble is the MOVE of .file: the chunks, in order, stream into
// gateway.Put; the transfer is removed once the file is committed.
func (s *Server) assemble(w http.ResponseWriter, r *request, t string) error {
	ctx := r.Context()
	rec, err := s.load(r, t)
	if err != nil {
		return err
	}
	dst, err := s.destination(r, FilesPrefix)
	if err != nil {
		return err
	}
	if len(dst) < 2 {
		return fail(http.StatusForbidden, "files go into a folder: %s", strings.Join(dst, "/"))
	}
	bucket, key := dst[0], strings.Join(dst[1:], "/")
	total := int64(-1)
	if v := r.Header.Get("OC-Total-Length"); v != "" {
		if total, err = strconv.ParseInt(v, 10, 64); err != nil || total < 0 {
			return fail(http.StatusBadRequest, "OC-Total-Length %q is not a length", v)
		}
	} else if rec.Total > 0 {
		total = rec.Total
	}
	var mod time.Time
	if v := r.Header.Get("X-OC-Mtime"); v != "" {
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil || sec < 0 {
			return fail(http.StatusBadRequest, "X-OC-Mtime %q is not a time", v)
		}
		mod = time.Unix(0, int64(sec*1e9)).UTC()
	}
	hs, want, err := checksum(r.Header.Get("OC-Checksum"))
	if err != nil {
		return err
	}
	check := writeConditions(r.Header)

	mu := s.lock(t)
	mu.Lock()
	defer mu.Unlock()
	if rec, err = s.load(r, t); err != nil { // aborted meanwhile
		return err
	}
	cs, err := s.chunks(t)
	if err != nil {
		return fmt.Errorf("upload %s: %w", rec.ID, err)
	}
	if len(cs) == 0 {
		return fail(http.StatusBadRequest, "upload %s has no chunks", rec.ID)
	}
	var size int64
	paths := make([]string, len(cs))
	for i, c := range cs {
		size += c.size
		paths[i] = s.path(t, "chunk-"+c.name)
	}
	if total >= 0 && size != total {
		return fail(http.StatusBadRequest, "upload %s: the chunks hold %d bytes; OC-Total-Length says %d", rec.ID, size, total)
	}
	pr := gateway.FilesReader(paths)
	defer pr.Close()
	var body io.Reader = pr
	if len(hs) > 0 {
		ws := make([]io.Writer, 0, len(hs))
		for _, h := range hs {
			ws = append(ws, h)
		}
		body = io.TeeReader(pr, io.MultiWriter(ws...))
	}
	var existed bool
	o, err := s.gw.Put(ctx, gateway.PutInput{
		User: r.user, Bucket: bucket, Key: key, Body: body, ModTime: mod, Size: size,
		Check: func(cur *catalog.Object) error {
			existed = cur != nil
			if check != nil {
				return check(cur)
			}
			return nil
		},
		Verify: func(sums gateway.Sums) error {
			if sums.Size != size {
				return fail(http.StatusBadRequest, "upload %s: assembled %d of %d bytes", rec.ID, sums.Size, size)
			}
			for alg, h := range hs {
				if got := hex.EncodeToString(h.Sum(nil)); got != want[alg] {
					return fail(http.StatusBadRequest, "upload %s: OC-Checksum %s:%s does not match the content's, %s", rec.ID, alg, want[alg], got)
				}
			}
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("upload %s to %s/%s: %w", rec.ID, bucket, key, err)
	}
	if err := s.remove(t); err != nil {
		s.log.Warn("remove a completed chunked upload", "upload", rec.ID, "err", err)
	}
	s.log.Info("chunked upload complete", "user", r.user, "upload", rec.ID, "bucket", bucket, "key", key, "size", o.Size, "chunks", len(cs))
	id, err := s.fileID(ctx, r.user, bucket, key)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("OC-FileId", id)
	h.Set("OC-ETag", o.ETag())
	h.Set("ETag", o.ETag())
	h.Set("Last-Modified", httpTime(o.ModNs))
	if !mod.IsZero() {
		h.Set("X-OC-MTime", "accepted")
	}
	if existed {
		w.WriteHeader(http.StatusNoContent)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
	return nil
}

// writeConditions turns If-Match and If-None-Match on the destination
// into a gateway Check.
func writeConditions(h http.Header) func(cur *catalog.Object) error {
	im, inm := h.Get("If-Match"), h.Get("If-None-Match")
	if im == "" && inm == "" {
		return nil
	}
	match := func(v string, cur *catalog.Object) bool {
		if cur == nil || cur.IsDir() {
			return false
		}
		for _, t := range strings.Split(v, ",") {
			t = strings.Trim(strings.TrimPrefix(strings.TrimSpace(t), "W/"), `"`)
			if t == "*" || t == strings.Trim(cur.ETag(), `"`) {
				return true
			}
		}
		return false
	}
	return func(cur *catalog.Object) error {
		if im != "" && !match(im, cur) {
			return fmt.Errorf("If-Match %s: %w", im, gateway.ErrPrecondition)
		}
		if inm != "" && match(inm, cur) {
			return fmt.Errorf("If-None-Match %s: %w", inm, gateway.ErrPrecondition)
		}
		return nil
	}
}

// ---- expiry ----

// Run sweeps every interval until ctx ends.
func (s *Server) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.Sweep(ctx); err != nil {
			s.log.Error("sweep chunked uploads", "err", err)
		}
	}
}

// Sweep removes transfers with no new chunk for the expiry; it returns
// the transfers kept.
func (s *Server) Sweep(ctx context.Context) (int, error) { return s.sweep(ctx, false) }

// sweep is Sweep; at start-up it also removes what a crash left half
// made: temp files of chunks, folders without a record, anything else.
func (s *Server) sweep(ctx context.Context, startup bool) (int, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, err
	}
	kept := 0
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return kept, err
		}
		p := filepath.Join(s.dir, e.Name())
		if !e.IsDir() || !tidRe.MatchString(e.Name()) {
			if startup {
				os.RemoveAll(p)
			}
			continue
		}
		rec, err := s.read(e.Name())
		if err != nil {
			if startup {
				os.RemoveAll(p)
			}
			continue
		}
		// A chunk's rename touches the folder: its time is the last write.
		if st, err := os.Stat(p); err == nil && s.expiry > 0 && time.Since(st.ModTime()) > s.expiry {
			mu := s.lock(e.Name())
			mu.Lock()
			err := s.remove(e.Name())
			mu.Unlock()
			if err != nil {
				s.log.Error("remove an expired chunked upload", "upload", rec.ID, "err", err)
				continue
			}
			s.log.Info("chunked upload expired: no chunk written for a while", "user", rec.User, "upload", rec.ID,
				"idle", time.Since(st.ModTime()).Round(time.Minute))
			continue
		}
		if startup {
			tmps, _ := filepath.Glob(filepath.Join(p, ".tmp-*"))
			for _, t := range tmps {
				os.Remove(t)
			}
		}
		kept++
	}
	return kept, nil
}
