package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"
)

// bucketCmd: shoebox bucket list USER | public USER BUCKET | private USER BUCKET.
func bucketCmd(ctx context.Context, args []string, cio cmdIO) error {
	if len(args) == 0 {
		return errors.New("usage: shoebox bucket list USER | public USER BUCKET | private USER BUCKET")
	}
	sub := args[0]
	fs := flag.NewFlagSet("bucket "+sub, flag.ContinueOnError)
	cfg, err := parseConfig(fs, args[1:])
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
			access := "private"
			if b.Public {
				access = "public-read"
			}
			fmt.Fprintf(cio.out, "%s\t%s\tcreated %s\n", b.Name, access, b.Created.Format(time.RFC3339))
		}
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
		return fmt.Errorf("unknown bucket command %q (list, public, private)", sub)
	}
	return nil
}
