package harness

import (
	"context"
	"fmt"

	"github.com/concbench/concbench/workloads/backend"
)

// The backend's own counts, checked every round. A strategy that produced
// a result without asking the backend for its values cannot get the
// reference's digest, since the values depend on a secret only the
// backend (and the harness's verifier) holds; the counts catch what the
// digest cannot: a strategy that reuses replies across passes, or copies
// results from somewhere, and one more concurrent than its model claims
// (its bound, and so its %bound, would be wrong).
//
// The providers of the built-in backend (InProcessBackends, ChildBackends,
// RemoteBackends) and RedisBackend are RoundChecks: Run adds them. Before
// a round of an I/O cell, BeginRound starts a measurement window on every
// server (backend.Window); after it, EndRound reads what the servers did
// and checks it with checkRoundCounts. A round whose strategy or
// verification failed is not checked: the cell has failed already.

var (
	_ RoundCheck = (*InProcessBackends)(nil)
	_ RoundCheck = (*ChildBackends)(nil)
	_ RoundCheck = (*RemoteBackends)(nil)
	_ RoundCheck = (*RedisBackend)(nil)
)

// roundCounts is what the servers of a round say they did.
type roundCounts struct {
	// gets is the keys the servers were asked for (GET and MGET), and
	// answered those whose values they started to write (backend.Window).
	gets, answered int64
	// maxInFlight is each server's most data requests in flight at once;
	// nil when the servers do not count them (a Redis).
	maxInFlight []int64
}

// countsOf sums windows.
func countsOf(ws []backend.Window) roundCounts {
	var c roundCounts
	for _, w := range ws {
		c.gets += w.Gets
		c.answered += w.GetsAnswered
		c.maxInFlight = append(c.maxInFlight, w.MaxInFlight)
	}
	return c
}

// checkRoundCounts checks a round's backend counts against its tasks, and
// says what went wrong in the user's terms. With F the round's fetches
// (the spec's Fetches() × the round's passes), E its failed tasks, m the
// most fetches of one task (MaxFetchesPerTask) and N the strategy's
// in-flight limit (Concurrency(spec).InFlight):
//
//   - No task failed (E = 0): the servers were asked for exactly F values
//     and answered exactly F. Each task made each of its fetches once and
//     got each answer from the backend, and nothing else asked. Each
//     server saw at most N requests in flight at once.
//   - Some failed: each failed task may have made between 0 and its fetch
//     count of requests (it stops at its failing fetch, or never got a
//     connection), and a strategy may send requests again after a failure
//     left their connection unusable (a broken connection: the requests
//     outstanding on it, at most N, each failure failing at least one
//     task). So the servers answered at least F − E·m (the fetches of the
//     tasks that succeeded, each of which got all its answers) and were
//     asked for at most F + E·N. In-flight counts are not checked: a
//     request abandoned on a broken connection may still count at the
//     server while its retry is sent.
func checkRoundCounts(c roundCounts, r *Round, res *CellResult) error {
	spec := r.Cell.Spec
	fetches := int64(spec.Fetches()) * int64(max(r.Passes, 1))
	failed := int64(res.Errors)
	limit := int64(r.Cell.Strategy.Concurrency(spec).InFlight)
	if failed == 0 {
		switch {
		case c.answered < fetches && c.answered == 0:
			return fmt.Errorf("backend check: the backend answered 0 GETs but the tasks made %d fetches: the strategy produced results without asking the backend",
				fetches)
		case c.answered < fetches:
			return fmt.Errorf("backend check: the backend answered %d GETs but the tasks made %d fetches, and none failed: the strategy produced results for %d fetches without asking the backend",
				c.answered, fetches, fetches-c.answered)
		case c.gets > fetches:
			return fmt.Errorf("backend check: the backend was asked for %d values but the tasks made %d fetches, and none failed: the strategy sent requests its tasks did not make (or another client used the backend during the round)",
				c.gets, fetches)
		case c.answered > fetches:
			return fmt.Errorf("backend check: the backend answered %d GETs but the tasks made %d fetches", c.answered, fetches)
		}
		for i, most := range c.maxInFlight {
			if most > limit {
				return fmt.Errorf("backend check: backend %d had %d requests in flight at once, but the strategy's model allows %d (its Concurrency): it is more concurrent than it says, so its bound is wrong",
					i, most, limit)
			}
		}
		return nil
	}
	perTask := int64(spec.MaxFetchesPerTask())
	if least := fetches - failed*perTask; c.answered < least {
		return fmt.Errorf("backend check: the backend answered %d GETs, but the tasks that succeeded made at least %d fetches (the round's %d, less at most %d for each of its %d failed tasks): the strategy produced results without asking the backend",
			c.answered, least, fetches, perTask, failed)
	}
	if most := fetches + failed*limit; c.gets > most {
		return fmt.Errorf("backend check: the backend was asked for %d values, more than the round's %d fetches and the %d a strategy may send again after its %d failed tasks (at most its in-flight limit, %d, for each)",
			c.gets, fetches, failed*limit, failed, limit)
	}
	return nil
}

// ioRound reports whether r is a batch round whose tasks fetch: only
// those rounds are checked here. A serve round's lookups are the server's,
// two a request it served, and its pages are verified against the
// reference of the backend's secret.
func ioRound(r *Round) bool { return !r.Serve && r.Cell.Spec.Fetches() > 0 }

// BeginRound implements RoundCheck: it starts a window on every server.
func (b *builtin) BeginRound(_ context.Context, r *Round) error {
	if !ioRound(r) {
		return nil
	}
	if _, err := b.Windows(); err != nil {
		return fmt.Errorf("backend check: start the round's window: %w", err)
	}
	return nil
}

// EndRound implements RoundCheck: it reads the round's windows and checks
// them (checkRoundCounts).
func (b *builtin) EndRound(_ context.Context, r *Round, res *CellResult) error {
	if !ioRound(r) {
		return nil
	}
	ws, err := b.Windows()
	if err != nil {
		return fmt.Errorf("backend check: read the round's window: %w", err)
	}
	return checkRoundCounts(countsOf(ws), r, res)
}

// BeginRound implements RoundCheck: it starts a window on every server.
func (p *RemoteBackends) BeginRound(_ context.Context, r *Round) error {
	if !ioRound(r) {
		return nil
	}
	if _, err := p.Windows(); err != nil {
		return fmt.Errorf("backend check: start the round's window: %w", err)
	}
	return nil
}

// EndRound implements RoundCheck: it reads the servers' windows and checks
// them (checkRoundCounts).
func (p *RemoteBackends) EndRound(_ context.Context, r *Round, res *CellResult) error {
	if !ioRound(r) {
		return nil
	}
	ws, err := p.Windows()
	if err != nil {
		return fmt.Errorf("backend check: read the round's window: %w", err)
	}
	return checkRoundCounts(countsOf(ws), r, res)
}

// BeginRound implements RoundCheck: it reads the servers' GET calls so far
// (INFO commandstats), when they count them.
func (r *RedisBackend) BeginRound(ctx context.Context, round *Round) error {
	if !ioRound(round) || r.stats == nil {
		return nil
	}
	n, err := r.getCalls(ctx)
	if err != nil {
		return fmt.Errorf("backend check: %w", err)
	}
	r.getsAt = n
	return nil
}

// EndRound implements RoundCheck: the GETs the servers ran in the round
// are both those asked for and those answered (a Redis answers every GET
// it runs), checked with checkRoundCounts; a Redis counts nothing in
// flight.
func (r *RedisBackend) EndRound(ctx context.Context, round *Round, res *CellResult) error {
	if !ioRound(round) || r.stats == nil {
		return nil
	}
	n, err := r.getCalls(ctx)
	if err != nil {
		return fmt.Errorf("backend check: %w", err)
	}
	gets := n - r.getsAt
	return checkRoundCounts(roundCounts{gets: gets, answered: gets}, round, res)
}
