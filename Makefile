# concbench: make bench (the main job) and make test (what CI runs).
GO ?= go
# The simd strategy's vector kernels need Go 1.26's simd/archsimd, which
# exists only under this experiment; other code ignores it. Override with
# GOEXPERIMENT= to build the scalar fallback.
GOEXPERIMENT ?= simd
export GOEXPERIMENT
BIN := bin/concbench
RUN_FLAGS ?=

.PHONY: all build bench bench-quick bench-compare bench-python bench-serve bench-serve-python deps-python test test-race test-nosimd lint fmt-check clean

all: build

# Always rebuilt: go's own cache makes that cheap, and a stale binary would
# measure old code. -buildvcs=auto stamps the VCS revision that `concbench
# version` and the run header show, even where GOFLAGS=-buildvcs=false.
build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/concbench

## bench: the full default matrix, 10 counted rounds of at least 200 ms a cell and profiles (about 6 minutes on 2 cores); tables on stdout, run folder in out/
bench: build
	./$(BIN) run $(RUN_FLAGS)

## bench-quick: the same matrix with small task counts and rounds of 20 ms (about a minute on 2 cores)
bench-quick: build
	./$(BIN) run --quick $(RUN_FLAGS)

## bench-compare: is the working tree slower than BASE? (make bench-compare BASE=main; BASE=HEAD: A/A noise check)
bench-compare:
	@test -n "$(BASE)" || { echo "usage: make bench-compare BASE=<rev>"; exit 2; }
	GO=$(GO) scripts/bench-compare.sh $(BASE)

# The seed articles' own systems, side by side with the Go strategies, on
# sizes pure Python finishes in a few minutes. Needs make deps-python.
PY_STRATEGIES := py-blocking,py-threads,py-pool,py-asyncio,py-uvloop,py-gevent,py-tornado,py-twisted
PY_MATRIX := --workloads fanout,webrequest,mandelbrot,mixed --strategies blocking,threads,goroutines,pool,reactor,$(PY_STRATEGIES)
# Sizes pure Python finishes in minutes; override with PY_PARAMS="...".
PY_PARAMS ?= fanout.tasks=500 webrequest.tasks=200 mandelbrot.rows=64 mandelbrot.width=256 mixed.tasks=200 mixed.cpu=0s,50us

## bench-python: Python blocking, threads, asyncio, uvloop, gevent, Tornado, Twisted next to the Go strategies
bench-python: build
	./$(BIN) run $(PY_MATRIX) $(RUN_FLAGS) $(PY_PARAMS)

# Serve mode: every strategy as the web server, under open-loop load from a
# generator process, at offered rates swept by serve.rate; the saturation
# table names the highest rate each holds within serve.slo. Not part of
# make bench (each rate is a round of serve.duration). Override the sweep
# with SERVE_PARAMS="serve.rate=... serve.latency=...".
SERVE_PARAMS ?= serve.rate=500,1000,2000,4000,8000,16000

## bench-serve: the Go server models (and net/http, gnet, fasthttp) under a swept request rate, saturation table at the end
bench-serve: build
	./$(BIN) run --workloads serve --count 3 --profile=false $(RUN_FLAGS) reactor.loops=1,2 $(SERVE_PARAMS)

## bench-serve-python: the seed articles' Python servers next to the Go ones, at rates Python reaches (needs make deps-python)
bench-serve-python: build
	./$(BIN) run --workloads serve --strategies blocking,threads,goroutines,pool,reactor,$(PY_STRATEGIES) --count 3 --profile=false $(RUN_FLAGS) serve.rate=250,500,1000,2000,4000

## deps-python: the Debian packages of the Python strategies (root)
deps-python:
	apt-get install -y python3-numpy python3-gevent python3-uvloop python3-tornado python3-twisted

## test: vet, staticcheck, the race-enabled suite, and the suite again without the simd experiment
test: lint test-race test-nosimd

lint: fmt-check
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool actionlint .github/workflows/*.yml

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
