package placement

import (
	"testing"
)

// Whatever Parse accepts, String writes back in a form Parse reads as the
// same placement, and writes it the same way again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "none", "strategy=0", "strategy=0,backend=1,loadgen=1", "strategy=0-3,6 backend=4-5",
		"strategy=0,2,backend=1,3", "loadgen=1023", "backend=1-0", "0,1", "strategy=,", "strategy=0;backend=1", "x=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !p.IsZero() {
				t.Fatalf("Parse(%q) failed (%v) but returned %q", s, err, p)
			}
			return
		}
		str := p.String()
		q, err := Parse(str)
		if err != nil || q != p || q.String() != str {
			t.Fatalf("Parse(%q) = %q, which parses back as %q, %v", s, str, q, err)
		}
		var u Placement
		text, _ := p.MarshalText()
		if err := u.UnmarshalText(text); err != nil || u != p {
			t.Fatalf("text round trip of %q: %q, %v", str, u, err)
		}
	})
}

func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"", "0", "0-3,6", "1023", "1024", "3-1", "1,,2", "60-70"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseCPUList(s)
		if err != nil {
			return
		}
		back, err := ParseCPUList(set.String())
		if err != nil || back != set || len(set.CPUs()) != set.Count() {
			t.Fatalf("ParseCPUList(%q) = %q, which parses back as %q, %v", s, set, back, err)
		}
	})
}
