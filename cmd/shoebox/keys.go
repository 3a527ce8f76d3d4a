package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"shoebox/catalog"
	"shoebox/gateway/auth"
	"shoebox/s3api"
)

// secretKeyFile is the server key that seals S3 secrets, in the data
// directory beside (not inside) the catalog.
func secretKeyFile(cfg Config) string { return filepath.Join(cfg.Data, "secret.key") }

const keyHelp = `Usage: shoebox key create|list|revoke ...

S3 access keys: each belongs to a user and signs their S3 requests.

  shoebox key create USER    make a key; prints AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the secret only this once)
  shoebox key list USER      list a user's keys
  shoebox key revoke KEYID   revoke a key (at once, also on a running server)

"shoebox key create -h" (and so on) lists each one's flags.
`

// keySpecs is the help of a key subcommand.
func keySpecs(sub string) cmdSpec {
	return map[string]cmdSpec{
		"create": {usage: "shoebox key create USER [flags]", about: "Makes an S3 access key for USER and prints it as two shell lines; the secret is shown only this once.", uses: gStore},
		"list":   {usage: "shoebox key list USER [flags]", about: "Lists USER's S3 access keys.", uses: gStore},
		"revoke": {usage: "shoebox key revoke KEYID [flags]", about: "Revokes an S3 access key.", uses: gStore},
	}[sub]
}

// keyCmd manages S3 access keys: create prints the two shell lines
// AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... and nothing else on
// standard output; the secret is shown only then.
func keyCmd(ctx context.Context, args []string, cio cmdIO) error {
	sub, err := subcommand(args, "key", keyHelp, "create", "list", "revoke")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("key "+sub, flag.ContinueOnError)
	cfg, err := parseConfig(fs, args[1:], keySpecs(sub))
	if err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return fmt.Errorf("usage: %s", keySpecs(sub).usage)
	}
	arg := fs.Arg(0)
	st, done, err := cio.open(cfg)
	if err != nil {
		return err
	}
	defer done()
	switch sub {
	case "create":
		if _, err := st.cat.GetUser(ctx, arg); err != nil {
			if errors.Is(err, catalog.ErrNotFound) {
				return fmt.Errorf("no user %q (add it first: shoebox user add %s)", arg, arg)
			}
			return err
		}
		sealer, err := auth.OpenSealer(secretKeyFile(cfg))
		if err != nil {
			return err
		}
		for attempt := 0; ; attempt++ {
			id, secret := auth.NewAccessKey()
			err := st.cat.PutAccessKey(ctx, catalog.AccessKey{ID: id, User: arg, SecretSealed: sealer.Seal([]byte(secret)), Created: time.Now().UTC()})
			if errors.Is(err, catalog.ErrExists) && attempt < 3 {
				continue
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cio.out, "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", id, secret)
			return nil
		}
	case "list":
		keys, err := st.cat.AccessKeys(ctx, arg)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			if _, err := st.cat.GetUser(ctx, arg); errors.Is(err, catalog.ErrNotFound) {
				return fmt.Errorf("no user %q", arg)
			}
		}
		for _, k := range keys {
			fmt.Fprintf(cio.out, "%s\tcreated %s\n", k.ID, k.Created.Format(time.RFC3339))
		}
	case "revoke":
		k, err := st.cat.GetAccessKey(ctx, arg)
		if err == nil {
			err = st.cat.DeleteAccessKey(ctx, arg)
		}
		if errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("no access key %q", arg)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(cio.out, "access key %s of user %s revoked\n", k.ID, k.User)
	}
	return nil
}

// secretLookup finds an access key's owner and clear secret for
// s3api.Authenticate. A key whose user was removed no longer works. A
// secret that does not unseal (the key file was replaced) is an error the
// server logs, not an unknown key.
func secretLookup(cat *catalog.Catalog, s *auth.Sealer) s3api.SecretLookup {
	return func(ctx context.Context, id string) (string, string, error) {
		k, err := cat.GetAccessKey(ctx, id)
		if err != nil {
			return "", "", err // wraps catalog.ErrNotFound for an unknown key
		}
		if _, err := cat.GetUser(ctx, k.User); err != nil {
			if errors.Is(err, catalog.ErrNotFound) {
				return "", "", fmt.Errorf("access key %s: user %s was removed: %w", id, k.User, s3api.ErrUnknownAccessKey)
			}
			return "", "", err
		}
		secret, err := s.Open(k.SecretSealed)
		if err != nil {
			return "", "", fmt.Errorf("access key %s: %w (secret.key is not the key it was sealed with; create a new access key)", id, err)
		}
		return k.User, string(secret), nil
	}
}
