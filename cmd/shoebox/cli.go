package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// The command line's shared pieces: the help of the commands that have
// subcommands, and the version.

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// subcommand returns the subcommand args start with. With no args it is a
// usage error; with -h, --help or help it prints the command's help on
// standard output and returns flag.ErrHelp (exit 0); an unknown one is an
// error listing the known.
func subcommand(args []string, cmd, help string, known ...string) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("%s needs a subcommand (%s); \"shoebox %s -h\" says what each does", cmd, strings.Join(known, ", "), cmd)
	}
	if isHelp(args[0]) {
		fmt.Fprint(os.Stdout, help)
		return "", flag.ErrHelp
	}
	for _, k := range known {
		if args[0] == k {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown %s command %q (%s)", cmd, args[0], strings.Join(known, ", "))
}

// buildCommit is the commit `make build` stamps with -ldflags -X (for
// builds where Go records no VCS information, e.g. -buildvcs=false); set
// at link time only, never written at run time.
var buildCommit string

// version is this build's version line: the module version, the commit
// it was built from (and whether the tree had changes), the Go version.
func version() string {
	v, rev, when, dirty := "(devel)", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if rev == "" {
		rev, dirty = strings.CutSuffix(buildCommit, "+changes")
	}
	line := "shoebox " + v
	if rev != "" {
		line += " commit " + rev[:min(12, len(rev))]
		if dirty {
			line += "+changes"
		}
		if when != "" {
			line += " (" + when + ")"
		}
	} else {
		line += " (no commit recorded: build with make build, or go build -buildvcs=true in a git checkout)"
	}
	return line + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
