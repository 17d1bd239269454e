package importer

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// checkCSV reads a CSV file once, streaming, before DuckDB loads it:
// DuckDB's reader silently drops the extra values of a row with too many
// (it pads or errors on too few, depending on version), and a survey
// extract with a shifted row must not load. Every row must have the
// header's number of fields; with utf8 set, every byte must be UTF-8.
// Errors give the line.
func checkCSV(ctx context.Context, path, file string, delim rune, utf8Only bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var r *csv.Reader
	if utf8Only {
		r = csv.NewReader(&utf8Checker{r: br, line: 1})
	} else {
		r = csv.NewReader(br)
	}
	r.Comma = delim
	r.LazyQuotes = true
	r.ReuseRecord = true
	header := -1
	for n := 0; ; n++ {
		if n%100_000 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			return &Error{Message: fmt.Sprintf("%s: a ragged row at line %d: %d values where the header has %d columns", file, pe.StartLine, len(rec), header),
				Hint: "fix the row, or give the right --delimiter"}
		}
		var bad *badUTF8
		if errors.As(err, &bad) {
			return &Error{Message: fmt.Sprintf("%s is not UTF-8 text (first bad byte at line %d)", file, bad.line),
				Hint: "give the file's encoding with --encoding latin-1 (or utf-16)"}
		}
		if err != nil {
			return &Error{Message: fmt.Sprintf("%s: cannot read CSV: %v", file, err)}
		}
		if header < 0 {
			header = len(rec)
		}
	}
}

// utf8Checker passes bytes through and fails at the first byte that is not
// UTF-8, counting lines.
type utf8Checker struct {
	r    *bufio.Reader
	line int
	tail []byte // an incomplete rune carried over from the last read
}

type badUTF8 struct{ line int }

func (e *badUTF8) Error() string { return fmt.Sprintf("invalid UTF-8 at line %d", e.line) }

func (c *utf8Checker) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	buf := append(c.tail, p[:n]...)
	c.tail = c.tail[:0]
	i := 0
	for i < len(buf) {
		b := buf[i]
		if b < utf8.RuneSelf {
			if b == '\n' {
				c.line++
			}
			i++
			continue
		}
		if !utf8.FullRune(buf[i:]) && err == nil {
			c.tail = append(c.tail, buf[i:]...)
			break
		}
		r, size := utf8.DecodeRune(buf[i:])
		if r == utf8.RuneError && size <= 1 {
			return 0, &badUTF8{line: c.line}
		}
		i += size
	}
	return n, err
}
