package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A Dir is the path of one run folder: out/<run-id>.
type Dir string

// Names inside a run folder, and of the folder of run folders.
const (
	// BenchFile is the name of a run's benchmark file.
	BenchFile = "bench.txt"
	// DefaultOut is the folder that holds run folders unless told otherwise.
	DefaultOut = "out"

	latestLink     = "latest"
	metaFile       = "meta.json"
	profileFolder  = "profiles"
	flameFolder    = "flame"
	chartFolder    = "charts"
	breakdownFile  = "breakdown.md"
	reportMarkdown = "report.md"
	reportHTML     = "report.html"
)

// idLayout names a run folder by the UTC time the run started; runs
// started within one second get "-2", "-3", ... appended.
const idLayout = "20060102-150405"

// Create makes a new run folder under out (creating out if needed) and
// points out/latest at it. Runs started at once into the same out get
// distinct folders, and each links latest through a temporary name of its
// own, so the last one to finish linking wins and none fails.
func Create(out string, now time.Time) (Dir, error) {
	base := now.UTC().Format(idLayout)
	id := base
	path := filepath.Join(out, id)
	for i := 2; ; i++ {
		err := os.Mkdir(path, 0o755)
		if err == nil {
			break
		}
		if os.IsNotExist(err) {
			if err := os.MkdirAll(out, 0o755); err != nil {
				return "", fmt.Errorf("rundir: create %s: %w", out, err)
			}
			continue
		}
		if !os.IsExist(err) {
			return "", fmt.Errorf("rundir: create run folder: %w", err)
		}
		id = fmt.Sprintf("%s-%d", base, i)
		path = filepath.Join(out, id)
	}
	latest := filepath.Join(out, latestLink)
	// The run id is unique (Mkdir above is exclusive), so this name is
	// too; a shared "latest.tmp" let parallel runs remove or rename each
	// other's link.
	tmp := filepath.Join(out, "."+latestLink+"-"+id+".tmp")
	os.Remove(tmp) // left by a run with this id that was killed here
	if err := os.Symlink(id, tmp); err != nil {
		return "", fmt.Errorf("rundir: link %s: %w", latest, err)
	}
	if err := os.Rename(tmp, latest); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("rundir: link %s: %w", latest, err)
	}
	return Dir(path), nil
}

// Latest is out/latest, the link to the newest run folder under out.
func Latest(out string) Dir { return Dir(filepath.Join(out, latestLink)) }

// BenchOf returns the benchmark file a user means by path: a run folder
// stands for its bench.txt; anything else (a file, a path that does not
// exist) is returned as it is.
func BenchOf(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return Dir(path).Bench()
	}
	return path
}

// ID is the run's id: the folder's name, such as "20261123-131900".
func (d Dir) ID() string { return filepath.Base(string(d)) }

// Bench is <run>/bench.txt.
func (d Dir) Bench() string { return d.join(BenchFile) }

// Meta is <run>/meta.json.
func (d Dir) Meta() string { return d.join(metaFile) }

// ProfileDir is <run>/profiles, the folder of the profiles and breakdown.md.
func (d Dir) ProfileDir() string { return d.join(profileFolder) }

// Profile is <run>/profiles/<cell>.<kind>.pprof, kind being "cpu",
// "setup" (CPU outside the timed part), "alloc", "backend-cpu" (the
// backends' CPU), "wall", "block" or "mutex".
func (d Dir) Profile(cell, kind string) string {
	return d.join(profileFolder, CellStem(cell)+"."+kind+".pprof")
}

// Trace is <run>/profiles/<cell>.trace, a cell's execution trace.
func (d Dir) Trace(cell string) string { return d.join(profileFolder, CellStem(cell)+".trace") }

// Breakdown is <run>/profiles/breakdown.md.
func (d Dir) Breakdown() string { return d.join(profileFolder, breakdownFile) }

// FlameDir is <run>/flame, the folder of the flame graphs.
func (d Dir) FlameDir() string { return d.join(flameFolder) }

// FlameGraph is <run>/flame/<cell>.html, the flame graph of a cell's CPU
// profile.
func (d Dir) FlameGraph(cell string) string { return d.join(flameFolder, CellStem(cell)+".html") }

// WallFlameGraph is <run>/flame/<cell>.wall.html, the flame graph of a
// cell's wall-clock profile.
func (d Dir) WallFlameGraph(cell string) string {
	return d.join(flameFolder, CellStem(cell)+".wall.html")
}

// ChartDir is <run>/charts, the SVG charts that report.md shows.
func (d Dir) ChartDir() string { return d.join(chartFolder) }

// Chart is <run>/charts/<name>; name includes its extension.
func (d Dir) Chart(name string) string { return d.join(chartFolder, name) }

// ReportMarkdown is <run>/report.md.
func (d Dir) ReportMarkdown() string { return d.join(reportMarkdown) }

// ReportHTML is <run>/report.html.
func (d Dir) ReportHTML() string { return d.join(reportHTML) }

func (d Dir) join(elem ...string) string {
	return filepath.Join(append([]string{string(d)}, elem...)...)
}

// A ProfileFile is one profile of a run folder.
type ProfileFile struct {
	Path string // <run>/profiles/<stem>.<kind>.pprof
	Stem string // the cell's CellStem
}

// ProfileFiles lists the run's profiles of one kind, by file name. A run
// without profiles has none: that is not an error.
func (d Dir) ProfileFiles(kind string) ([]ProfileFile, error) {
	entries, err := os.ReadDir(d.ProfileDir())
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rundir: %w", err)
	}
	suffix := "." + kind + ".pprof"
	var files []ProfileFile
	for _, e := range entries {
		name := e.Name()
		// Hidden names are WriteFile's temporary files.
		if stem, ok := strings.CutSuffix(name, suffix); ok && stem != "" && !strings.HasPrefix(name, ".") && e.Type().IsRegular() {
			files = append(files, ProfileFile{Path: filepath.Join(d.ProfileDir(), name), Stem: stem})
		}
	}
	return files, nil
}

// CellStem turns a cell's benchmark name into a file name stem that is safe
// on every file system and in a file:// URL: "Benchmark" is dropped, letters,
// digits and . , = - + are kept, and anything else ('/' included) becomes '_'.
//
//	CellStem("BenchmarkDot/size=4096/strategy=pool(workers=8)-2") == "Dot_size=4096_strategy=pool_workers=8_-2"
func CellStem(cellName string) string {
	name := strings.TrimPrefix(cellName, "Benchmark")
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '.', r == ',', r == '=', r == '-', r == '+':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "cell"
	}
	return b.String()
}
