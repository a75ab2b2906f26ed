package cpuprofile_test

import (
	"bytes"
	"errors"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/profiles/cpuprofile"
)

// spin burns about d of CPU on the calling goroutine.
func spin(d time.Duration) uint64 {
	var x uint64 = 1
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 10000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

var sink uint64

func TestStartSetsTheRate(t *testing.T) {
	for _, hz := range []int{cpuprofile.PprofRate, cpuprofile.DefaultRate, 500} {
		var buf bytes.Buffer
		got, err := cpuprofile.Start(&buf, hz)
		if err != nil {
			t.Fatal(err)
		}
		sink += spin(50 * time.Millisecond)
		pprof.StopCPUProfile()
		p, err := profile.ParseData(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		want := int64(1e9 / got)
		if runtime.GOOS == "linux" && got != hz {
			t.Errorf("Start(%d) used %d Hz", hz, got)
		}
		if p.Period != want {
			t.Errorf("Start(%d): profile period %d ns, want %d (the runtime kept another rate)", hz, p.Period, want)
		}
	}
}

func TestStartRejectsRates(t *testing.T) {
	for _, hz := range []int{-1, cpuprofile.MaxRate + 1} {
		if _, err := cpuprofile.Start(&bytes.Buffer{}, hz); err == nil {
			pprof.StopCPUProfile()
			t.Errorf("Start(%d): no error", hz)
		}
	}
}

func TestStartWhileProfiling(t *testing.T) {
	var outer bytes.Buffer
	if err := pprof.StartCPUProfile(&outer); err != nil {
		t.Fatal(err)
	}
	_, err := cpuprofile.Start(&bytes.Buffer{}, 500)
	sink += spin(30 * time.Millisecond)
	pprof.StopCPUProfile()
	if !errors.Is(err, cpuprofile.ErrBusy) {
		t.Errorf("Start during another profile: %v, want ErrBusy", err)
	}
	// The running profile kept its rate: Start must not have stopped or reset it.
	p, perr := profile.ParseData(outer.Bytes())
	if perr != nil {
		t.Fatal(perr)
	}
	if p.Period != 1e9/cpuprofile.PprofRate {
		t.Errorf("the other profile's period became %d ns", p.Period)
	}
}

// TestStartIsQuiet checks that Start does not print the runtime's refusal
// of pprof's rate, and, as a control, that the runtime does print it when
// the rate is set the plain way (so the check could fail).
func TestStartIsQuiet(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Start uses pprof's rate here: nothing to hide")
	}
	plain := captureStderr(t, func() {
		runtime.SetCPUProfileRate(500)
		if err := pprof.StartCPUProfile(&bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		pprof.StopCPUProfile()
	})
	if !bytes.Contains(plain, []byte("cannot set cpu profile rate")) {
		t.Fatalf("control: the runtime printed %q, not its refusal: this test would prove nothing", plain)
	}
	quiet := captureStderr(t, func() {
		for range 3 {
			if _, err := cpuprofile.Start(&bytes.Buffer{}, 500); err != nil {
				t.Fatal(err)
			}
			pprof.StopCPUProfile()
		}
	})
	if len(quiet) != 0 {
		t.Errorf("Start printed %q", quiet)
	}
}
