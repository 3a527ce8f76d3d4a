# Shoebox. `make run` starts a server on the embedded defaults; `make test`
# installs the WebDAV clients the tests drive (when missing) and runs every test.
GO      ?= go
BIN     := bin/shoebox
export CGO_ENABLED ?= 0

.PHONY: build run test deps vet bench bench-enrich bench-faces clean

build:
	$(GO) build -o $(BIN) ./cmd/shoebox

run: build
	./$(BIN) serve

deps:
	@bash .ci/deps

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }

test: deps vet
	$(GO) test -count=1 -timeout 20m ./...

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
