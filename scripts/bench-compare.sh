#!/usr/bin/env bash
# bench-compare.sh BASE: is the working tree slower than revision BASE?
#
# Builds concbench at BASE (in a temporary git worktree) and from the working
# tree, runs both binaries interleaved, one round each in turn (A B A B ...),
# so that drift of the machine (thermal, other jobs) hits both sides alike,
# then gates with `concbench compare` (exit 0 no regression, 1 regression,
# 2 error). BASE=HEAD is an A/A run: the same code twice, which must show no
# regression; it also prints the measured noise per cell, the smallest
# threshold that held and what the gate can detect at that noise
# (`concbench compare --calibrate`), and the gate's power against uniform
# slowdowns of 2, 5, 10 and 20 % applied to either side
# (`concbench compare --simulate-slowdown`).
#
# Environment:
#   MATRIX         run flags for both sides (default: a quick CPU matrix)
#   ROUNDS         rounds per side (default 8: the Mann-Whitney test can
#                  then flag a change in one cell alone among up to 321
#                  cells (its smallest p, 1.6e-4, is at most 0.05/321), and
#                  a change across many cells among more; compare says so
#                  if there are too few)
#   COMPARE_FLAGS  extra flags for concbench compare (--threshold 10% ...)
#   OUT            folder for the results (default out/compare; emptied first)
#   GO             the go command (default go)
#
# Results in $OUT: base.txt, head.txt (all rounds of each side, benchfmt),
# base/ and head/ (the run folders, with profiles), compare.txt, compare.md,
# compare.csv, calibrate.txt and simulate.txt for BASE=HEAD, and exit-code
# (compare's exit status, since make reports any failure as 2).
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 BASE   (a git revision: HEAD, main, a commit)" >&2
	exit 2
fi
BASE=$1
GO=${GO:-go}
MATRIX=${MATRIX:---quick --workloads hash,mandelbrot,noop,dot --strategies blocking,threads,goroutines,pool,simd}
ROUNDS=${ROUNDS:-8}
COMPARE_FLAGS=${COMPARE_FLAGS:-}
OUT=${OUT:-out/compare}
export GOEXPERIMENT=${GOEXPERIMENT-simd}

root=$(git rev-parse --show-toplevel)
cd "$root"
base_rev=$(git rev-parse --verify "$BASE^{commit}") || { echo "bench-compare: unknown revision $BASE" >&2; exit 2; }
head_rev=$(git rev-parse HEAD)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-compare.XXXXXX")
worktree=$tmp/base-src
cleanup() {
	if [ -d "$worktree" ]; then
		git worktree remove --force "$worktree" >/dev/null 2>&1 || true
	fi
	git worktree prune >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench-compare: building base ${base_rev:0:12} ($BASE) and the working tree" >&2
git worktree add --detach --quiet "$worktree" "$base_rev"
(cd "$worktree" && "$GO" build -o "$tmp/concbench-base" ./cmd/concbench)
"$GO" build -o "$tmp/concbench-head" ./cmd/concbench

rm -rf "$OUT"
mkdir -p "$OUT/base" "$OUT/head"
# shellcheck disable=SC2206 # MATRIX is a list of flags, split on purpose
matrix=($MATRIX)
for ((i = 1; i <= ROUNDS; i++)); do
	for side in base head; do
		echo "bench-compare: round $i/$ROUNDS: $side" >&2
		# Exit 1 (failed cells) still leaves a bench.txt with FAIL
		# records, which compare reports; anything else is fatal.
		rc=0
		"$tmp/concbench-$side" run --count 1 --quiet --out "$OUT/$side" "${matrix[@]}" >/dev/null || rc=$?
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
			echo "bench-compare: $side run failed (exit $rc)" >&2
			exit 2
		fi
	done
done
for side in base head; do
	rm -f "$OUT/$side/latest"
	cat "$OUT/$side"/*/bench.txt >"$OUT/$side.txt"
done

cmp=("$tmp/concbench-head" compare)
# shellcheck disable=SC2206 # extra flags, split on purpose
extra=($COMPARE_FLAGS)
"${cmp[@]}" "${extra[@]}" --format markdown "base=$OUT/base.txt" "head=$OUT/head.txt" >"$OUT/compare.md" 2>/dev/null || true
"${cmp[@]}" "${extra[@]}" --format csv "base=$OUT/base.txt" "head=$OUT/head.txt" >"$OUT/compare.csv" 2>/dev/null || true
if [ "$base_rev" = "$head_rev" ]; then
	if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
		echo "bench-compare: note: the working tree has uncommitted changes, so this is not a pure A/A run" >&2
	fi
	"${cmp[@]}" "${extra[@]}" --calibrate "base=$OUT/base.txt" "head=$OUT/head.txt" | tee "$OUT/calibrate.txt" || true
	"${cmp[@]}" "${extra[@]}" --simulate-slowdown 2%,5%,10%,20% "base=$OUT/base.txt" "head=$OUT/head.txt" |
		tee "$OUT/simulate.txt" || true
fi
rc=0
"${cmp[@]}" "${extra[@]}" "base=$OUT/base.txt" "head=$OUT/head.txt" | tee "$OUT/compare.txt" || rc=${PIPESTATUS[0]}
# make turns every failing recipe into its own exit 2; CI reads this file
# to tell a regression (1) from an error (2).
echo "$rc" >"$OUT/exit-code"
echo "bench-compare: exit $rc (0 no regression, 1 regression, 2 error); results in $OUT" >&2
exit "$rc"
