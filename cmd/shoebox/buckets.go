package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"shoebox/catalog"
	"shoebox/gateway"
)

// bucketCmd: shoebox bucket list USER | create USER BUCKET | public USER BUCKET | private USER BUCKET.
func bucketCmd(ctx context.Context, args []string, cio cmdIO) error {
	sub, err := subcommand(args, "bucket", bucketHelp, "list", "create", "public", "private")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("bucket "+sub, flag.ContinueOnError)
	spec := cmdSpec{usage: "shoebox bucket " + sub + " USER BUCKET [flags]", uses: gStore}
	switch sub {
	case "list":
		spec = cmdSpec{usage: "shoebox bucket list USER [flags]", about: "Lists USER's buckets and whether each is public.", uses: gStore}
	case "create":
		spec.about = "Makes the bucket BUCKET for USER (as MKCOL at the WebDAV root or an S3 CreateBucket would): " + gateway.BucketRule + "."
	case "public":
		spec.about = "Lets anyone read BUCKET over S3 (GET and HEAD of its objects; no listing of other buckets)."
	case "private":
		spec.about = "Makes BUCKET private again: only its owner's keys read it."
	}
	cfg, err := parseConfig(fs, args[1:], spec)
	if err != nil {
		return err
	}
	st, done, err := cio.open(cfg)
	if err != nil {
		return err
	}
	defer done()
	switch sub {
	case "list":
		if fs.NArg() != 1 {
			return errors.New("usage: shoebox bucket list USER")
		}
		bs, err := st.cat.Buckets(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		for _, b := range bs {
			if b.Name == catalog.TrashBucket {
				continue // internal: a user sees their trash as /trash, never as a bucket
			}
			access := "private"
			if b.Public {
				access = "public-read"
			}
			fmt.Fprintf(cio.out, "%s\t%s\tcreated %s\n", b.Name, access, b.Created.Format(time.RFC3339))
		}
	case "create":
		if fs.NArg() != 2 {
			return errors.New("usage: shoebox bucket create USER BUCKET")
		}
		if _, err := st.cat.GetUser(ctx, fs.Arg(0)); errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("no user %q", fs.Arg(0))
		} else if err != nil {
			return err
		}
		if err := st.gw.CreateBucket(ctx, fs.Arg(0), fs.Arg(1)); err != nil {
			return err
		}
		fmt.Fprintf(cio.out, "bucket %s of %s: made\n", fs.Arg(1), fs.Arg(0))
	case "public", "private":
		if fs.NArg() != 2 {
			return fmt.Errorf("usage: shoebox bucket %s USER BUCKET", sub)
		}
		if err := st.cat.SetBucketPublic(ctx, fs.Arg(0), fs.Arg(1), sub == "public"); err != nil {
			return err
		}
		if sub == "public" {
			fmt.Fprintf(cio.out, "bucket %s of %s: anyone can now read it over S3 (GET and HEAD, no listing of other buckets)\n", fs.Arg(1), fs.Arg(0))
		} else {
			fmt.Fprintf(cio.out, "bucket %s of %s: private\n", fs.Arg(1), fs.Arg(0))
		}
	default:
		return fmt.Errorf("unknown bucket command %q (list, create, public, private)", sub)
	}
	return nil
}

const bucketHelp = `Usage: shoebox bucket list|create|public|private ...

A user's buckets are the folders at the root of their WebDAV tree and their S3 buckets.

  shoebox bucket list USER              list USER's buckets
  shoebox bucket create USER BUCKET     make a bucket (3-63 lowercase letters, digits, '.', '-')
  shoebox bucket public USER BUCKET     let anyone read BUCKET over S3
  shoebox bucket private USER BUCKET    make it private again

"shoebox bucket list -h" (and so on) lists each one's flags.
`
