// The part of ReadStat's C API that surveyfile uses, declared here so the
// package compiles without ReadStat's headers: the library is loaded with
// dlopen when a .sav file is first read (see readstat.go). The types mirror
// readstat.h of ReadStat 1.1 (a stable public API); only the value struct,
// which ReadStat passes by value, must match its layout exactly.
#ifndef MCPA_READSTAT_H
#define MCPA_READSTAT_H

#include <stdint.h>
#include <sys/types.h>

typedef struct {
	union {
		float f;
		double d;
		int8_t i8;
		int16_t i16;
		int32_t i32;
		const char *s;
	} v;
	int type;
	char tag;
	unsigned int is_system_missing : 1;
	unsigned int is_tagged_missing : 1;
} rs_value;

enum {
	RS_TYPE_STRING,
	RS_TYPE_INT8,
	RS_TYPE_INT16,
	RS_TYPE_INT32,
	RS_TYPE_FLOAT,
	RS_TYPE_DOUBLE,
	RS_TYPE_STRING_REF
};

enum { RS_HANDLER_OK, RS_HANDLER_ABORT };

// rs_var describes one variable for Go, copied out of ReadStat's struct
// through its accessor functions.
typedef struct {
	int index;
	const char *name;
	const char *label;
	const char *format;
	const char *label_set;
	int string; // 1 for a string variable
	int measure; // 0 unknown, 1 nominal, 2 ordinal, 3 scale
	int display_width;
	int storage_width;
	int missing_count;
	rs_value missing_lo[32];
	rs_value missing_hi[32];
} rs_var;

// rs_batch is a block of rows filled by the value handler: numbers in nums
// (row-major, NaN for system-missing), strings as offsets and lengths into
// arena. Go reads it when it is full and at the end.
typedef struct {
	int cols;
	int cap;  // rows the batch can hold
	int rows; // complete rows in the batch
	double *nums;
	int64_t *str_off;
	int32_t *str_len;
	char *arena;
	int64_t arena_len;
	int64_t arena_cap;
	int oom;
} rs_batch;

// rs_reader is one parse: the loaded library, the batch and the position in
// the file (for error messages).
typedef struct {
	uintptr_t handle; // cgo.Handle of the Go reader
	int fd;
	int64_t offset;    // bytes consumed so far
	int64_t file_size;
	int64_t rows_done; // rows handed to Go before the current batch
	rs_batch batch;
	const char *encoding; // NULL: the file's own
	int aborted;          // Go asked to stop
} rs_reader;

// rs_load loads the library; it returns NULL or a message saying why not.
const char *rs_load(void);
// rs_parse_sav reads path, calling back into Go; it returns ReadStat's
// error code (0 on success).
int rs_parse_sav(rs_reader *r, const char *path);
// rs_error_message is ReadStat's text for an error code.
const char *rs_error_message(int code);
// rs_batch_reset sizes the batch for cols variables.
int rs_batch_init(rs_batch *b, int cols, int cap);
void rs_batch_free(rs_batch *b);

#endif
