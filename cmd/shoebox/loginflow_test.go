package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLoginFlowV2 drives Nextcloud's Login Flow v2 with curl, as the
// Nextcloud apps do: start, poll, sign in on the page, poll for the app
// password, use it over WebDAV, list and revoke it from the CLI.
func TestLoginFlowV2(t *testing.T) {
	curlPath := needTool(t, "curl")
	s := startServer(t)
	jar := filepath.Join(t.TempDir(), "cookies")
	curl := func(args ...string) (status int, body string) {
		t.Helper()
		out, err := exec.Command(curlPath, append([]string{"-sS", "-w", "\n%{http_code}", "-b", jar, "-c", jar}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %q: %v\n%s", args, err, out)
		}
		i := strings.LastIndexByte(string(out), '\n')
		code := 0
		for _, c := range string(out)[i+1:] {
			code = code*10 + int(c-'0')
		}
		return code, string(out)[:i]
	}
	const device = "Mozilla/5.0 (Android) Nextcloud-android/3.30.1"

	// Start: absolute URLs on this server.
	code, body := curl("-X", "POST", "-A", device, s.url("/index.php/login/v2"))
	var start struct {
		Poll  struct{ Token, Endpoint string }
		Login string
	}
	if err := json.Unmarshal([]byte(body), &start); code != 200 || err != nil {
		t.Fatalf("start: %d %s (%v)", code, body, err)
	}
	if start.Poll.Endpoint != s.url("/index.php/login/v2/poll") || !strings.HasPrefix(start.Login, s.url("/index.php/login/v2/flow/")) {
		t.Fatalf("start: %+v", start)
	}
	poll := func() (int, string) { return curl("-X", "POST", "-d", "token="+start.Poll.Token, start.Poll.Endpoint) }
	if code, body := poll(); code != 404 {
		t.Fatalf("poll before sign-in: %d %s; want 404", code, body)
	}

	// The page, its CSRF field and cookie; a wrong password first.
	code, body = curl(start.Login)
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if code != 200 || m == nil || !strings.Contains(body, device) {
		t.Fatalf("page: %d %s", code, body)
	}
	if jarText, _ := os.ReadFile(jar); !strings.Contains(string(jarText), m[1]) {
		t.Fatalf("no CSRF cookie in the jar:\n%s", jarText)
	}
	code, body = curl("--data-urlencode", "csrf="+m[1], "--data-urlencode", "user=admin", "--data-urlencode", "password=wrong", start.Login)
	if code != 403 || !strings.Contains(body, "Wrong user name or password") {
		t.Fatalf("wrong password: %d %s", code, body)
	}
	if !strings.Contains(s.logs(), "login failed") {
		t.Errorf("the wrong password is not a failed login in the log")
	}
	code, body = curl("--data-urlencode", "csrf="+m[1], "--data-urlencode", "user=admin", "--data-urlencode", "password="+adminPW, start.Login)
	if code != 200 || !strings.Contains(body, "close this window") {
		t.Fatalf("grant: %d %s", code, body)
	}

	// Poll: the app password, once.
	code, body = poll()
	var got struct{ Server, LoginName, AppPassword string }
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil || got.Server != s.url("") || got.LoginName != "admin" || len(got.AppPassword) != 72 {
		t.Fatalf("poll after sign-in: %d %s", code, body)
	}
	if code, body := poll(); code != 404 {
		t.Fatalf("second poll: %d %s; want 404", code, body)
	}

	// The app password works over WebDAV.
	propfind := func(pw string) int {
		code, _ := curl("-X", "PROPFIND", "-H", "Depth: 1", "-u", "admin:"+pw, s.url("/dav/"))
		return code
	}
	if code := propfind(got.AppPassword); code != http.StatusMultiStatus {
		t.Fatalf("PROPFIND with the app password: %d; want 207", code)
	}

	// Listed with the device's name and its use; revoked: locked out at once.
	out, err := runCLI(t, "", "app-password", "list", "--data", s.data, "admin")
	if err != nil || !strings.Contains(out, device) || !strings.Contains(out, "last used") {
		t.Fatalf("app-password list: %v\n%s", err, out)
	}
	id := strings.Fields(out)[0]
	if out, err := runCLI(t, "", "app-password", "revoke", "--data", s.data, id); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("app-password revoke %s: %v\n%s", id, err, out)
	}
	if code := propfind(got.AppPassword); code != http.StatusUnauthorized {
		t.Fatalf("PROPFIND with the revoked app password: %d; want 401", code)
	}
	if code := propfind(adminPW); code != http.StatusMultiStatus {
		t.Fatalf("PROPFIND with the password after the revoke: %d; want 207", code)
	}
	if out, _ := runCLI(t, "", "app-password", "list", "--data", s.data, "admin"); strings.TrimSpace(out) != "" {
		t.Errorf("app-password list after the revoke: %q; want nothing", out)
	}
	// Without index.php too.
	if code, body := curl("-X", "POST", s.url("/login/v2")); code != 200 || !strings.Contains(body, s.url("/login/v2/poll")) {
		t.Errorf("POST /login/v2: %d %s", code, body)
	}
}
