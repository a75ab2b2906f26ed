package external_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/external"
	"github.com/concbench/concbench/strategies/strategytest"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/workloadtest"
)

// The job line carries "repeat" only for a job of more than one pass, so
// a child written before the field existed reads a one-pass job as it
// always did; a child that honours it reports every task id of every
// pass, each checked against its spec task's reference.
func TestRepeatFieldReachesTheChild(t *testing.T) {
	t.Parallel()
	noop := workloadtest.Build(t, "noop", params.Values{"tasks": "2"})
	sum := func(i int) string { return uintString(noop.Reference[i].Sum) }
	task := func(id, spec int) string {
		return fmt.Sprintf(`echo '{"task":%d,"start_ns":0,"end_ns":1,"sum":"%s"}'; `, id, sum(spec))
	}
	onePass := `read job; case "$job" in *'"repeat"'*) echo '{"fatal":"repeat sent for one pass"}'; exit 1;; esac; ` +
		`echo '{"ready":true}'; read go; ` + task(0, 0) + task(1, 1) + `echo '{"done":true}'`
	job := strategies.NewJob(noop, nil, time.Second)
	if err := shell(onePass).Run(context.Background(), job); err != nil {
		t.Fatalf("one pass: %v", err)
	}
	strategytest.VerifiedResults(t, job)

	twoPasses := `read job; case "$job" in *'"repeat":2,'*) ;; *) echo '{"fatal":"no repeat 2 in the job"}'; exit 1;; esac; ` +
		`echo '{"ready":true}'; read go; ` + task(0, 0) + task(1, 1) + task(3, 1) + task(2, 0) + `echo '{"done":true}'`
	p := shell(twoPasses)
	p.Repeats = true
	job = strategies.NewJob(noop, nil, time.Second, strategies.Repeat(2))
	if err := p.Run(context.Background(), job); err != nil {
		t.Fatalf("two passes: %v", err)
	}
	strategytest.VerifiedResults(t, job)

	// Task 3 (spec task 1) reported with spec task 0's sum: a repetition is
	// checked against its own spec task.
	wrong := strings.Replace(twoPasses, task(3, 1), task(3, 0), 1)
	job = strategies.NewJob(noop, nil, time.Second, strategies.Repeat(2))
	if err := shell(wrong).Run(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if err := noop.Check(job.SpecTask(3), job.Records()[3].Result); err == nil {
		t.Error("task 3 (spec task 1) passed with spec task 0's result")
	}
}

// A Program says whether its child repeats the task set; the harness
// gives one that does not a single pass a round.
func TestProgramRepeatsOnlyWhenItSaysSo(t *testing.T) {
	t.Parallel()
	var s strategies.Strategy = &external.Program{Name: "old"}
	if sp, ok := s.(strategies.SinglePass); !ok || !sp.SinglePass() {
		t.Error("a Program without Repeats is not single-pass")
	}
	s = &external.Program{Name: "new", Repeats: true}
	if sp, ok := s.(strategies.SinglePass); !ok || sp.SinglePass() {
		t.Error("a Program with Repeats is single-pass")
	}
}

// Every Python system runs jobs of several passes: each task id's result
// is its spec task's (noop and render fold the spec task's index).
func TestPythonStrategiesRepeatTheirTaskSet(t *testing.T) {
	noop := workloadtest.Build(t, "noop", params.Values{"tasks": "5"})
	web := workloadtest.Build(t, "webrequest", params.Values{"tasks": "4", "latency": "1ms"})
	webAddrs, _ := workloadtest.StartBackends(t, web, backend.Faults{})
	for _, name := range pythonStrategies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			def, err := strategies.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := def.CheckAvailable(); err != nil {
				testenv.Need(t, err.Error(), external.InstallCommand)
			}
			s, _, err := def.New(concurrency[name])
			if err != nil {
				t.Fatal(err)
			}
			if sp, ok := s.(strategies.SinglePass); ok && sp.SinglePass() {
				t.Fatalf("%s is single-pass: its rounds would never repeat", name)
			}
			for _, c := range []struct {
				spec  *workloads.Spec
				addrs []string
			}{{noop, nil}, {web, webAddrs}} {
				job := strategies.NewJob(c.spec, c.addrs, 5*time.Second, strategies.Repeat(3))
				if err := s.Run(context.Background(), job); err != nil {
					t.Fatalf("%s: %v", c.spec.Workload, err)
				}
				strategytest.VerifiedResults(t, job)
			}
		})
	}
}
