//go:build linux

package reactor

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// wakeSlot marks the poller's eventfd in epoll event data; connections use
// their slot index, which is never negative.
const wakeSlot = -1

// socketEvents are the events a connection's socket is registered for,
// once, edge-triggered: no epoll_ctl is needed to start or stop waiting for
// writability, at the price of reading and writing until EAGAIN (see
// conn.read for the one shortcut).
const socketEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET

// poller is one loop's epoll instance and its eventfd. The eventfd wakes
// the loop from other goroutines: offload workers handing back tasks and
// the cancellation of the run's context.
type poller struct {
	epfd, wakefd int
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("reactor: epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("reactor: eventfd: %w", err)
	}
	p := &poller{epfd: epfd, wakefd: wakefd}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeSlot}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		p.close()
		return nil, fmt.Errorf("reactor: epoll_ctl add eventfd: %w", err)
	}
	return p, nil
}

// add registers a socket. The event data carries the connection's slot and
// the generation of its socket, so an event still queued for a socket that
// has since been closed (and whose descriptor number a new socket reuses)
// is recognised as stale.
func (p *poller) add(fd int, slot, gen int32) error {
	ev := unix.EpollEvent{Events: socketEvents, Fd: slot, Pad: gen}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// remove unregisters a socket before it is closed.
func (p *poller) remove(fd int) {
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// wait waits for events for at most ms milliseconds (-1: no limit).
func (p *poller) wait(events []unix.EpollEvent, ms int) (int, error) {
	for {
		n, err := unix.EpollWait(p.epfd, events, ms)
		if err == unix.EINTR { // the runtime's preemption signals land here
			continue
		}
		return n, err
	}
}

var wakeValue = [8]byte{1} // eventfd counter increment, little endian

// wake makes the loop's next (or current) wait return. Any goroutine may
// call it. EAGAIN means the counter is already non-zero: the loop will wake.
func (p *poller) wake() {
	_, _ = unix.Write(p.wakefd, wakeValue[:])
}

// drainWake resets the eventfd after it woke the loop.
func (p *poller) drainWake() {
	var buf [8]byte
	_, _ = unix.Read(p.wakefd, buf[:])
}

func (p *poller) close() {
	unix.Close(p.wakefd)
	unix.Close(p.epfd)
}
