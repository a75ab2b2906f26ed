//go:build !linux

package reactor

import (
	"context"
	"fmt"
	"net"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/strategies"
)

// Serve implements serve.Server where there is no epoll: it cannot serve,
// and says why (the strategy is unavailable here too).
func (r *reactor) Serve(_ context.Context, ln net.Listener, _ serve.Env) error {
	_ = ln.Close()
	return fmt.Errorf("reactor: %w: %w", strategies.ErrUnavailable, errUnsupported)
}
