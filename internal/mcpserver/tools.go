package mcpserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// ListIn is list_available_datasets' input: it takes none.
type ListIn struct{}

func (h *handlers) listDatasets(ctx context.Context, _ *mcp.CallToolRequest, _ ListIn) (*mcp.CallToolResult, result.DatasetList, error) {
	list := h.svc.Datasets(ctx)
	return text(render.Datasets(list, h.render), false), list, nil
}

// SchemaIn is get_dataset_schema's input.
type SchemaIn struct {
	DatasetID int64 `json:"dataset_id" jsonschema:"id of the dataset, from list_available_datasets"`
}

func (h *handlers) getSchema(ctx context.Context, _ *mcp.CallToolRequest, in SchemaIn) (*mcp.CallToolResult, result.Schema, error) {
	noteOf(ctx).datasetID = in.DatasetID
	sc, err := h.svc.Schema(ctx, in.DatasetID)
	if err != nil {
		return text("**Error**: "+err.Error(), true), result.Schema{DatasetID: in.DatasetID, Tables: []result.TableInfo{}}, nil
	}
	return text(render.Schema(sc, h.render), false), sc, nil
}

// QueryIn is query_dataset's input.
type QueryIn struct {
	DatasetID    int64  `json:"dataset_id" jsonschema:"id of the dataset, from list_available_datasets"`
	Query        string `json:"query" jsonschema:"one read-only SELECT statement (PostgreSQL syntax); aggregate with GROUP BY to see more than 5 rows"`
	ApplyWeights *bool  `json:"apply_weights,omitempty" jsonschema:"add survey-weighted figures to aggregated queries (default true)"`
	MergeNCCS    *bool  `json:"merge_nccs,omitempty" jsonschema:"report NCCS classes merged: A1 and A as A, C/D/E together (default true)"`
	ShowSQL      bool   `json:"show_sql,omitempty" jsonschema:"also return the SQL that was sent, after weighting and row caps, also when the query fails (default false)"`
	// StandardErrors asks for the standard errors of counts, shares and reach.
	StandardErrors bool `json:"standard_errors,omitempty" jsonschema:"also add standard errors of weighted counts, shares and reach as R's survey package computes them (default false; means always get theirs)"`
	Compare
}

// Compare holds the options of totals and significance tests, shared by
// query_dataset and execute_multi_query.
type Compare struct {
	Totals     *bool    `json:"totals,omitempty" jsonschema:"add a Total row (a Total column in a crosstab) to grouped weighted answers, marked is_total (default true)"`
	CompareBy  string   `json:"compare_by,omitempty" jsonschema:"a grouping column whose groups to compare: a crosstab's column %, reach or a mean (AVG) per group get significance letters, A, B, C… for the groups in sort order; a letter on a figure means it is significantly higher than that group's (in execute_multi_query: every entry that groups by it)"`
	Alpha      *float64 `json:"alpha,omitempty" jsonschema:"significance level of the compare_by tests (default 0.05)"`
	Correction string   `json:"correction,omitempty" jsonschema:"multiple-comparison correction of the compare_by tests within a row: none (default) or bonferroni"`
}

// logged adds the options to what the query log records of a call.
func (c Compare) logged(o catalog.QueryOptions) catalog.QueryOptions {
	o.Totals, o.CompareBy, o.Correction = orTrue(c.Totals), c.CompareBy, c.Correction
	if c.Alpha != nil {
		o.Alpha = *c.Alpha
	}
	return o
}

// apply copies the options into a request.
func (c Compare) apply(r *analysis.Request) {
	r.Totals = orTrue(c.Totals)
	r.CompareBy = c.CompareBy
	if c.Alpha != nil {
		r.Alpha = *c.Alpha
	}
	r.Correction = c.Correction
}

func (h *handlers) queryDataset(ctx context.Context, _ *mcp.CallToolRequest, in QueryIn) (*mcp.CallToolResult, result.Result, error) {
	req := analysis.Request{
		DatasetID: in.DatasetID, Query: in.Query,
		ApplyWeights: orTrue(in.ApplyWeights), MergeNCCS: orTrue(in.MergeNCCS), ShowSQL: in.ShowSQL,
		StandardErrors: in.StandardErrors,
	}
	in.Compare.apply(&req)
	r := h.svc.Query(ctx, req)
	n := noteOf(ctx)
	n.options = in.Compare.logged(catalog.QueryOptions{ApplyWeights: orTrue(in.ApplyWeights), MergeNCCS: orTrue(in.MergeNCCS), ShowSQL: in.ShowSQL, StandardErrors: in.StandardErrors})
	n.results = []result.Result{r}
	md := render.Single(r, h.render)
	render.CapStructured(&r, h.render)
	return text(md, !r.OK), r, nil
}

// SampleIn is get_dataset_sample's input.
type SampleIn struct {
	DatasetID int64  `json:"dataset_id" jsonschema:"id of the dataset, from list_available_datasets"`
	TableName string `json:"table_name" jsonschema:"table to sample, from get_dataset_schema"`
	Limit     *int   `json:"limit,omitempty" jsonschema:"rows wanted (default 10); at most the raw row limit (5) are returned"`
}

func (h *handlers) getSample(ctx context.Context, _ *mcp.CallToolRequest, in SampleIn) (*mcp.CallToolResult, result.Result, error) {
	limit := 10
	if in.Limit != nil {
		limit = *in.Limit
	}
	if limit < 1 {
		r := result.Result{DatasetID: in.DatasetID, Label: in.TableName, Columns: []result.Column{}, Rows: [][]any{},
			Error: fmt.Sprintf("limit must be at least 1, not %d", limit)}
		return text(render.Single(r, h.render), true), r, nil
	}
	r := h.svc.Sample(ctx, in.DatasetID, in.TableName, limit)
	n := noteOf(ctx)
	n.options, n.label, n.results = catalog.QueryOptions{Limit: limit}, in.TableName, []result.Result{r}
	md := render.Single(r, h.render)
	render.CapStructured(&r, h.render)
	return text(md, !r.OK), r, nil
}

// MultiQuery is one entry of execute_multi_query. Its fields are optional
// in the schema so that a missing one is reported with the seed's message,
// naming the entry.
type MultiQuery struct {
	DatasetID *int64  `json:"dataset_id,omitempty" jsonschema:"id of the dataset (required)"`
	Query     *string `json:"query,omitempty" jsonschema:"one read-only SELECT statement (required)"`
	Label     string  `json:"label,omitempty" jsonschema:"a short title for this result, e.g. Gender Distribution"`
	CompareBy string  `json:"compare_by,omitempty" jsonschema:"a grouping column of this query whose groups to compare (significance letters); overrides the call's compare_by"`
}

// MultiIn is execute_multi_query's input.
type MultiIn struct {
	Queries        []MultiQuery `json:"queries,omitempty" jsonschema:"1 to 30 queries, each with dataset_id, query and an optional label; they run in parallel"`
	ApplyWeights   *bool        `json:"apply_weights,omitempty" jsonschema:"add survey-weighted figures to aggregated queries (default true)"`
	MergeNCCS      *bool        `json:"merge_nccs,omitempty" jsonschema:"report NCCS classes merged (default true)"`
	ShowSQL        bool         `json:"show_sql,omitempty" jsonschema:"also return the SQL that was sent, also for queries that fail (default false)"`
	StandardErrors bool         `json:"standard_errors,omitempty" jsonschema:"also add standard errors of weighted counts, shares and reach (default false; means always get theirs)"`
	Compare
}

func (h *handlers) executeMulti(ctx context.Context, _ *mcp.CallToolRequest, in MultiIn) (*mcp.CallToolResult, result.Multi, error) {
	reqs := make([]analysis.Request, len(in.Queries))
	for i, q := range in.Queries {
		reqs[i] = analysis.Request{Label: q.Label, ApplyWeights: orTrue(in.ApplyWeights), MergeNCCS: orTrue(in.MergeNCCS),
			ShowSQL: in.ShowSQL, StandardErrors: in.StandardErrors}
		in.Compare.apply(&reqs[i])
		// A call-wide compare_by compares the entries that group by it; an
		// entry's own compare_by must apply.
		reqs[i].CompareByIfGrouped = in.CompareBy != ""
		if q.CompareBy != "" {
			reqs[i].CompareBy, reqs[i].CompareByIfGrouped = q.CompareBy, false
		}
		if q.DatasetID != nil {
			reqs[i].DatasetID = *q.DatasetID
		}
		if q.Query != nil {
			reqs[i].Query = *q.Query
		}
	}
	n := noteOf(ctx)
	n.multi = true
	n.options = in.Compare.logged(catalog.QueryOptions{ApplyWeights: orTrue(in.ApplyWeights), MergeNCCS: orTrue(in.MergeNCCS), ShowSQL: in.ShowSQL, StandardErrors: in.StandardErrors})
	m, err := h.svc.Multi(ctx, reqs)
	n.results = m.Results
	if err != nil {
		var inputErr *analysis.InputError
		if !errors.As(err, &inputErr) {
			return nil, result.Multi{}, err
		}
		m = result.Multi{Results: []result.Result{}, Total: len(reqs)}
		return text("Error: "+inputErr.Message, true), m, nil
	}
	md := render.Multi(m, h.render)
	render.CapStructuredMulti(&m, h.render)
	return text(md, m.Succeeded == 0), m, nil
}

// ContextIn is get_context's input.
type ContextIn struct {
	Level     int    `json:"level,omitempty" jsonschema:"0 rules, 1 datasets, 2 schema of dataset_id, 3 profiles, samples and example queries (default 0)"`
	DatasetID int64  `json:"dataset_id,omitempty" jsonschema:"dataset to describe at levels 2 and 3"`
	TableName string `json:"table_name,omitempty" jsonschema:"at level 3, describe only this table"`
}

func (h *handlers) getContext(ctx context.Context, _ *mcp.CallToolRequest, in ContextIn) (*mcp.CallToolResult, result.Context, error) {
	noteOf(ctx).datasetID = in.DatasetID
	doc, err := h.svc.Context(ctx, in.Level, in.DatasetID, in.TableName)
	if err != nil {
		return text("**Error**: "+err.Error(), true), result.Context{Level: in.Level}, nil
	}
	render.Context(&doc)
	return text(doc.Markdown, false), doc, nil
}
