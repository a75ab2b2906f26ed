// Package rundir owns the layout of a run folder: every path under
// out/<run-id>/, the meta.json record, the out/latest link, and the one way
// concbench writes a file there (WriteFile: write-then-rename, so a reader,
// or a run killed half-way, never sees half a file).
//
// A run folder holds
//
//	bench.txt                       Go benchmark format, one line per counted round (Dir.Bench)
//	meta.json                       what was asked, where it ran, how each cell ended and its results (Meta)
//	profiles/<cell>.cpu.pprof       CPU of the timed part, side=client (Dir.Profile, kind "cpu")
//	profiles/<cell>.setup.pprof     CPU outside it: setup and teardown, phase=setup
//	profiles/<cell>.alloc.pprof     allocations of the timed part
//	profiles/<cell>.backend-cpu.pprof  the backend processes' CPU, side=backend (I/O cells)
//	profiles/<cell>.wall.pprof      wall clock of the timed part (cells with a backend)
//	profiles/<cell>.block.pprof, profiles/<cell>.mutex.pprof   with --trace
//	profiles/<cell>.trace           runtime/trace execution trace, with --trace (Dir.Trace)
//	profiles/breakdown.md           where the time went (Dir.Breakdown)
//	flame/<cell>.html               flame graph of the CPU profile (Dir.FlameGraph)
//	flame/<cell>.backend-cpu.html   flame graph of the backend's CPU profile
//	flame/<cell>.wall.html          flame graph of the wall-clock profile (Dir.WallFlameGraph)
//	charts/<name>.svg               the charts report.md shows (Dir.Chart)
//	report.md, report.html          the report (Dir.ReportMarkdown, Dir.ReportHTML)
//
// where <cell> is CellStem of the cell's benchmark name, and the folder of
// run folders holds a symbolic link, latest, to the newest run (Latest).
// Dir.Profile gives every profile's path from its kind, Dir.ProfileFiles
// lists the files of one kind. A run with --profile=false has no
// profiles/ and flame/, and serve cells are never profiled.
//
// The package is a leaf (it imports only the standard library) and sits at
// the top level, next to params, because users read run folders too: a
// script that wants a run's profiles or report asks Dir for their paths
// instead of spelling them out. The harness creates and fills the folder,
// profiles writes profiles/ and flame/, results/report writes the report
// and charts, and cmd/concbench resolves the folders users name.
//
//	dir, err := rundir.Create("out", time.Now()) // out/20261123-131900, out/latest → it
//	if err != nil { ... }
//	err = rundir.WriteFile(dir.Bench(), func(w io.Writer) error { _, err := io.WriteString(w, text); return err })
//	meta, err := rundir.Latest("out").ReadMeta()
package rundir
