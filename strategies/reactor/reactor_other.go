//go:build !linux

package reactor

import (
	"context"
	"errors"
	"fmt"

	"github.com/concbench/concbench/strategies"
)

// errUnsupported is what Available reports where there is no epoll.
var errUnsupported = errors.New("unsupported on this OS (the reactor uses epoll: linux only)")

func available() error { return errUnsupported }

// Run is never reached through the registry (Available refuses first); a
// direct call gets the same reason.
func (r *reactor) Run(context.Context, *strategies.Job) error {
	return fmt.Errorf("reactor: %w: %w", strategies.ErrUnavailable, errUnsupported)
}
