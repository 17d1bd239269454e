package admin

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// datasetRow is one line of the datasets page.
type datasetRow struct {
	result.DatasetInfo
	Connection string // redacted
	Ready      bool
}

type datasetsData struct {
	Rows []datasetRow
}

// datasetsPage lists the datasets with what list_available_datasets says
// of them (it opens each, with a bounded wait).
func (c *Console) datasetsPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	stored, err := c.opts.Store.List(ctx)
	if err != nil {
		c.log.ErrorContext(ctx, "list datasets", "err", err)
		c.fail(w, r, s, http.StatusServiceUnavailable, "The catalog cannot be read right now; try again shortly.")
		return
	}
	conn := map[int64]string{}
	for _, d := range stored {
		conn[d.ID] = redactedConnection(d)
	}
	var data datasetsData
	for _, info := range c.opts.Service.Datasets(ctx).Datasets {
		data.Rows = append(data.Rows, datasetRow{DatasetInfo: info, Connection: conn[info.ID], Ready: info.Status == "ready"})
	}
	c.render(w, r, s, http.StatusOK, "datasets", "Datasets", data)
}

// redactedConnection shows where a dataset lives without its secrets: the
// password is masked and, for a URL, the query string is dropped.
func redactedConnection(d catalog.Dataset) string {
	red := catalog.RedactDSN(d.DSN)
	if q := strings.IndexByte(red, '?'); q >= 0 && d.Driver == catalog.DriverPostgres {
		red = red[:q] + "?…"
	}
	if n := len(d.Settings.Replicas.DSNs); n > 0 {
		red += fmt.Sprintf(" (+%d read replicas)", n)
	}
	return red
}

// datasetForm is the add and edit form as given.
type datasetForm struct {
	Name, Driver, DSN, Description                                    string
	WeightColumn, WeightsTable, RespondentKey, NCCSColumn, NCCSPreset string
	WeightScale, MinBase, RawRows, AggregatedRows, QueryTimeout       string
	MinCell                                                           string
	Dictionary                                                        string
}

func readDatasetForm(r *http.Request) datasetForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return datasetForm{Name: v("name"), Driver: v("driver"), DSN: v("dsn"), Description: strings.TrimSpace(r.PostFormValue("description")),
		WeightColumn: v("weight_column"), WeightsTable: v("weights_table"), RespondentKey: v("respondent_key"), NCCSColumn: v("nccs_column"),
		NCCSPreset: v("nccs_preset"), WeightScale: v("weight_scale"), MinBase: v("min_base"), RawRows: v("raw_rows"),
		AggregatedRows: v("aggregated_rows"), QueryTimeout: v("query_timeout"), MinCell: v("min_cell"), Dictionary: r.PostFormValue("dictionary")}
}

// formOf fills the form from a stored dataset (the DSN is left out: it is
// never shown back).
func formOf(d catalog.Dataset, dict []catalog.Description) datasetForm {
	r, l := d.Settings.Roles, d.Settings.Limits
	f := datasetForm{Name: d.Name, Driver: d.Driver, Description: d.Description, WeightColumn: r.WeightColumn, WeightsTable: r.WeightsTable,
		RespondentKey: r.RespondentKey, NCCSColumn: r.NCCSColumn, NCCSPreset: r.NCCSPreset}
	if r.WeightScale != 0 {
		f.WeightScale = strconv.FormatFloat(r.WeightScale, 'g', -1, 64)
	}
	if r.MinBase != 0 {
		f.MinBase = strconv.Itoa(r.MinBase)
	}
	if l.RawRows != 0 {
		f.RawRows = strconv.Itoa(l.RawRows)
	}
	if l.AggregatedRows != 0 {
		f.AggregatedRows = strconv.Itoa(l.AggregatedRows)
	}
	if l.QueryTimeout != 0 {
		f.QueryTimeout = l.QueryTimeout.String()
	}
	if l.MinCell != nil {
		f.MinCell = strconv.Itoa(*l.MinCell)
	}
	f.Dictionary = dictionaryCSV(dict)
	return f
}

// apply sets d's editable fields from the form, collecting problems. With
// dsnOptional an empty DSN keeps d's.
func (f datasetForm) apply(d *catalog.Dataset, dsnOptional bool) []string {
	var problems []string
	d.Name, d.Description = f.Name, f.Description
	if f.Driver != "" || !dsnOptional {
		d.Driver = f.Driver
	}
	if f.DSN != "" || !dsnOptional {
		d.DSN = f.DSN
	}
	if len(d.Description) > 4000 {
		problems = append(problems, "Description: at most 4,000 characters")
	}
	r, l := &d.Settings.Roles, &d.Settings.Limits
	r.WeightColumn, r.WeightsTable, r.RespondentKey, r.NCCSColumn, r.NCCSPreset = f.WeightColumn, f.WeightsTable, f.RespondentKey, f.NCCSColumn, f.NCCSPreset
	num := func(label, v string, min int, dst *int) {
		*dst = 0
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			problems = append(problems, fmt.Sprintf("%s: a whole number of at least %d, not %q", label, min, v))
			return
		}
		*dst = n
	}
	num("Raw row limit", f.RawRows, 1, &l.RawRows)
	num("Aggregated row limit", f.AggregatedRows, 1, &l.AggregatedRows)
	num("Minimum base", f.MinBase, 0, &r.MinBase)
	l.MinCell = nil
	if f.MinCell != "" {
		var n int
		num("Minimum cell", f.MinCell, 0, &n)
		l.MinCell = &n
	}
	r.WeightScale = 0
	if f.WeightScale != "" {
		x, err := strconv.ParseFloat(f.WeightScale, 64)
		if err != nil || x <= 0 {
			problems = append(problems, fmt.Sprintf("Weight scale: a positive number, not %q", f.WeightScale))
		}
		r.WeightScale = x
	}
	l.QueryTimeout = 0
	if f.QueryTimeout != "" {
		t, err := time.ParseDuration(f.QueryTimeout)
		if err != nil || t <= 0 || t > time.Hour {
			problems = append(problems, fmt.Sprintf("Query timeout: a duration such as 30s or 2m (at most 1h), not %q", f.QueryTimeout))
		}
		l.QueryTimeout = t
	}
	if err := d.Validate(); err != nil {
		for _, e := range strings.Split(err.Error(), "\n") {
			problems = append(problems, capitalize(e))
		}
	}
	return problems
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// dictionaryCSV writes a data dictionary as the CSV the form edits.
func dictionaryCSV(ds []catalog.Description) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"table", "column", "description", "unit"})
	for _, d := range ds {
		_ = w.Write([]string{d.Table, d.Column, d.Description, d.Unit})
	}
	w.Flush()
	return b.String()
}

// parseDictionary reads the form's CSV and returns the entries to store:
// those given, plus an empty entry (a deletion) for each stored one the
// CSV no longer lists.
func parseDictionary(text string, stored []catalog.Description) ([]catalog.Description, error) {
	text = strings.TrimSpace(text)
	var ds []catalog.Description
	if text != "" {
		var err error
		if ds, err = catalog.ParseDictionary(strings.NewReader(text+"\n"), "csv"); err != nil {
			return nil, err
		}
	}
	kept := map[[2]string]bool{}
	for _, d := range ds {
		kept[[2]string{d.Table, d.Column}] = true
	}
	for _, d := range stored {
		if !kept[[2]string{d.Table, d.Column}] {
			ds = append(ds, catalog.Description{Table: d.Table, Column: d.Column})
		}
	}
	return ds, nil
}

type datasetFormData struct {
	ID       int64
	Form     datasetForm
	Problems []string
	// Connection is the stored connection string, redacted (edit form).
	Connection string
	Tested     string // the connection test's outcome
}

func (d datasetFormData) FormError() string { return strings.Join(d.Problems, "; ") }

func (c *Console) datasetNewPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, http.StatusOK, "datasetnew", "Add a dataset", datasetFormData{Form: datasetForm{Driver: catalog.DriverPostgres}})
}

// datasetAdd tests the connection before it saves: a dataset that cannot
// be reached is not added (the form says why, without the DSN).
func (c *Console) datasetAdd(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	f := readDatasetForm(r)
	var d catalog.Dataset
	problems := f.apply(&d, false)
	// The DSN is never sent back: the form is shown again without it.
	f.DSN = ""
	if len(problems) == 0 {
		for _, o := range mustList(c, ctx) {
			if strings.EqualFold(o.Name, d.Name) {
				problems = append(problems, fmt.Sprintf("Name: dataset %d is already called %q", o.ID, o.Name))
			}
		}
	}
	if len(problems) == 0 {
		if summary, err := c.testConnection(ctx, d); err != nil {
			problems = append(problems, "Connection test failed: "+err.Error()+" (re-enter the connection string)")
		} else {
			c.log.InfoContext(ctx, "connection test passed", "summary", summary)
		}
	}
	if len(problems) > 0 {
		c.render(w, r, s, http.StatusBadRequest, "datasetnew", "Add a dataset", datasetFormData{Form: f, Problems: problems})
		return
	}
	added, err := c.opts.Store.Add(ctx, d)
	if err != nil {
		c.log.ErrorContext(ctx, "add dataset", "err", err)
		c.render(w, r, s, http.StatusServiceUnavailable, "datasetnew", "Add a dataset", datasetFormData{Form: f, Problems: []string{"The dataset could not be stored; try again shortly."}})
		return
	}
	if strings.TrimSpace(f.Dictionary) != "" {
		if ds, err := parseDictionary(f.Dictionary, nil); err == nil {
			_ = c.opts.Store.SetDescriptions(ctx, added.ID, ds)
		}
	}
	c.event(ctx, s, ActionDatasetAdded, added, "added dataset %d %q (%s, %s)", added.ID, added.Name, added.Driver, redactedConnection(added))
	c.refresh(ctx)
	http.Redirect(w, r, fmt.Sprintf("%s/datasets/%d?done=added", Prefix, added.ID), http.StatusSeeOther)
}

func mustList(c *Console, ctx context.Context) []catalog.Dataset {
	l, _ := c.opts.Store.List(ctx)
	return l
}

// refresh makes this server's registry see a change at once (others see
// it at their next catalog poll).
func (c *Console) refresh(ctx context.Context) {
	if err := c.opts.Registry.Refresh(ctx); err != nil {
		c.log.WarnContext(ctx, "refresh datasets after an admin change", "err", err)
	}
}

// testConnection opens d's source briefly and lists its tables, as
// 'datasets add' does. The error names no connection string.
func (c *Console) testConnection(ctx context.Context, d catalog.Dataset) (string, error) {
	timeout := c.opts.Limits.ConnectTimeout
	if timeout <= 0 || timeout > 5*time.Second {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+10*time.Second)
	defer cancel()
	limits := c.opts.Limits
	limits.ConnectTimeout, limits.PoolMinConns = timeout, 0
	src, err := dataset.SourceOpener(slog.New(slog.DiscardHandler))(ctx, d, limits)
	if err != nil {
		return "", errors.New(redactedCause(err, d))
	}
	defer src.Close()
	tables, err := src.Tables(ctx)
	if err != nil {
		return "", errors.New(redactedCause(err, d))
	}
	if len(tables) == 0 {
		return "", errors.New("connected, but the database has no tables this role can read")
	}
	return fmt.Sprintf("%d tables", len(tables)), nil
}

// redactedCause is err's first line with any connection string hidden.
func redactedCause(err error, d catalog.Dataset) string {
	var unavailable *source.UnavailableError
	if errors.As(err, &unavailable) && unavailable.Err != nil {
		err = unavailable.Err
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if d.DSN != "" {
		msg = strings.ReplaceAll(msg, d.DSN, catalog.RedactDSN(d.DSN))
	}
	return catalog.RedactDSN(msg)
}

func (c *Console) datasetID(w http.ResponseWriter, r *http.Request, s *session) (catalog.Dataset, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil && id > 0 {
		d, err := c.opts.Store.Get(r.Context(), id)
		if err == nil {
			return d, true
		}
		if !errors.Is(err, catalog.ErrNotFound) {
			c.log.ErrorContext(r.Context(), "read dataset", "err", err)
			c.fail(w, r, s, http.StatusServiceUnavailable, "The catalog cannot be read right now; try again shortly.")
			return d, false
		}
	}
	c.fail(w, r, s, http.StatusNotFound, "There is no dataset with that id.")
	return catalog.Dataset{}, false
}

func (c *Console) datasetEditPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.datasetID(w, r, s)
	if !ok {
		return
	}
	dict, _ := c.opts.Store.Descriptions(r.Context(), d.ID)
	c.render(w, r, s, http.StatusOK, "datasetedit", "Edit "+d.Name, datasetFormData{ID: d.ID, Form: formOf(d, dict), Connection: redactedConnection(d)})
}

// datasetEdit saves description, roles, limits, dictionary and, when a new
// one is given (and passes the connection test), the connection string.
func (c *Console) datasetEdit(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	d, ok := c.datasetID(w, r, s)
	if !ok {
		return
	}
	f := readDatasetForm(r)
	f.Driver = d.Driver
	newDSN := f.DSN != ""
	problems := f.apply(&d, true)
	f.DSN = ""
	for _, o := range mustList(c, ctx) {
		if o.ID != d.ID && strings.EqualFold(o.Name, d.Name) {
			problems = append(problems, fmt.Sprintf("Name: dataset %d is already called %q", o.ID, o.Name))
		}
	}
	stored, _ := c.opts.Store.Descriptions(ctx, d.ID)
	dict, err := parseDictionary(f.Dictionary, stored)
	if err != nil {
		problems = append(problems, "Data dictionary: "+err.Error())
	}
	if len(problems) == 0 && newDSN {
		if _, err := c.testConnection(ctx, d); err != nil {
			problems = append(problems, "Connection test of the new connection string failed: "+err.Error())
		}
	}
	data := datasetFormData{ID: d.ID, Form: f, Problems: problems, Connection: redactedConnection(d)}
	if len(problems) > 0 {
		c.render(w, r, s, http.StatusBadRequest, "datasetedit", "Edit "+d.Name, data)
		return
	}
	if err := c.opts.Store.Update(ctx, d); err != nil {
		c.log.ErrorContext(ctx, "update dataset", "err", err)
		data.Problems = []string{"The dataset could not be saved; try again shortly."}
		c.render(w, r, s, http.StatusServiceUnavailable, "datasetedit", "Edit "+d.Name, data)
		return
	}
	if err := c.opts.Store.SetDescriptions(ctx, d.ID, dict); err != nil {
		c.log.ErrorContext(ctx, "save data dictionary", "err", err)
	}
	what := "description, roles, limits and dictionary"
	if newDSN {
		what += ", and a new connection string"
	}
	c.event(ctx, s, ActionDatasetChanged, d, "changed dataset %d %q: %s", d.ID, d.Name, what)
	c.refresh(ctx)
	http.Redirect(w, r, fmt.Sprintf("%s/datasets/%d?done=saved", Prefix, d.ID), http.StatusSeeOther)
}

func (c *Console) datasetRemovePage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.datasetID(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, s, http.StatusOK, "datasetremove", "Remove "+d.Name, d)
}

// removeData is the confirmation page with a problem.
type removeData struct {
	catalog.Dataset
	Err string
}

func (d removeData) FormError() string { return d.Err }

func (c *Console) datasetRemove(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	d, ok := c.datasetID(w, r, s)
	if !ok {
		return
	}
	if strings.TrimSpace(r.PostFormValue("confirm")) != d.Name {
		c.render(w, r, s, http.StatusBadRequest, "datasetremove", "Remove "+d.Name,
			removeData{Dataset: d, Err: "Type the dataset's name exactly to confirm the removal."})
		return
	}
	if err := c.opts.Store.Remove(ctx, d.ID); err != nil {
		c.log.ErrorContext(ctx, "remove dataset", "err", err)
		c.fail(w, r, s, http.StatusServiceUnavailable, "The dataset could not be removed right now; try again shortly.")
		return
	}
	c.event(ctx, s, ActionDatasetRemoved, d, "removed dataset %d %q (%s)", d.ID, d.Name, d.Driver)
	c.refresh(ctx)
	http.Redirect(w, r, Prefix+"/datasets?done=removed", http.StatusSeeOther)
}

// testResult is the outcome of the Test button.
type testResult struct {
	OK      bool
	Message string
	Took    string
	Tables  int
	Weight  string
	Writer  string // the role's privileges, for PostgreSQL
}

func (c *Console) datasetTest(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	d, ok := c.datasetID(w, r, s)
	if !ok {
		return
	}
	tctx, cancel := context.WithTimeout(ctx, c.opts.Limits.ConnectTimeout+10*time.Second)
	defer cancel()
	start := c.now()
	tr := testResult{}
	h, err := c.opts.Registry.Open(tctx, d.ID)
	if err != nil {
		tr.Message = "Cannot be used: " + redactedCause(err, d)
	} else {
		tr.OK, tr.Tables = true, len(h.Tables)
		tr.Took = time.Since(start).Round(time.Millisecond).String()
		if h.Roles.WeightColumn != "" {
			tr.Weight = h.Roles.WeightsTable + "." + h.Roles.WeightColumn
		}
		tr.Message = fmt.Sprintf("Connected in %s: %d tables", tr.Took, tr.Tables)
		if wr, ok := h.Source.(interface {
			CanWrite(context.Context) (bool, error)
		}); ok {
			switch can, err := wr.CanWrite(tctx); {
			case err != nil:
				tr.Writer = "could not check the role's privileges"
			case can:
				tr.Writer = "warning: this role can write; sessions are read-only, but grant it SELECT only"
			default:
				tr.Writer = "read-only role (good)"
			}
		}
		h.Release()
	}
	c.event(ctx, s, ActionDatasetTested, d, "tested dataset %d %q: %s", d.ID, d.Name, tr.Message)
	c.showDataset(w, r, s, d, &tr, "")
}

func (c *Console) datasetProfile(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	d, ok := c.datasetID(w, r, s)
	if !ok {
		return
	}
	p, err := c.opts.Registry.Reprofile(ctx, d.ID)
	if err != nil {
		c.showDataset(w, r, s, d, nil, "Profiling failed: "+redactedCause(err, d))
		return
	}
	c.event(ctx, s, ActionProfileRefresh, d, "profiled dataset %d %q (%s, %d tables)", d.ID, d.Name, p.Method, len(p.Tables))
	http.Redirect(w, r, fmt.Sprintf("%s/datasets/%d?done=profiled", Prefix, d.ID), http.StatusSeeOther)
}

// profileColumn is a column's profile with bars drawn for its top values.
type profileColumn struct {
	catalog.ColumnProfile
	Bars hbarChart
}

type profileTable struct {
	Name, Grain string
	Rows        int64
	Columns     []profileColumn
}

type datasetData struct {
	Dataset    catalog.Dataset
	Connection string
	Schema     result.Schema
	SchemaErr  string
	Profile    *catalog.Profile
	Profiles   []profileTable
	SampleOf   string
	Tables     []string
	Sample     result.Result
	Examples   []result.ContextExample
	Test       *testResult
	Err        string
}

func (d datasetData) FormError() string { return d.Err }

func (c *Console) datasetPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.datasetID(w, r, s)
	if !ok {
		return
	}
	c.showDataset(w, r, s, d, nil, "")
}

// showDataset draws the dataset's detail page: the schema the tools show,
// the stored profile with top-value bars, sample rows through the tools'
// own sampling (so capped as theirs are) and level 3's example queries.
func (c *Console) showDataset(w http.ResponseWriter, r *http.Request, s *session, d catalog.Dataset, tr *testResult, problem string) {
	ctx := r.Context()
	data := datasetData{Dataset: d, Connection: redactedConnection(d), Test: tr, Err: problem}
	sc, err := c.opts.Service.Schema(ctx, d.ID)
	if err != nil {
		data.SchemaErr = err.Error()
	}
	data.Schema = sc
	for _, t := range sc.Tables {
		data.Tables = append(data.Tables, t.Name)
	}
	if p, err := c.opts.Store.Profile(ctx, d.ID); err == nil {
		data.Profile = &p
		for _, t := range p.Tables {
			pt := profileTable{Name: t.Name, Grain: t.Grain, Rows: t.RowEstimate}
			for _, col := range t.Columns {
				pc := profileColumn{ColumnProfile: col}
				if len(col.Top) > 0 {
					top := col.Top[:min(len(col.Top), 8)]
					labels, values := make([]string, len(top)), make([]float64, len(top))
					for i, v := range top {
						labels[i], values[i] = v.Value, 100*v.Share
					}
					pc.Bars = newHBar(col.Name, "share of rows", labels, values, func(v float64) string { return fmt.Sprintf("%.1f %%", v) })
					pc.Bars.Width, pc.Bars.LabelW = 420, 150
					for i := range pc.Bars.Bars {
						pc.Bars.Bars[i].W = values[i] / 100 * float64(pc.Bars.Width-pc.Bars.LabelW-70)
					}
				}
				pt.Columns = append(pt.Columns, pc)
			}
			data.Profiles = append(data.Profiles, pt)
		}
	}
	if len(data.Tables) > 0 && data.SchemaErr == "" {
		data.SampleOf = r.URL.Query().Get("sample")
		if !slices.Contains(data.Tables, data.SampleOf) {
			data.SampleOf = data.Tables[0]
		}
		// As many rows as the tools' samples may show: the raw row cap.
		limit := c.opts.Limits.RawRows
		if l, ok := c.opts.Registry.Limits(d.ID); ok {
			limit = l.RawRows
		}
		data.Sample = c.opts.Service.Sample(ctx, d.ID, data.SampleOf, limit)
		data.Examples = c.contextExamples(ctx, d, data.Profile)
	}
	status := http.StatusOK
	if problem != "" {
		status = http.StatusBadGateway
	}
	c.render(w, r, s, status, "dataset", d.Name, data)
}

// contextExamples returns level 3's example queries of d, from the cache
// while d and its profile are unchanged (for at most 10 minutes).
func (c *Console) contextExamples(ctx context.Context, d catalog.Dataset, p *catalog.Profile) []result.ContextExample {
	key := d.UpdatedAt.String()
	if p != nil {
		key += "|" + p.ProfiledAt.String()
	}
	c.exMu.Lock()
	e, ok := c.examples[d.ID]
	c.exMu.Unlock()
	if ok && e.key == key && time.Since(e.at) < 10*time.Minute {
		return e.ex
	}
	doc, err := c.opts.Service.Context(ctx, 3, d.ID, "")
	if err != nil {
		return nil
	}
	c.exMu.Lock()
	c.examples[d.ID] = cachedExamples{key: key, at: time.Now(), ex: doc.Examples}
	c.exMu.Unlock()
	return doc.Examples
}
