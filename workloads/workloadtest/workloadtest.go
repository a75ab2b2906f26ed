// Package workloadtest holds what the strategies' tests share: workload
// parameters small enough for a test, and in-process backends that close
// when the test ends.
//
//	spec := workloadtest.Build(t, "fanout", params.Values{"latency": "0s"})
//	addrs, _ := workloadtest.StartBackends(t, spec, backend.Faults{})
package workloadtest

import (
	"context"
	"testing"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
)

// Small returns parameter values that keep every registered workload to a
// fraction of a second, as a fresh map the caller may change.
func Small() map[string]params.Values {
	return map[string]params.Values{
		"noop":       {"tasks": "300"},
		"dot":        {"tasks": "64", "size": "100", "span": "1000"},
		"mandelbrot": {"width": "37", "rows": "9", "iter": "50"},
		"hash":       {"tasks": "200", "size": "13"},
		"fanout":     {"tasks": "60", "backends": "2", "latency": "0s"},
		"webrequest": {"tasks": "30", "latency": "100us"},
		"mixed":      {"tasks": "30", "cpu": "20us", "latency": "0s"},
		// triad: the kernel that writes, over 1000 elements of each array.
		"stream": {"op": "triad", "bytes": "12000", "chunk": "77"},
	}
}

// Build builds workload name with its Small values, overridden by over.
func Build(t testing.TB, name string, over params.Values) *workloads.Spec {
	t.Helper()
	d, err := workloads.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	v := Small()[name]
	if v == nil {
		v = params.Values{}
	}
	for k, x := range over {
		v[k] = x
	}
	spec, err := d.Build(v)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// StartBackends starts the in-process backends spec's fetch steps need,
// serving its values with its latency and the given faults, and closes them
// when the test ends. The backends hold a fresh secret, which the spec's
// reference is computed with (Spec.UseSecret), as the harness's providers
// do: a strategy passes a test only with the values it fetched.
func StartBackends(t testing.TB, spec *workloads.Spec, faults backend.Faults) ([]string, []*backend.Server) {
	t.Helper()
	return StartBackendsConfig(t, spec, backend.Config{Faults: faults})
}

// StartBackendsConfig is StartBackends with more of the servers'
// configuration: cfg's Listen, ValueSize, Latency and Secret are set from
// spec (a fresh secret), instance i's Seed is cfg.Seed+i (i+1 when
// cfg.Seed is 0), and the rest is kept (Faults, Auth, MaxConns...).
func StartBackendsConfig(t testing.TB, spec *workloads.Spec, cfg backend.Config) ([]string, []*backend.Server) {
	t.Helper()
	secret := workloads.NewSecret()
	spec.UseSecret(secret)
	var addrs []string
	var servers []*backend.Server
	for i := 0; i < spec.Backend.Instances; i++ {
		c := cfg
		c.Listen, c.ValueSize, c.Latency = "127.0.0.1:0", spec.Backend.ValueSize, backend.Constant(spec.Backend.Latency)
		c.Seed, c.Secret = cfg.Seed+int64(i), secret
		if cfg.Seed == 0 {
			c.Seed = int64(i + 1)
		}
		s, err := backend.Start(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		addrs = append(addrs, s.Addr())
		servers = append(servers, s)
	}
	return addrs, servers
}
