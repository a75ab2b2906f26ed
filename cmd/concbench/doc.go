// Command concbench runs concurrency strategies against each other on
// identical, verified workloads and records Go benchmark format that
// benchstat reads, one folder per run.
//
//	concbench run [flags] [workload.param=value | strategy.param=value ...]
//	concbench list
//	concbench report [run-folder]
//	concbench backend [flags]
//
// Exit codes: 0 success; 1 the run finished but some cells failed (wrong
// result, panic, timeout); 2 bad usage (unknown name, bad parameter, bad
// flag); 3 an error that stopped the command (cannot write the run folder,
// cannot start a backend); 130 interrupted (finished cells are on disk).
package main
