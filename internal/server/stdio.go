package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultMaxLineBytes bounds one stdio message: 30 queries of 100 KB fit.
const DefaultMaxLineBytes = 4 << 20

// StdioTransport serves MCP over newline-delimited JSON-RPC on a reader and
// a writer (the process's stdin and stdout), like the SDK's
// [mcp.StdioTransport], except that a bad line does not end the session:
//
//   - a line that is not JSON gets a JSON-RPC parse error (-32700), and a
//     JSON value that is not a JSON-RPC message, or a batch, an invalid
//     request error (-32600), with the id when one can be read; the line is
//     logged (its length and first bytes) and the server reads on;
//   - a line longer than MaxLineBytes is skipped without being held in
//     memory, and answered with -32700;
//   - blank lines are ignored;
//   - the end of the input ends the session, so the server exits cleanly
//     when its client closes stdin.
type StdioTransport struct {
	In  io.Reader
	Out io.Writer
	// MaxLineBytes bounds one message; 0 means [DefaultMaxLineBytes].
	MaxLineBytes int
	Logger       *slog.Logger
}

var _ mcp.Transport = (*StdioTransport)(nil)

// Connect implements [mcp.Transport].
func (t *StdioTransport) Connect(context.Context) (mcp.Connection, error) {
	log := t.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limit := t.MaxLineBytes
	if limit <= 0 {
		limit = DefaultMaxLineBytes
	}
	c := &stdioConn{out: t.Out, log: log.With("component", "stdio"), incoming: make(chan jsonrpc.Message), closed: make(chan struct{})}
	go c.readLoop(bufio.NewReaderSize(t.In, 64<<10), limit)
	return c, nil
}

// stdioConn is one stdio session.
type stdioConn struct {
	out     io.Writer
	log     *slog.Logger
	writeMu sync.Mutex

	incoming chan jsonrpc.Message
	readErr  error // set before incoming is closed

	closeOnce sync.Once
	closed    chan struct{}
}

// readLoop reads lines until the input ends or the connection is closed,
// passing on the messages and answering the bad lines itself.
func (c *stdioConn) readLoop(r *bufio.Reader, limit int) {
	defer close(c.incoming)
	for {
		line, tooLong, err := readLine(r, limit)
		if len(bytes.TrimSpace(line)) > 0 || tooLong {
			if msg, ok := c.decode(line, tooLong, limit); ok {
				select {
				case c.incoming <- msg:
				case <-c.closed:
					return
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.readErr = fmt.Errorf("read stdin: %w", err)
			}
			return
		}
	}
}

// readLine returns the next line without its newline. A line longer than
// limit is consumed but not kept: tooLong is set and line is its first
// bytes. err is io.EOF at the end of the input.
func readLine(r *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > limit+1 { // +1: the newline
				tooLong = true
				line = append(line, chunk[:min(len(chunk), 200)]...)
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), tooLong, err
	}
}

// decode turns a line into a message, or answers it with an error and
// reports false.
func (c *stdioConn) decode(line []byte, tooLong bool, limit int) (jsonrpc.Message, bool) {
	var (
		code int64
		msg  string
		id   any
	)
	switch {
	case tooLong:
		code, msg = jsonrpc.CodeParseError, fmt.Sprintf("Parse error: message longer than %d bytes; it was skipped", limit)
	case !json.Valid(line):
		code, msg = jsonrpc.CodeParseError, "Parse error: the line is not valid JSON; send one JSON-RPC message per line"
	default:
		m, err := jsonrpc.DecodeMessage(line)
		if resp, ok := m.(*jsonrpc.Response); ok && err == nil && resp.Result == nil && resp.Error == nil {
			// Neither a request nor a response: the SDK would drop it
			// silently.
			err = errors.New("a response without result or error")
		}
		if err == nil {
			return m, true
		}
		code, msg = jsonrpc.CodeInvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message (one object with jsonrpc, method and id, per line; batches are not supported)"
		var probe struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(line, &probe) == nil && len(probe.ID) > 0 {
			var v any
			if json.Unmarshal(probe.ID, &v) == nil {
				switch v.(type) {
				case string, float64:
					id = v
				}
			}
		}
	}
	c.log.Warn("bad message on stdin; answered with an error and reading on", "code", code, "bytes", len(line), "start", string(line[:min(len(line), 80)]))
	reply, err := json.Marshal(struct {
		Version string         `json:"jsonrpc"`
		ID      any            `json:"id"`
		Error   *jsonrpc.Error `json:"error"`
	}{"2.0", id, &jsonrpc.Error{Code: code, Message: msg}})
	if err == nil {
		c.writeLine(reply)
	}
	return nil, false
}

// Read implements [mcp.Connection].
func (c *stdioConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, io.EOF
	case msg, ok := <-c.incoming:
		if !ok {
			if c.readErr != nil {
				return nil, c.readErr
			}
			return nil, io.EOF
		}
		return msg, nil
	}
}

// Write implements [mcp.Connection].
func (c *stdioConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	return c.writeLine(data)
}

func (c *stdioConn) writeLine(data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	select {
	case <-c.closed:
		return io.ErrClosedPipe
	default:
	}
	_, err := c.out.Write(append(data, '\n'))
	return err
}

// Close implements [mcp.Connection]. Stdin itself is left open: a read
// blocked on it cannot be interrupted portably, and the process is ending.
func (c *stdioConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

// SessionID implements [mcp.Connection]: stdio has one session, unnamed.
func (c *stdioConn) SessionID() string { return "" }
