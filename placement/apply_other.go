//go:build !linux

package placement

import (
	"fmt"
	"os/exec"
	"runtime"
)

// Allowed is not known here: placement needs Linux.
func Allowed() (CPUSet, error) { return CPUSet{}, ErrUnsupported }

// Apply accepts only a placement of nothing here: placement needs Linux.
func Apply(p Placement) (*Applied, error) {
	if !p.IsZero() {
		return nil, fmt.Errorf("%w (%s/%s); run without a placement", ErrUnsupported, runtime.GOOS, runtime.GOARCH)
	}
	return &Applied{}, nil
}

func startPinned(*exec.Cmd, CPUSet) error { return ErrUnsupported }
