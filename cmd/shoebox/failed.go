package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"shoebox/catalog"
)

// failedCmd is `shoebox failed [--user U] [--retry]`: it lists the files
// whose enrichment failed (out of attempts) with their errors, and with
// --retry queues them again. While a server runs it runs there, over the
// admin socket (admin.go), and the server's workers take the retried jobs.
func failedCmd(ctx context.Context, args []string, cio cmdIO) error {
	fs := flag.NewFlagSet("failed", flag.ContinueOnError)
	user := fs.String("user", "", "only this user's files (default: everyone's)")
	retry := fs.Bool("retry", false, "queue the failed files again (their attempts start over)")
	cfg, err := parseConfig(fs, args, cmdSpec{usage: "shoebox failed [--user U] [--retry] [flags]",
		about: "Lists the files whose enrichment failed (thumbnails, media record, faces), with the error and the attempts; --retry queues them again.",
		uses:  gStore})
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New("usage: shoebox failed [--user U] [--retry] (no arguments)")
	}
	st, done, err := cio.open(cfg)
	if err != nil {
		return err
	}
	defer done()
	if *user != "" {
		if _, err := st.cat.GetUser(ctx, *user); errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("no user %q", *user)
		} else if err != nil {
			return err
		}
	}
	jobs, err := st.cat.FailedJobs(ctx, *user)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		fmt.Fprintf(cio.out, "%s\t%s/%s\t%d attempts\t%s\n", j.User, j.Bucket, printable(j.Key), j.Attempts, printable(oneLine(j.Err)))
	}
	switch {
	case len(jobs) == 0:
		fmt.Fprintln(cio.out, "no failed enrichments")
	case *retry:
		n, err := st.cat.RetryFailed(ctx, *user)
		if err != nil {
			return err
		}
		fmt.Fprintf(cio.out, "queued %d files again\n", n)
	default:
		fmt.Fprintf(cio.out, "%d failed; \"shoebox failed --retry\" queues them again\n", len(jobs))
	}
	return nil
}

// oneLine keeps an error on one line of the listing.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
