package workloads_test

import (
	"fmt"
	"log"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/workloads"
)

// Build a registered workload, run one of its tasks with the scalar
// kernels (a dot product needs no backend, so no fetcher) and check the
// result against the reference computed at build time: what a strategy
// does for every task, and what the harness checks.
func Example() {
	def, err := workloads.Lookup("dot")
	if err != nil {
		log.Fatal(err)
	}
	spec, err := def.Build(params.Values{"tasks": "1000"})
	if err != nil {
		log.Fatal(err)
	}
	res, err := spec.RunTask(0, workloads.Scalar, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(spec.Tasks), "tasks; task 0 matches the reference:", spec.Check(0, res) == nil)
	// Output: 1000 tasks; task 0 matches the reference: true
}
