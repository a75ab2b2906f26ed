package profiles

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
)

// breakdownIntro explains the tables; WriteBreakdown and WriteBreakdownText
// both print it.
func breakdownIntro() string {
	return fmt.Sprintf(introFormat, MinBreakdownSamples)
}

const introFormat = "Share of the profile samples of each cell's profiled pass (run after its timed rounds), taken " +
	"only during the timed part, from the strategy's Begin to its last task's end; the CPU samples of setup and " +
	"teardown (dialling, closing, the harness's checks) are counted apart and left out. A sample goes where its " +
	"first decisive frame from the leaf is (GC or profiler anywhere in the stack wins; helpers such as memmove count " +
	"for their caller; a sample in the runtime that is not a syscall, netpoll or scheduler path is runtime). " +
	"Wall-clock samples (fgprof, cells with a backend) count every goroutine, running or waiting. A share p from n " +
	"samples is known within ±1.96·√(p(1−p)/n) (95 %%); a profile with fewer than %d samples shows none. " +
	"Rule in full: `go doc github.com/concbench/concbench/profiles Classify`."

// WriteBreakdown writes the "where the time went" tables of a run folder as
// markdown: for each workload and parameter set, one table per profile kind
// (CPU, the backend's CPU next to its client's when the harness profiled
// the backend, and wall clock for cells with a backend) with the
// strategies as columns and the categories of Classify as rows, each a
// percentage of the samples of the cell's profiled pass and its sample
// count, then each cell's top functions. A profile with fewer than
// MinBreakdownSamples samples shows "too few samples (n)" instead of
// percentages, and the end lists those cells. It writes nothing for a run
// without profiles.
func WriteBreakdown(w io.Writer, runDir string) error {
	bs, err := LoadBreakdowns(runDir)
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	buf.WriteString("# Where the time went\n\n")
	buf.WriteString(breakdownIntro() + "\n")
	for _, g := range groupBreakdowns(bs) {
		fmt.Fprintf(&buf, "\n## %s\n", g.title)
		if len(g.cpu) > 0 {
			title := "CPU samples of the timed part"
			if g.hasBackend() {
				title += ", the strategy's process (client) and the backend's side by side"
			}
			fmt.Fprintf(&buf, "\n%s: share (samples)\n\n", title)
			writeShareTable(&buf, g.cpu)
		}
		if len(g.wall) > 0 {
			buf.WriteString("\nWall-clock samples of the timed part (all goroutines): share (samples)\n\n")
			writeShareTable(&buf, g.wall)
		}
		buf.WriteString("\nTop functions (flat share of samples)\n\n")
		writeTopTable(&buf, append(slices.Clone(g.cpu), g.wall...))
	}
	writeTooFew(&buf, bs)
	_, err = w.Write(buf.Bytes())
	return err
}

// columnName is a breakdown's column title: the strategy label, and the
// side for the backend's profile.
func columnName(b *Breakdown) string {
	name := b.Cell.Strategy
	if name == "" {
		name = b.Cell.Name
	}
	if b.Kind == BackendCPU {
		name += " · backend"
	}
	return name
}

func tooFewText(b *Breakdown) string { return fmt.Sprintf("too few samples (%d)", b.Total) }

// shareText is a share and its sample count: "91.2 % (467)".
func shareText(b *Breakdown, c Category) string {
	return fmt.Sprintf("%.1f %% (%d)", 100*b.Share(c), b.By[c])
}

func writeShareTable(w io.Writer, bs []*Breakdown) {
	fmt.Fprint(w, "| where |")
	for _, b := range bs {
		fmt.Fprintf(w, " %s |", mdEscape(columnName(b)))
	}
	fmt.Fprint(w, "\n|---|")
	for range bs {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	cats := usedCategories(bs)
	for i, c := range cats {
		fmt.Fprintf(w, "| %s |", c)
		for _, b := range bs {
			switch {
			case b.Enough():
				fmt.Fprintf(w, " %s |", shareText(b, c))
			case i == 0:
				fmt.Fprintf(w, " %s |", tooFewText(b))
			default:
				fmt.Fprint(w, " |")
			}
		}
		fmt.Fprintln(w)
	}
	if len(cats) == 0 { // no column has enough samples
		fmt.Fprint(w, "| (all) |")
		for _, b := range bs {
			fmt.Fprintf(w, " %s |", tooFewText(b))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "| samples |")
	for _, b := range bs {
		fmt.Fprintf(w, " %d |", b.Total)
	}
	fmt.Fprintln(w)
	if setupShown(bs) {
		fmt.Fprint(w, "| setup & teardown, left out |")
		for _, b := range bs {
			if b.Kind == CPU {
				fmt.Fprintf(w, " %s |", setupText(b))
			} else {
				fmt.Fprint(w, " |")
			}
		}
		fmt.Fprintln(w)
	}
	if e, n := maxError(bs); n > 0 {
		fmt.Fprintf(w, "\nWidest 95 %% sampling error of a share above: ±%.1f points (a column of %d samples).\n", e, n)
	}
}

func setupShown(bs []*Breakdown) bool {
	for _, b := range bs {
		if b.Setup > 0 {
			return true
		}
	}
	return false
}

// setupText is the setup samples of b and their share of the pass's CPU
// samples, "40 (7.2 %)", or the count alone when the pass has too few
// samples for a share.
func setupText(b *Breakdown) string {
	all := b.Setup + b.Total
	if all < MinBreakdownSamples {
		return fmt.Sprint(b.Setup)
	}
	return fmt.Sprintf("%d (%.1f %%)", b.Setup, 100*float64(b.Setup)/float64(all))
}

func writeTopTable(w io.Writer, bs []*Breakdown) {
	fmt.Fprint(w, "| strategy | profile |")
	for i := 1; i <= topN; i++ {
		fmt.Fprintf(w, " %d |", i)
	}
	fmt.Fprint(w, "\n|---|---|")
	for i := 0; i < topN; i++ {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, b := range bs {
		name := b.Cell.Strategy
		if name == "" {
			name = b.Cell.Name
		}
		fmt.Fprintf(w, "| %s | %s |", mdEscape(name), b.Kind)
		for i := 0; i < topN; i++ {
			switch {
			case !b.Enough() && i == 0:
				fmt.Fprintf(w, " %s |", tooFewText(b))
			case b.Enough() && i < len(b.Top):
				t := b.Top[i]
				fmt.Fprintf(w, " `%s` %.1f %% (%d) |", shortName(t.Function),
					100*float64(t.Samples)/float64(b.Total), t.Samples)
			default:
				fmt.Fprint(w, " |")
			}
		}
		fmt.Fprintln(w)
	}
}

// writeTooFew names the cells whose profiles need more samples.
func writeTooFew(w io.Writer, bs []*Breakdown) {
	few := tooFew(bs)
	if len(few) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Cells that need a longer profile\n\nFewer than %d samples, so no shares are shown "+
		"(rerun with a longer `--profile-time`, or more tasks):\n\n", MinBreakdownSamples)
	for _, b := range few {
		fmt.Fprintf(w, "- `%s` (%s): %d samples\n", b.Cell.Name, b.Kind, b.Total)
	}
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
