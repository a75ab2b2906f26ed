package profiles

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/driver"
	"github.com/google/pprof/profile"
)

// pprof's driver keeps its configuration in package-level variables, so
// two driver runs at once would race; every run in this package holds
// driverMu. The handlers it returns are safe to call later without it.
var driverMu sync.Mutex

// webUI runs pprof's driver over in-memory profiles, as `pprof -http`
// would, and returns the handlers of its web UI instead of serving them.
// srcs maps the source names used in args to profiles; args are pprof's
// command line without the -http flag (e.g. "-diff_base", "base", "main").
func webUI(srcs map[string]*profile.Profile, args ...string) (map[string]http.Handler, error) {
	driverMu.Lock()
	defer driverMu.Unlock()
	ui := &quietUI{}
	var handlers map[string]http.Handler
	err := driver.PProf(&driver.Options{
		// The port is never listened on: HTTPServer below takes the handlers.
		Flagset: &driverFlags{args: append([]string{"-http=127.0.0.1:0", "-no_browser"}, args...)},
		Fetch:   memFetcher(srcs),
		Sym:     noSymbolizer{},
		Obj:     noObjTool{},
		UI:      ui,
		Writer:  noWriter{},
		HTTPServer: func(a *driver.HTTPServerArgs) error {
			handlers = a.Handlers
			return nil
		},
	})
	if err == nil && handlers == nil {
		err = errors.New("pprof did not start its web UI")
	}
	if err != nil {
		return nil, fmt.Errorf("profiles: pprof: %w%s", err, ui.errors())
	}
	return handlers, nil
}

// memFetcher hands the driver profiles from memory. It returns an empty
// source so the driver treats them as local (it saves "remote" profiles to
// $HOME/pprof).
type memFetcher map[string]*profile.Profile

func (m memFetcher) Fetch(src string, _, _ time.Duration) (*profile.Profile, string, error) {
	p, ok := m[src]
	if !ok {
		return nil, "", fmt.Errorf("no profile named %q", src)
	}
	return p.Copy(), "", nil
}

// noSymbolizer: Go's profiles arrive symbolized; looking for binaries or
// symbol servers would only cost time.
type noSymbolizer struct{}

func (noSymbolizer) Symbolize(string, driver.MappingSources, *profile.Profile) error { return nil }

// noObjTool opens no binaries. The driver's default runs objdump, addr2line
// and nm to find out their versions (about 300ms per driver run here) and
// would only need them for the disassembly view.
type noObjTool struct{}

func (noObjTool) Open(file string, _, _, _ uint64, _ string) (driver.ObjFile, error) {
	return nil, fmt.Errorf("profiles: not opening %s: the profile is already symbolized", file)
}

func (noObjTool) Disasm(file string, _, _ uint64, _ bool) ([]driver.Inst, error) {
	return nil, fmt.Errorf("profiles: no disassembly of %s (use go tool pprof -http on the profile file)", file)
}

// noWriter refuses output files; the web UI does not write any.
type noWriter struct{}

func (noWriter) Open(name string) (io.WriteCloser, error) {
	return nil, fmt.Errorf("profiles: pprof tried to write %s", name)
}

// quietUI keeps the driver's messages (it prints "Serving web UI on ...",
// which would be a lie here) and reports its errors.
type quietUI struct {
	mu   sync.Mutex
	errs []string
}

func (*quietUI) ReadLine(string) (string, error) { return "", io.EOF }
func (*quietUI) Print(...any)                    {}
func (u *quietUI) PrintErr(args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.errs = append(u.errs, strings.TrimSpace(fmt.Sprint(args...)))
}
func (*quietUI) IsTerminal() bool                    { return false }
func (*quietUI) WantBrowser() bool                   { return false }
func (*quietUI) SetAutoComplete(func(string) string) {}

func (u *quietUI) errors() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.errs) == 0 {
		return ""
	}
	return " (" + strings.Join(u.errs, "; ") + ")"
}

// driverFlags is the driver's command line, parsed by a private FlagSet
// (the driver's default parses os.Args into the global flag set).
type driverFlags struct {
	fs    *flag.FlagSet
	args  []string
	extra []string
}

func (f *driverFlags) set() *flag.FlagSet {
	if f.fs == nil {
		f.fs = flag.NewFlagSet("pprof", flag.ContinueOnError)
		f.fs.SetOutput(io.Discard)
	}
	return f.fs
}

func (f *driverFlags) Bool(n string, d bool, u string) *bool { return f.set().Bool(n, d, u) }
func (f *driverFlags) Int(n string, d int, u string) *int    { return f.set().Int(n, d, u) }
func (f *driverFlags) Float64(n string, d float64, u string) *float64 {
	return f.set().Float64(n, d, u)
}
func (f *driverFlags) String(n, d, u string) *string { return f.set().String(n, d, u) }
func (f *driverFlags) StringList(n, d, u string) *[]*string {
	return &[]*string{f.set().String(n, d, u)}
}
func (f *driverFlags) ExtraUsage() string      { return strings.Join(f.extra, "\n") }
func (f *driverFlags) AddExtraUsage(eu string) { f.extra = append(f.extra, eu) }
func (f *driverFlags) Parse(usage func()) []string {
	if err := f.set().Parse(f.args); err != nil || f.fs.NArg() == 0 {
		usage()
		return nil
	}
	return f.fs.Args()
}
