# Shoebox. `make run` starts a server on the embedded defaults; `make test`
# installs the WebDAV clients the tests drive (when missing) and runs every test.
GO      ?= go
BIN     := bin/shoebox
export CGO_ENABLED ?= 0

.PHONY: build run test deps vet bench bench-enrich bench-faces fuzz fuzz-short torture clean

# The commit is stamped for `shoebox --version` also where Go records no VCS information.
COMMIT  := $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo +changes)

build:
	$(GO) build -ldflags "-X main.buildCommit=$(COMMIT)" -o $(BIN) ./cmd/shoebox

run: build
	./$(BIN) serve

deps:
	@bash .ci/deps

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }

test: deps vet
	$(GO) test -count=1 -timeout 20m ./...

# Crash and race runs against the binary, longer than in `make test`: TORTURE_KILLS SIGKILLs under
# mixed WebDAV + S3 + multipart + MOVE + DELETE load, the MOVE/DELETE-of-a-folder-vs-upload races
# for RACE_TIME each, and the full-disk cycle (as root: a tmpfs).
TORTURE_KILLS ?= 25
RACE_TIME     ?= 10s
torture: deps
	$(GO) test -count=1 -timeout 60m -v -run '^(TestTorture|TestMoveFolderDuringUploads|TestDeleteDuringUploads|TestFullDisk)$$' \
		./cmd/shoebox -args -torture-kills $(TORTURE_KILLS) -race-time $(RACE_TIME)

# Fuzzing of the network parsers (davfs, s3api): each fuzz target in turn for FUZZTIME, one
# worker (FUZZPARALLEL). `go test -fuzz` takes one package and one target at a time, hence the
# loop. Crashers land in <pkg>/testdata/fuzz/<Target>/; commit them and `make test` (plain
# `go test`) runs them, with the seeds, from then on.
FUZZTIME     ?= 5m
FUZZPARALLEL ?= 1
FUZZPKGS     ?= ./davfs ./s3api

fuzz:
	@set -e; for pkg in $(FUZZPKGS); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -parallel $(FUZZPARALLEL); \
		done; \
	done

# A quick pass of every fuzz target (about 10 s each); not part of `make test`.
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=10s

bench: build bench-enrich bench-faces
	bash .ci/bench

# Enrichment of one 12 MP JPEG on one core, beside vipsthumbnail making the same two sizes.
bench-enrich:
	$(GO) test -run '^$$' -bench 'EnrichJPEG12MP|VipsThumbnail12MP' -cpu 1 -benchtime 10x ./enrich/

# Face nets and a one-face 12 MP photo on one core, beside face-api's wasm backend (one thread),
# interleaved in one run (.ci/bench-faces; BENCH_FACES_SKIP_REF=1: Go only).
bench-faces:
	bash .ci/bench-faces

clean:
	rm -rf bin
