// Package simd is the data-parallel strategy and its vector kernels: one
// worker goroutine a core, each advancing a batch of tasks in lockstep, so
// that the work of many tasks runs as one vector operation or one pipelined
// network write.
//
// # Kernels
//
// [Kernels] implements [workloads.Kernels] with the Go 1.26 simd/archsimd
// package (GOEXPERIMENT=simd, amd64) on one of three paths ([KernelPath]):
// [AVX512] (16 float32 or 8 uint64 lanes), [AVX2] (8 or 4) and [Scalar]
// (unrolled Go with independent accumulators, for every other build).
//
// # Which path runs
//
// [Paths] are the paths this build can run on this CPU: the vector ones
// exist only in a binary built with GOEXPERIMENT=simd on amd64 (AVX-512
// needs F, CD, BW, DQ and VL; AVX2 needs FMA too), and [Scalar] always.
// The widest is chosen once at start-up ([Default]); the environment
// variable CONCBENCH_SIMD=scalar|avx2|avx512 picks another ([EnvPath]),
// so the fallbacks can be run and timed on an AVX-512 machine, and the
// strategy's path parameter picks one per cell. Asking for a path that
// cannot run here is an error that says why ([ParsePath]) and, when the
// binary lacks the experiment, how to rebuild ([RebuildCommand]).
//
// When [Scalar] is the only path ([Fallback]), the simd strategy still
// runs, on the scalar kernels, and says so: its cells are named path=scalar,
// a run warns once at its start ([FallbackWarning]), and the run header
// and `concbench version` read "scalar fallback (built without
// GOEXPERIMENT=simd)" or what the CPU lacks ([Summary]). Forcing the
// scalar path where vector paths exist is a choice, not a fallback.
//
// Each kernel agrees with the scalar reference in package workloads:
//
//   - Dot keeps four vector accumulators (the FMA latency would otherwise
//     idle the FMA units); on the dot workload's exact inputs its bits equal
//     the reference, elsewhere it agrees within float32 rounding.
//   - Sum and Triad (the stream workload's kernels) keep independent
//     vector accumulators too; Triad's c·q + b is one fused multiply-add,
//     which on the stream inputs rounds to the same bits as the reference's
//     separate multiply and add. Both are limited by memory bandwidth, not
//     by arithmetic, once the arrays are out of cache.
//   - MandelbrotRow gives each pixel a lane and is bit-identical to the
//     reference: the same float32 multiplies and adds in the same order,
//     never fused, a mask retiring escaped lanes, two vectors in flight.
//   - FNV1a of one message is serial (each byte depends on the previous
//     product), so it is the scalar loop; [Kernels.FNV1aMany] and
//     [Kernels.FNV1aSeeded] hash many messages at once, one a lane.
//
// Files that use archsimd are built with goexperiment.simd && amd64; each
// has a fallback twin, so go build ./... works without the experiment.
//
// # The strategy
//
// The strategy registers as "simd" with parameters batch (tasks advanced in
// lockstep) and path ("auto" resolves to the path that runs, so the cell
// name records it: strategy=simd(batch=256,path=avx512)). The tasks of each
// pass of the job are split into one contiguous chunk per core (the next
// pass starts once every worker has finished its chunk). A worker takes a
// batch of its chunk and, round after round, moves every unfinished task
// one step:
//
//   - compute steps run on the vector kernels; the hashing steps (hash,
//     render, burst) of all tasks in the round are hashed together in lanes
//     (see hashBatch for how a cursor's calls are recorded and replayed);
//   - fetch steps are grouped by backend and sent as one pipelined batch
//     per backend ([strategies.Conns.GetMany], on the worker's own
//     connections), the backends concurrently; a dependent key is resolved
//     from the reply folded in the round before.
//
// Each task is recorded with [strategies.Job.FinishAt] at the end of the
// round in which its last step ran (one clock read for all the tasks that
// end in a round: a read costs about 55 ns here, more than half an
// in-cache 4096-float dot product); its start is its batch's start, since in lockstep a task waits
// for its batch. A failed fetch fails only its task; a broken
// connection is dialled again, and a dead backend costs a bounded number of
// timeouts. Cancellation is honoured between batches.
//
// # Serving
//
// As a serve mode server (serve.go), simd is a lockstep server: each
// client connection has a reader goroutine that parses its requests
// (serve.ServeConn) onto one shared queue, and a worker a core gathers a
// batch from it, for window after the batch's first request or until
// batch requests are in. The batch then runs the page's steps in
// lockstep: the session lookups of all its pages as one pipelined GET
// batch on the worker's backend connection (serve.BackendPool.GetMany),
// their replies hashed together in vector lanes (Kernels.FNV1aMany); the
// user lookups likewise; then the render of every page, its hashing in
// lanes too (serve_render.go, with Kernels.FNV1aSeeded, bit for bit the
// scalar render). window is a parameter of serve cells only
// (serve.Tunable, default [DefaultWindow], 200 µs). The trade-off shows in
// latency: a request waits up to the window for its batch to close, then
// for the slowest lookup of the batch; in exchange a batch of n pages
// costs two backend round trips, not 2n. A failed lookup fails only its
// page (502).
//
// Files: kernels.go (the dispatch), vector_amd64.go (the archsimd
// kernels) and vector_other.go (its twin), path.go (paths, fallback),
// strategy.go and lockstep_io.go (the strategy: workers, batches, fetch
// rounds), hashbatch.go (hashing steps in lanes), serve.go and
// serve_render.go (the server).
//
// Using the kernels directly:
//
//	k := simd.DefaultKernels() // or simd.NewKernels(simd.Scalar)
//	d := k.Dot(a, b)
//	out := make([]uint64, len(msgs))
//	k.FNV1aMany(workloads.FNVOffset, msgs, out)
package simd
