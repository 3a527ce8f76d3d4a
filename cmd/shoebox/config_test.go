package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("data: /from/file\ndav_addr: file:1\nlog_level: debug\nmax_upload_bytes: 7\n"), 0o644)
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		data      string
		addr      string
		maxUpload int64
	}{
		{"file only", nil, nil, "/from/file", "file:1", 7},
		{"env over file", map[string]string{"SHOEBOX_DATA": "/from/env", "SHOEBOX_MAX_UPLOAD_BYTES": "9"}, nil, "/from/env", "file:1", 9},
		{"flag over env", map[string]string{"SHOEBOX_DATA": "/from/env"}, []string{"--data", "/from/flag", "--dav-addr", "flag:2"}, "/from/flag", "flag:2", 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"SHOEBOX_DATA", "SHOEBOX_DAV_ADDR", "SHOEBOX_MAX_UPLOAD_BYTES"} {
				t.Setenv(k, "")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := parseConfig(flag.NewFlagSet("t", flag.ContinueOnError), append([]string{"--config", file}, tc.args...), cmdSpec{uses: gAll})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Data != tc.data || cfg.DavAddr != tc.addr || cfg.MaxUpload != tc.maxUpload || cfg.LogLevel != "debug" {
				t.Errorf("got data %q addr %q max %d level %q; want %q %q %d debug", cfg.Data, cfg.DavAddr, cfg.MaxUpload, cfg.LogLevel, tc.data, tc.addr, tc.maxUpload)
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		t.Setenv("SHOEBOX_DATA", "")
		cfg, err := parseConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil, cmdSpec{uses: gAll})
		if err != nil || cfg.Data != "./shoebox-data" || cfg.DavAddr != "127.0.0.1:8080" {
			t.Errorf("defaults: %+v, %v", cfg, err)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		os.WriteFile(bad, []byte("data: x\nmax_uplod_bytes: 3\n"), 0o644)
		_, err := parseConfig(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--config", bad}, cmdSpec{uses: gAll})
		if err == nil || !strings.Contains(err.Error(), "max_uplod_bytes") {
			t.Errorf("err = %v; want one naming max_uplod_bytes", err)
		}
	})
}

// TestExampleConfig: the shipped example parses and states the defaults.
func TestExampleConfig(t *testing.T) {
	var c Config
	if err := loadFile(filepath.Join("..", "..", "configs", "shoebox.example.yaml"), &c); err != nil {
		t.Fatal(err)
	}
	if c != defaults() {
		t.Errorf("example config = %+v; want the defaults %+v", c, defaults())
	}
}
