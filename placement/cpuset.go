package placement

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// MaxCPU is the highest CPU number a CPUSet holds: Linux's CPU_SETSIZE
// (1024 CPUs) less one, what sched_setaffinity's fixed-size mask covers.
const MaxCPU = 1023

const words = (MaxCPU + 1) / 64

// CPUSet is a set of CPU numbers, 0 to MaxCPU. The zero value is the empty
// set. CPUSets are values: == compares them.
type CPUSet struct {
	bits [words]uint64
}

// ErrBadCPUList is wrapped by ParseCPUList's errors.
var ErrBadCPUList = errors.New("bad CPU list")

// ParseCPUList parses a CPU list in Linux's format, as taskset -c takes
// and /proc/self/status's Cpus_allowed_list shows: CPU numbers and
// inclusive ranges, separated by commas ("0-3,6"). The empty string is
// the empty set. A CPU named twice is named once.
func ParseCPUList(s string) (CPUSet, error) {
	var set CPUSet
	if s == "" {
		return set, nil
	}
	for _, item := range strings.Split(s, ",") {
		if err := set.addItem(item); err != nil {
			return CPUSet{}, fmt.Errorf("%w %q: %w", ErrBadCPUList, s, err)
		}
	}
	return set, nil
}

// addItem adds "N" or "N-M" to s.
func (s *CPUSet) addItem(item string) error {
	lo, hi, isRange := strings.Cut(item, "-")
	first, err := parseCPU(lo)
	if err != nil {
		return err
	}
	last := first
	if isRange {
		if last, err = parseCPU(hi); err != nil {
			return err
		}
		if last < first {
			return fmt.Errorf("range %s runs backwards", item)
		}
	}
	for cpu := first; cpu <= last; cpu++ {
		s.Add(cpu)
	}
	return nil
}

// parseCPU parses one CPU number: decimal digits only (no sign, no
// spaces), at most MaxCPU.
func parseCPU(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty CPU number")
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a CPU number", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxCPU {
		return 0, fmt.Errorf("CPU %s is over %d, the most an affinity mask holds", s, MaxCPU)
	}
	return n, nil
}

// Add adds cpu to the set. It panics if cpu is not in [0, MaxCPU].
func (s *CPUSet) Add(cpu int) {
	if cpu < 0 || cpu > MaxCPU {
		panic(fmt.Sprintf("placement: CPU %d out of range [0, %d]", cpu, MaxCPU))
	}
	s.bits[cpu/64] |= 1 << (cpu % 64)
}

// Has reports whether cpu is in the set.
func (s CPUSet) Has(cpu int) bool {
	return cpu >= 0 && cpu <= MaxCPU && s.bits[cpu/64]&(1<<(cpu%64)) != 0
}

// IsEmpty reports whether the set holds no CPU.
func (s CPUSet) IsEmpty() bool { return s == CPUSet{} }

// Count returns the number of CPUs in the set.
func (s CPUSet) Count() int {
	n := 0
	for _, w := range s.bits {
		n += bits.OnesCount64(w)
	}
	return n
}

// CPUs returns the set's CPUs in increasing order.
func (s CPUSet) CPUs() []int {
	var out []int
	for i, w := range s.bits {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, i*64+b)
			w &^= 1 << b
		}
	}
	return out
}

// Minus returns the CPUs of s that are not in t.
func (s CPUSet) Minus(t CPUSet) CPUSet {
	for i := range s.bits {
		s.bits[i] &^= t.bits[i]
	}
	return s
}

// String formats the set as ParseCPUList reads it, with the fewest items:
// "0-3,6". The empty set is "".
func (s CPUSet) String() string {
	var b strings.Builder
	cpus := s.CPUs()
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(cpus[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(cpus[j]))
		}
		i = j + 1
	}
	return b.String()
}
