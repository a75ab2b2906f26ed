// Command concbench runs concurrency strategies against each other on
// identical, verified workloads and records Go benchmark format that
// benchstat reads, one folder per run.
//
//	concbench run [flags] [workload.param=value | strategy.param=value ...]
//	concbench list [--python PATH]
//	concbench report [run-folder]
//	concbench view [run-folder] [flags]
//	concbench compare [flags] OLD NEW
//	concbench backend [flags]
//	concbench loadgen [--allow-remote] < job.json
//	concbench doctor [--interval D] [--json]
//	concbench version
//
// doctor reads /proc and /sys for what degrades measurements on this
// machine (other load, steal, frequency scaling, a CPU quota below
// GOMAXPROCS, swapping, ...) and says what to do; it changes nothing.
// loadgen is serve mode's open-loop load generator run as a child
// process, so that its CPU time is measured apart from the server's: it
// reads a JSON job on stdin and writes its JSON result on stdout.
// version prints the module, VCS revision, Go version, GOEXPERIMENT and
// the simd strategy's kernel path.
//
// Exit codes: 0 success; 1 the run finished but some cells failed (wrong
// result, panic, timeout); 2 bad usage (unknown name, bad parameter, bad
// flag); 3 an error that stopped the command (cannot write the run folder,
// cannot start a backend); 130 interrupted (finished cells are on disk).
package main
