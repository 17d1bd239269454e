package catalog

import (
	"context"
	"time"
)

// Store persists the catalog. Connection strings are sealed at rest: a
// Store takes and returns them in plaintext and encrypts them itself.
// Every change to a dataset, its profile or its descriptions changes
// Version, so a process that polls Version sees changes made by others.
// The store also keeps the query log and the API tokens, which do not
// change Version.
type Store interface {
	// List returns every dataset, by id.
	List(ctx context.Context) ([]Dataset, error)
	// Get returns one dataset, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id int64) (Dataset, error)
	// Add stores a new dataset and returns it with its id. A non-zero
	// d.ID is kept (provisioning files pin ids so they are stable).
	Add(ctx context.Context, d Dataset) (Dataset, error)
	// Update replaces a dataset's fields (all but its id and creation time).
	Update(ctx context.Context, d Dataset) error
	// Remove deletes a dataset with its profile and descriptions.
	Remove(ctx context.Context, id int64) error
	// Version changes whenever anything in the catalog changes.
	Version(ctx context.Context) (int64, error)
	// Meta returns a stored flag or setting ("" when unset).
	Meta(ctx context.Context, key string) (string, error)
	// SetMeta stores a flag or setting.
	SetMeta(ctx context.Context, key, value string) error
	// SaveProfile stores a dataset's profile, replacing the previous one.
	SaveProfile(ctx context.Context, p Profile) error
	// Profile returns a dataset's stored profile, or an error wrapping
	// ErrNotFound when it was never profiled.
	Profile(ctx context.Context, datasetID int64) (Profile, error)
	// SetDescriptions stores descriptions of a dataset's tables and
	// columns, with their units, replacing those of the same table and
	// column; an entry whose description and unit are both empty deletes
	// one.
	SetDescriptions(ctx context.Context, datasetID int64, ds []Description) error
	// Descriptions returns a dataset's descriptions by table and column.
	Descriptions(ctx context.Context, datasetID int64) ([]Description, error)
	// SaveImport stores an imported dataset in one transaction: d is
	// added when d.ID is 0 and updated otherwise, its codebook replaced by
	// cb, and ds set as SetDescriptions sets them. Either all of it is
	// stored or none, so a failed import leaves no catalog row and a
	// re-import never pairs the new file with the old codebook.
	SaveImport(ctx context.Context, d Dataset, cb Codebook, ds []Description) (Dataset, error)
	// Codebook returns a dataset's codebook, or an error wrapping
	// ErrNotFound when it has none (it was not imported from files).
	Codebook(ctx context.Context, datasetID int64) (Codebook, error)
	// Close releases the store's connections.
	Close() error

	QueryLog
	Tokens
}

// Description is one entry of a data dictionary: what a column (or, with
// Column empty, a table) means, and the unit of the column's values.
type Description struct {
	Table       string `json:"table" yaml:"table"`
	Column      string `json:"column,omitempty" yaml:"column"`
	Description string `json:"description" yaml:"description"`
	// Unit is what the column's values are counted in: a currency ("₹",
	// "INR", "$") or another unit ("min"). Answers show money with it
	// (₹1,774.45), also in the sums and means made of the column. "" means
	// none.
	Unit string `json:"unit,omitempty" yaml:"unit"`
}

// Profile summarises a dataset's contents for the model: per table its size
// and grain, per column its nulls, distinct values, top values and range.
type Profile struct {
	DatasetID  int64          `json:"dataset_id"`
	ProfiledAt time.Time      `json:"profiled_at"`
	Method     string         `json:"method"` // e.g. "pg_stats", "duckdb summarize", "sample of 10,000 rows"
	DateFrom   string         `json:"date_from,omitempty"`
	DateTo     string         `json:"date_to,omitempty"`
	Tables     []TableProfile `json:"tables"`
}

// Table returns the profile of the named table.
func (p Profile) Table(name string) (TableProfile, bool) {
	for _, t := range p.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return TableProfile{}, false
}

// TableProfile is the profile of one table.
type TableProfile struct {
	Name        string          `json:"name"`
	Grain       string          `json:"grain"` // "user level", "event level" or "reference"
	RowEstimate int64           `json:"row_estimate"`
	Columns     []ColumnProfile `json:"columns"`
}

// Column returns the profile of the named column.
func (t TableProfile) Column(name string) (ColumnProfile, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return ColumnProfile{}, false
}

// ColumnProfile is the profile of one column. Values are shown as text.
type ColumnProfile struct {
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	NullShare float64 `json:"null_share"`
	// Distinct is the estimated number of distinct values, -1 when unknown.
	Distinct int64 `json:"distinct"`
	// Top holds the most common values with their shares of all rows, for
	// categorical columns (at most 50 distinct values).
	Top []ValueShare `json:"top,omitempty"`
	Min string       `json:"min,omitempty"`
	Max string       `json:"max,omitempty"`
}

// ValueShare is one value and its share of rows (0..1).
type ValueShare struct {
	Value string  `json:"value"`
	Share float64 `json:"share"`
}

// MaxCategorical is the largest number of distinct values for which a
// column's top values are profiled.
const MaxCategorical = 50
