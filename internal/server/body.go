package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// maxJSONDepth bounds how deeply a request's JSON may nest. The tools'
// arguments nest four levels; a body of a million brackets would make
// every JSON decoder on the way work for nothing.
const maxJSONDepth = 64

// limitBody refuses oversized and pathological request bodies before the
// MCP handler decodes them:
//   - a declared Content-Length over max gets 413 at once, without a byte
//     of the body being read;
//   - a body without a length is read up to max bytes and refused (413)
//     past that, so at most max bytes are ever held;
//   - JSON nested deeper than maxJSONDepth gets 400.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		tooLarge := func() {
			// The rest of the body is not read: close the connection
			// rather than drain it.
			w.Header().Set("Connection", "close")
			http.Error(w, fmt.Sprintf("request body exceeds %d bytes", max), http.StatusRequestEntityTooLarge)
		}
		if r.ContentLength > max {
			tooLarge()
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		if err != nil {
			http.Error(w, "could not read the request body", http.StatusBadRequest)
			return
		}
		if int64(len(body)) > max {
			tooLarge()
			return
		}
		if depth := jsonDepth(body, maxJSONDepth); depth > maxJSONDepth {
			http.Error(w, fmt.Sprintf("request JSON is nested more than %d levels deep", maxJSONDepth), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// jsonDepth returns how deeply the arrays and objects of data nest, or
// stop+1 as soon as they nest deeper than stop. It does not validate the
// JSON: the decoder does that.
func jsonDepth(data []byte, stop int) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > stop {
				return depth
			}
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
