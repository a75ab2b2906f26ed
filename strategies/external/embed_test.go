package external

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestScriptsAreEmbedded checks what the binary ships against python/:
// the files a Python strategy's run writes out (writePythonFiles, from the
// embedded FS) are exactly python/*.py, byte for byte, and every system's
// and every server model's script is among them. A script added to
// python/ but not matched by the embed pattern, or a strategy naming a
// script that is not shipped, fails.
func TestScriptsAreEmbedded(t *testing.T) {
	t.Parallel()
	onDisk, err := filepath.Glob("python/*.py")
	if err != nil || len(onDisk) == 0 {
		t.Fatalf("no python files: %v", err)
	}
	dir := t.TempDir()
	if err := writePythonFiles(dir); err != nil {
		t.Fatal(err)
	}
	var written []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			written = append(written, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range onDisk {
		want = append(want, filepath.Base(f))
	}
	slices.Sort(want)
	slices.Sort(written)
	if !slices.Equal(written, want) {
		t.Fatalf("the binary ships %v, python/ holds %v", written, want)
	}
	for _, name := range want {
		disk, err := os.ReadFile(filepath.Join("python", name))
		if err != nil {
			t.Fatal(err)
		}
		shipped, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(shipped, disk) {
			t.Errorf("%s: the embedded copy (%d bytes) differs from python/%s (%d bytes)", name, len(shipped), name, len(disk))
		}
	}
	for _, sys := range pythonSystems {
		if !slices.Contains(written, sys.script) {
			t.Errorf("%s runs %s, which the binary does not ship", sys.name, sys.script)
		}
	}
	for name, model := range pythonServers {
		if !slices.Contains(written, model.script) {
			t.Errorf("%s serves with %s, which the binary does not ship", name, model.script)
		}
	}
}
