package admin

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// funcs are the templates' helpers. None returns template.HTML: every
// value a page shows is escaped by html/template.
var funcs = template.FuncMap{
	"cell": func(v any) string { return render.Cell(v, 120) },
	// cells formats a result's cells as the Markdown the assistant reads.
	"cells":       func(r result.Result) [][]string { return render.Cells(r, 120) },
	"nccsPresets": catalog.NCCSPresetNames,
	"num":         func(n int64) string { return render.Number(n) },
	"ms":          fmtMS,
	"clip":        clip,
	"join":        strings.Join,
	"first":       func(s string) string { l, _, _ := strings.Cut(strings.TrimSpace(s), "\n"); return clip(l, 90) },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.1f %%", 100*f) },
	"f1":  func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"add": func(a, b int) int { return a + b },
	"rows": func(n int64) string {
		if n < 0 {
			return "unknown"
		}
		return render.Number(n)
	},
	"outcomeClass": func(o string) string {
		if o == "ok" {
			return "ok"
		}
		return "bad"
	},
}
