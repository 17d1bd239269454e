package bench

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// throughput compares Clients concurrent MCP sessions with as many
// goroutines using raw pgx over the same pool settings, on primary-key
// lookups: next to the database (CPU-bound: what each call costs) and
// through the latency proxy (a warehouse RTT away: what clients see).
func (b *run) throughput(ctx context.Context, r *Report) error {
	type distance struct {
		rtt     time.Duration
		dataset int64
		raw     *pgxpool.Pool
	}
	at := []distance{{0, b.h.local, b.h.rawLocal}}
	for _, rm := range b.h.remotes {
		at = append(at, distance{rm.rtt, rm.dataset, rm.raw})
	}
	for _, d := range at {
		b.step("measuring throughput at %s RTT: %d clients x %d calls, MCP vs raw pgx", d.rtt, b.cfg.Clients, b.cfg.Calls)
		row, err := b.throughputAt(ctx, d.dataset, d.raw)
		if err != nil {
			return err
		}
		row.RTTMS = millis(d.rtt)
		r.Throughput = append(r.Throughput, row)
	}
	return nil
}

func (b *run) throughputAt(ctx context.Context, dataset int64, pool *pgxpool.Pool) (ThroughputRow, error) {
	sessions, err := b.sessions(ctx, b.cfg.Clients)
	defer closeAll(sessions)
	if err != nil {
		return ThroughputRow{}, err
	}
	ours, err := b.drive(ctx, len(sessions), func(ctx context.Context, client, i int) error {
		return query(ctx, sessions[client], dataset, pkLookup(b.cfg.Users, client*b.cfg.Calls+i))
	})
	if err != nil {
		return ThroughputRow{}, err
	}
	plans := make([]string, b.cfg.Clients*b.cfg.Calls)
	for i := range plans {
		if plans[i], err = b.h.plan(ctx, dataset, pkLookup(b.cfg.Users, i)); err != nil {
			return ThroughputRow{}, err
		}
	}
	raw, err := b.drive(ctx, b.cfg.Clients, func(ctx context.Context, client, i int) error {
		return rawQuery(ctx, pool, plans[client*b.cfg.Calls+i])
	})
	if err != nil {
		return ThroughputRow{}, err
	}
	return b.throughputRow(ours, raw), nil
}

// throughputRow compares a closed-loop load through MCP with the same
// load on raw pgx.
func (b *run) throughputRow(ours, raw driven) ThroughputRow {
	return ThroughputRow{
		Clients: b.cfg.Clients, Calls: b.cfg.Clients * b.cfg.Calls,
		OursPerSec: ours.perSec, RawPerSec: raw.perSec,
		OursP50: ours.lat.median(), OursP99: ours.lat.percentile(99),
		RawP50: raw.lat.median(), RawP99: raw.lat.percentile(99),
		ThroughputRatio: ratio(ours.perSec, raw.perSec),
		P99Ratio:        ratio(ours.lat.percentile(99), raw.lat.percentile(99)),
		Errors:          ours.errors + raw.errors,
	}
}
