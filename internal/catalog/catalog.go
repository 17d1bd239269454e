// Package catalog holds what mcp-analytics knows about its datasets: where
// they live, their survey roles and limits, their profiles and their data
// dictionaries. A [Store] persists it: catalog/sqlitestore (an embedded
// SQLite file, the default) or catalog/pgstore (PostgreSQL, for several
// replicas). Both pass the suite in catalog/catalogtest. The dataset
// registry reads the store and follows changes made by other processes.
package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/secret"
)

// Drivers the catalog accepts.
const (
	DriverPostgres = "postgres"
	DriverDuckDB   = "duckdb"
)

// ErrNotFound is returned for a dataset id the store does not hold.
var ErrNotFound = errors.New("dataset not found")

// ErrExists is wrapped by a store's Add and AddToken when the name (or id)
// is taken, so callers test for it with errors.Is rather than by wording.
var ErrExists = errors.New("already exists")

// Dataset is one registered dataset.
type Dataset struct {
	ID          int64
	Name        string
	Description string
	Driver      string // DriverPostgres or DriverDuckDB
	DSN         string // connection string; a file path for DuckDB
	Settings    Settings
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Settings are a dataset's overrides. Zero values mean "detect" (roles) or
// "use the server's default" (limits).
type Settings struct {
	Roles  Roles  `json:"roles,omitzero"`
	Limits Limits `json:"limits,omitzero"`
	// Replicas are read replicas of a PostgreSQL dataset.
	Replicas Replicas `json:"replicas,omitzero"`
}

// Replica fallbacks: where queries go while no replica is healthy.
const (
	FallbackPrimary = "primary" // the default
	FallbackNone    = "none"
)

// Replicas are read replicas of a PostgreSQL dataset: queries go to the
// healthy ones, round-robin (source/postgres.Replicated).
type Replicas struct {
	// DSNs are the replicas' connection strings, sealed at rest like the
	// dataset's own.
	DSNs []string `json:"dsns,omitempty"`
	// Fallback is FallbackPrimary ("" too) or FallbackNone.
	Fallback string `json:"fallback,omitempty"`
	// MaxLag skips a replica further behind the primary; 0 does not check.
	MaxLag time.Duration `json:"max_lag,omitempty"`
}

// Roles name the columns that carry survey meaning (SPEC §5). Any left empty
// is detected from whole column names.
// They are stored as JSON in the catalog and written as YAML in a
// provisioning file; package dataset resolves them (detection, preset).
type Roles struct {
	WeightColumn  string            `json:"weight_column,omitempty" yaml:"weight_column"`
	WeightsTable  string            `json:"weights_table,omitempty" yaml:"weights_table"`
	RespondentKey string            `json:"respondent_key,omitempty" yaml:"respondent_key"`
	NCCSColumn    string            `json:"nccs_column,omitempty" yaml:"nccs_column"`
	NCCSPreset    string            `json:"nccs_preset,omitempty" yaml:"nccs_preset"` // a name of NCCSPresetNames
	NCCSMap       map[string]string `json:"nccs_map,omitempty" yaml:"nccs_map"`       // wins over the preset
	WeightScale   float64           `json:"weight_scale,omitempty" yaml:"weight_scale"`
	MinBase       int               `json:"min_base,omitempty" yaml:"min_base"`
}

// NCCSPreset returns the NCCS merge map of a named preset: "default" is
// the original system's rule (A1 and A → A, C, D, E → C/D/E), returned as
// nil so the rewrite applies its own; "12-grade" merges the grades A1..E3
// into their letters. Adding a preset is adding a case here.
func NCCSPreset(name string) (map[string]string, bool) {
	switch name {
	case "default":
		return nil, true
	case "12-grade":
		return map[string]string{
			"A1": "A", "A2": "A", "A3": "A",
			"B1": "B", "B2": "B",
			"C1": "C", "C2": "C",
			"D1": "D", "D2": "D",
			"E1": "E", "E2": "E", "E3": "E",
		}, true
	}
	return nil, false
}

// NCCSPresetNames are the names NCCSPreset knows.
func NCCSPresetNames() []string { return []string{"default", "12-grade"} }

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strconv.Quote(n)
	}
	return out
}

// Limits override the server's limits for one dataset.
type Limits struct {
	RawRows        int           `json:"raw_rows,omitempty"`
	AggregatedRows int           `json:"aggregated_rows,omitempty"`
	QueryTimeout   time.Duration `json:"query_timeout,omitempty"`
	PoolMaxConns   int           `json:"pool_max_conns,omitempty"`
	// MinCell overrides the minimum cell size of disclosure control for the
	// dataset (0 switches it off); nil keeps the server's.
	MinCell *int `json:"min_cell,omitempty"`
	// WorkMem and MaxParallelWorkersPerGather are PostgreSQL runtime
	// parameters set on the server's own connections to the dataset
	// ("" and nil: the server's setting, by default the database's).
	WorkMem                     string `json:"work_mem,omitempty"`
	MaxParallelWorkersPerGather *int   `json:"max_parallel_workers_per_gather,omitempty"`
}

var nameRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} _.,()&'/-]{0,99}$`)

// Validate checks a dataset before it is stored.
func (d Dataset) Validate() error {
	var errs []error
	if !nameRE.MatchString(d.Name) {
		errs = append(errs, errors.New("name must be 1 to 100 letters, digits, spaces or _.,()&'/- and start with a letter or digit"))
	}
	switch d.Driver {
	case DriverPostgres:
		if !strings.HasPrefix(d.DSN, "postgres://") && !strings.HasPrefix(d.DSN, "postgresql://") && !strings.Contains(d.DSN, "=") {
			errs = append(errs, errors.New("a postgres dataset needs a postgres:// URL or a key=value connection string"))
		}
	case DriverDuckDB:
		if d.DSN == "" {
			errs = append(errs, errors.New("a duckdb dataset needs the path of its database file"))
		}
	default:
		errs = append(errs, fmt.Errorf("driver must be %q or %q, not %q", DriverPostgres, DriverDuckDB, d.Driver))
	}
	if p := d.Settings.Roles.NCCSPreset; p != "" {
		if _, ok := NCCSPreset(p); !ok {
			errs = append(errs, fmt.Errorf("nccs preset must be %s, not %q", strings.Join(quoted(NCCSPresetNames()), " or "), p))
		}
	}
	if l := d.Settings.Limits; l.WorkMem != "" || l.MaxParallelWorkersPerGather != nil {
		if d.Driver != DriverPostgres {
			errs = append(errs, errors.New("work_mem and max_parallel_workers_per_gather are for postgres datasets only"))
		}
		if l.WorkMem != "" {
			if _, err := config.WorkMemKB(l.WorkMem); err != nil {
				errs = append(errs, fmt.Errorf("work_mem: %w", err))
			}
		}
		if l.MaxParallelWorkersPerGather != nil {
			if err := config.CheckParallelWorkers(*l.MaxParallelWorkersPerGather); err != nil {
				errs = append(errs, fmt.Errorf("max_parallel_workers_per_gather: %w", err))
			}
		}
	}
	if rp := d.Settings.Replicas; len(rp.DSNs) > 0 || rp.Fallback != "" || rp.MaxLag != 0 {
		if d.Driver != DriverPostgres {
			errs = append(errs, errors.New("read replicas are for postgres datasets only"))
		}
		for i, dsn := range rp.DSNs {
			if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") && !strings.Contains(dsn, "=") {
				errs = append(errs, fmt.Errorf("replica %d needs a postgres:// URL or a key=value connection string", i+1))
			}
		}
		if rp.Fallback != "" && rp.Fallback != FallbackPrimary && rp.Fallback != FallbackNone {
			errs = append(errs, fmt.Errorf("replica fallback must be %q or %q, not %q", FallbackPrimary, FallbackNone, rp.Fallback))
		}
		if rp.MaxLag < 0 {
			errs = append(errs, errors.New("max replica lag must not be negative"))
		}
	}
	if d.Settings.Roles.WeightScale < 0 {
		errs = append(errs, errors.New("weight scale must not be negative"))
	}
	return errors.Join(errs...)
}

// RedactDSN hides the password of a connection string, for listings and
// logs: postgres://user:***@host/db.
func RedactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxx")
			return strings.Replace(u.String(), ":xxx@", ":***@", 1)
		}
		return u.String()
	}
	return passwordRE.ReplaceAllString(dsn, "${1}***")
}

var passwordRE = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

// Encode prepares d to be written by a store: it validates d, encodes its
// settings as JSON and seals its connection string with seal (a
// [secret.Box]'s Seal), so every store writes datasets the same way.
func Encode(d Dataset, seal func(string) (string, error)) (settings []byte, sealedDSN string, err error) {
	if err := d.Validate(); err != nil {
		return nil, "", err
	}
	st := d.Settings
	if len(st.Replicas.DSNs) > 0 {
		st.Replicas.DSNs = make([]string, len(d.Settings.Replicas.DSNs))
		for i, dsn := range d.Settings.Replicas.DSNs {
			if st.Replicas.DSNs[i], err = seal(dsn); err != nil {
				return nil, "", err
			}
		}
	}
	settings, err = json.Marshal(st)
	if err != nil {
		return nil, "", fmt.Errorf("encode settings: %w", err)
	}
	sealedDSN, err = seal(d.DSN)
	if err != nil {
		return nil, "", err
	}
	return settings, sealedDSN, nil
}

// Decode is Encode's reverse for a dataset row a store has read: it decodes
// the settings into d and opens d's connection string with open (a
// [secret.Box]'s Open) when it is sealed; a plaintext one, written by an
// older binary, is kept as it is.
func Decode(d *Dataset, settings string, open func(string) (string, error)) error {
	d.Settings = Settings{}
	if err := json.Unmarshal([]byte(settings), &d.Settings); err != nil {
		return fmt.Errorf("dataset %d: decode settings: %w", d.ID, err)
	}
	if secret.IsSealed(d.DSN) {
		plain, err := open(d.DSN)
		if err != nil {
			return fmt.Errorf("dataset %d: %w", d.ID, err)
		}
		d.DSN = plain
	}
	for i, dsn := range d.Settings.Replicas.DSNs {
		if secret.IsSealed(dsn) {
			plain, err := open(dsn)
			if err != nil {
				return fmt.Errorf("dataset %d, replica %d: %w", d.ID, i+1, err)
			}
			d.Settings.Replicas.DSNs[i] = plain
		}
	}
	return nil
}

// DecodeProfile decodes the stored profile of dataset id.
func DecodeProfile(id int64, data string) (Profile, error) {
	var p Profile
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return Profile{}, fmt.Errorf("decode profile of dataset %d: %w", id, err)
	}
	return p, nil
}
