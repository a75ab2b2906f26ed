// Command concbench runs concurrency strategies against each other on
// identical, verified workloads and records Go benchmark format that
// benchstat reads, one folder per run.
//
//	concbench run [flags] [NAME.PARAM=VALUE ...]
//	concbench list [--python PATH]
//	concbench report [flags] [RUN...]
//	concbench view [RUN] [flags]
//	concbench compare [flags] OLD NEW
//	concbench backend [flags]
//	concbench serve --strategy NAME [flags] [NAME.PARAM=VALUE ...]
//	concbench loadgen [--allow-remote] < job.json
//	concbench doctor [--interval D] [--json] [--root DIR]
//	concbench version
//	concbench help COMMAND
//
// run runs the matrix (the serve workload, serve mode, only when named)
// and writes out/<run-id>/; list names every strategy (whether it runs
// here, whether it serves) and workload with their parameters; report
// prints a run's tables, view serves pprof's web UI over its profiles, and
// compare gates one run against another (exit 1 on a regression). backend
// runs the built-in RESP backend on its own, for redis-cli or for runs on
// other machines (--auth beyond loopback). serve runs one strategy's
// server model alone (the serve workload's pages, the run's backends)
// until interrupted, and prints the load job that loadgen verifies it
// with, here or from another machine (--allow-remote beyond loopback).
// doctor reads /proc and /sys for
// what degrades measurements on this machine (other load, steal,
// frequency scaling, a CPU quota below GOMAXPROCS, swapping, ...) and says
// what to do; it changes nothing. loadgen is serve mode's open-loop load
// generator run as a child process, so that its CPU time is measured
// apart from the server's: it reads a JSON job on stdin and writes its
// JSON result on stdout. version prints the module, VCS revision, Go
// version, GOEXPERIMENT and the simd strategy's kernel path.
//
// The strategies outside package strategies register when imported: main.go
// imports reactor and simd, external_import.go the Python strategies,
// list_cmd.go the serve-only ecosystem servers.
//
// Exit codes: 0 success; 1 the run finished but some cells failed (wrong
// result, panic, timeout, too many failed tasks), or compare found a
// regression; 2 bad usage (unknown name, bad parameter, bad flag) or, for
// report and compare, an unusable input file; 3 an error that stopped the
// command (cannot write the run folder, cannot start or reach a backend);
// 130 interrupted (finished rounds are on disk).
package main
