package mcpserver

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

func TestDecodeArguments(t *testing.T) {
	querySchema := mustSchema[QueryIn]()
	multiSchema := mustSchema[MultiIn]()
	tests := []struct {
		name   string
		schema *jsonschema.Schema
		args   string
		want   string // "" = decodes; otherwise part of the error
	}{
		{"plain call", querySchema, `{"dataset_id": 1, "query": "SELECT 1", "apply_weights": false}`, ""},
		{"optional null", querySchema, `{"dataset_id": 1, "query": "SELECT 1", "apply_weights": null}`, ""},
		{"missing required", querySchema, `{"dataset_id": 1}`, `missing properties: ["query"]`},
		{"no arguments", querySchema, ``, `missing properties`},
		{"unknown key", querySchema, `{"dataset_id": 1, "query": "SELECT 1", "sql": "x"}`, `"sql"`},
		{"a key in another case", querySchema, `{"dataset_id": 1, "Query": "SELECT 1"}`, `"Query"`},
		{"null where not allowed", querySchema, `{"dataset_id": 1, "query": null}`, `query`},
		{"string for a number", querySchema, `{"dataset_id": "1", "query": "SELECT 1"}`, `dataset_id`},
		{"not an object", querySchema, `[1]`, `arguments`},
		{"nested", multiSchema, `{"queries": [{"dataset_id": 1, "query": "SELECT 1", "label": "a"}]}`, ""},
		{"nested unknown key", multiSchema, `{"queries": [{"dataset_id": 1, "query": "SELECT 1", "sql": "x"}]}`, `"sql"`},
		{"nested wrong type", multiSchema, `{"queries": [{"dataset_id": 1, "query": 7}]}`, `query`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resolved, err := tt.schema.Resolve(nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.schema == querySchema {
				var in QueryIn
				err = decodeArguments(json.RawMessage(tt.args), tt.schema, resolved, &in)
				if err == nil && (in.DatasetID != 1 || in.Query != "SELECT 1") {
					t.Errorf("decoded %+v", in)
				}
			} else {
				var in MultiIn
				err = decodeArguments(json.RawMessage(tt.args), tt.schema, resolved, &in)
				if err == nil && (len(in.Queries) != 1 || *in.Queries[0].Query != "SELECT 1") {
					t.Errorf("decoded %+v", in)
				}
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %s", err, tt.want)
			}
		})
	}
}

func BenchmarkDecodeArguments(b *testing.B) {
	s := mustSchema[QueryIn]()
	r, _ := s.Resolve(nil)
	args := json.RawMessage(`{"dataset_id": 1, "query": "SELECT user_id, gender FROM users WHERE user_id = 4242"}`)
	for b.Loop() {
		var in QueryIn
		if err := decodeArguments(args, s, r, &in); err != nil {
			b.Fatal(err)
		}
	}
}
