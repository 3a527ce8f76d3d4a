package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runIn runs the binary in dir with only the environment given (beside
// PATH and HOME), and returns its combined output and exit status.
func runIn(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return string(out), 0
}

// TestCLIMessages: each mistake of a first hour with Shoebox gets a
// message naming the setting, the value and what is allowed.
func TestCLIMessages(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.yaml")
	os.WriteFile(typo, []byte("data: d\ndav_adr: 127.0.0.1:1\n"), 0o644)
	badWorkers := filepath.Join(dir, "workers.yaml")
	os.WriteFile(badWorkers, []byte("workers: many\n"), 0o644)
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o755)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
		code int
	}{
		{"key without a data directory", nil, []string{"key", "create", "admin"},
			"shoebox: data directory " + filepath.Join(dir, "shoebox-data") + " (the default) does not exist: give the server's with --data DIR, SHOEBOX_DATA or --config FILE", 1},
		{"user list, missing SHOEBOX_DATA", []string{"SHOEBOX_DATA=" + filepath.Join(dir, "nope")}, []string{"user", "list"},
			"data directory " + filepath.Join(dir, "nope") + " (SHOEBOX_DATA) does not exist", 1},
		{"import, missing --data", nil, []string{"import", "--data", "nope", "--user", "u", "--bucket", "b", dir},
			"data directory " + filepath.Join(dir, "nope") + " (--data) does not exist", 1},
		{"workers in the environment", []string{"SHOEBOX_WORKERS=abc"}, []string{"serve"},
			"shoebox: SHOEBOX_WORKERS=abc: want a whole number\n", 1},
		{"workers as a flag", nil, []string{"serve", "--workers", "abc"},
			"shoebox: --workers=abc: want a whole number\n", 1},
		{"workers in the file", nil, []string{"serve", "--config", badWorkers},
			`shoebox: config file ` + badWorkers + ` line 1: workers: "many": want a whole number`, 1},
		{"log level", nil, []string{"serve", "--log-level", "verbose"},
			"shoebox: --log-level=verbose: want debug, info, warn or error\n", 1},
		{"log level in the environment", []string{"SHOEBOX_LOG_LEVEL=loud"}, []string{"fsck"},
			"shoebox: SHOEBOX_LOG_LEVEL=loud: want debug, info, warn or error\n", 1},
		{"log format", nil, []string{"serve", "--log-format", "xml"},
			"shoebox: --log-format=xml: want text or json\n", 1},
		{"config typo", nil, []string{"serve", "--config", typo},
			`shoebox: config file ` + typo + ` line 2: unknown setting "dav_adr": did you mean dav_addr?` + "\n", 1},
		{"missing config file", nil, []string{"fsck", "--config", filepath.Join(dir, "none.yaml")},
			"give an existing file with --config or SHOEBOX_CONFIG", 1},
		{"duration", []string{"SHOEBOX_BODY_IDLE_TIMEOUT=soon"}, []string{"serve"},
			"shoebox: SHOEBOX_BODY_IDLE_TIMEOUT=soon: want a duration such as 90s, 10m or 24h\n", 1},
		{"negative workers", nil, []string{"serve", "--workers", "-1"},
			"shoebox: --workers=-1: want 0 or more\n", 1},
		{"face detector", nil, []string{"serve", "--face-detector", "big"},
			"shoebox: --face-detector=big: want tiny or ssd\n", 1},
		{"flag typo", nil, []string{"fsck", "--dta", data},
			"shoebox: unknown flag --dta: did you mean --data? (shoebox fsck -h lists the flags)\n", 1},
		{"another command's flag", nil, []string{"user", "list", "--dav-addr", "x"},
			"shoebox: --dav-addr is not a flag of shoebox user list, which does not use that setting (shoebox user list -h lists the flags)\n", 1},
		{"tls alone", nil, []string{"serve", "--tls-cert", "c.pem"},
			"shoebox: tls-cert and tls-key go together: give both (HTTPS) or neither (HTTP)\n", 1},
		{"unknown subcommand", nil, []string{"user", "make", "bob"},
			`shoebox: unknown user command "make" (add, list, passwd, rm)` + "\n", 1},
		{"no subcommand", nil, []string{"key"},
			`shoebox: key needs a subcommand (create, list, revoke); "shoebox key -h" says what each does` + "\n", 1},
		{"unknown command", nil, []string{"serv"}, `shoebox: unknown command "serv"`, 2},
		{"no command", nil, nil, "Usage:", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runIn(t, dir, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("shoebox %s: exit %d, output:\n%s\nwant exit %d and %q", strings.Join(tc.args, " "), code, out, tc.code, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "shoebox-data")); err == nil {
		t.Error("a command created ./shoebox-data; only serve may")
	}
}

// TestCLIHelp: -h and --help of every command exit 0 on standard output,
// mention every flag the command takes with its default, and no flag of
// another command.
func TestCLIHelp(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		has  []string // flags and words the help must show
		not  []string // flags it must not list
	}{
		{[]string{"serve"}, []string{"--dav-addr string", "(default 127.0.0.1:8080)", "[$SHOEBOX_DAV_ADDR]", "--workers", "--data", "--config", "--tls-cert", "--backup-dir", "--models"}, nil},
		{[]string{"user", "add"}, []string{"Usage: shoebox user add NAME", "--password-stdin", "--data string", "(default ./shoebox-data)"}, []string{"--dav-addr", "--workers"}},
		{[]string{"user", "list"}, []string{"--data"}, []string{"--password-stdin", "--dav-addr"}},
		{[]string{"user", "passwd"}, []string{"--password-stdin"}, []string{"--s3-addr"}},
		{[]string{"user", "rm"}, []string{"--data"}, []string{"--password-stdin"}},
		{[]string{"key", "create"}, []string{"--data", "--log-level string", "(default info)"}, []string{"--dav-addr"}},
		{[]string{"key", "list"}, []string{"--data"}, nil},
		{[]string{"key", "revoke"}, []string{"KEYID"}, nil},
		{[]string{"app-password", "list"}, []string{"--data"}, nil},
		{[]string{"app-password", "revoke"}, []string{"--data"}, nil},
		{[]string{"bucket", "list"}, []string{"--data"}, []string{"--dav-addr"}},
		{[]string{"bucket", "create"}, []string{"--data"}, nil},
		{[]string{"bucket", "public"}, []string{"--data"}, nil},
		{[]string{"failed"}, []string{"--data", "--user", "--retry"}, []string{"--dav-addr"}},
		{[]string{"bucket", "private"}, []string{"--data"}, nil},
		{[]string{"fsck"}, []string{"--data", "--upstream-bucket"}, []string{"--dav-addr", "--workers"}},
		{[]string{"import"}, []string{"--user", "--bucket", "--prefix", "--quiet", "--data"}, []string{"--dav-addr", "--s3-addr", "--tls-cert", "--pprof-addr"}},
		{[]string{"reindex"}, []string{"--quiet", "--workers", "--models"}, []string{"--dav-addr"}},
		{[]string{"export"}, []string{"--user", "--to string", "(default shoebox-export)", "--beside"}, []string{"--dav-addr"}},
		{[]string{"backup"}, []string{"--to", "--since", "--no-secret"}, []string{"--dav-addr"}},
		{[]string{"restore"}, []string{"--force"}, []string{"--dav-addr"}},
		{[]string{"models", "install"}, []string{"--registry", "--models"}, []string{"--dav-addr"}},
		{[]string{"models", "check"}, []string{"--models"}, nil},
		{[]string{"user"}, []string{"shoebox user add NAME", "shoebox user rm NAME"}, nil},
		{[]string{"key"}, []string{"shoebox key create USER"}, nil},
		{[]string{"bucket"}, []string{"shoebox bucket list USER"}, nil},
		{[]string{"app-password"}, []string{"shoebox app-password list USER"}, nil},
		{[]string{"models"}, []string{"shoebox models install"}, nil},
	}
	for _, tc := range tests {
		for _, h := range []string{"-h", "--help"} {
			args := append(append([]string{}, tc.args...), h)
			out, code := runIn(t, dir, nil, args...)
			if code != 0 {
				t.Errorf("shoebox %s: exit %d; want 0\n%s", strings.Join(args, " "), code, out)
				continue
			}
			for _, w := range tc.has {
				if !strings.Contains(out, w) {
					t.Errorf("shoebox %s: help lacks %q:\n%s", strings.Join(args, " "), w, out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(out, w+" ") || strings.Contains(out, w+"\n") {
					t.Errorf("shoebox %s: help lists %s, which the command does not take", strings.Join(args, " "), w)
				}
			}
		}
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, code := runIn(t, dir, nil, args...)
		if code != 0 || !strings.HasPrefix(out, "shoebox ") || !strings.Contains(out, "go1.") {
			t.Errorf("shoebox %s: exit %d, %q; want the version line", args[0], code, out)
		}
	}
	if out, code := runIn(t, dir, nil, "--help"); code != 0 || !strings.Contains(out, "shoebox version") {
		t.Errorf("shoebox --help: exit %d\n%s", code, out)
	}
}
