package external

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// TestMandelbrotWithoutNumpy checks the pure-Python float32 path (float64
// rounded through struct after every operation), which runs where
// python3-numpy is not installed, against the Go reference.
func TestMandelbrotWithoutNumpy(t *testing.T) {
	def, err := strategies.Lookup("py-blocking")
	if err != nil {
		t.Fatal(err)
	}
	if err := def.CheckAvailable(); err != nil {
		testenv.Need(t, err.Error(), InstallCommand)
	}
	wd, err := workloads.Lookup("mandelbrot")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := wd.Build(params.Values{"width": "53", "rows": "17", "iter": "80"})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := def.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := s.(*pythonStrategy)
	ps.program.Env = append(os.Environ(), "CONCBENCH_FLOAT32=struct")
	job := strategies.NewJob(spec, nil, 5*time.Second)
	if err := ps.Run(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	for i, o := range job.Outcomes() {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if err := spec.Check(i, o.Result); err != nil {
			t.Fatal(err)
		}
	}
}
