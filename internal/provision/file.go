package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
)

// File is a declarative provisioning file (--provision datasets.yaml):
// the datasets a server must have. Applying it is idempotent: a dataset is
// found by its id when the file pins one, else by name, and is added,
// updated or left alone. Datasets not in the file are left alone.
type File struct {
	Datasets []FileDataset `yaml:"datasets"`
}

// FileDataset is one dataset of a provisioning file.
type FileDataset struct {
	// ID pins the dataset's id, so it is the same on every replica and
	// after a catalog is rebuilt. Optional.
	ID          int64                 `yaml:"id"`
	Name        string                `yaml:"name"`
	Description string                `yaml:"description"`
	Driver      string                `yaml:"driver"`
	DSN         string                `yaml:"dsn"`
	Roles       catalog.Roles         `yaml:"roles"`
	Limits      FileLimits            `yaml:"limits"`
	Dictionary  []catalog.Description `yaml:"dictionary"`
	// DictionaryFile is a CSV or YAML data dictionary, relative to the
	// provisioning file.
	DictionaryFile string `yaml:"dictionary_file"`
	// Replicas are read replicas' connection strings (postgres only);
	// ReplicaFallback is "primary" (default) or "none"; MaxReplicaLag
	// skips a replica further behind.
	Replicas        []string      `yaml:"replicas"`
	ReplicaFallback string        `yaml:"replica_fallback"`
	MaxReplicaLag   time.Duration `yaml:"max_replica_lag"`
}

// FileLimits are catalog.Limits spelled for YAML.
type FileLimits struct {
	RawRows        int           `yaml:"raw_rows"`
	AggregatedRows int           `yaml:"aggregated_rows"`
	QueryTimeout   time.Duration `yaml:"query_timeout"`
	PoolMaxConns   int           `yaml:"pool_max_conns"`
	MinCell        *int          `yaml:"min_cell"`
	// WorkMem and MaxParallelWorkersPerGather are set on the server's
	// connections to the dataset (postgres only).
	WorkMem                     string `yaml:"work_mem"`
	MaxParallelWorkersPerGather *int   `yaml:"max_parallel_workers_per_gather"`
}

// FileStore is what applying a provisioning file needs of a catalog store.
type FileStore interface {
	List(ctx context.Context) ([]catalog.Dataset, error)
	Add(ctx context.Context, d catalog.Dataset) (catalog.Dataset, error)
	Update(ctx context.Context, d catalog.Dataset) error
	SetDescriptions(ctx context.Context, datasetID int64, ds []catalog.Description) error
}

// ParseFile decodes a provisioning file after expanding ${VAR} from
// environ (a reference to an unset variable is an error, so a secret is
// never silently empty). Unknown keys are errors.
func ParseFile(data []byte, environ []string) (File, error) {
	expanded, err := config.Expand(data, environ)
	if err != nil {
		return File{}, err
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return File{}, fmt.Errorf("decode yaml: %w", err)
	}
	names, ids := map[string]bool{}, map[int64]bool{}
	var errs []error
	for i, d := range f.Datasets {
		ds := d.dataset()
		if err := ds.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("dataset %d (%q): %w", i+1, d.Name, err))
		}
		if names[d.Name] || d.ID != 0 && ids[d.ID] {
			errs = append(errs, fmt.Errorf("dataset %d (%q): name or id repeated", i+1, d.Name))
		}
		names[d.Name], ids[d.ID] = true, true
	}
	return f, errors.Join(errs...)
}

func (d FileDataset) dataset() catalog.Dataset {
	return catalog.Dataset{ID: d.ID, Name: d.Name, Description: d.Description, Driver: d.Driver, DSN: d.DSN,
		Settings: catalog.Settings{
			Roles:    d.Roles,
			Limits:   catalog.Limits(d.Limits),
			Replicas: catalog.Replicas{DSNs: d.Replicas, Fallback: d.ReplicaFallback, MaxLag: d.MaxReplicaLag},
		}}
}

// Change is what applying a file did to one dataset.
type Change struct {
	ID     int64
	Name   string
	Action string // "added", "updated" or "unchanged"
}

// ApplyFile reads the provisioning file at path and applies it.
func ApplyFile(ctx context.Context, store FileStore, path string, environ []string) ([]Change, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read provisioning file: %w", err)
	}
	f, err := ParseFile(data, environ)
	if err != nil {
		return nil, fmt.Errorf("provisioning file %s: %w", path, err)
	}
	return Apply(ctx, store, f, filepath.Dir(path))
}

// Apply makes the catalog hold f's datasets. dir resolves relative
// dictionary files. Replicas applying the same file at once converge: an
// add that loses a race to another replica becomes an update.
func Apply(ctx context.Context, store FileStore, f File, dir string) ([]Change, error) {
	var out []Change
	for _, fd := range f.Datasets {
		dict := fd.Dictionary
		if fd.DictionaryFile != "" {
			path := fd.DictionaryFile
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			r, err := os.Open(path)
			if err != nil {
				return out, fmt.Errorf("dataset %q: %w", fd.Name, err)
			}
			format := strings.TrimPrefix(filepath.Ext(path), ".")
			more, err := catalog.ParseDictionary(r, format)
			r.Close()
			if err != nil {
				return out, fmt.Errorf("dataset %q: %s: %w", fd.Name, fd.DictionaryFile, err)
			}
			dict = append(dict, more...)
		}
		ch, err := applyOne(ctx, store, fd.dataset())
		if err != nil {
			return out, err
		}
		if len(dict) > 0 {
			if err := store.SetDescriptions(ctx, ch.ID, dict); err != nil {
				return out, fmt.Errorf("dataset %q: %w", fd.Name, err)
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

func applyOne(ctx context.Context, store FileStore, want catalog.Dataset) (Change, error) {
	for attempt := 0; ; attempt++ {
		list, err := store.List(ctx)
		if err != nil {
			return Change{}, err
		}
		var have *catalog.Dataset
		for i, d := range list {
			if want.ID != 0 && d.ID == want.ID || want.ID == 0 && d.Name == want.Name {
				have = &list[i]
				break
			}
		}
		if have == nil {
			d, err := store.Add(ctx, want)
			if err != nil && attempt == 0 && errors.Is(err, catalog.ErrExists) {
				continue // another replica added it first
			}
			if err != nil {
				return Change{}, fmt.Errorf("provision dataset %q: %w", want.Name, err)
			}
			return Change{ID: d.ID, Name: d.Name, Action: "added"}, nil
		}
		want.ID = have.ID
		if same(*have, want) {
			return Change{ID: have.ID, Name: have.Name, Action: "unchanged"}, nil
		}
		if err := store.Update(ctx, want); err != nil {
			return Change{}, fmt.Errorf("provision dataset %q: %w", want.Name, err)
		}
		return Change{ID: want.ID, Name: want.Name, Action: "updated"}, nil
	}
}

func same(a, b catalog.Dataset) bool {
	return a.Name == b.Name && a.Description == b.Description && a.Driver == b.Driver && a.DSN == b.DSN &&
		reflect.DeepEqual(a.Settings, b.Settings)
}
