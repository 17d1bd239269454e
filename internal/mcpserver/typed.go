package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// addTool registers a typed tool as mcp.AddTool does (schemas inferred
// from In and Out and published in tools/list, arguments checked against
// the input schema, Out sent as structuredContent and as JSON text when
// the handler writes no content) at a fraction of its cost per call.
//
// The SDK checks every call by turning the arguments into a map,
// validating the map with a general JSON Schema validator, encoding it
// again and decoding it into In; and it decodes, validates and re-encodes
// every output. Profiles of the load bench put that at a tenth of the
// server's CPU. Here, arguments whose keys are exactly the schema's
// properties, with the required ones present and no unexpected null,
// are decoded straight into In; anything else goes to the schema
// validator, so malformed calls get the same messages as before. Outputs
// are encoded once and not validated at run time: the tests validate every
// tool's output against its published schema.
func addTool[In, Out any](s *mcp.Server, t *mcp.Tool, h mcp.ToolHandlerFor[In, Out]) {
	tt := *t
	in := mustSchema[In]()
	tt.InputSchema, tt.OutputSchema = in, mustSchema[Out]()
	resolved, err := in.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		panic(fmt.Sprintf("tool %s: input schema: %v", t.Name, err))
	}
	s.AddTool(&tt, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var args In
		if err := decodeArguments(req.Params.Arguments, in, resolved, &args); err != nil {
			return errorResult(err), nil
		}
		res, out, err := h(ctx, req, args)
		if err != nil {
			var wire *jsonrpc.Error
			if errors.As(err, &wire) {
				return nil, wire
			}
			return errorResult(err), nil
		}
		if res == nil {
			res = &mcp.CallToolResult{}
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("encode the output of %s: %w", t.Name, err)
		}
		res.StructuredContent = json.RawMessage(b)
		if res.Content == nil {
			res.Content = []mcp.Content{&mcp.TextContent{Text: string(b)}}
		}
		return res, nil
	})
}

func mustSchema[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](&jsonschema.ForOptions{})
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err))
	}
	return s
}

func errorResult(err error) *mcp.CallToolResult {
	var res mcp.CallToolResult
	res.SetError(err)
	return &res
}

// decodeArguments decodes raw into v when it plainly conforms to schema,
// and otherwise returns the validator's verdict on it.
func decodeArguments(raw json.RawMessage, schema *jsonschema.Schema, resolved *jsonschema.Resolved, v any) error {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	if conforms(raw, schema) {
		if err := json.Unmarshal(raw, v); err == nil {
			return nil
		}
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("validating \"arguments\": %v", err)
	}
	if err := resolved.Validate(m); err != nil {
		return fmt.Errorf("validating \"arguments\": %v", err)
	}
	// The validator accepts what the decoder does not (a number too large
	// for its field, say): say what the decoder says.
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("invalid arguments: %v", err)
	}
	return nil
}

// conforms reports whether raw is an object whose keys are exactly
// properties of schema, with every required one present, no null where the
// schema does not allow it, and the same of each object in an array
// property whose items are objects. Types of values are left to the
// decoder, which refuses a string for a number and so on.
func conforms(raw json.RawMessage, schema *jsonschema.Schema) bool {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return false
	}
	for _, name := range schema.Required {
		if _, ok := obj[name]; !ok {
			return false
		}
	}
	for key, value := range obj {
		prop, ok := schema.Properties[key]
		if !ok || prop == nil {
			return false
		}
		if bytes.Equal(value, []byte("null")) {
			if !slices.Contains(prop.Types, "null") && prop.Type != "null" {
				return false
			}
			continue
		}
		if items := prop.Items; items != nil && items.Properties != nil {
			var list []json.RawMessage
			if err := json.Unmarshal(value, &list); err != nil {
				return false
			}
			for _, item := range list {
				if !conforms(item, items) {
					return false
				}
			}
		}
	}
	return true
}
