package profiles

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/rundir"
)

// Selection picks the cells of a run folder whose profiles to merge.
// Empty fields select everything.
type Selection struct {
	Workload string // workload name: "mandelbrot"
	// Strategy is a strategy name ("pool", every parameter set) or a full
	// label ("pool(workers=8)").
	Strategy string
	Kind     Kind // CPU when empty
}

// ErrNoProfiles means a run folder has no profile that matches.
var ErrNoProfiles = errors.New("no profiles")

// cellProfile is one profile file of a run with its cell.
type cellProfile struct {
	path string
	cell Cell
	p    *profile.Profile
}

func loadKind(runDir string, k Kind) ([]cellProfile, error) {
	if k == "" {
		k = CPU
	}
	files, err := rundir.Dir(runDir).ProfileFiles(string(k))
	if err != nil {
		return nil, err
	}
	var out []cellProfile
	for _, f := range files {
		p, err := ReadFile(f.Path)
		if err != nil {
			return nil, err
		}
		c, _ := CellOf(p)
		if c.Name == "" {
			c.Name = f.Stem
		}
		out = append(out, cellProfile{f.Path, c, p})
	}
	order := cellOrder(runDir)
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].cell.Name] < order[out[j].cell.Name] })
	return out, nil
}

func (s Selection) matches(c Cell) bool {
	if s.Workload != "" && !strings.EqualFold(s.Workload, c.Workload) {
		return false
	}
	if s.Strategy != "" && s.Strategy != c.Strategy {
		name, _, _ := strings.Cut(c.Strategy, "(")
		if s.Strategy != name {
			return false
		}
	}
	return true
}

// Load merges the profiles of the selected cells of a run folder into one
// profile. Every sample keeps its labels (strategy, workload, params,
// cell), so pprof's tag focus can still tell the cells apart.
func Load(runDir string, sel Selection) (*profile.Profile, []Cell, error) {
	all, err := loadKind(runDir, sel.Kind)
	if err != nil {
		return nil, nil, err
	}
	var ps []*profile.Profile
	var cells []Cell
	for _, cp := range all {
		if sel.matches(cp.cell) {
			ps = append(ps, cp.p)
			cells = append(cells, cp.cell)
		}
	}
	if len(ps) == 0 {
		return nil, nil, fmt.Errorf("profiles: %w in %s for %s", ErrNoProfiles, runDir, sel)
	}
	merged, err := profile.Merge(ps)
	if err != nil {
		return nil, nil, fmt.Errorf("profiles: merge: %w", err)
	}
	merged.Comments = []string{fmt.Sprintf("concbench view: %d cell(s) of %s (%s)", len(cells), runDir, sel)}
	return merged, cells, nil
}

func (s Selection) String() string {
	k := s.Kind
	if k == "" {
		k = CPU
	}
	parts := []string{"kind=" + string(k)}
	if s.Workload != "" {
		parts = append(parts, "workload="+s.Workload)
	}
	if s.Strategy != "" {
		parts = append(parts, "strategy="+s.Strategy)
	}
	return strings.Join(parts, " ")
}

// LoadCell returns one cell's profile of kind k. name may be the cell's
// benchmark name, its file name stem (rundir.CellStem), or a substring of either
// that matches exactly one cell.
func LoadCell(runDir, name string, k Kind) (*profile.Profile, Cell, error) {
	all, err := loadKind(runDir, k)
	if err != nil {
		return nil, Cell{}, err
	}
	var found []cellProfile
	for _, cp := range all {
		if cp.cell.Name == name || rundir.CellStem(cp.cell.Name) == name {
			return cp.p, cp.cell, nil
		}
		if strings.Contains(cp.cell.Name, name) || strings.Contains(rundir.CellStem(cp.cell.Name), name) {
			found = append(found, cp)
		}
	}
	switch len(found) {
	case 1:
		return found[0].p, found[0].cell, nil
	case 0:
		return nil, Cell{}, fmt.Errorf("profiles: %w for a cell named %q in %s", ErrNoProfiles, name, runDir)
	}
	var names []string
	for _, cp := range found {
		names = append(names, cp.cell.Name)
	}
	return nil, Cell{}, fmt.Errorf("profiles: %q matches %d cells: %s", name, len(found), strings.Join(names, ", "))
}

// LoadBase loads what `concbench view --diff-base` subtracts: base names
// a strategy exactly, by name ("blocking", every parameter set) or full
// label ("pool(workers=8)"), and selects that strategy's cells of the
// workload sel selects, merged as Load merges; or, when no strategy is
// so named, base names one cell as LoadCell finds it.
func LoadBase(runDir string, sel Selection, base string) (*profile.Profile, []Cell, error) {
	all, err := loadKind(runDir, sel.Kind)
	if err != nil {
		return nil, nil, err
	}
	for _, cp := range all {
		name, _, _ := strings.Cut(cp.cell.Strategy, "(")
		if cp.cell.Strategy == base || name == base {
			return Load(runDir, Selection{Workload: sel.Workload, Strategy: base, Kind: sel.Kind})
		}
	}
	p, c, err := LoadCell(runDir, base, sel.Kind)
	if err != nil {
		return nil, nil, err
	}
	return p, []Cell{c}, nil
}

// Diff is what Handler subtracts from the profile it shows.
type Diff struct {
	Base *profile.Profile
	// Normalize scales the profile to the base's total first (pprof's
	// -normalize), so that the difference is one of shares: profiled
	// passes sample for as long as their targets ask, so two cells' totals
	// differ for reasons that are not their cost.
	Normalize bool
}

// Handler returns pprof's web UI for p, as `go tool pprof -http` serves
// it, under /ui/ ("/" redirects there). With diff not nil the UI shows p
// minus diff.Base (pprof's -diff_base: the base's samples negated and
// labelled pprof::base=true).
func Handler(p *profile.Profile, diff *Diff) (http.Handler, error) {
	srcs := map[string]*profile.Profile{"profile": p}
	args := []string{"profile"}
	if diff != nil && diff.Base != nil {
		srcs["base"] = diff.Base
		args = []string{"-diff_base", "base", "profile"}
		if diff.Normalize {
			args = append([]string{"-normalize"}, args...)
		}
	}
	handlers, err := webUI(srcs, args...)
	if err != nil {
		return nil, err
	}
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := handlers[r.URL.Path]
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", ui))
	mux.Handle("/", http.RedirectHandler("/ui/", http.StatusTemporaryRedirect))
	return mux, nil
}

// Serve serves Handler(p, diff) on ln until ctx ends, then shuts the
// server down (waiting up to five seconds for requests in flight) and
// returns nil.
func Serve(ctx context.Context, ln net.Listener, p *profile.Profile, diff *Diff) error {
	h, err := Handler(p, diff)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("profiles: serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("profiles: stop serving: %w", err)
	}
	return nil
}
