package surveyfile

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "readstat.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// ErrNoReadStat is returned when the ReadStat library cannot be loaded.
var ErrNoReadStat = errors.New("reading SPSS .sav files needs the ReadStat library: install it (Debian/Ubuntu: apt-get install libreadstat1; macOS: brew install readstat)")

// loadMu serialises loading the library (rs_load is not thread-safe).
var loadMu sync.Mutex

// Available reports whether ReadStat can be loaded, and why not.
func Available() error {
	loadMu.Lock()
	defer loadMu.Unlock()
	if msg := C.rs_load(); msg != nil {
		return fmt.Errorf("%w (%s)", ErrNoReadStat, C.GoString(msg))
	}
	return nil
}

// reader is one parse, reached from the C callbacks through a cgo.Handle.
type reader struct {
	ctx     context.Context
	path    string
	c       *C.rs_reader
	header  Header
	sets    map[string][]ValueLabel
	begun   bool
	onHead  func(*Header) error
	onRows  func(*Batch) error
	err     error    // from a callback; stops the parse
	rsMsgs  []string // ReadStat's own error messages
	batch   Batch
	cellCap int
}

// batchCells bounds a batch: about 2 MiB of numbers, whatever the width.
const batchCells = 1 << 18

func (r *reader) begin() error {
	if r.begun {
		return nil
	}
	r.begun = true
	for i := range r.header.Variables {
		v := &r.header.Variables[i]
		if v.labelSet != "" {
			v.ValueLabels = r.sets[v.labelSet]
		}
	}
	if err := r.onHead(&r.header); err != nil {
		return err
	}
	cols := len(r.header.Variables)
	if cols == 0 {
		return nil
	}
	rows := min(max(batchCells/cols, 64), 8192)
	if C.rs_batch_init(&r.c.batch, C.int(cols), C.int(rows)) != 0 {
		return errors.New("out of memory for a batch of rows")
	}
	return nil
}

func (r *reader) flush() error {
	b := &r.c.batch
	n := int(b.rows)
	if n == 0 {
		return nil
	}
	cols := int(b.cols)
	cells := n * cols
	r.batch = Batch{
		Rows:  n,
		First: int64(r.c.rows_done),
		cols:  cols,
		nums:  unsafe.Slice((*float64)(unsafe.Pointer(b.nums)), cells),
		lens:  unsafe.Slice((*int32)(unsafe.Pointer(b.str_len)), cells),
		offs:  unsafe.Slice((*int64)(unsafe.Pointer(b.str_off)), cells),
		arena: C.GoStringN(b.arena, C.int(b.arena_len)),
	}
	return r.onRows(&r.batch)
}

//export goMetadata
func goMetadata(h C.uintptr_t, rows, vars C.int, encoding, label *C.char) C.int {
	r := cgo.Handle(h).Value().(*reader)
	r.header.Rows = int64(rows)
	r.header.Encoding = C.GoString(encoding)
	r.header.Label = C.GoString(label)
	r.header.Variables = make([]Variable, 0, max(int(vars), 0))
	return 0
}

//export goVariable
func goVariable(h C.uintptr_t, v *C.rs_var) C.int {
	r := cgo.Handle(h).Value().(*reader)
	out := Variable{
		Index:    int(v.index),
		Name:     C.GoString(v.name),
		Label:    C.GoString(v.label),
		Format:   C.GoString(v.format),
		String:   v.string != 0,
		Measure:  measures[min(max(int(v.measure), 0), len(measures)-1)],
		Width:    int(v.display_width),
		labelSet: C.GoString(v.label_set),
	}
	for i := range int(v.missing_count) {
		out.Missing = append(out.Missing, MissingRange{Lo: goValue(&v.missing_lo[i]), Hi: goValue(&v.missing_hi[i])})
	}
	if out.Index != len(r.header.Variables) {
		r.err = fmt.Errorf("variable %s arrived out of order (index %d)", out.Name, out.Index)
		return 1
	}
	r.header.Variables = append(r.header.Variables, out)
	return 0
}

//export goValueLabel
func goValueLabel(h C.uintptr_t, set *C.char, v *C.rs_value, label *C.char) C.int {
	r := cgo.Handle(h).Value().(*reader)
	name := C.GoString(set)
	r.sets[name] = append(r.sets[name], ValueLabel{Value: goValue(v), Label: C.GoString(label)})
	return 0
}

//export goError
func goError(h C.uintptr_t, msg *C.char) {
	r := cgo.Handle(h).Value().(*reader)
	if len(r.rsMsgs) < 5 {
		r.rsMsgs = append(r.rsMsgs, C.GoString(msg))
	}
}

//export goBegin
func goBegin(h C.uintptr_t) C.int {
	r := cgo.Handle(h).Value().(*reader)
	if err := r.begin(); err != nil {
		r.err = err
		return 1
	}
	return 0
}

//export goFlush
func goFlush(h C.uintptr_t) C.int {
	r := cgo.Handle(h).Value().(*reader)
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return 1
	}
	if err := r.flush(); err != nil {
		r.err = err
		return 1
	}
	return 0
}

// goValue converts a ReadStat value (a code, a missing-value bound).
func goValue(v *C.rs_value) Value {
	p := unsafe.Pointer(&v.v)
	switch v._type {
	case C.RS_TYPE_STRING, C.RS_TYPE_STRING_REF:
		return Value{Str: C.GoString(*(**C.char)(p)), IsStr: true}
	case C.RS_TYPE_INT8:
		return Value{Num: float64(*(*int8)(p))}
	case C.RS_TYPE_INT16:
		return Value{Num: float64(*(*int16)(p))}
	case C.RS_TYPE_INT32:
		return Value{Num: float64(*(*int32)(p))}
	case C.RS_TYPE_FLOAT:
		return Value{Num: float64(*(*float32)(p))}
	}
	return Value{Num: *(*float64)(p)}
}

// Read streams the .sav file at path: onHeader is called once with the
// variables and their codebook, then onRows with each batch of rows (the
// Batch is valid only during the call). Memory stays bounded by the batch
// size whatever the file's size. A file ReadStat cannot parse, or one that
// ends before the rows its header announces, is an [*Error] saying where.
func Read(ctx context.Context, path string, opts Options, onHeader func(*Header) error, onRows func(*Batch) error) error {
	if err := Available(); err != nil {
		return err
	}
	if err := checkMagic(path); err != nil {
		return err
	}
	r := &reader{ctx: ctx, path: path, sets: map[string][]ValueLabel{}, onHead: onHeader, onRows: onRows}
	r.header.Path = path
	r.header.Rows = -1
	r.c = (*C.rs_reader)(C.calloc(1, C.size_t(unsafe.Sizeof(C.rs_reader{}))))
	if r.c == nil {
		return errors.New("out of memory")
	}
	defer C.free(unsafe.Pointer(r.c))
	defer C.rs_batch_free(&r.c.batch)
	h := cgo.NewHandle(r)
	defer h.Delete()
	r.c.handle = C.uintptr_t(h)
	if opts.Encoding != "" {
		enc := C.CString(opts.Encoding)
		defer C.free(unsafe.Pointer(enc))
		r.c.encoding = enc
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	rc := C.rs_parse_sav(r.c, cpath)
	if r.err != nil {
		return r.err
	}
	read := int64(r.c.rows_done) + int64(r.c.batch.rows)
	if rc != 0 {
		return &Error{Path: path, Reason: C.GoString(C.rs_error_message(rc)), Details: r.rsMsgs,
			Offset: int64(r.c.offset), Size: int64(r.c.file_size), RowsRead: read, Rows: r.header.Rows}
	}
	if err := r.begin(); err != nil { // a file without rows
		return err
	}
	if err := r.flush(); err != nil {
		return err
	}
	if r.header.Rows >= 0 && read != r.header.Rows {
		return &Error{Path: path, Reason: "the file ends early", Offset: int64(r.c.offset), Size: int64(r.c.file_size),
			RowsRead: read, Rows: r.header.Rows}
	}
	return nil
}

// checkMagic rejects a file that is not a .sav (or compressed .zsav) file
// before ReadStat tries to parse it, with a plainer message than its own.
func checkMagic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if m := string(magic[:n]); m != "$FL2" && m != "$FL3" {
		return &Error{Path: path, Reason: fmt.Sprintf("not an SPSS .sav file (it starts with %q, not \"$FL2\")", m), Rows: -1}
	}
	return nil
}

// Batch is a block of consecutive rows, read in place from ReadStat's
// buffers: valid only during the onRows call.
type Batch struct {
	// Rows is the number of rows in the batch.
	Rows int
	// First is the 0-based index of the batch's first row in the file.
	First int64
	cols  int
	nums  []float64
	lens  []int32
	offs  []int64
	arena string
}

// Num returns a numeric variable's value; NaN is system-missing.
func (b *Batch) Num(row, col int) float64 { return b.nums[row*b.cols+col] }

// Str returns a string variable's value.
func (b *Batch) Str(row, col int) string {
	i := row*b.cols + col
	n := b.lens[i]
	if n < 0 {
		return ""
	}
	o := b.offs[i]
	return b.arena[o : o+int64(n)]
}
