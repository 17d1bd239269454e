package analysis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// dateRanges lists the periods of h's date columns with their tables'
// grain.
func dateRanges(h *dataset.Handle) []result.DateRangeInfo {
	grain := map[string]string{}
	for _, t := range h.Tables {
		grain[t.Name] = h.Roles.Grain(t)
	}
	var out []result.DateRangeInfo
	for _, r := range h.DateRanges {
		if r.From == "" {
			continue
		}
		out = append(out, result.DateRangeInfo{Table: r.Table, Column: r.Column, Grain: grain[r.Table], From: r.From, To: r.To})
	}
	return out
}

// profileStatus says when and how a dataset was profiled.
func profileStatus(h *dataset.Handle) string {
	if h.Profile == nil {
		return "not profiled"
	}
	return fmt.Sprintf("profiled %s (%s)", h.Profile.ProfiledAt.UTC().Format("2006-01-02 15:04 UTC"), h.Profile.Method)
}

// Datasets describes every dataset, opening them concurrently with a
// bounded wait so one unreachable database does not hold the others up.
func (s *Service) Datasets(ctx context.Context) result.DatasetList {
	list := s.reg.List(ctx)
	out := result.DatasetList{Datasets: make([]result.DatasetInfo, len(list))}
	var wg sync.WaitGroup
	for i, d := range list {
		out.Datasets[i] = result.DatasetInfo{ID: d.ID, Name: d.Name, Description: d.Description, Driver: d.Driver, Tables: []string{}, Rows: -1, Profile: "unknown"}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			h, err := s.reg.Open(ctx, d.ID)
			if err != nil {
				// The message already says the dataset is unavailable, and why.
				out.Datasets[i].Status = s.message(ctx, err, Request{DatasetID: d.ID})
				return
			}
			defer h.Release()
			info := &out.Datasets[i]
			info.Status = "ready"
			info.Profile = profileStatus(h)
			info.DateColumns = h.Roles.DateColumns
			for _, t := range h.Tables {
				info.Tables = append(info.Tables, t.Name)
				if t.Name == h.Roles.WeightsTable {
					info.Rows = rowEstimate(h, t)
				}
			}
			if h.Roles.WeightColumn != "" {
				info.WeightColumn = h.Roles.WeightsTable + "." + h.Roles.WeightColumn
			}
			info.RespondentKey = h.Roles.RespondentKey
			info.NCCSColumn = h.Roles.NCCSColumn
			info.DateFrom, info.DateTo = h.DateRange[0], h.DateRange[1]
			info.DateRanges = dateRanges(h)
		}()
	}
	wg.Wait()
	return out
}

// rowEstimate is the database's estimate of a table's rows, or the
// profile's when the database has none.
func rowEstimate(h *dataset.Handle, t source.Table) int64 {
	if t.RowEstimate >= 0 || h.Profile == nil {
		return t.RowEstimate
	}
	if tp, ok := h.Profile.Table(t.Name); ok {
		return tp.RowEstimate
	}
	return t.RowEstimate
}

// Sample returns up to min(limit, raw row limit) rows of a table
// (get_dataset_sample). NCCS labels are merged as in any raw query.
func (s *Service) Sample(ctx context.Context, id int64, table string, limit int) result.Result {
	req := Request{DatasetID: id, Label: table, MergeNCCS: true}
	h, err := s.reg.Open(ctx, id)
	if err != nil {
		return result.Result{DatasetID: id, Error: s.message(ctx, err, req), Columns: []result.Column{}, Rows: [][]any{}}
	}
	names := make([]string, len(h.Tables))
	var found string
	for i, t := range h.Tables {
		names[i] = t.Name
		if strings.EqualFold(t.Name, table) {
			found = t.Name
		}
	}
	rawCap := h.Limits.RawRows
	h.Release()
	if found == "" {
		slices.Sort(names)
		return result.Result{DatasetID: id, Dataset: h.Dataset.Name, Columns: []result.Column{}, Rows: [][]any{},
			Error: fmt.Sprintf("table %q not found in dataset %d; its tables are: %s", table, id, strings.Join(names, ", "))}
	}
	if limit <= 0 {
		limit = 10
	}
	req.Query = "SELECT * FROM " + source.QuoteIdent(found)
	req.MaxRows = min(limit, rawCap)
	r := s.Query(ctx, req)
	r.Query = ""
	// A sample is a few rows of a larger table by design: the raw-query
	// "showing 5 of more than 5 rows" note would only confuse.
	r.Truncated = false
	if r.OK && limit > rawCap {
		r.Notes = append(r.Notes, fmt.Sprintf("Samples are limited to %d rows (the raw row limit); you asked for %d. Use GROUP BY queries to see the whole table in aggregate.", rawCap, limit))
	}
	return r
}

// result.Schema describes a dataset's tables with their grain and column roles.
func (s *Service) Schema(ctx context.Context, id int64) (result.Schema, error) {
	h, err := s.reg.Open(ctx, id)
	if err != nil {
		return result.Schema{}, &InputError{Message: s.message(ctx, err, Request{DatasetID: id})}
	}
	defer h.Release()
	out := result.Schema{DatasetID: id, Dataset: h.Dataset.Name, Description: h.Dataset.Description,
		RespondentKey: h.Roles.RespondentKey, NCCSColumn: h.Roles.NCCSColumn, WeightScale: h.Roles.WeightScale,
		DateFrom: h.DateRange[0], DateTo: h.DateRange[1], Profile: profileStatus(h), Tables: []result.TableInfo{}}
	if h.Roles.WeightColumn != "" {
		out.WeightColumn = h.Roles.WeightsTable + "." + h.Roles.WeightColumn
	}
	for _, t := range h.Tables {
		ti := result.TableInfo{Name: t.Name, Description: h.Descriptions[t.Name], Grain: h.Roles.Grain(t), RowEstimate: rowEstimate(h, t)}
		ti.DateFrom, ti.DateTo, _ = h.TableDates(t.Name)
		var tc catalog.TableCodebook
		if h.Codebook != nil {
			tc, _ = h.Codebook.Table(t.Name)
			if tc.Source != "" {
				ti.Source = tc.Source
			}
		}
		for _, c := range t.Columns {
			ci := result.ColumnInfo{Name: c.Name, Type: c.Type, Nullable: c.Nullable, Role: h.Roles.ColumnRole(t.Name, c),
				Description: h.Descriptions[t.Name+"."+c.Name], Unit: h.Units[t.Name+"."+c.Name]}
			for _, r := range h.DateRanges {
				if r.Table == t.Name && r.Column == c.Name {
					ci.DateFrom, ci.DateTo = r.From, r.To
				}
			}
			if v, ok := tc.Variable(c.Name); ok {
				ci.Measure, ci.Missing, ci.Codes = v.Measure, v.Missing, v.CodeColumn
				for _, l := range v.Values {
					ci.Values = append(ci.Values, result.ValueLabel{Code: l.Code, Label: l.Label})
				}
				if ci.Description == "" {
					ci.Description = v.Describe()
				}
			}
			ti.Columns = append(ti.Columns, ci)
		}
		out.Tables = append(out.Tables, ti)
	}
	return out, nil
}
