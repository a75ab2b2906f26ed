// Package workloads defines the work every strategy must do, identically: a
// [Spec] is a list of tasks, each a short sequence of steps, plus the shared
// input the steps read. A step is either a [StepFetch] (one request/response
// round trip to a backend over TCP) or a [StepCompute] (a CPU kernel over a
// slice of the shared input).
//
// A workload is data, not code a strategy could skip. Strategies walk each
// task with a [Cursor], which resolves dependent keys, runs kernels and folds
// every reply and kernel output into the task's [Result]. The harness compares
// each task's result with the scalar reference computed when the spec was
// built ([Spec.Reference]); a task whose result differs makes its cell fail.
//
// Workloads register themselves in a registry ([Register], [Lookup], [All]);
// adding one is one file plus its registration.
//
//	def, _ := workloads.Lookup("dot")
//	spec, err := def.Build(workloads.Values{"tasks": "1000"})
//	if err != nil { ... }
//	res, err := spec.RunTask(0, workloads.Scalar, nil)
//	ok := spec.Check(0, res) == nil
package workloads
