package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"shoebox/catalog"
	"shoebox/gateway/auth"
)

// The admin commands (user, key, app-password, bucket) change the catalog,
// which only one process may open. With no server running they open it
// themselves; while a server holds it, they are run by that server: the
// command line is sent over a Unix socket in the data directory
// (admin.sock, mode 0600, so only who may read the data directory may use
// it) and the server runs the same code against its open catalog. A new password, a removed user, a
// revoked key or app password then takes effect at once, without a restart.

// adminSocket is the socket of the server holding the data directory.
func adminSocket(data string) string { return filepath.Join(data, "admin.sock") }

// adminCommands are the commands a running server takes over its socket.
var adminCommands = []string{"user", "key", "app-password", "bucket", "failed"}

// cmdIO is where an admin command writes and reads, and how it gets the
// store: its own (openStore) on the command line, the server's over the
// socket.
type cmdIO struct {
	out  io.Writer
	in   io.Reader
	open func(cfg Config) (*store, func(), error)
}

// errServerRunning: the data directory is held by a running server, which
// the command is sent to.
type errServerRunning struct{ data string }

func (e *errServerRunning) Error() string {
	return "the data directory " + e.data + " is held by a running shoebox server"
}

// cliIO runs a command in this process.
func cliIO() cmdIO {
	return cmdIO{out: os.Stdout, in: os.Stdin, open: func(cfg Config) (*store, func(), error) {
		st, err := openStore(cfg, newLogger(cfg))
		if errors.Is(err, catalog.ErrLocked) {
			return nil, nil, &errServerRunning{data: cfg.Data}
		}
		if err != nil {
			return nil, nil, err
		}
		return st, st.Close, nil
	}}
}

// runAdmin runs an admin command here, or sends it to the server that
// holds the data directory.
func runAdmin(ctx context.Context, args []string, cmd func(context.Context, []string, cmdIO) error) error {
	err := cmd(ctx, args[1:], cliIO())
	var sr *errServerRunning
	if !errors.As(err, &sr) {
		return err
	}
	return forwardAdmin(ctx, sr.data, args)
}

type adminRequest struct {
	Args  []string `json:"args"`
	Stdin string   `json:"stdin,omitempty"`
}

type adminResponse struct {
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
}

// forwardAdmin sends a command line to the server's admin socket and
// prints what it answers. A password is read here (the server has no
// terminal) and sent as standard input.
func forwardAdmin(ctx context.Context, data string, args []string) error {
	req := adminRequest{Args: args}
	if len(args) > 1 && args[0] == "user" && (args[1] == "add" || args[1] == "passwd") {
		pw, err := readPassword(os.Stdin, slices.Contains(args, "--password-stdin") || slices.Contains(args, "-password-stdin"))
		if err != nil {
			return err
		}
		req.Args = append(slices.Clone(args), "--password-stdin")
		req.Stdin = pw + "\n"
	}
	body, _ := json.Marshal(req)
	cli := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", adminSocket(data))
	}}, Timeout: time.Minute}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://shoebox/v1/run", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := cli.Do(hreq)
	if err != nil {
		return fmt.Errorf("the data directory %s is held by a running server, and its admin socket does not answer: %w", data, err)
	}
	defer resp.Body.Close()
	var ar adminResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&ar); err != nil {
		return fmt.Errorf("admin socket: %s: %w", resp.Status, err)
	}
	fmt.Print(ar.Output)
	if ar.Error != "" {
		return errors.New(ar.Error)
	}
	return nil
}

// serveAdmin runs admin commands sent to the data directory's socket
// against st until ctx ends. After user commands, authn forgets what it
// remembered of that user.
func serveAdmin(ctx context.Context, cfg Config, st *store, authn *auth.Authenticator, lg *slog.Logger) error {
	path := adminSocket(cfg.Data)
	os.Remove(path) // left by a server that died: we hold the catalog, so no one else serves here
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("admin socket %s: %w", path, err)
	}
	var mu sync.Mutex // one command at a time, as on the command line
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/run", func(w http.ResponseWriter, r *http.Request) {
		var req adminRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || len(req.Args) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		cmds := map[string]func(context.Context, []string, cmdIO) error{"user": userCmd, "key": keyCmd, "app-password": appPasswordCmd, "bucket": bucketCmd, "failed": failedCmd}
		cmd, ok := cmds[req.Args[0]]
		var out bytes.Buffer
		var res adminResponse
		if !ok {
			res.Error = fmt.Sprintf("%q is not run by a running server (only %s); stop the server first", req.Args[0], strings.Join(adminCommands, ", "))
		} else {
			mu.Lock()
			err := cmd(r.Context(), req.Args[1:], cmdIO{out: &out, in: strings.NewReader(req.Stdin),
				open: func(Config) (*store, func(), error) { return st, func() {}, nil }})
			mu.Unlock()
			if req.Args[0] == "user" && len(req.Args) > 2 {
				for _, a := range req.Args[2:] {
					authn.Forget(a)
				}
			}
			if err != nil {
				res.Error = err.Error()
			}
			lg.Info("admin command", "command", strings.Join(req.Args[:min(2, len(req.Args))], " "), "err", err)
		}
		res.Output = out.String()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	})
	// `shoebox backup` while the server runs (backupcmd.go).
	mux.HandleFunc("POST /v1/backup", serveBackup(st, cfg, lg))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
		os.Remove(path)
	}()
	go srv.Serve(ln)
	return nil
}
