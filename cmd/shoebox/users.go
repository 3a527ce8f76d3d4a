package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"shoebox/catalog"
	"shoebox/gateway/auth"
)

func userCmd(ctx context.Context, args []string, cio cmdIO) error {
	sub, err := subcommand(args, "user", userHelp, "add", "list", "passwd", "rm")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	var stdin *bool
	if sub == "add" || sub == "passwd" {
		stdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input (without it: asked twice on the terminal)")
	}
	cfg, err := parseConfig(fs, args[1:], userSpecs(sub))
	if err != nil {
		return err
	}
	name := fs.Arg(0)
	if (sub != "list" && (name == "" || fs.NArg() != 1)) || (sub == "list" && fs.NArg() != 0) {
		return fmt.Errorf("usage: %s", userSpecs(sub).usage)
	}
	st, done, err := cio.open(cfg)
	if err != nil {
		return err
	}
	defer done()
	switch sub {
	case "add", "passwd":
		if sub == "add" && !catalog.ValidName(name) {
			return fmt.Errorf("user name %q: use letters, digits, '.', '_' and '-' (at most 63)", name)
		}
		pw, err := readPassword(cio.in, stdin != nil && *stdin)
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(pw)
		if err != nil {
			return err
		}
		if err := st.cat.PutUser(ctx, catalog.User{Name: name, PasswordHash: hash, Created: time.Now()}, sub == "add"); err != nil {
			return err
		}
		fmt.Fprintf(cio.out, "user %s: password set\n", name)
	case "list":
		us, err := st.cat.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range us {
			fmt.Fprintf(cio.out, "%s\tcreated %s\n", u.Name, u.Created.Format(time.RFC3339))
		}
	case "rm":
		keys, err := st.cat.DeleteUser(ctx, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(cio.out, "user %s removed with their %d access key(s) and their app passwords (their files are kept under %s/objects/%s)\n", name, keys, cfg.Data, name)
	default:
		return fmt.Errorf("unknown user command %q (add, list, passwd, rm)", sub)
	}
	return nil
}

const userHelp = `Usage: shoebox user add|list|passwd|rm ...

Manage the accounts that sign in over WebDAV, the API and the Nextcloud apps.
With a server running on the data directory, the command is run by it.

  shoebox user add NAME [--password-stdin]      add a user (the password is asked twice)
  shoebox user list                             list the users
  shoebox user passwd NAME [--password-stdin]   set a user's password
  shoebox user rm NAME                          remove a user, their access keys and app passwords (not their files)

"shoebox user add -h" (and so on) lists each one's flags.
`

// userSpecs is the help of a user subcommand.
func userSpecs(sub string) cmdSpec {
	return map[string]cmdSpec{
		"add":    {usage: "shoebox user add NAME [--password-stdin] [flags]", about: "Adds a user. User names use letters, digits, '.', '_' and '-' (at most 63).", uses: gStore},
		"list":   {usage: "shoebox user list [flags]", about: "Lists the users and when each was created.", uses: gStore},
		"passwd": {usage: "shoebox user passwd NAME [--password-stdin] [flags]", about: "Sets a user's password; it takes effect at once, also on a running server.", uses: gStore},
		"rm":     {usage: "shoebox user rm NAME [flags]", about: "Removes a user with their S3 access keys and app passwords. Their files stay on disk.", uses: gStore},
	}[sub]
}

func readPassword(in io.Reader, fromStdin bool) (string, error) {
	if fromStdin || !term.IsTerminal(int(os.Stdin.Fd())) {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprint(os.Stderr, "Password: ")
	a, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(os.Stderr, "Again: ")
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if string(a) != string(b) {
		return "", errors.New("the passwords differ")
	}
	return string(a), nil
}

// ensureAdmin creates the user admin when the catalog has no user at all,
// with SHOEBOX_ADMIN_PASSWORD or a random password printed once.
func ensureAdmin(ctx context.Context, cat *catalog.Catalog) (string, bool, error) {
	us, err := cat.Users(ctx)
	if err != nil || len(us) > 0 {
		return "", false, err
	}
	pw := os.Getenv("SHOEBOX_ADMIN_PASSWORD")
	generated := pw == ""
	if generated {
		var b [15]byte
		rand.Read(b[:])
		pw = base64.RawURLEncoding.EncodeToString(b[:])
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return "", false, err
	}
	if err := cat.PutUser(ctx, catalog.User{Name: "admin", PasswordHash: hash, Created: time.Now()}, true); err != nil {
		return "", false, err
	}
	if generated {
		return pw, true, nil
	}
	return "", true, nil
}
