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
// Workloads register themselves in a registry that other packages read
// ([Lookup], [All], [Definition.Build]) but do not add to: every workload
// is defined in this package, next to the kernels its steps run. Adding one
// is one file whose init registers its [Definition], plus its small test
// parameters (in this package's tests and in workloadtest.Small, which the
// strategies' tests use).
//
//	def, _ := workloads.Lookup("dot")
//	spec, err := def.Build(params.Values{"tasks": "1000"})
//	if err != nil { ... }
//	res, err := spec.RunTask(0, workloads.Scalar, nil)
//	ok := spec.Check(0, res) == nil
//
// (The package's Example runs this.)
package workloads
