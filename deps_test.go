package mcpanalytics_test

import (
	"fmt"
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
	"internal/demo",
	"internal/source/postgres",
	"internal/source/duckdb",
	"internal/source",
	"internal/catalog/catalogtest",
	"internal/catalog/pgstore",
	"internal/catalog/sqlitestore",
	"internal/catalog/migrate",
	"internal/catalog",
	"internal/secret",
	"internal/surveyfile/fixture",
	"internal/surveyfile",
	"internal/config",
	"internal/result",
	"internal/significance",
	"internal/pgtest",
	"internal/pgcluster",
}

const module = "github.com/mcp-analytics/mcp-analytics/"

// testHelpers are packages for tests only: they create databases, start
// servers and fail tests. Production code must not import them (tests may,
// and so may the helpers themselves).
var testHelpers = map[string]bool{
	"internal/pgtest":              true,
	"internal/apptest":             true,
	"internal/catalog/catalogtest": true,
}

// TestDependencies fails when an import points up the layer list, or when
// a package other than sqlguard and weighting imports pg_query_go.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range importProblems(string(out)) {
		t.Error(p)
	}
}

// TestImportProblems shows that each rule catches what it is for.
func TestImportProblems(t *testing.T) {
	tests := []struct {
		name, list, want string
	}{
		{"a clean import", module + "internal/analysis " + module + "internal/weighting", ""},
		{"upwards", module + "internal/weighting " + module + "internal/analysis", "above it in the layer list"},
		{"pg_query_go outside the two", module + "internal/render github.com/pganalyze/pg_query_go/v6", "only sqlguard and weighting may"},
		{"a test helper in production code", module + "internal/bench " + module + "internal/pgtest", "test helper internal/pgtest"},
		{"a test helper using another", module + "internal/apptest " + module + "internal/pgtest", ""},
		{"an unlisted package", module + "internal/newthing fmt", "not in the layer list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(importProblems(tt.list), "; ")
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("problems = %q, want containing %q", got, tt.want)
			}
		})
	}
}

// importProblems checks the output of go list (a package and its imports
// per line) against the layers and the import rules.
func importProblems(list string) []string {
	rank := map[string]int{}
	for i, p := range layers {
		rank[p] = i
	}
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		from, known := rank[pkg]
		if !known {
			if pkg != strings.TrimSuffix(module, "/") {
				problems = append(problems, fmt.Sprintf("package %s is not in the layer list of deps_test.go: add it where it belongs", pkg))
			}
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/pganalyze/pg_query_go") && pkg != "internal/sqlguard" && pkg != "internal/weighting" {
				problems = append(problems, fmt.Sprintf("%s imports pg_query_go: only sqlguard and weighting may", pkg))
			}
			if testHelpers[strings.TrimPrefix(imp, module)] && !testHelpers[pkg] {
				problems = append(problems, fmt.Sprintf("%s imports the test helper %s: only tests may", pkg, strings.TrimPrefix(imp, module)))
			}
			to, ok := rank[strings.TrimPrefix(imp, module)]
			if !ok || !strings.HasPrefix(imp, module) {
				continue
			}
			if to <= from {
				problems = append(problems, fmt.Sprintf("%s imports %s, which is above it in the layer list", pkg, strings.TrimPrefix(imp, module)))
			}
		}
	}
	return problems
}
