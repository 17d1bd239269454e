package mcpserver_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
)

// Temporary: dumps tool answers so a refactor can be checked for no change.
func TestZZDump(t *testing.T) {
	dir := os.Getenv("DUMP_DIR")
	if dir == "" {
		t.Skip()
	}
	f := apptest.New(t, apptest.Options{Postgres: true})
	cs := connectHTTP(t, f, false)
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d UTC|"time_ms":[0-9.]+|\*\*Time\*\*: [0-9.]+ ?ms|[0-9.]+ ?ms`)
	n := 0
	dump := func(name string, args map[string]any) {
		md, sc, isErr := call(t, cs, name, args)
		js, _ := json.MarshalIndent(sc, "", " ")
		n++
		out := fmt.Sprintf("isError=%v\n%s\n----\n%s\n", isErr, md, js)
		out = stamp.ReplaceAllString(out, "X")
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%s.txt", n, name)), []byte(out), 0o644)
	}
	dump("list_available_datasets", map[string]any{})
	for _, id := range []int64{apptest.DuckSample, apptest.PostgresSample} {
		dump("get_dataset_schema", map[string]any{"dataset_id": id})
		for lvl := 0; lvl <= 3; lvl++ {
			dump("get_context", map[string]any{"level": lvl, "dataset_id": id})
		}
		dump("get_context", map[string]any{"level": 3, "dataset_id": id, "table_name": "users"})
		dump("get_context", map[string]any{"level": 2})
		dump("get_context", map[string]any{"level": 3, "dataset_id": id, "table_name": "nope"})
		dump("get_dataset_sample", map[string]any{"dataset_id": id, "table_name": "users"})
	}
	dump("get_context", map[string]any{"level": 7})
	dump("get_dataset_schema", map[string]any{"dataset_id": 999})
}
