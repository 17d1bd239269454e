package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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

// decodeArguments decodes raw into v when it plainly conforms to schema.
// Otherwise it checks each argument against the schema (see
// [checkArguments]): a whole number sent as a string ("1") is accepted,
// and anything else wrong comes back as one plain sentence per argument,
// never as a JSON Schema validator's or a Go decoder's text.
func decodeArguments(raw json.RawMessage, schema *jsonschema.Schema, resolved *jsonschema.Resolved, v any) error {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	if conforms(raw, schema) {
		if err := json.Unmarshal(raw, v); err == nil {
			return nil
		}
	}
	fixed, err := checkArguments(raw, schema)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(fixed, &m); err != nil {
		return &ArgumentError{Problems: []string{"the arguments must be a JSON object such as {\"dataset_id\": 1}"}}
	}
	if err := resolved.Validate(m); err != nil {
		// The checks above cover types, required and unknown arguments;
		// what is left is a constraint of the schema itself.
		return &ArgumentError{Problems: []string{"the arguments do not match the tool's input schema: " + clipText(err.Error(), 300)}}
	}
	if err := json.Unmarshal(fixed, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return &ArgumentError{Problems: []string{typeErr.Field + " is out of range for " + typeErr.Type.String()}}
		}
		return &ArgumentError{Problems: []string{"the arguments could not be read: " + clipText(err.Error(), 200)}}
	}
	return nil
}

// ArgumentError lists what is wrong with a call's arguments, one plain
// sentence per argument.
type ArgumentError struct {
	Problems []string
}

func (e *ArgumentError) Error() string {
	return "Invalid arguments: " + strings.Join(e.Problems, "; ") + "."
}

// maxProblems bounds how many wrong arguments one answer lists.
const maxProblems = 10

// checkArguments checks raw, which must be a JSON object, against schema:
// every required argument present, no unknown one, every value of its
// type. Whole numbers sent as strings ("1") are turned into numbers. It
// returns the arguments to decode, or an [ArgumentError].
func checkArguments(raw json.RawMessage, schema *jsonschema.Schema) (json.RawMessage, error) {
	c := argChecker{}
	out, changed := c.value("arguments", raw, schema)
	if len(c.problems) > 0 {
		if len(c.problems) > maxProblems {
			c.problems = append(c.problems[:maxProblems], fmt.Sprintf("and %d more", len(c.problems)-maxProblems))
		}
		return nil, &ArgumentError{Problems: c.problems}
	}
	if !changed {
		return raw, nil
	}
	return out, nil
}

type argChecker struct {
	problems []string
}

func (c *argChecker) bad(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// value checks one value at path; it returns the value to keep and
// whether it differs from raw.
func (c *argChecker) value(path string, raw json.RawMessage, s *jsonschema.Schema) (json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	types := schemaTypes(s)
	if bytes.Equal(raw, []byte("null")) {
		if !slices.Contains(types, "null") && len(types) > 0 {
			c.bad("%s must not be null", path)
		}
		return raw, false
	}
	kind := jsonKind(raw)
	switch {
	case slices.Contains(types, "integer"):
		switch kind {
		case "number":
			if _, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
				return raw, false
			}
			c.bad("%s must be a whole number such as 1, not %s", path, clipText(string(raw), 40))
			return raw, false
		case "string":
			var str string
			if json.Unmarshal(raw, &str) == nil {
				if n, err := strconv.ParseInt(strings.TrimSpace(str), 10, 64); err == nil {
					return json.RawMessage(strconv.FormatInt(n, 10)), true
				}
			}
		}
		c.bad("%s must be a whole number such as 1", path)
	case slices.Contains(types, "number"):
		switch kind {
		case "number":
			return raw, false
		case "string":
			var str string
			if json.Unmarshal(raw, &str) == nil {
				if f, err := strconv.ParseFloat(strings.TrimSpace(str), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
					return json.RawMessage(strconv.FormatFloat(f, 'g', -1, 64)), true
				}
			}
		}
		c.bad("%s must be a number such as 1.5", path)
	case slices.Contains(types, "boolean"):
		if kind == "boolean" {
			return raw, false
		}
		var str string
		if kind == "string" && json.Unmarshal(raw, &str) == nil {
			if b, err := strconv.ParseBool(strings.TrimSpace(str)); err == nil {
				return json.RawMessage(strconv.FormatBool(b)), true
			}
		}
		c.bad("%s must be true or false", path)
	case slices.Contains(types, "string"):
		if kind == "string" {
			return raw, false
		}
		c.bad("%s must be a string (text in double quotes)", path)
	case slices.Contains(types, "array"):
		if kind != "array" {
			c.bad("%s must be a list [...]", path)
			return raw, false
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			c.bad("%s must be a list [...]", path)
			return raw, false
		}
		if s.Items == nil {
			return raw, false
		}
		changed := false
		for i := range items {
			var ch bool
			items[i], ch = c.value(fmt.Sprintf("%s[%d]", path, i), items[i], s.Items)
			changed = changed || ch
		}
		if !changed {
			return raw, false
		}
		b, _ := json.Marshal(items)
		return b, true
	case slices.Contains(types, "object") || s.Properties != nil:
		return c.object(path, raw, kind, s)
	}
	return raw, false
}

// object checks an object's keys and values.
func (c *argChecker) object(path string, raw json.RawMessage, kind string, s *jsonschema.Schema) (json.RawMessage, bool) {
	prefix := path + "."
	if path == "arguments" {
		prefix = ""
	}
	if kind != "object" {
		if path == "arguments" {
			c.bad("the arguments must be a JSON object such as {\"dataset_id\": 1}")
		} else {
			c.bad("%s must be an object {...} with %s", path, strings.Join(names(s), ", "))
		}
		return raw, false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		c.bad("%s must be an object {...}", path)
		return raw, false
	}
	for _, name := range s.Required {
		if _, ok := obj[name]; !ok {
			c.bad("%s%s is required", prefix, name)
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	// Known arguments in the schema's order, then unknown ones sorted.
	order := names(s)
	slices.SortFunc(keys, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return strings.Compare(a, b)
	})
	changed := false
	for _, k := range keys {
		prop, ok := s.Properties[k]
		if !ok || prop == nil {
			c.bad("%s is not an argument of this tool (it takes %s)", strconv.Quote(prefix+clipText(k, 40)), strings.Join(names(s), ", "))
			continue
		}
		v, ch := c.value(prefix+k, obj[k], prop)
		if ch {
			obj[k], changed = v, true
		}
	}
	if !changed {
		return raw, false
	}
	b, _ := json.Marshal(obj)
	return b, true
}

// names lists a schema's properties in their declared order.
func names(s *jsonschema.Schema) []string {
	out := slices.Clone(s.PropertyOrder)
	var rest []string
	for k := range s.Properties {
		if !slices.Contains(out, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func schemaTypes(s *jsonschema.Schema) []string {
	if s == nil {
		return nil
	}
	if s.Type != "" {
		return []string{s.Type}
	}
	return s.Types
}

// jsonKind names the kind of a JSON value by its first byte.
func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// clipText shortens s to at most n runes plus "…".
func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
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
