package backend

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/pprof"
	"sync"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/profiles/cpuprofile"
)

// cpuProfile is the CPU profile CONCBENCH.PROFILE START begins and STOP
// returns. The Go runtime runs one CPU profile per process, so a server
// inside a process that is already profiled (an in-process backend while
// the harness profiles) answers START with an error.
type cpuProfile struct {
	mu  sync.Mutex
	buf *bytes.Buffer // non-nil while a profile runs
}

// ErrProfileRunning is wrapped by the error of a START while a profile
// runs in this process.
var ErrProfileRunning = errors.New("a CPU profile is already running in this process")

func (p *cpuProfile) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf != nil {
		return ErrProfileRunning
	}
	buf := new(bytes.Buffer)
	// At the client's rate (cpuprofile.DefaultRate, 250 Hz, not pprof's
	// 100), so that the two sides of a round trip are sampled alike.
	if _, err := cpuprofile.Start(buf, cpuprofile.DefaultRate); err != nil {
		return fmt.Errorf("%w: %v", ErrProfileRunning, err)
	}
	p.buf = buf
	return nil
}

// stop ends the profile and returns it, gzipped pprof protobuf, every
// sample labelled side=backend so that it stays apart from the client's
// samples when the two are merged.
func (p *cpuProfile) stop() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf == nil {
		return nil, errors.New("no CPU profile is running (send CONCBENCH.PROFILE START first)")
	}
	pprof.StopCPUProfile()
	data := p.buf.Bytes()
	p.buf = nil
	prof, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	for _, s := range prof.Sample {
		if s.Label == nil {
			s.Label = map[string][]string{}
		}
		s.Label["side"] = []string{"backend"}
	}
	var out bytes.Buffer
	if err := prof.Write(&out); err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return out.Bytes(), nil
}

// abandon stops a profile nobody will collect.
func (p *cpuProfile) abandon() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf != nil {
		pprof.StopCPUProfile()
		p.buf = nil
	}
}
