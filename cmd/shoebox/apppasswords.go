package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"shoebox/catalog"
)

const appPasswordHelp = `Usage: shoebox app-password list|revoke ...

App passwords are the device passwords the Nextcloud apps get when they sign in (Login Flow).

  shoebox app-password list USER    list USER's app passwords
  shoebox app-password revoke ID    revoke one (it fails at its next use)
`

// appPasswordCmd lists and revokes app passwords, the device passwords
// the Nextcloud Login Flow grants (gateway/auth). While a server runs it
// runs there (admin.go); a revoked app password fails at its next use,
// since app passwords are never cached.
func appPasswordCmd(ctx context.Context, args []string, cio cmdIO) error {
	sub, err := subcommand(args, "app-password", appPasswordHelp, "list", "revoke")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("app-password "+sub, flag.ContinueOnError)
	spec := cmdSpec{usage: "shoebox app-password list USER [flags]", about: "Lists USER's app passwords: id, device, created, last used.", uses: gStore}
	if sub == "revoke" {
		spec = cmdSpec{usage: "shoebox app-password revoke ID [flags]", about: "Revokes an app password; the device must sign in again.", uses: gStore}
	}
	cfg, err := parseConfig(fs, args[1:], spec)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return errors.New("usage: " + spec.usage)
	}
	arg := fs.Arg(0)
	st, done, err := cio.open(cfg)
	if err != nil {
		return err
	}
	defer done()
	switch sub {
	case "list":
		if _, err := st.cat.GetUser(ctx, arg); errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("no user %q", arg)
		} else if err != nil {
			return err
		}
		ps, err := st.cat.AppPasswords(ctx, arg)
		if err != nil {
			return err
		}
		for _, p := range ps {
			used := "never used"
			if !p.LastUsed.IsZero() {
				used = "last used " + p.LastUsed.Format(time.RFC3339)
			}
			fmt.Fprintf(cio.out, "%s\tcreated %s\t%s\t%s\n", p.ID, p.Created.Format(time.RFC3339), used, printable(p.Name))
		}
	case "revoke":
		p, err := st.cat.DeleteAppPassword(ctx, arg)
		if errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("no app password %q", arg)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(cio.out, "app password %s of user %s (%s) revoked\n", p.ID, p.User, printable(p.Name))
	}
	return nil
}

// printable is a client-chosen name made safe for a terminal: control
// characters become '?'.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}
