package s3api

// Checksums of PutObject bodies, served here rather than by gofakes3, which
// takes a single x-amz-checksum-* header and reads x-amz-checksum-algorithm
// (what minio-go sends beside the value) as the header of an algorithm
// called "algorithm".

import (
	"bytes"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"sync"

	"github.com/rclone/gofakes3"
)

// putSums are the checksums of one PutObject body: those the client gave
// (verified when the body ends) and those it only named with
// x-amz-checksum-algorithm (computed).
type putSums struct {
	mu     sync.Mutex
	hashes map[string]hash.Hash // by header name, lower case
	want   map[string][]byte    // nil value: compute only
	got    map[string]string    // canonical header -> base64, once verified
}

// values returns the verified checksums as headers (canonical name ->
// base64 value); nil before the body was read to its end and verified.
func (p *putSums) values() map[string]string {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got
}

// takePutChecksums takes the checksum headers of a PutObject out of r and
// has its body verified against each of them instead: several algorithms
// may be given at once, and x-amz-checksum-algorithm (or
// x-amz-sdk-checksum-algorithm) naming an algorithm whose value is not a
// header (it may come in a trailer, or not at all) has it computed and
// stored. A value that does not match fails the body with BadDigest, so
// nothing is stored. It returns nil when the request names no checksum.
func takePutChecksums(r *http.Request) (*putSums, error) {
	p := &putSums{hashes: map[string]hash.Hash{}, want: map[string][]byte{}}
	for name, newHash := range checksumHashes {
		v := r.Header.Get(name)
		if v == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) != newHash().Size() {
			return nil, gofakes3.ErrorMessagef(gofakes3.ErrBadDigest, "The %s you specified did not match the calculated checksum.", name)
		}
		p.hashes[name], p.want[name] = newHash(), b
	}
	for _, h := range []string{"X-Amz-Checksum-Algorithm", "X-Amz-Sdk-Checksum-Algorithm"} {
		alg := strings.ToLower(strings.TrimSpace(r.Header.Get(h)))
		if alg == "" {
			continue
		}
		name := "x-amz-checksum-" + alg
		newHash, ok := checksumHashes[name]
		if !ok {
			return nil, gofakes3.ErrorMessagef(gofakes3.ErrInvalidRequest, "Value for %s header is invalid.", strings.ToLower(h))
		}
		if _, given := p.hashes[name]; !given && !trailerDeclaredFor(r, name) {
			p.hashes[name], p.want[name] = newHash(), nil
		}
	}
	for name := range checksumHashes {
		r.Header.Del(name)
	}
	r.Header.Del("X-Amz-Checksum-Algorithm")
	r.Header.Del("X-Amz-Sdk-Checksum-Algorithm")
	if len(p.hashes) == 0 {
		return nil, nil
	}
	st, _ := r.Context().Value(bodyStateKey{}).(*bodyState)
	if r.Body == nil || r.Body == http.NoBody {
		if err := p.finish(); err != nil {
			return nil, err
		}
		return p, nil
	}
	r.Body = &putSumsBody{rc: r.Body, p: p, st: st, length: r.ContentLength}
	return p, nil
}

// trailerDeclaredFor reports whether the request's aws-chunked body carries
// the checksum trailer name (already verified by Authenticate).
func trailerDeclaredFor(r *http.Request, name string) bool {
	st, _ := r.Context().Value(bodyStateKey{}).(*bodyState)
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sumName == name
}

// finish compares the hashes with the values given and keeps them.
func (p *putSums) finish() error {
	got := map[string]string{}
	for name, h := range p.hashes {
		sum := h.Sum(nil)
		if want := p.want[name]; want != nil && !bytes.Equal(sum, want) {
			alg := strings.ToUpper(strings.TrimPrefix(name, "x-amz-checksum-"))
			return gofakes3.ErrorMessagef(gofakes3.ErrBadDigest, "The %s you specified did not match the calculated checksum.", alg)
		}
		got[textproto.CanonicalMIMEHeaderKey(name)] = base64.StdEncoding.EncodeToString(sum)
	}
	p.mu.Lock()
	p.got = got
	p.mu.Unlock()
	return nil
}

// putSumsBody hashes a body as it is read, and fails once all of it (EOF,
// or Content-Length bytes, where a reader above may stop) does not match.
type putSumsBody struct {
	rc      io.ReadCloser
	p       *putSums
	st      *bodyState // nil when Authenticate is not in front
	n       int64
	length  int64 // -1: unknown
	checked bool
	err     error
}

func (b *putSumsBody) Read(buf []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(buf)
	for _, h := range b.p.hashes {
		h.Write(buf[:n])
	}
	b.n += int64(n)
	if !b.checked && (err == io.EOF || (b.length >= 0 && b.n >= b.length)) {
		b.checked = true
		if ferr := b.p.finish(); ferr != nil {
			b.err = ferr
			if b.st != nil {
				// Whatever the handler makes of the read error, the
				// answer is this BadDigest (guardWriter).
				b.st.fail(&BodyError{"BadDigest", strings.TrimPrefix(ferr.Error(), "BadDigest: "), http.StatusBadRequest})
			}
			return n, b.err
		}
	}
	return n, err
}

func (b *putSumsBody) Close() error { return b.rc.Close() }
