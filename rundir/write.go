package rundir

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes path through write: into a temporary file of a unique
// name in the same folder, then renamed over path. A reader therefore sees
// the old file or the new one, never half of one, and a run killed during
// the write leaves the old file whole. The folder is created if needed,
// and the file is 0644, as every output of a run is (a temporary file
// starts 0600).
func WriteFile(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("rundir: write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("rundir: write %s: %w", path, err)
	}
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("rundir: write %s: %w", path, err)
	}
	return nil
}
