package mcpanalytics_test

import (
	"os/exec"
	"strings"
	"testing"
)

// layers lists the packages from the top down: a package may import only
// packages listed after it (STYLE.md §1). Test helpers are listed too, so
// they cannot be imported by production code above them either.
var layers = []string{
	"cmd/mcp-analytics",
	"internal/cli",
	"internal/bench",
	"internal/admin",
	"internal/server",
	"internal/auth",
	"internal/mcpserver",
	"internal/mcpapp",
	"internal/metrics",
	"internal/querylog",
	"internal/apptest",
	"internal/analysis",
	"internal/importer",
	"internal/provision",
	"internal/dataset",
	"internal/profile",
	"internal/executor",
	"internal/weighting",
	"internal/sqlguard",
	"internal/render",
	"internal/source/postgres",
	"internal/source/duckdb",
	"internal/source",
	"internal/catalog/catalogtest",
	"internal/catalog/pgstore",
	"internal/catalog/sqlitestore",
	"internal/catalog/migrate",
	"internal/catalog",
	"internal/secret",
	"internal/demo",
	"internal/surveyfile/fixture",
	"internal/surveyfile",
	"internal/config",
	"internal/result",
	"internal/significance",
	"internal/pgtest",
	"internal/pgcluster",
}

const module = "github.com/mcp-analytics/mcp-analytics/"

// TestDependencies fails when an import points up the layer list, or when
// a package other than sqlguard and weighting imports pg_query_go.
func TestDependencies(t *testing.T) {
	rank := map[string]int{}
	for i, p := range layers {
		rank[p] = i
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		from, known := rank[pkg]
		if !known {
			if pkg != strings.TrimSuffix(module, "/") {
				t.Errorf("package %s is not in the layer list of deps_test.go: add it where it belongs", pkg)
			}
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/pganalyze/pg_query_go") && pkg != "internal/sqlguard" && pkg != "internal/weighting" {
				t.Errorf("%s imports pg_query_go: only sqlguard and weighting may", pkg)
			}
			to, ok := rank[strings.TrimPrefix(imp, module)]
			if !ok || !strings.HasPrefix(imp, module) {
				continue
			}
			if to <= from {
				t.Errorf("%s imports %s, which is above it in the layer list", pkg, strings.TrimPrefix(imp, module))
			}
		}
	}
}
