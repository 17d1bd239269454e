package bench

import (
	"context"
	"runtime"
	"time"
)

// load runs Sessions concurrent MCP sessions and watches the process's
// memory and goroutines.
func (b *run) load(ctx context.Context, r *Report) error {
	b.step("load: %d sessions x %d calls", b.cfg.Sessions, b.cfg.Calls)
	runtime.GC()
	goroutinesBefore, idle := runtime.NumGoroutine(), rssBytes()
	stopSampling := peakRSS(idle, 10*time.Millisecond)
	sessions, err := b.sessions(ctx, b.cfg.Sessions)
	var res driven
	if err == nil {
		res, err = b.drive(ctx, len(sessions), func(ctx context.Context, client, i int) error {
			return query(ctx, sessions[client], b.h.local, pkLookup(b.cfg.Users, client*b.cfg.Calls+i))
		})
	}
	closeAll(sessions)
	peak := stopSampling()
	if err != nil {
		return err
	}
	// Sessions end asynchronously on the server: give them a moment.
	b.h.client.CloseIdleConnections()
	goroutinesAfter := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); goroutinesAfter > goroutinesBefore && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		goroutinesAfter = runtime.NumGoroutine()
	}
	runtime.GC()
	r.Load = &LoadRow{
		Sessions: b.cfg.Sessions, Calls: b.cfg.Sessions * b.cfg.Calls,
		PerSec: res.perSec, P50: res.lat.median(), P99: res.lat.percentile(99), Errors: res.errors,
		IdleRSSMiB: mib(idle), PeakRSSMiB: mib(peak), AfterRSSMiB: mib(rssBytes()),
		GoroutinesBefore: goroutinesBefore, GoroutinesAfter: goroutinesAfter,
	}
	return nil
}
