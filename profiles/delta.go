package profiles

import (
	"bytes"
	"fmt"
	"runtime/pprof"

	"github.com/google/pprof/profile"
)

// lookup snapshots the process's cumulative profile name (allocs, block,
// mutex).
func lookup(name string) (*profile.Profile, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup(name).WriteTo(&buf, 0); err != nil {
		return nil, fmt.Errorf("profiles: %s profile: %w", name, err)
	}
	return parse(buf.Bytes())
}

func parse(data []byte) (*profile.Profile, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("profiles: parse: %w", err)
	}
	return p, nil
}

// Delta is after minus before for two snapshots of a cumulative profile
// (allocs, block, mutex): the events between them. Samples that cancel out
// are dropped.
func Delta(before, after *profile.Profile) (*profile.Profile, error) {
	neg := before.Copy()
	neg.Scale(-1)
	p, err := profile.Merge([]*profile.Profile{after.Copy(), neg})
	if err != nil {
		return nil, err
	}
	kept := p.Sample[:0]
	for _, s := range p.Sample {
		for _, v := range s.Value {
			if v != 0 {
				kept = append(kept, s)
				break
			}
		}
	}
	p.Sample = kept
	p.TimeNanos = before.TimeNanos
	if after.TimeNanos > before.TimeNanos {
		p.DurationNanos = after.TimeNanos - before.TimeNanos
	}
	return p.Compact(), nil
}
