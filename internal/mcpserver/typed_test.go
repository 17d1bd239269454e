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
		{"a numeric string id", querySchema, `{"dataset_id": "1", "query": "SELECT 1"}`, ""},
		{"a numeric string id with spaces", querySchema, `{"dataset_id": " 1 ", "query": "SELECT 1"}`, ""},
		{"a boolean as a string", querySchema, `{"dataset_id": 1, "query": "SELECT 1", "apply_weights": "false"}`, ""},
		{"missing required", querySchema, `{"dataset_id": 1}`, `Invalid arguments: query is required.`},
		{"no arguments", querySchema, ``, `Invalid arguments: dataset_id is required; query is required.`},
		{"unknown key", querySchema, `{"dataset_id": 1, "query": "SELECT 1", "sql": "x"}`, `"sql" is not an argument of this tool (it takes dataset_id, query, apply_weights`},
		{"a key in another case", querySchema, `{"dataset_id": 1, "Query": "SELECT 1"}`, `query is required; "Query" is not an argument`},
		{"null where not allowed", querySchema, `{"dataset_id": 1, "query": null}`, `Invalid arguments: query must not be null.`},
		{"a word for a number", querySchema, `{"dataset_id": "one", "query": "SELECT 1"}`, `Invalid arguments: dataset_id must be a whole number such as 1.`},
		{"a fraction for a whole number", querySchema, `{"dataset_id": 1.5, "query": "SELECT 1"}`, `dataset_id must be a whole number such as 1, not 1.5.`},
		{"too large a number", querySchema, `{"dataset_id": 99999999999999999999, "query": "SELECT 1"}`, `dataset_id must be a whole number such as 1, not 99999999999999999999.`},
		{"a number for the text", querySchema, `{"dataset_id": 1, "query": 7}`, `Invalid arguments: query must be a string (text in double quotes).`},
		{"one sentence per argument", querySchema, `{"dataset_id": [1], "query": {}, "apply_weights": "maybe"}`,
			`Invalid arguments: dataset_id must be a whole number such as 1; query must be a string (text in double quotes); apply_weights must be true or false.`},
		{"not an object", querySchema, `[1]`, `Invalid arguments: the arguments must be a JSON object such as {"dataset_id": 1}.`},
		{"nested", multiSchema, `{"queries": [{"dataset_id": 1, "query": "SELECT 1", "label": "a"}]}`, ""},
		{"nested numeric string", multiSchema, `{"queries": [{"dataset_id": "1", "query": "SELECT 1"}]}`, ""},
		{"nested unknown key", multiSchema, `{"queries": [{"dataset_id": 1, "query": "SELECT 1", "sql": "x"}]}`, `"queries[0].sql" is not an argument`},
		{"nested wrong type", multiSchema, `{"queries": [{"dataset_id": 1, "query": 7}]}`, `queries[0].query must be a string`},
		{"not a list", multiSchema, `{"queries": "SELECT 1"}`, `Invalid arguments: queries must be a list [...].`},
		{"an entry that is no object", multiSchema, `{"queries": ["SELECT 1"]}`, `queries[0] must be an object {...} with dataset_id, query, label`},
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
				if err == nil && (len(in.Queries) != 1 || *in.Queries[0].Query != "SELECT 1" || *in.Queries[0].DatasetID != 1) {
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
