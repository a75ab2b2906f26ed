// Package params parses and validates the named parameters of workloads and
// strategies. A [Spec] declares one parameter (name, default, meaning and a
// parse function that says what is wrong with a bad value); [Resolve] applies
// user values over the defaults and returns a [Set] in declared order, which
// is also the order in which the values appear in a cell's benchmark name.
//
// On the command line a value may be a comma-separated sweep
// ("tasks=100,1000"); [Expand] turns sweeps into the cartesian product of
// plain value maps.
//
//	specs := []params.Spec{params.Int("tasks", 1000, 1, 1<<24, "number of tasks")}
//	set, err := params.Resolve(specs, params.Values{"tasks": "5000"})
//	n := set.Int("tasks") // 5000
package params
