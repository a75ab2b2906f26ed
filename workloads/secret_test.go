package workloads

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// recordingFetcher answers with the values of a backend holding secret
// and notes every key it is asked for.
type recordingFetcher struct {
	secret uint64
	size   int
	keys   []string
}

func (f *recordingFetcher) Get(_ int, key string) ([]byte, error) {
	f.keys = append(f.keys, key)
	return SecretValue(f.secret, key, f.size), nil
}

// runAll runs every task of s through f and returns the results.
func runAll(t *testing.T, s *Spec, f Fetcher) []Result {
	t.Helper()
	out := make([]Result, len(s.Tasks))
	for i := range s.Tasks {
		r, err := s.RunTask(i, Scalar, f)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

// A task that fetches cannot run without a fetcher: there is no local
// answer to fall back on, and the error names the strategy's bug.
func TestRunTaskWithoutFetcherFailsFetchSteps(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"fanout", "webrequest", "mixed"} {
		s := buildSmall(t, name)
		_, err := s.RunTask(0, Scalar, nil)
		if !errors.Is(err, ErrNoFetcher) || !strings.Contains(err.Error(), "never answer locally") {
			t.Errorf("%s: RunTask with no fetcher = %v, want ErrNoFetcher", name, err)
		}
	}
	// A task without fetch steps needs none.
	s := buildSmall(t, "hash")
	if _, err := s.RunTask(0, Scalar, nil); err != nil {
		t.Errorf("hash: RunTask with no fetcher = %v", err)
	}
}

// Until the spec is given its backend's secret, no result of a fetching
// task verifies, not even that of the backend's own values: the reference
// was made with a secret nobody holds. Once given, exactly the values of
// that secret verify; the values a strategy can make alone (plain Value)
// fail and are named as answered locally; another secret's fail.
func TestReferenceNeedsTheBackendsSecret(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"fanout", "webrequest", "mixed"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := buildSmall(t, name)
			size := s.Backend.ValueSize
			const secret, other = 0xfeedface, 0xbadcafe
			backend := runAll(t, s, &recordingFetcher{secret: secret, size: size})
			plain := runAll(t, s, &recordingFetcher{size: size})
			wrongSecret := runAll(t, s, &recordingFetcher{secret: other, size: size})

			for i := range s.Tasks {
				err := s.Check(i, backend[i])
				if !errors.Is(err, ErrWrongResult) || !strings.Contains(err.Error(), "Spec.UseSecret") {
					t.Fatalf("task %d before UseSecret: Check = %v, want a wrong result naming UseSecret", i, err)
				}
			}

			s.UseSecret(secret)
			for i := range s.Tasks {
				if err := s.Check(i, backend[i]); err != nil {
					t.Fatalf("task %d with the backend's values: %v", i, err)
				}
				err := s.Check(i, plain[i])
				if !errors.Is(err, ErrWrongResult) || !errors.Is(err, ErrAnsweredLocally) {
					t.Fatalf("task %d with plain values: Check = %v, want ErrAnsweredLocally", i, err)
				}
				err = s.Check(i, wrongSecret[i])
				if !errors.Is(err, ErrWrongResult) || errors.Is(err, ErrAnsweredLocally) {
					t.Fatalf("task %d with another secret's values: Check = %v, want a wrong result only", i, err)
				}
			}

			// Idempotent; another secret recomputes; 0 means plain values.
			s.UseSecret(secret)
			if err := s.Check(0, backend[0]); err != nil {
				t.Fatalf("a second UseSecret of the same secret: %v", err)
			}
			s.UseSecret(other)
			if err := s.Check(0, wrongSecret[0]); err != nil {
				t.Fatalf("after UseSecret(other): %v", err)
			}
			if err := s.Check(0, backend[0]); err == nil {
				t.Fatal("after UseSecret(other) the first secret's result still verifies")
			}
			s.UseSecret(0)
			if err := s.Check(0, plain[0]); err != nil {
				t.Fatalf("after UseSecret(0) plain values: %v", err)
			}
		})
	}
}

// The reference of a CPU workload does not depend on any secret.
func TestUseSecretLeavesCPUWorkloadsAlone(t *testing.T) {
	t.Parallel()
	s := buildSmall(t, "hash")
	before := slices.Clone(s.Reference)
	s.UseSecret(42)
	if !slices.Equal(before, s.Reference) {
		t.Fatal("UseSecret changed a CPU workload's reference")
	}
	for i := range s.Tasks {
		r, _ := s.RunTask(i, Scalar, nil)
		if err := s.Check(i, r); err != nil {
			t.Fatal(err)
		}
	}
}

// Keys(secret) are exactly the keys a run against a backend holding
// secret asks for, first-fetch order, once each; webrequest's dependent
// keys are named by replies, so they change with the secret.
func TestKeysFollowTheSecret(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"fanout", "webrequest", "mixed"} {
		s := buildSmall(t, name)
		for _, secret := range []uint64{0, 7, NewSecret()} {
			f := &recordingFetcher{secret: secret, size: s.Backend.ValueSize}
			runAll(t, s, f)
			var want []string
			seen := map[string]bool{}
			for _, k := range f.keys {
				if !seen[k] {
					seen[k] = true
					want = append(want, k)
				}
			}
			if got := s.Keys(secret); !slices.Equal(got, want) {
				t.Errorf("%s: Keys(%#x) = %d keys %.3q..., a run fetches %d keys %.3q...", name, secret, len(got), got, len(want), want)
			}
		}
	}
	s := buildSmall(t, "webrequest")
	a, b := s.Keys(1), s.Keys(2)
	if a[0] != b[0] || a[1] == b[1] {
		t.Errorf("webrequest keys with secrets 1 and 2: %q and %q; want the same session key, different user keys", a[:2], b[:2])
	}
}
