package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// raceTime is how long each race below runs; `make torture` runs them
// longer.
var raceTime = flag.Duration("race-time", 3*time.Second, "how long each folder-vs-upload race runs")

type ackedUpload struct {
	name string // file name; the folder it landed in may have moved
	sum  [32]byte
}

// uploader PUTs 100 KB files into the first folder of dirs that takes them
// (a 409 means the folder is gone at that moment: try the next), until
// stop closes; it returns the uploads the server acknowledged.
func uploader(t *testing.T, s *server, id int, dirs []string, stop <-chan struct{}) []ackedUpload {
	var acked []ackedUpload
	for i := 0; ; i++ {
		select {
		case <-stop:
			return acked
		default:
		}
		body := make([]byte, 100<<10)
		rand.Read(body)
		name := fmt.Sprintf("u%d-%05d.bin", id, i)
		for _, d := range dirs {
			req, err := http.NewRequest("PUT", s.url(d+name), bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return acked
			}
			req.SetBasicAuth("admin", adminPW)
			resp, err := s.client.Do(req)
			if err != nil {
				t.Errorf("PUT %s: %v", d+name, err)
				return acked
			}
			resp.Body.Close()
			if resp.StatusCode == 201 || resp.StatusCode == 204 {
				acked = append(acked, ackedUpload{name, sha256.Sum256(body)})
				break
			}
			if resp.StatusCode != 409 && resp.StatusCode != 404 {
				t.Errorf("PUT %s: %d; want 201, or 409 while the folder is away", d+name, resp.StatusCode)
			}
		}
	}
}

// fsckClean stops the server and checks that `shoebox fsck` finds the
// catalog and the disk in agreement.
func fsckClean(t *testing.T, s *server) {
	t.Helper()
	s.stop()
	out, err := runCLI(t, "", "fsck", "--data", s.data)
	if err != nil {
		t.Fatalf("fsck: %v\n%s", err, out)
	}
	if !strings.Contains(out, "added 0, updated 0, removed 0") {
		t.Errorf("fsck after the race changed the catalog (disk and catalog disagreed):\n%s", out)
	}
}

// TestMoveFolderDuringUploads: two clients upload into B/A/ (falling back
// to B/B/ on 409) while a third moves A/ to B/ and back with Overwrite: F.
// Every acknowledged upload must be found afterwards, whole, in one of the
// two folders, listings must work, and disk and catalog must agree.
func TestMoveFolderDuringUploads(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/bbb")
	s.mkcol("/dav/bbb/A")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	results := make([][]ackedUpload, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = uploader(t, s, i, []string{"/dav/bbb/A/", "/dav/bbb/B/"}, stop)
		}()
	}
	var moves atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		from, to := "A", "B"
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, _ := s.do("MOVE", "/dav/bbb/"+from, nil, "Destination", s.url("/dav/bbb/"+to), "Overwrite", "F")
			switch resp.StatusCode {
			case 201:
				moves.Add(1)
				from, to = to, from
			case 412, 404:
				from, to = to, from // the other folder is the one there
			default:
				t.Errorf("MOVE %s to %s: %d", from, to, resp.StatusCode)
				return
			}
		}
	}()
	time.Sleep(*raceTime) // the length of the race, not a wait for a state
	close(stop)
	wg.Wait()
	var all []ackedUpload
	for _, r := range results {
		all = append(all, r...)
	}
	if len(all) < 10 || moves.Load() < 10 {
		t.Fatalf("%d uploads acknowledged, %d moves; the race needs more of both", len(all), moves.Load())
	}
	lost := 0
	for _, u := range all {
		found := false
		for _, d := range []string{"/dav/bbb/A/", "/dav/bbb/B/"} {
			resp, body := s.do("GET", d+u.name, nil)
			if resp.StatusCode == 200 {
				if sha256.Sum256([]byte(body)) != u.sum {
					t.Errorf("%s%s: not the acknowledged content", d, u.name)
				}
				found = true
				break
			}
		}
		if !found {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged uploads are gone", lost, len(all))
	}
	for _, d := range []string{"/dav/bbb/", "/dav/bbb/A/", "/dav/bbb/B/"} {
		resp, body := s.do("PROPFIND", d, nil, "Depth", "1")
		if d == "/dav/bbb/" && resp.StatusCode != 207 {
			t.Errorf("PROPFIND %s: %d\n%s", d, resp.StatusCode, body)
		}
	}
	t.Logf("%d uploads acknowledged, %d moves, %d lost", len(all), moves.Load(), lost)
	fsckClean(t, s)
}

// TestDeleteDuringUploads: clients upload into a folder and into a whole
// bucket while another client deletes them, round after round (each round
// a new folder and bucket, made and then deleted once uploads land in
// them). Once a DELETE has answered, nothing may remain of what it
// deleted: not in listings, not on disk, and fsck must change nothing (a
// deleted bucket must not come back).
func TestDeleteDuringUploads(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/keep")
	targets := func(r int64) []string {
		return []string{fmt.Sprintf("/dav/keep/F%04d/", r), fmt.Sprintf("/dav/del%04d/", r)}
	}
	var round atomic.Int64
	var landed [2]atomic.Int64 // uploads acknowledged in the current round, per target
	for _, d := range targets(0) {
		s.mkcol(strings.TrimSuffix(d, "/"))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := make([]byte, 100<<10)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				r := round.Load()
				rand.Read(body)
				p := fmt.Sprintf("%sw%d-%05d.bin", targets(r)[i], i, n)
				resp, _ := s.do("PUT", p, bytes.NewReader(body))
				switch resp.StatusCode {
				case 201, 204:
					if round.Load() == r {
						landed[i].Add(1)
					}
				case 409, 404:
				default:
					t.Errorf("PUT %s: %d", p, resp.StatusCode)
				}
			}
		}()
	}
	deadline := time.Now().Add(*raceTime)
	rounds := int64(0)
	for time.Now().Before(deadline) {
		r := round.Load()
		// Wait until both targets hold an upload of this round (state,
		// not time), then delete them while uploads go on.
		for waited := time.Now(); landed[0].Load() == 0 || landed[1].Load() == 0; time.Sleep(time.Millisecond) {
			if time.Since(waited) > 2*time.Minute {
				t.Fatalf("round %d: no upload landed in two minutes", r)
			}
		}
		for _, d := range targets(r) {
			if resp, body := s.do("DELETE", strings.TrimSuffix(d, "/"), nil); resp.StatusCode != 204 {
				t.Fatalf("DELETE %s: %d %s", d, resp.StatusCode, body)
			}
		}
		for _, d := range targets(r + 1) {
			s.mkcol(strings.TrimSuffix(d, "/"))
		}
		landed[0].Store(0)
		landed[1].Store(0)
		round.Store(r + 1)
		rounds++
	}
	close(stop)
	wg.Wait()
	check := func(when string) {
		for r := range rounds {
			for _, d := range targets(r) {
				if resp, _ := s.do("PROPFIND", d, nil, "Depth", "0"); resp.StatusCode != 404 {
					t.Errorf("%s: PROPFIND of the deleted %s: %d; want 404", when, d, resp.StatusCode)
				}
				if _, err := os.Stat(filepath.Join(s.data, "objects", "admin", strings.TrimPrefix(d, "/dav/"))); !os.IsNotExist(err) {
					t.Errorf("%s: the deleted %s is on disk (%v)", when, d, err)
				}
			}
		}
	}
	check("after the race")
	t.Logf("%d rounds of DELETE of a folder and a bucket during uploads", rounds)
	fsckClean(t, s)
	s.start()
	check("after fsck and a restart")
}

// TestCopyToOtherHost: a COPY or MOVE whose Destination names another
// server is 502 (RFC 4918 9.8.5), and nothing is copied or moved here.
func TestCopyToOtherHost(t *testing.T) {
	s := startServer(t)
	s.mkcol("/dav/bkt")
	s.put("/dav/bkt/f.txt", "here")
	for _, m := range []string{"COPY", "MOVE"} {
		resp, body := s.do(m, "/dav/bkt/f.txt", nil, "Destination", "http://elsewhere.example:8080/dav/bkt/g.txt")
		if resp.StatusCode != 502 {
			t.Errorf("%s to another host: %d %s; want 502", m, resp.StatusCode, body)
		}
	}
	if resp, _ := s.do("GET", "/dav/bkt/g.txt", nil); resp.StatusCode != 404 {
		t.Errorf("a refused COPY or MOVE made g.txt: %d", resp.StatusCode)
	}
	if got := s.get("/dav/bkt/f.txt"); got != "here" {
		t.Errorf("the source after refused transfers: %q", got)
	}
	// The same host, named as the client did, is this server.
	resp, body := s.do("COPY", "/dav/bkt/f.txt", nil, "Destination", s.url("/dav/bkt/g.txt"))
	if resp.StatusCode != 201 {
		t.Errorf("COPY on this host: %d %s", resp.StatusCode, body)
	}
}
