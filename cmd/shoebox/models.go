package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"shoebox/enrich/faces"
)

// modelsDir is where the face models are: --models, else <data>/models/face-api.
func modelsDir(cfg Config) string {
	if cfg.ModelsDir != "" {
		return cfg.ModelsDir
	}
	return filepath.Join(cfg.Data, "models", "face-api")
}

// loadFaceModels loads the face models, or says once how to install them
// (faces then wait; everything else works).
func loadFaceModels(cfg Config, lg *slog.Logger) *faces.Models {
	dir := modelsDir(cfg)
	if err := faces.Find(dir); err != nil {
		lg.Warn("face models are not installed: photos are enriched without faces and wait for them; run `shoebox models install`", "dir", dir)
		return nil
	}
	m, err := faces.Load(dir)
	if err != nil {
		lg.Error("face models could not be loaded: photos wait for faces", "dir", dir, "err", err)
		return nil
	}
	if faceDetector(cfg) == faces.DetectorSSD {
		if m.SSD == nil {
			lg.Error("face_detector is ssd, but the SSD model is not in the models folder: photos wait for faces (run `shoebox models install`)", "dir", dir)
			return nil
		}
	} else {
		m.SSD = nil // its weights (about 21 MiB) need not stay in memory
	}
	lg.Info("face models loaded", "dir", dir, "detector", faceDetector(cfg))
	return m
}

// faceDetector is the face detector the configuration asks for.
func faceDetector(cfg Config) string {
	if strings.EqualFold(cfg.FaceDetector, "ssd") {
		return faces.DetectorSSD
	}
	return faces.DetectorTiny
}

// modelsCmd is `shoebox models install [--registry URL]`: it downloads the
// pinned face-api package from the npm registry (or a mirror), checks the
// registry's integrity hash, and unpacks its model/ folder; and `shoebox
// models check`, which says whether they are there.
func modelsCmd(ctx context.Context, args []string) error {
	if _, err := subcommand(args, "models", modelsHelp, "install", "check"); err != nil {
		return err
	}
	fset := flag.NewFlagSet("models "+args[0], flag.ContinueOnError)
	registry := fset.String("registry", os.Getenv("SHOEBOX_NPM_REGISTRY"), "npm registry URL (default "+faces.DefaultRegistry+"; a mirror works)")
	spec := cmdSpec{usage: "shoebox models install [--registry URL] [flags]", about: "Downloads the face models (pinned, integrity-checked) into the models directory.", uses: gModels}
	if args[0] == "check" {
		spec = cmdSpec{usage: "shoebox models check [flags]", about: "Says whether the face models are installed.", uses: gModels}
	}
	cfg, err := parseConfig(fset, args[1:], spec)
	if err != nil {
		return err
	}
	dir := modelsDir(cfg)
	if args[0] == "check" {
		if err := faces.Find(dir); err != nil {
			return err
		}
		fmt.Printf("face models are in %s\n", dir)
		return nil
	}
	fmt.Fprintf(os.Stderr, "installing %s@%s models into %s\n", faces.PackageName, faces.PackageVersion, dir)
	if err := faces.Install(ctx, *registry, dir, nil); err != nil {
		return err
	}
	if err := faces.Find(dir); err != nil {
		return err
	}
	fmt.Printf("face models installed in %s\n", dir)
	return nil
}

const modelsHelp = `Usage: shoebox models install|check ...

The face models (face-api's, MIT) that finding faces and people need; without them the rest works.

  shoebox models install [--registry URL]   download them (pinned, integrity-checked)
  shoebox models check                      say whether they are installed
`
