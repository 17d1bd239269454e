package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" driver, to write the Parquet file

	"github.com/mcp-analytics/mcp-analytics/internal/surveyfile/fixture"
)

// ImportRow is one measured import: `mcp-analytics datasets import` run as
// a child process, so its peak RSS is the command's own.
type ImportRow struct {
	File      string  `json:"file"`
	Rows      int     `json:"rows"`
	Columns   int     `json:"columns"`
	FileMiB   float64 `json:"file_mib"`
	Seconds   float64 `json:"seconds"`
	RowsPerS  float64 `json:"rows_per_s"`
	MiBPerS   float64 `json:"mib_per_s"`
	PeakRSSMi float64 `json:"peak_rss_mib"`
	// CPUSeconds is the command's user + system CPU time: on a shared
	// machine a steadier figure than the wall time.
	CPUSeconds float64 `json:"cpu_seconds"`
}

// ImportReport is the import part: the two files, and the .sav at
// a tenth of the size, whose peak RSS shows memory does not grow with the
// file.
type ImportReport struct {
	Rows []ImportRow `json:"rows"`
	// RSSRatio is peak RSS of the full .sav over that of the tenth.
	RSSRatio float64 `json:"rss_ratio_full_over_tenth"`
}

// measureImport generates the files (kept in cfg.ImportDir between runs)
// and imports each into a fresh data directory.
func (b *run) measureImport(ctx context.Context, r *Report) error {
	cfg := b.cfg
	dir := cfg.ImportDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "mcpa-bench-import")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	exe := cfg.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return err
		}
	}
	tenth := max(cfg.ImportRespondents/10, 1)
	savFull, err := b.ensureSAV(ctx, dir, cfg.ImportRespondents, cfg.ImportVariables)
	if err != nil {
		return err
	}
	savTenth, err := b.ensureSAV(ctx, dir, tenth, cfg.ImportVariables)
	if err != nil {
		return err
	}
	parquet, err := b.ensureParquet(ctx, dir, cfg.ParquetRows)
	if err != nil {
		return err
	}
	rep := &ImportReport{}
	for _, f := range []struct {
		path       string
		rows, cols int
	}{{savTenth, tenth, cfg.ImportVariables}, {savFull, cfg.ImportRespondents, cfg.ImportVariables}, {parquet, cfg.ParquetRows, 5}} {
		row, err := importOnce(ctx, exe, f.path, f.rows, f.cols)
		if err != nil {
			return err
		}
		b.step("import %s: %d rows in %.1f s, peak RSS %.0f MiB", filepath.Base(f.path), f.rows, row.Seconds, row.PeakRSSMi)
		rep.Rows = append(rep.Rows, row)
	}
	if rep.Rows[0].PeakRSSMi > 0 {
		rep.RSSRatio = rep.Rows[1].PeakRSSMi / rep.Rows[0].PeakRSSMi
	}
	r.Import = rep
	return nil
}

// importOnce runs the import command on path into a new data directory.
func importOnce(ctx context.Context, exe, path string, rows, cols int) (ImportRow, error) {
	data, err := os.MkdirTemp("", "mcpa-bench-import-data")
	if err != nil {
		return ImportRow{}, err
	}
	defer os.RemoveAll(data)
	st, err := os.Stat(path)
	if err != nil {
		return ImportRow{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "datasets", "import", "--data-dir", data, "--name", "Bench import", path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return ImportRow{}, fmt.Errorf("import %s: %w\n%s", path, err, out.String())
	}
	secs := time.Since(start).Seconds()
	row := ImportRow{File: filepath.Base(path), Rows: rows, Columns: cols, FileMiB: float64(st.Size()) / (1 << 20), Seconds: secs,
		RowsPerS: float64(rows) / secs}
	row.MiBPerS = row.FileMiB / secs
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		row.PeakRSSMi = float64(ru.Maxrss) / 1024 // kilobytes on Linux
		row.CPUSeconds = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return row, nil
}

// ensureSAV writes a .sav file of n respondents and vars variables (a
// respondent id, a weight, and labelled, coded and numeric questions,
// some with user-missing codes), unless it exists.
func (b *run) ensureSAV(ctx context.Context, dir string, n, vars int) (string, error) {
	name := fmt.Sprintf("survey_%d_x_%d", n, vars)
	path := filepath.Join(dir, name+".sav")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	start := time.Now()
	defs := []fixture.Var{{Name: "respondent_id", Measure: "scale"}, {Name: "weight", Decimals: 4, Measure: "scale"}}
	for q := 2; q < vars; q++ {
		v := fixture.Var{Name: fmt.Sprintf("q%03d", q), Label: fmt.Sprintf("Question %d", q)}
		switch q % 4 {
		case 0:
			v.Measure, v.Labels = "nominal", fixture.Labels("1", "Yes", "2", "No", "9", "Don't know")
			v.Missing = []string{"9"}
		case 1:
			v.Measure, v.Labels = "ordinal", fixture.Labels("1", "Very low", "2", "Low", "3", "Medium", "4", "High", "5", "Very high")
		case 2:
			v.Measure, v.MissingRange = "scale", []float64{997, 999}
		case 3:
			v.Measure, v.Decimals = "scale", 2
		}
		defs = append(defs, v)
	}
	_, err := fixture.Write(ctx, dir, name, defs, func(w *csv.Writer) error {
		rec := make([]string, vars)
		for i := range n {
			rec[0] = strconv.Itoa(i + 1)
			rec[1] = strconv.FormatFloat(0.25+float64(i%97)/50, 'f', 4, 64)
			for q := 2; q < vars; q++ {
				k := (i*31 + q*17) % 1000
				switch q % 4 {
				case 0:
					rec[q] = []string{"1", "2", "9"}[k%3]
				case 1:
					rec[q] = strconv.Itoa(1 + k%5)
				case 2:
					rec[q] = strconv.Itoa(k)
				case 3:
					rec[q] = strconv.FormatFloat(float64(k)/7, 'f', 2, 64)
				}
			}
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	b.step("generated %s in %s", filepath.Base(path), time.Since(start).Round(time.Second))
	return path, nil
}

// ensureParquet writes a Parquet event file of n rows, unless it exists.
func (b *run) ensureParquet(ctx context.Context, dir string, n int) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("events_%d.parquet", n))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	start := time.Now()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	q := fmt.Sprintf(`COPY (SELECT i AS event_id, 1 + (i * 7919) %% 1000000 AS respondent_id, DATE '2026-01-01' + CAST(i %% 180 AS INTEGER) AS event_date,
		['maps', 'chat', 'video', 'music', 'shop'][1 + i %% 5] AS app, (i %% 3600) / 60.0 AS minutes FROM range(%d) t(i))
		TO '%s' (FORMAT parquet)`, n, path)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return "", fmt.Errorf("generate %s: %w", path, err)
	}
	b.step("generated %s in %s", filepath.Base(path), time.Since(start).Round(time.Second))
	return path, nil
}
