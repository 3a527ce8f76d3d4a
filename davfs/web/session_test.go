package web

import (
	"net/http/httptest"
	"testing"
	"time"
)

// TestSessions: a session lives while used within the idle time and never
// past the maximum; a dropped one is gone; tokens are not reused.
func TestSessions(t *testing.T) {
	s := newSessions(time.Hour, 24*time.Hour)
	t0 := time.Unix(1_700_000_000, 0)
	tok, ss := s.create("alice", t0)
	tok2, _ := s.create("alice", t0)
	if tok == tok2 || len(tok) < 40 || ss.csrf == "" {
		t.Fatalf("tokens %q, %q, csrf %q", tok, tok2, ss.csrf)
	}
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{
		{30 * time.Minute, true},   // used: idle time starts again
		{89 * time.Minute, true},   // 59 min after the last use
		{150 * time.Minute, false}, // 61 min after
	} {
		if _, ok := s.get(tok, t0.Add(tc.at)); ok != tc.want {
			t.Errorf("session at +%v: live %v; want %v", tc.at, ok, tc.want)
		}
	}
	// Used every 50 minutes, a session still ends after the maximum.
	tok3, _ := s.create("bob", t0)
	var last time.Duration
	for at := 50 * time.Minute; at < 30*time.Hour; at += 50 * time.Minute {
		if _, ok := s.get(tok3, t0.Add(at)); !ok {
			break
		}
		last = at
	}
	if last >= 24*time.Hour || last < 23*time.Hour {
		t.Errorf("a session in use lived %v; want just under 24 h", last)
	}
	s.drop(tok2)
	if _, ok := s.get(tok2, t0); ok {
		t.Error("a dropped session still works")
	}
	tok4, _ := s.create("carol", t0)
	s.dropUser("carol")
	if _, ok := s.get(tok4, t0); ok {
		t.Error("a removed user's session still works")
	}
}

// TestSameOrigin: a change is from this server's page, from a script (no
// browser headers), or refused.
func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		hdr  []string
		want bool
	}{
		{nil, true},
		{[]string{"Sec-Fetch-Site", "same-origin"}, true},
		{[]string{"Sec-Fetch-Site", "none"}, true},
		{[]string{"Sec-Fetch-Site", "same-site"}, false},
		{[]string{"Sec-Fetch-Site", "cross-site"}, false},
		{[]string{"Origin", "http://photos.example"}, true},
		{[]string{"Origin", "http://evil.example"}, false},
		{[]string{"Origin", "null"}, false},
		{[]string{"Referer", "http://photos.example/#/albums"}, true},
		{[]string{"Referer", "http://evil.example/x"}, false},
		{[]string{"Origin", "https://photos.example", "X-Forwarded-Host", "photos.example"}, true},
	} {
		r := httptest.NewRequest("POST", "http://photos.example/api/v1/albums", nil)
		for i := 0; i+1 < len(tc.hdr); i += 2 {
			r.Header.Set(tc.hdr[i], tc.hdr[i+1])
		}
		if got := sameOrigin(r); got != tc.want {
			t.Errorf("sameOrigin(%v) = %v; want %v", tc.hdr, got, tc.want)
		}
	}
}
