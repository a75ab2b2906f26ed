# concbench: make bench (the main job) and make test (what CI runs).
GO ?= go
# The simd strategy's vector kernels need Go 1.26's simd/archsimd, which
# exists only under this experiment; other code ignores it. Override with
# GOEXPERIMENT= to build the scalar fallback.
GOEXPERIMENT ?= simd
export GOEXPERIMENT
BIN := bin/concbench
RUN_FLAGS ?=

.PHONY: all build bench bench-quick test test-race test-nosimd lint fmt-check clean

all: build

# Always rebuilt: go's own cache makes that cheap, and a stale binary would
# measure old code.
build:
	$(GO) build -o $(BIN) ./cmd/concbench

## bench: the full default matrix (a few minutes on 2 cores); tables on stdout, run folder in out/
bench: build
	./$(BIN) run $(RUN_FLAGS)

## bench-quick: the same matrix with small task counts and 3 rounds (under a minute)
bench-quick: build
	./$(BIN) run --quick $(RUN_FLAGS)

## test: vet, staticcheck, the race-enabled suite, and the suite again without the simd experiment
test: lint test-race test-nosimd

lint: fmt-check
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test-race:
	$(GO) test -race -timeout 10m ./...

# The scalar fallbacks of the simd strategy build without the experiment.
test-nosimd:
	GOEXPERIMENT= $(GO) test -timeout 10m ./strategies/... ./workloads/...

clean:
	rm -rf bin out
