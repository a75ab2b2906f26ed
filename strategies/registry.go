package strategies

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/concbench/concbench/params"
)

// ErrUnknownStrategy is wrapped by Lookup for a name no strategy has.
var ErrUnknownStrategy = errors.New("unknown strategy")

// ErrUnavailable is wrapped by errors for strategies that cannot run here.
var ErrUnavailable = errors.New("strategy unavailable")

// Definition describes a strategy and makes instances of it.
type Definition struct {
	Name    string
	Summary string
	Params  []params.Spec
	// Available reports why the strategy cannot run on this machine, or
	// nil. Nil means always available.
	Available func() error
	// OptIn keeps the strategy out of the default matrix ("every available
	// strategy"): it runs only when named. The out-of-process Python
	// strategies are opt-in: their kernels run about 100× slower than Go's,
	// which would stretch make bench from minutes to an hour.
	OptIn bool
	// ServeOnly marks a strategy that is a web server model and nothing
	// else (the Go ecosystem's servers, package strategies/ecosystem): it
	// runs in serve mode's cells only, never in a closed batch, and its
	// instances refuse every job.
	ServeOnly bool
	// Order places the strategy in All's listing, and so in the default
	// matrix and in every table: lower first, equal by name. Zero places it
	// after every strategy with an Order. The built-in ones count in tens
	// (blocking 10 ... simd 60), leaving room to slot one in between.
	Order int
	// Make builds an instance from resolved parameters.
	Make func(p params.Set) (Strategy, error)
}

// New resolves v against the strategy's parameters and builds an instance.
func (d *Definition) New(v params.Values) (Strategy, params.Set, error) {
	if err := d.CheckAvailable(); err != nil {
		return nil, nil, err
	}
	set, err := params.Resolve(d.Params, v)
	if err != nil {
		return nil, nil, fmt.Errorf("strategy %s: %w", d.Name, err)
	}
	s, err := d.Make(set)
	if err != nil {
		return nil, nil, fmt.Errorf("strategy %s: %w", d.Name, err)
	}
	return s, set, nil
}

// CheckAvailable returns nil or an error wrapping ErrUnavailable that says why.
func (d *Definition) CheckAvailable() error {
	if d.Available == nil {
		return nil
	}
	if err := d.Available(); err != nil {
		return fmt.Errorf("strategy %s: %w: %v", d.Name, ErrUnavailable, err)
	}
	return nil
}

// Label renders a strategy with its parameters as it appears in a cell name:
// "blocking", "pool(workers=8)". The parameters are folded into one name
// element so that benchstat's -col /strategy puts every strategy in the
// same row, whatever its parameters.
func Label(name string, set params.Set) string {
	if len(set) == 0 {
		return name
	}
	parts := make([]string, len(set))
	for i, kv := range set {
		parts[i] = kv.Name + "=" + kv.Value
	}
	return name + "(" + strings.Join(parts, ",") + ")"
}

var registry = map[string]*Definition{}

// Register adds a strategy; a duplicate name panics (registration happens in
// init functions, where a duplicate is a programming error).
func Register(d *Definition) {
	if _, dup := registry[d.Name]; dup {
		panic("strategies: duplicate strategy " + d.Name)
	}
	registry[d.Name] = d
}

// Lookup returns the strategy called name, or an error listing valid names.
func Lookup(name string) (*Definition, error) {
	if d, ok := registry[name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownStrategy, name, strings.Join(Names(), ", "))
}

// All returns every registered strategy in the order users read them: by
// Order (see Definition), then by name.
func All() []*Definition {
	out := make([]*Definition, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *Definition) int {
		if c := cmp.Compare(a.rank(), b.rank()); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// rank is Order with zero, "none given", after every given one.
func (d *Definition) rank() int {
	if d.Order == 0 {
		return math.MaxInt
	}
	return d.Order
}

// Names returns the names of every registered strategy, in All's order.
func Names() []string {
	var names []string
	for _, d := range All() {
		names = append(names, d.Name)
	}
	return names
}
