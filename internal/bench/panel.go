package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PanelSchema is the schema a panel of users panelists is generated into:
// one per size, so runs at different sizes do not regenerate each other's.
func PanelSchema(users int) string { return fmt.Sprintf("mcpa_bench_%d", users) }

// EnsurePanel generates the benchmark panel into PanelSchema(users) of the
// database at dsn unless it is already there, and reports whether it did.
// The panel is built by the database itself (INSERT ... SELECT over
// generate_series), so a million panelists take seconds, not minutes. It
// is deterministic: the same size always holds the same rows.
//
// users holds one row per panelist with a projection weight (in thousands),
// an NCCS class in the seven-label form and a nullable spend; app_usage
// holds two sessions per panelist, so the rewrite's event-to-user join is
// exercised. The tables are UNLOGGED: they are benchmark data, rebuilt at
// will, and need no WAL.
func EnsurePanel(ctx context.Context, dsn string, users int) (bool, error) {
	if users < 1 {
		return false, fmt.Errorf("panel size must be at least 1, not %d", users)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false, fmt.Errorf("connect to generate the panel: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	schema := PanelSchema(users)
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
       (ARRAY['Maharashtra','Delhi','Karnataka','Tamil Nadu','Uttar Pradesh','West Bengal','Gujarat','Telangana','Rajasthan','Kerala'])[1 + (g * 17) %% 10],
       (ARRAY['Metro','Tier 1','Tier 2','Rural'])[1 + (g * 11) %% 4],
       CASE WHEN (g * 19) %% 10 < 8 THEN 'Android' ELSE 'iOS' END,
       CASE WHEN g %% 50 = 0 THEN NULL ELSE ((g * 101) %% 5000) / 10.0 END
FROM (SELECT g, 15 + (g * 37) %% 50 AS age FROM generate_series(1, %d::bigint) AS g) AS p`, s, users),
		`CREATE UNLOGGED TABLE ` + s + `.app_usage (
			session_id bigint PRIMARY KEY,
			user_id    bigint NOT NULL,
			app        text NOT NULL,
			minutes    double precision NOT NULL
		)`,
		fmt.Sprintf(`INSERT INTO %s.app_usage
SELECT e, (e + 1) / 2,
       (ARRAY['YouTube','WhatsApp','Instagram','Hotstar','Netflix'])[1 + (e * 29) %% 5],
       1 + (e * 43) %% 120
FROM generate_series(1, %d::bigint) AS e`, s, 2*users),
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
	// ANALYZE outside the transaction so the planner's statistics are
	// those of the committed tables.
	for _, t := range []string{"users", "app_usage"} {
		if _, err := conn.Exec(ctx, "ANALYZE "+s+"."+t); err != nil {
			return false, fmt.Errorf("analyze the panel: %w", err)
		}
	}
	return true, nil
}

// DropPanel removes the panel of the given size.
func DropPanel(ctx context.Context, dsn string, users int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect to drop the panel: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{PanelSchema(users)}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop the panel: %w", err)
	}
	return nil
}
