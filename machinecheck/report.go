package machinecheck

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// Status is a finding's verdict.
type Status string

const (
	// OK: nothing here degrades measurements, or nothing can be done
	// about it from inside the machine.
	OK Status = "ok"
	// Warn: this degrades measurements; the finding says what to do.
	Warn Status = "warn"
)

// Finding is what one check found.
type Finding struct {
	// Check names what was checked: "cpus", "load", "steal", "governor",
	// "turbo", "memory", "swap", "thp", "clock", "power", "counters".
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Value is what was measured or read, as a person reads it.
	Value string `json:"value"`
	// Advice says what to do: always for a warning; for an ok finding,
	// what would matter if the reader wanted more.
	Advice string `json:"advice,omitempty"`
}

// Report is every finding of one Check, in a fixed order.
type Report struct {
	Findings []Finding `json:"findings"`
	// Interval is how long the sampled checks (load, steal, swap) watched.
	Interval time.Duration `json:"interval_ns"`
}

// Options say where and how long to look.
type Options struct {
	// Root is the folder holding proc/ and sys/; "" means "/". Tests point
	// it at a fake tree.
	Root string
	// Interval is how long the load, steal and swap counters are watched;
	// 0 means DefaultInterval.
	Interval time.Duration
	// GOMAXPROCS is compared with the usable CPUs; 0 means
	// runtime.GOMAXPROCS(0).
	GOMAXPROCS int
}

const (
	// DefaultInterval is the doctor command's sample: at USER_HZ=100,
	// 100 ticks a CPU, enough to resolve 1 % of a CPU.
	DefaultInterval = time.Second
	// RunInterval is the sample at the start of a run: 25 ticks a CPU
	// resolve 4 %, enough to see a competing process, at a quarter of a
	// second added to each run.
	RunInterval = 250 * time.Millisecond
)

// Check runs every check and returns the report. The only error is ctx's,
// when it ends during the sample; what cannot be read is a finding.
func Check(ctx context.Context, opt Options) (*Report, error) {
	in := &inputs{root: opt.Root, gomaxprocs: opt.GOMAXPROCS, interval: opt.Interval}
	if in.root == "" {
		in.root = "/"
	}
	if in.gomaxprocs == 0 {
		in.gomaxprocs = runtime.GOMAXPROCS(0)
	}
	if in.interval <= 0 {
		in.interval = DefaultInterval
	}
	if runtime.GOOS != "linux" && in.root == "/" {
		return &Report{Interval: in.interval, Findings: []Finding{{Check: "platform", Status: Warn,
			Value:  runtime.GOOS,
			Advice: "these checks read Linux's /proc and /sys; measure on Linux to have them"}}}, nil
	}
	in.before = readSample(in.root)
	t := time.NewTimer(in.interval)
	select {
	case <-ctx.Done():
		t.Stop()
		return nil, fmt.Errorf("machinecheck: %w", ctx.Err())
	case <-t.C:
	}
	in.after = readSample(in.root)
	return in.report(), nil
}

// checks are the checks in report order.
var checks = []func(*inputs) Finding{
	checkCPUs, checkLoad, checkSteal, checkGovernor, checkTurbo,
	checkMemory, checkSwap, checkTHP, checkClock, checkPower, checkCounters,
}

func (in *inputs) report() *Report {
	r := &Report{Interval: in.interval}
	for _, c := range checks {
		r.Findings = append(r.Findings, c(in))
	}
	return r
}

// Warnings returns the findings with status Warn.
func (r *Report) Warnings() []Finding {
	var w []Finding
	for _, f := range r.Findings {
		if f.Status == Warn {
			w = append(w, f)
		}
	}
	return w
}

// summaryWidth keeps the summary line within a 120-column terminal, and
// textWidth the advice of WriteText.
const summaryWidth, textWidth = 120, 120

// Summary is the report in one line of at most 120 columns, as a run
// prints it at its start: "machine: ok (11 checks)", or the warnings with
// their values ("machine: 2 warnings: load (...), turbo (on); concbench
// doctor says what to do"), or only their names when the values do not
// fit.
func (r *Report) Summary() string {
	w := r.Warnings()
	if len(w) == 0 {
		return fmt.Sprintf("machine: ok (%d checks)", len(r.Findings))
	}
	head := fmt.Sprintf("machine: %d warning", len(w))
	if len(w) > 1 {
		head += "s"
	}
	const tail = "; concbench doctor says what to do"
	long := make([]string, len(w))
	short := make([]string, len(w))
	for i, f := range w {
		v, _, _ := strings.Cut(f.Value, "; ") // the headline of the value
		long[i] = f.Check + " (" + v + ")"
		short[i] = f.Check
	}
	if s := head + ": " + strings.Join(long, ", ") + tail; len([]rune(s)) <= summaryWidth {
		return s
	}
	return head + " (" + strings.Join(short, ", ") + ")" + tail
}

// WriteText writes the report as a person reads it: a line a finding,
// "ok" or "WARN", and the advice indented under it.
func (r *Report) WriteText(w io.Writer) error {
	width := 0
	for _, f := range r.Findings {
		width = max(width, len(f.Check))
	}
	var b strings.Builder
	for _, f := range r.Findings {
		status := "ok  "
		if f.Status == Warn {
			status = "WARN"
		}
		fmt.Fprintf(&b, "%s  %-*s  %s\n", status, width, f.Check, f.Value)
		if f.Advice != "" {
			indent := strings.Repeat(" ", 4+2+width+2)
			b.WriteString(wrap("→ "+f.Advice, indent, indent+"  ", textWidth))
		}
	}
	b.WriteString("\n")
	if n := len(r.Warnings()); n == 0 {
		b.WriteString(wrap(fmt.Sprintf("Nothing here degrades measurements (load, steal and swap watched for %v).", r.Interval), "", "", textWidth))
	} else {
		b.WriteString(wrap(fmt.Sprintf("%d of %d checks warn (load, steal and swap watched for %v). concbench changes nothing: "+
			"the commands above are yours to run.", n, len(r.Findings), r.Interval), "", "", textWidth))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap breaks text into lines of at most width columns (a word longer
// than a line gets one of its own), the first line starting with first
// and the others with rest.
func wrap(text, first, rest string, width int) string {
	var b strings.Builder
	line := first
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && len([]rune(line))+1+len([]rune(word)) > width {
			b.WriteString(line + "\n")
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	b.WriteString(line + "\n")
	return b.String()
}
