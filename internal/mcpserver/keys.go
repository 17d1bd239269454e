package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// checkDuplicateKeys is a receiving middleware, installed by [New] so it
// holds on every transport, that refuses a tools/call whose arguments hold
// the same key twice in one object, exactly or in another case
// ({"query": "SELECT 1", "QUERY": "DROP TABLE x"}). JSON decoders disagree
// on such input (first or last wins, case-sensitive or not), so one value
// could be checked and another run; refusing it removes the question. The
// answer is a tool error the caller can fix. The other argument checks
// (types, whole numbers, required and unknown names) follow each tool's
// published input schema (typed.go).
func checkDuplicateKeys(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && len(p.Arguments) > 0 {
			if err := checkKeys(p.Arguments); err != nil {
				return &mcp.CallToolResult{
					Content: []mcp.Content{&mcp.TextContent{Text: "**Error**: invalid arguments: " + err.Error()}},
					IsError: true,
				}, nil
			}
		}
		return next(ctx, method, req)
	}
}

// checkKeys walks a JSON value and reports the first object key that
// appears twice in its object, compared case-insensitively (Unicode simple
// folding, as encoding/json matches struct fields).
func checkKeys(data []byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	// One frame per open object or array: the folded keys of an object, nil
	// for an array.
	type frame struct {
		keys   map[string]string
		object bool
	}
	var stack []frame
	expectKey := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errors.New("arguments are not valid JSON")
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, frame{keys: map[string]string{}, object: true})
				expectKey = true
				continue
			case '[':
				stack = append(stack, frame{})
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey {
				top := &stack[len(stack)-1]
				folded := strings.ToLower(strings.ToUpper(v))
				if prev, dup := top.keys[folded]; dup {
					if prev == v {
						return fmt.Errorf("key %q appears twice; give each argument once", v)
					}
					return fmt.Errorf("keys %q and %q differ only in case; argument names are lower-case, give each once", prev, v)
				}
				top.keys[folded] = v
				expectKey = false
				continue
			}
		}
		// After a value inside an object, the next token is a key.
		expectKey = len(stack) > 0 && stack[len(stack)-1].object
	}
}
