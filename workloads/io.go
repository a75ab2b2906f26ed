package workloads

import (
	"strconv"
	"sync"
	"time"

	"github.com/concbench/concbench/params"
)

// The I/O and mixed workloads. Their fetch steps go to a RESP backend whose
// value for a key is SecretValue(secret, key, size), with a secret the
// harness draws for each run and gives the backend and the spec
// (Spec.UseSecret), never a strategy; the harness sets the backend's
// injected latency from the spec. A round repeats the task set until it
// lasts the round time, so a task count sets one pass: 256 tasks, as many
// as the goroutines, threads and reactor strategies have connections (so a
// pass can keep all of them busy), keep the blocking strategy's pass (one
// fetch at a time, about 1.4 ms each at 1 ms latency) near a third of a
// second, so make bench stays within a few minutes.

func latencyParam() params.Spec {
	return params.Duration("latency", time.Millisecond, 0, 10*time.Second, "injected backend latency per request")
}

func init() {
	register(&Definition{
		Name:    "fanout",
		Summary: "independent GETs spread over several backend servers: the script that requests from many servers",
		Class:   ClassIO,
		Params: []params.Spec{
			latencyParam(),
			params.Int("tasks", 256, 1, 1<<22, "number of tasks (one GET each)"),
			params.Int("size", 64, 1, 1<<20, "bytes a value"),
			params.Int("backends", 2, 1, 64, "backend servers the GETs are spread over"),
		},
		Matrix: params.Values{"latency": "0s,1ms"},
		Quick:  params.Values{"tasks": "32"},
		build: func(p params.Set) (*Spec, error) {
			n, b := p.Int("tasks"), p.Int("backends")
			return &Spec{
				Backend: Backend{Instances: b, ValueSize: p.Int("size"), Latency: p.Duration("latency")},
				Tasks: oneStepTasks(n, func(i int) Step {
					return Step{Kind: StepFetch, Backend: i % b, Key: "item:" + strconv.Itoa(i)}
				}),
			}, nil
		},
	})
	register(&Definition{
		Name:    "webrequest",
		Summary: "a web request: GET the session, GET the user record named in it (dependent), render the page",
		Class:   ClassIO,
		Params: []params.Spec{
			latencyParam(),
			// Two fetches a request: 128 keep blocking's pass as long as
			// fanout's.
			params.Int("tasks", 128, 1, 1<<22, "number of requests"),
		},
		Quick: params.Values{"tasks": "16"},
		build: func(p params.Set) (*Spec, error) {
			n := p.Int("tasks")
			steps := make([]Step, 0, 3*n)
			tasks := make([]Task, n)
			for i := range tasks {
				first := len(steps)
				steps = append(steps,
					Step{Kind: StepFetch, Key: "session:" + strconv.Itoa(i)},
					Step{Kind: StepFetch, KeyFromReply: true},
					Step{Kind: StepCompute, Kernel: KernelRender})
				tasks[i].Steps = steps[first:len(steps):len(steps)]
			}
			return &Spec{Tasks: tasks, Backend: Backend{Instances: 1, ValueSize: 128, Latency: p.Duration("latency")}}, nil
		},
	})
	register(&Definition{
		Name:    "mixed",
		Summary: "a GET then a CPU burst of cpu microseconds of real work: where strategies cross over",
		Class:   ClassMixed,
		Params: []params.Spec{
			latencyParam(),
			params.Duration("cpu", 50*time.Microsecond, 0, time.Second, "CPU burst per task (calibrated on this machine at start-up)"),
			params.Int("tasks", 256, 1, 1<<22, "number of tasks"),
		},
		// cpu=0s is left out: a GET and nothing else is fanout's
		// latency=1ms row with one backend, which the matrix has.
		Matrix: params.Values{"cpu": "50us,500us"},
		Quick:  params.Values{"tasks": "32"},
		build: func(p params.Set) (*Spec, error) {
			n := p.Int("tasks")
			perRound := BurstRoundTime()
			rounds := int(p.Duration("cpu") / perRound)
			steps := make([]Step, 0, 2*n)
			tasks := make([]Task, n)
			for i := range tasks {
				first := len(steps)
				steps = append(steps, Step{Kind: StepFetch, Key: "item:" + strconv.Itoa(i)})
				if rounds > 0 {
					steps = append(steps, Step{Kind: StepCompute, Kernel: KernelBurst, Lo: rounds})
				}
				tasks[i].Steps = steps[first:len(steps):len(steps)]
			}
			return &Spec{Tasks: tasks, Backend: Backend{Instances: 1, ValueSize: 64, Latency: p.Duration("latency")},
				Notes: []params.KV{
					{Name: "burst-round-ns", Value: strconv.FormatInt(perRound.Nanoseconds(), 10)},
					{Name: "burst-rounds", Value: strconv.Itoa(rounds)},
				}}, nil
		},
	})
}

// BurstRoundTime is the time of one round of the burst kernel (FNV-1a over
// 4 KiB) with the scalar kernels on this machine: the best of several timed
// batches, measured once per process so every mixed cell of a run does the
// same work for the same cpu value.
var BurstRoundTime = sync.OnceValue(func() time.Duration {
	const rounds = 64
	best := time.Duration(1<<63 - 1)
	h := FNVOffset
	for try := 0; try < 7; try++ {
		start := time.Now()
		for r := 0; r < rounds; r++ {
			h = Scalar.FNV1a(h, burstBlock[:])
		}
		best = min(best, time.Since(start))
	}
	if h == 0 { // uses h, so the timed loop cannot be optimized away
		best++
	}
	return max(best/rounds, time.Nanosecond)
})
