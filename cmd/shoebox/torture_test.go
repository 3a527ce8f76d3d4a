package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"flag"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// tortureKills is how many SIGKILLs TestTorture deals; `make torture` asks
// for many more than `make test`.
var tortureKills = flag.Int("torture-kills", 3, "SIGKILLs TestTorture deals under mixed load")

// ledger is what the clients know of the library: what the server
// acknowledged, and what it may or may not have done when it was killed.
type ledger struct {
	mu       sync.Mutex
	acked    map[string][32]byte // path → the content acknowledged there
	deleted  map[string]bool     // acknowledged deletes (names are never reused)
	maybe    map[string][32]byte // in flight at the kill: absent, or whole
	intended map[[32]byte]bool   // every content any client sent
}

func newLedger() *ledger {
	return &ledger{acked: map[string][32]byte{}, deleted: map[string]bool{}, maybe: map[string][32]byte{}, intended: map[[32]byte]bool{}}
}

func (l *ledger) send(body []byte) [32]byte {
	sum := sha256.Sum256(body)
	l.mu.Lock()
	l.intended[sum] = true
	l.mu.Unlock()
	return sum
}

// TestTorture: WebDAV uploads (journaled small files and larger ones), S3
// puts and multipart uploads, MOVEs and DELETEs run together while the
// server is killed with SIGKILL, again and again. After every restart:
// no acknowledged write is lost, no acknowledged delete is undone, a
// request cut by the kill left its file whole or absent, nothing visible
// is half a file; at the end fsck finds disk and catalog in agreement.
func TestTorture(t *testing.T) {
	s := startServer(t)
	id, secret := s3Keys(t, s)
	s.mkcol("/dav/ttt")
	l := newLedger()
	var seq int // unique names across cycles
	for kill := 1; kill <= *tortureKills; kill++ {
		cli := s3.New(s3.Options{BaseEndpoint: aws.String(s.s3url()), Region: "us-east-1", UsePathStyle: true,
			Retryer: aws.NopRetryer{}, Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var ackCount int
		var ackMu sync.Mutex
		ack := func() { ackMu.Lock(); ackCount++; ackMu.Unlock() }
		worker := func(fn func(i int) bool) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if !fn(i) {
						return
					}
				}
			}()
		}
		base := seq
		seq += 100000
		// WebDAV uploads: small (journaled) and 300 KB.
		for w := range 3 {
			worker(func(i int) bool {
				size := 2<<10 + i
				if w == 2 {
					size = 300<<10 + i
				}
				body := make([]byte, size)
				rand.Read(body)
				p := fmt.Sprintf("/dav/ttt/w%d-%07d.bin", w, base+i)
				sum := l.send(body)
				l.mu.Lock()
				l.maybe[p] = sum
				l.mu.Unlock()
				req, _ := http.NewRequest("PUT", s.url(p), bytes.NewReader(body))
				req.SetBasicAuth("admin", adminPW)
				resp, err := s.client.Do(req)
				if err != nil {
					return false // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == 201 || resp.StatusCode == 204 {
					l.mu.Lock()
					delete(l.maybe, p)
					l.acked[p] = sum
					l.mu.Unlock()
					ack()
				}
				return true
			})
		}
		// S3 puts, and multipart uploads of two parts.
		worker(func(i int) bool {
			key := fmt.Sprintf("s3-%07d.bin", base+i)
			body := make([]byte, 64<<10+i)
			rand.Read(body)
			sum := l.send(body)
			p := "/dav/ttt/" + key
			l.mu.Lock()
			l.maybe[p] = sum
			l.mu.Unlock()
			_, err := cli.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("ttt"), Key: aws.String(key), Body: bytes.NewReader(body)})
			if err != nil {
				return false
			}
			l.mu.Lock()
			delete(l.maybe, p)
			l.acked[p] = sum
			l.mu.Unlock()
			ack()
			return true
		})
		worker(func(i int) bool {
			ctx := context.Background()
			key := fmt.Sprintf("mp-%07d.bin", base+i)
			body := make([]byte, 5<<20+1000)
			rand.Read(body)
			sum := l.send(body)
			p := "/dav/ttt/" + key
			up, err := cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("ttt"), Key: aws.String(key)})
			if err != nil {
				return false
			}
			var parts []types.CompletedPart
			for n, chunk := range [][]byte{body[:5<<20], body[5<<20:]} {
				pn := int32(n + 1)
				out, err := cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("ttt"), Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(pn), Body: bytes.NewReader(chunk)})
				if err != nil {
					return false
				}
				parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(pn)})
			}
			l.mu.Lock()
			l.maybe[p] = sum
			l.mu.Unlock()
			_, err = cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("ttt"), Key: aws.String(key), UploadId: up.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
			if err != nil {
				return false
			}
			l.mu.Lock()
			delete(l.maybe, p)
			l.acked[p] = sum
			l.mu.Unlock()
			ack()
			return true
		})
		// MOVEs and DELETEs of acknowledged files.
		pick := func() (string, [32]byte, bool) {
			l.mu.Lock()
			defer l.mu.Unlock()
			for p, sum := range l.acked { // map order: a random pick
				delete(l.acked, p)
				return p, sum, true
			}
			return "", [32]byte{}, false
		}
		worker(func(i int) bool {
			p, sum, ok := pick()
			if !ok {
				time.Sleep(5 * time.Millisecond) // nothing to move yet: let uploads land
				return true
			}
			if i%2 == 0 {
				dst := fmt.Sprintf("/dav/ttt/moved-%07d.bin", base+i)
				l.mu.Lock()
				l.maybe[p], l.maybe[dst] = sum, sum
				l.mu.Unlock()
				req, _ := http.NewRequest("MOVE", s.url(p), nil)
				req.Header.Set("Destination", s.url(dst))
				req.SetBasicAuth("admin", adminPW)
				resp, err := s.client.Do(req)
				if err != nil {
					return false
				}
				resp.Body.Close()
				l.mu.Lock()
				defer l.mu.Unlock()
				delete(l.maybe, p)
				delete(l.maybe, dst)
				if resp.StatusCode == 201 {
					l.acked[dst] = sum
					l.deleted[p] = true
					ack()
				} else {
					l.acked[p] = sum
				}
				return true
			}
			l.mu.Lock()
			l.maybe[p] = sum
			l.mu.Unlock()
			req, _ := http.NewRequest("DELETE", s.url(p), nil)
			req.SetBasicAuth("admin", adminPW)
			resp, err := s.client.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			l.mu.Lock()
			defer l.mu.Unlock()
			delete(l.maybe, p)
			if resp.StatusCode == 204 {
				l.deleted[p] = true
				ack()
			} else {
				l.acked[p] = sum
			}
			return true
		})
		// Kill once this cycle has enough acknowledged writes (a state,
		// not a time), while the load goes on.
		for waited := time.Now(); ; time.Sleep(2 * time.Millisecond) {
			ackMu.Lock()
			n := ackCount
			ackMu.Unlock()
			if n >= 30 {
				break
			}
			if time.Since(waited) > 3*time.Minute {
				t.Fatalf("kill %d: only %d acknowledged writes in 3 minutes", kill, n)
			}
		}
		s.kill9()
		close(stop)
		wg.Wait()
		s.start()
		tortureCheck(t, s, l, kill)
		if t.Failed() {
			return
		}
	}
	// A clean stop, and fsck finds nothing to repair.
	fsckClean(t, s)
	t.Logf("%d SIGKILLs: %d files acknowledged and present, %d acknowledged deletes and moves not undone, 0 lost, 0 resurrected, 0 half-visible",
		*tortureKills, len(l.acked), len(l.deleted))
}

// tortureCheck verifies the ledger against the restarted server, and
// settles what was in flight at the kill.
func tortureCheck(t *testing.T, s *server, l *ledger, kill int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	get := func(p string) (int, [32]byte) {
		resp, body := s.do("GET", p, nil)
		return resp.StatusCode, sha256.Sum256([]byte(body))
	}
	for p, sum := range l.acked {
		code, got := get(p)
		if code != 200 {
			t.Errorf("kill %d: acknowledged %s is lost (%d)", kill, p, code)
		} else if got != sum {
			t.Errorf("kill %d: acknowledged %s has other content", kill, p)
		}
	}
	for p := range l.deleted {
		if code, _ := get(p); code != 404 {
			t.Errorf("kill %d: %s, deleted or moved away with an acknowledgement, is back (%d)", kill, p, code)
		}
	}
	for p, sum := range l.maybe {
		code, got := get(p)
		switch {
		case code == 404:
		case code == 200 && got == sum:
			l.acked[p] = sum // it landed: from now on it must stay
		default:
			t.Errorf("kill %d: %s, in flight at the kill, is neither absent nor whole (%d)", kill, p, code)
		}
	}
	clear(l.maybe)
	// Everything visible is a whole upload.
	resp, body := s.do("PROPFIND", "/dav/ttt/", nil, "Depth", "1")
	if resp.StatusCode != 207 {
		t.Fatalf("kill %d: PROPFIND /dav/ttt/: %d", kill, resp.StatusCode)
	}
	for _, m := range regexp.MustCompile(`<D:href>(/dav/ttt/[^<]+)</D:href>`).FindAllStringSubmatch(body, -1) {
		p := m[1]
		if _, ok := l.acked[p]; ok {
			continue
		}
		code, got := get(p)
		if code == 200 && !l.intended[got] {
			t.Errorf("kill %d: %s is visible but is no whole upload", kill, p)
		}
	}
}
