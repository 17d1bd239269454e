package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Panel is the size of a generated benchmark panel: Users panelists and
// Events app_usage rows. Events 0 means two per panelist, the panel every
// part but "weighted" runs on.
type Panel struct {
	Users  int
	Events int
}

func (p Panel) events() int {
	if p.Events == 0 {
		return 2 * p.Users
	}
	return p.Events
}

// Schema is the schema the panel is generated into: one per size, so
// runs at different sizes do not regenerate each other's.
func (p Panel) Schema() string {
	if p.events() == 2*p.Users {
		return fmt.Sprintf("mcpa_bench_%d", p.Users)
	}
	return fmt.Sprintf("mcpa_bench_%d_%d", p.Users, p.events())
}

// PanelSchema is the schema of the panel of users panelists with the
// default two events each.
func PanelSchema(users int) string { return Panel{Users: users}.Schema() }

// scatter is a multiplier that permutes 0..users-1 (it is prime and does
// not divide users), so that the panelists with most events are spread
// over the user_id range instead of bunched at its start.
func scatter(users int) int {
	for _, p := range []int{1_000_003, 999_983} {
		if users%p != 0 {
			return p
		}
	}
	return 1
}

// EnsurePanel generates the benchmark panel p into p.Schema() of the
// database at dsn unless it is already there, and reports whether it did.
// The panel is built by the database itself (INSERT ... SELECT over
// generate_series), so a million panelists take seconds and twenty
// million events a few minutes. It is deterministic: the same size always
// holds the same rows (the pseudo-random figures are multiplicative
// hashes of the row number, not random()).
//
// It has the demo's shape at benchmark size. users holds one row per
// panelist with a projection weight (in thousands), gender, age, an NCCS
// class in the seven-label form, city, state and a nullable spend.
// app_usage holds the events: user_id, app_name, event_date (January to
// March 2026) and usage_minutes. Panelists differ in how many events
// they have and apps in how many panelists use them,
// so reach, per-panelist means and per-event means differ. The tables are
// UNLOGGED: they are benchmark data, rebuilt at will, and need no WAL.
func EnsurePanel(ctx context.Context, dsn string, p Panel) (bool, error) {
	if p.Users < 1 {
		return false, fmt.Errorf("panel size must be at least 1, not %d", p.Users)
	}
	if p.Events < 0 {
		return false, fmt.Errorf("events must be 0 (two per panelist) or more, not %d", p.Events)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false, fmt.Errorf("connect to generate the panel: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	schema := p.Schema()
	var exists bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = 'app_usage')`, schema).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("look for the panel: %w", err)
	}
	if exists {
		return false, nil
	}
	// One transaction: a cancelled or failed generation leaves nothing
	// behind that a later run would mistake for a finished panel.
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin panel generation: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	s := pgx.Identifier{schema}.Sanitize()
	// h(e, m) is a multiplicative hash of the row number in [0, 1).
	h := func(col string, m int64) string {
		return fmt.Sprintf("((%s * %d::bigint) %% 4294967296) / 4294967296.0", col, m)
	}
	// With two events per panelist (the default panel) each panelist has
	// exactly two sessions, as the per-call and multi-query parts assume.
	// Otherwise a panelist's share of the events falls with the square of
	// a hash, so heavy users are few and most have two to six; app
	// k's share of the events falls the same way.
	userOf := "(e + 1) / 2"
	if p.events() != 2*p.Users {
		userOf = fmt.Sprintf("1 + (floor(%d * %s * %s)::bigint * %d) %% %d", p.Users, h("e", 2654435761), h("e", 2654435761), scatter(p.Users), p.Users)
	}
	stmts := []string{
		"SET LOCAL synchronous_commit = off",
		"SET LOCAL maintenance_work_mem = '256MB'",
		"DROP SCHEMA IF EXISTS " + s + " CASCADE",
		"CREATE SCHEMA " + s,
		`CREATE UNLOGGED TABLE ` + s + `.users (
			user_id     bigint PRIMARY KEY,
			weight      double precision NOT NULL,
			gender      text NOT NULL,
			age         integer NOT NULL,
			age_group   text NOT NULL,
			nccs        text NOT NULL,
			city        text NOT NULL,
			state       text NOT NULL,
			town_class  text NOT NULL,
			device_type text NOT NULL,
			spend       double precision
		)`,
		fmt.Sprintf(`INSERT INTO %s.users
SELECT g,
       0.2 + ((g * 7919) %% 1601) / 1000.0,
       CASE WHEN g %% 100 < 49 THEN 'Male' WHEN g %% 100 < 98 THEN 'Female' ELSE 'Other' END,
       age,
       CASE WHEN age < 25 THEN '15-24' WHEN age < 35 THEN '25-34' WHEN age < 45 THEN '35-44' WHEN age < 55 THEN '45-54' ELSE '55+' END,
       (ARRAY['A','A1','B','C','D','E'])[1 + (g * 13) %% 6],
       (ARRAY['Mumbai','Delhi','Bengaluru','Chennai','Lucknow','Kolkata','Ahmedabad','Hyderabad','Jaipur','Kochi'])[1 + st] ||
         CASE WHEN (g * 11) %% 4 = 3 THEN ' (rural)' ELSE '' END,
       (ARRAY['Maharashtra','Delhi','Karnataka','Tamil Nadu','Uttar Pradesh','West Bengal','Gujarat','Telangana','Rajasthan','Kerala'])[1 + st],
       (ARRAY['Metro','Tier 1','Tier 2','Rural'])[1 + (g * 11) %% 4],
       CASE WHEN (g * 19) %% 10 < 8 THEN 'Android' ELSE 'iOS' END,
       CASE WHEN g %% 50 = 0 THEN NULL ELSE ((g * 101) %% 5000) / 10.0 END
FROM (SELECT g, 15 + (g * 37) %% 50 AS age, (g * 17) %% 10 AS st FROM generate_series(1, %d::bigint) AS g) AS p`, s, p.Users),
		`CREATE UNLOGGED TABLE ` + s + `.app_usage (
			session_id    bigint PRIMARY KEY,
			user_id       bigint NOT NULL,
			app_name      text NOT NULL,
			event_date    date NOT NULL,
			usage_minutes integer NOT NULL
		)`,
		fmt.Sprintf(`INSERT INTO %s.app_usage
SELECT e, uid,
       (ARRAY['WhatsApp','YouTube','Instagram','Facebook','Truecaller','Paytm','Flipkart','Amazon','Hotstar','ShareChat','Snapchat','Spotify','Netflix'])[1 + floor(13 * ra * ra)::int],
       DATE '2026-01-01' + floor(90 * rd)::int,
       1 + floor(90 * rm * rm)::int
FROM (SELECT e, %s AS uid, %s AS ra, %s AS rd, %s AS rm
      FROM generate_series(1, %d::bigint) AS e) AS ev`,
			s, userOf, h("e", 2246822519), h("e", 3266489917), h("e", 668265263), p.events()),
		"CREATE INDEX ON " + s + ".app_usage (user_id)",
		"COMMENT ON COLUMN " + s + ".users.weight IS 'projection weight in thousands of people'",
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return false, fmt.Errorf("generate the panel: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("commit the panel: %w", err)
	}
	// VACUUM ANALYZE outside the transaction (VACUUM cannot run in one),
	// so the planner's statistics are those of the committed tables and
	// the visibility map is set, as autovacuum leaves a table that was
	// loaded: index-only scans then read no heap pages.
	for _, t := range []string{"users", "app_usage"} {
		if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) "+s+"."+t); err != nil {
			return false, fmt.Errorf("analyze the panel: %w", err)
		}
	}
	return true, nil
}

// DropPanel removes the panel p.
func DropPanel(ctx context.Context, dsn string, p Panel) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect to drop the panel: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{p.Schema()}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop the panel: %w", err)
	}
	return nil
}
