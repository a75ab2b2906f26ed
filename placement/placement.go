package placement

import (
	"errors"
	"fmt"
	"strings"
)

// Role is a party of a run that a Placement puts on CPUs of its own.
type Role int

const (
	// Strategy is this process: the harness and the strategy under test,
	// and the processes it starts without naming a role (the external
	// strategies' interpreters), which inherit its CPUs.
	Strategy Role = iota
	// Backend is the built-in backend's child processes.
	Backend
	// Loadgen is serve mode's load-generator child process.
	Loadgen

	numRoles
)

// Roles lists every role, in the order String writes them.
var Roles = []Role{Strategy, Backend, Loadgen}

var roleNames = [numRoles]string{"strategy", "backend", "loadgen"}

func (r Role) String() string {
	if r >= 0 && r < numRoles {
		return roleNames[r]
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// Placement says which CPUs each role runs on. A role it does not place is
// left to the operating system's scheduler. The zero value places
// nothing. Placements are values: == compares them.
type Placement struct {
	sets [numRoles]CPUSet
}

// ErrBadPlacement is wrapped by Parse's errors, and by Apply's when the
// placement names CPUs this process may not use: both are the user's to
// fix (a usage error).
var ErrBadPlacement = errors.New("bad placement")

// Parse reads a placement: ROLE=CPUS items, where ROLE is strategy,
// backend or loadgen and CPUS a CPU list in Linux's format (numbers and
// ranges, "0-3,6"). Items are separated by commas or spaces; a comma
// followed by a CPU number or range continues the CPU list of the role
// before it, so "strategy=0,2,backend=1,3" places the strategy on CPUs 0
// and 2 and the backends on 1 and 3. Roles may share CPUs. "" and "none"
// place nothing. Parse reads what String writes.
func Parse(s string) (Placement, error) {
	var p Placement
	bad := func(format string, args ...any) (Placement, error) {
		return Placement{}, fmt.Errorf("%w %q: %s (want e.g. strategy=0,backend=1 or strategy=0-1,backend=2-3,loadgen=3)",
			ErrBadPlacement, s, fmt.Sprintf(format, args...))
	}
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return p, nil
	}
	var seen [numRoles]bool
	current := Role(-1)
	for _, field := range strings.Fields(s) {
		for _, tok := range strings.Split(field, ",") {
			name, cpus, isRole := strings.Cut(tok, "=")
			if isRole {
				r, ok := roleNamed(name)
				switch {
				case !ok:
					return bad("unknown role %q (roles: %s)", name, strings.Join(roleNames[:], ", "))
				case seen[r]:
					return bad("%s is placed twice", name)
				case cpus == "":
					return bad("%s= names no CPUs", name)
				}
				seen[r], current = true, r
			} else {
				cpus = tok
				if current < 0 {
					return bad("CPUs %q before any ROLE=", tok)
				}
			}
			if err := p.sets[current].addItem(cpus); err != nil {
				return bad("%s: %v", current, err)
			}
		}
	}
	return p, nil
}

func roleNamed(name string) (Role, bool) {
	for r, n := range roleNames {
		if n == name {
			return Role(r), true
		}
	}
	return 0, false
}

// String writes the placement as Parse reads it, roles in the order of
// Roles, separated by spaces: "strategy=0 backend=1". A placement of
// nothing is "none". It is what a run records (bench.txt's "placement:"
// line, meta.json), so two runs placed alike show the same string.
func (p Placement) String() string {
	var items []string
	for _, r := range Roles {
		if s := p.sets[r]; !s.IsEmpty() {
			items = append(items, r.String()+"="+s.String())
		}
	}
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, " ")
}

// IsZero reports whether the placement places nothing.
func (p Placement) IsZero() bool { return p == Placement{} }

// CPUs returns the CPUs of role r; empty when r is not placed.
func (p Placement) CPUs(r Role) CPUSet { return p.sets[r] }

// With returns p with role r placed on cpus (not placed, if cpus is
// empty).
func (p Placement) With(r Role, cpus CPUSet) Placement {
	p.sets[r] = cpus
	return p
}

// All returns the union of every role's CPUs.
func (p Placement) All() CPUSet {
	var all CPUSet
	for _, s := range p.sets {
		for i := range all.bits {
			all.bits[i] |= s.bits[i]
		}
	}
	return all
}

// MarshalText implements encoding.TextMarshaler (String), so a placement
// is a JSON string: "strategy=0 backend=1", or "none".
func (p Placement) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (Parse).
func (p *Placement) UnmarshalText(b []byte) error {
	q, err := Parse(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Check reports whether every CPU of the placement is in allowed, the
// CPUs this process may use (Allowed): an error wrapping ErrBadPlacement
// names the first role that is not.
func (p Placement) Check(allowed CPUSet) error {
	for _, r := range Roles {
		if out := p.sets[r].Minus(allowed); !out.IsEmpty() {
			noun := "CPU"
			if out.Count() > 1 {
				noun = "CPUs"
			}
			return fmt.Errorf("%w: %s=%s: %s %s not among the CPUs this process may use (%s; see taskset and the cgroup's cpuset)",
				ErrBadPlacement, r, p.sets[r], noun, out, allowed)
		}
	}
	return nil
}
