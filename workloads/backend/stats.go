package backend

import (
	"fmt"
	"sync/atomic"
)

// Stats counts what a server has done since it started.
type Stats struct {
	Conns         int64 // connections accepted (including rejected ones)
	ActiveConns   int64 // connections open now
	RejectedConns int64 // connections refused by MaxConns
	Requests      int64 // requests parsed
	Replies       int64 // replies written in full
	Errors        int64 // error replies among them, protocol errors included
	Resets        int64 // injected faults, by kind
	Stalls        int64
	PartialCloses int64
	SlowDrips     int64
}

// Faults returns the number of injected faults of every kind.
func (s Stats) Faults() int64 { return s.Resets + s.Stalls + s.PartialCloses + s.SlowDrips }

// String formats the stats as "name:value" lines, like Redis's INFO.
func (s Stats) String() string {
	return fmt.Sprintf("conns:%d\r\nactive_conns:%d\r\nrejected_conns:%d\r\nrequests:%d\r\nreplies:%d\r\nerrors:%d\r\n"+
		"faults:%d\r\nresets:%d\r\nstalls:%d\r\npartial_closes:%d\r\nslow_drips:%d\r\n",
		s.Conns, s.ActiveConns, s.RejectedConns, s.Requests, s.Replies, s.Errors,
		s.Faults(), s.Resets, s.Stalls, s.PartialCloses, s.SlowDrips)
}

// counters is the live, atomically updated form of Stats.
type counters struct {
	conns, active, rejected, requests, replies, errors atomic.Int64
	resets, stalls, partials, drips                    atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Conns: c.conns.Load(), ActiveConns: c.active.Load(), RejectedConns: c.rejected.Load(),
		Requests: c.requests.Load(), Replies: c.replies.Load(), Errors: c.errors.Load(),
		Resets: c.resets.Load(), Stalls: c.stalls.Load(), PartialCloses: c.partials.Load(), SlowDrips: c.drips.Load(),
	}
}
