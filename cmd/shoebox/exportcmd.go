package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"shoebox/catalog"
	"shoebox/catalog/export"
	"shoebox/gateway"
)

// exportCmd is `shoebox export [--user U] [--to DIR] [--beside]`: it
// writes each user's albums, persons with their face regions, corrections
// and trash in open formats (package export): XMP sidecars, into an
// export tree under DIR mirroring user/bucket/key or, with --beside,
// beside the originals in the library, and a JSON document DIR/<user>.json.
// Like import, it opens the store, so the server must be stopped.
func exportCmd(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("export", flag.ContinueOnError)
	user := fset.String("user", "", "export only this user (default: every user)")
	to := fset.String("to", "shoebox-export", "the directory the export tree and the JSON documents are written to")
	beside := fset.Bool("beside", false, "write each sidecar beside its original, into the library (a file <name>.xmp that WebDAV and S3 show), instead of under --to")
	cfg, err := parseConfig(fset, args, cmdSpec{usage: "shoebox export [--user USER] [--to DIR] [--beside] [flags]",
		about: "Writes albums, people and face regions as XMP sidecars and JSON documents. The server must be stopped.", uses: gStore})
	if err != nil {
		return err
	}
	if fset.NArg() != 0 {
		return errors.New("usage: shoebox export [--user USER] [--to DIR] [--beside]")
	}
	lg := newLogger(cfg)
	st, err := openStore(cfg, lg)
	if err != nil {
		return err
	}
	defer st.Close()
	var users []string
	if *user != "" {
		if _, err := st.cat.GetUser(ctx, *user); err != nil {
			return fmt.Errorf("user %q: %w", *user, err)
		}
		users = []string{*user}
	} else {
		all, err := st.cat.Users(ctx)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		for _, u := range all {
			users = append(users, u.Name)
		}
	}
	var sink export.Sink = export.DirSink{Dir: *to}
	if *beside {
		sink = besideSink{DirSink: export.DirSink{Dir: *to}, gw: st.gw, cat: st.cat}
	}
	ex := export.New(st.cat, export.Options{Logger: lg})
	for _, u := range users {
		s, err := ex.Export(ctx, u, sink)
		if err != nil {
			return fmt.Errorf("export %s: %w", u, err)
		}
		where := "under " + *to
		if *beside {
			where = "beside the originals"
		}
		fmt.Printf("%s: %d sidecars %s; %s: %d albums, %d persons (%d faces), %d trash items\n",
			u, s.Sidecars, where, filepath.Join(*to, u+".json"), s.Albums, s.Persons, s.Faces, s.Trash)
	}
	return nil
}

// besideSink writes the sidecars into the library through the gateway,
// as <key>.xmp beside each original (so they are cataloged like any
// upload), leaving one alone when it already holds the same bytes; the
// documents go to a directory.
type besideSink struct {
	export.DirSink
	gw  *gateway.Gateway
	cat *catalog.Catalog
}

var _ export.Sink = besideSink{}

func (b besideSink) Sidecar(ctx context.Context, user, bucket, key string, xmp []byte) error {
	key += ".xmp"
	sum := sha256.Sum256(xmp)
	if o, err := b.cat.Stat(ctx, user, bucket, key); err == nil && o.SHA256 == hex.EncodeToString(sum[:]) {
		return nil
	}
	_, err := b.gw.Put(ctx, gateway.PutInput{User: user, Bucket: bucket, Key: key, Body: bytes.NewReader(xmp),
		ContentType: "application/rdf+xml", Size: int64(len(xmp))})
	if err != nil {
		return fmt.Errorf("write %s/%s: %w", bucket, key, err)
	}
	return nil
}
