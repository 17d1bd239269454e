// The C side of surveyfile: ReadStat loaded with dlopen, its callbacks,
// and file I/O that remembers how far it got. Values are gathered into a
// batch here, in C, and Go is called once per batch rather than once per
// value: a 1,000,000 × 100 file is 10^8 values.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readstat.h"
#include "_cgo_export.h"

typedef int (*metadata_fn)(void *md, void *ctx);
typedef int (*variable_fn)(int index, void *var, const char *val_labels, void *ctx);
typedef int (*value_fn)(int obs, void *var, rs_value value, void *ctx);
typedef int (*value_label_fn)(const char *set, rs_value value, const char *label, void *ctx);
typedef void (*error_fn)(const char *msg, void *ctx);
typedef int (*open_fn)(const char *path, void *io);
typedef int (*close_fn)(void *io);
typedef off_t (*seek_fn)(off_t off, int whence, void *io);
typedef ssize_t (*read_fn)(void *buf, size_t n, void *io);
typedef int (*update_fn)(long size, void *progress, void *user, void *io);

static struct {
	int loaded;
	void *lib;
	void *(*parser_init)(void);
	void (*parser_free)(void *);
	int (*set_metadata_handler)(void *, metadata_fn);
	int (*set_variable_handler)(void *, variable_fn);
	int (*set_value_handler)(void *, value_fn);
	int (*set_value_label_handler)(void *, value_label_fn);
	int (*set_error_handler)(void *, error_fn);
	int (*set_open_handler)(void *, open_fn);
	int (*set_close_handler)(void *, close_fn);
	int (*set_seek_handler)(void *, seek_fn);
	int (*set_read_handler)(void *, read_fn);
	int (*set_update_handler)(void *, update_fn);
	int (*set_io_ctx)(void *, void *);
	int (*set_file_character_encoding)(void *, const char *);
	int (*parse_sav)(void *, const char *, void *);
	const char *(*error_message)(int);
	int (*get_row_count)(void *);
	int (*get_var_count)(void *);
	const char *(*get_file_encoding)(void *);
	const char *(*get_file_label)(void *);
	int (*var_index)(const void *);
	const char *(*var_name)(const void *);
	const char *(*var_label)(const void *);
	const char *(*var_format)(const void *);
	int (*var_type_class)(const void *);
	int (*var_measure)(const void *);
	int (*var_display_width)(const void *);
	size_t (*var_storage_width)(const void *);
	int (*var_missing_count)(const void *);
	rs_value (*var_missing_lo)(const void *, int);
	rs_value (*var_missing_hi)(const void *, int);
} rs;

static const char *load_error;

#define SYM(field, name)                                                                           \
	do {                                                                                           \
		*(void **)(&rs.field) = dlsym(rs.lib, name);                                               \
		if (!rs.field) {                                                                           \
			load_error = "the ReadStat library lacks " name;                                       \
			return load_error;                                                                     \
		}                                                                                          \
	} while (0)

const char *rs_load(void) {
	if (rs.loaded) {
		return NULL;
	}
	if (load_error) {
		return load_error;
	}
	const char *names[] = {"libreadstat.so.1", "libreadstat.so", "libreadstat.1.dylib", "libreadstat.dylib", NULL};
	for (int i = 0; names[i] && !rs.lib; i++) {
		rs.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	}
	if (!rs.lib) {
		load_error = "the ReadStat library (libreadstat.so.1) is not installed";
		return load_error;
	}
	SYM(parser_init, "readstat_parser_init");
	SYM(parser_free, "readstat_parser_free");
	SYM(set_metadata_handler, "readstat_set_metadata_handler");
	SYM(set_variable_handler, "readstat_set_variable_handler");
	SYM(set_value_handler, "readstat_set_value_handler");
	SYM(set_value_label_handler, "readstat_set_value_label_handler");
	SYM(set_error_handler, "readstat_set_error_handler");
	SYM(set_open_handler, "readstat_set_open_handler");
	SYM(set_close_handler, "readstat_set_close_handler");
	SYM(set_seek_handler, "readstat_set_seek_handler");
	SYM(set_read_handler, "readstat_set_read_handler");
	SYM(set_update_handler, "readstat_set_update_handler");
	SYM(set_io_ctx, "readstat_set_io_ctx");
	SYM(set_file_character_encoding, "readstat_set_file_character_encoding");
	SYM(parse_sav, "readstat_parse_sav");
	SYM(error_message, "readstat_error_message");
	SYM(get_row_count, "readstat_get_row_count");
	SYM(get_var_count, "readstat_get_var_count");
	SYM(get_file_encoding, "readstat_get_file_encoding");
	SYM(get_file_label, "readstat_get_file_label");
	SYM(var_index, "readstat_variable_get_index");
	SYM(var_name, "readstat_variable_get_name");
	SYM(var_label, "readstat_variable_get_label");
	SYM(var_format, "readstat_variable_get_format");
	SYM(var_type_class, "readstat_variable_get_type_class");
	SYM(var_measure, "readstat_variable_get_measure");
	SYM(var_display_width, "readstat_variable_get_display_width");
	SYM(var_storage_width, "readstat_variable_get_storage_width");
	SYM(var_missing_count, "readstat_variable_get_missing_ranges_count");
	SYM(var_missing_lo, "readstat_variable_get_missing_range_lo");
	SYM(var_missing_hi, "readstat_variable_get_missing_range_hi");
	rs.loaded = 1;
	return NULL;
}

const char *rs_error_message(int code) {
	if (!rs.loaded) {
		return "ReadStat is not loaded";
	}
	return rs.error_message(code);
}

int rs_batch_init(rs_batch *b, int cols, int cap) {
	b->cols = cols;
	b->cap = cap;
	b->rows = 0;
	b->nums = malloc(sizeof(double) * (size_t)cols * (size_t)cap);
	b->str_off = malloc(sizeof(int64_t) * (size_t)cols * (size_t)cap);
	b->str_len = malloc(sizeof(int32_t) * (size_t)cols * (size_t)cap);
	b->arena_cap = 1 << 16;
	b->arena = malloc((size_t)b->arena_cap);
	b->arena_len = 0;
	if (!b->nums || !b->str_off || !b->str_len || !b->arena) {
		rs_batch_free(b);
		return -1;
	}
	return 0;
}

void rs_batch_free(rs_batch *b) {
	free(b->nums);
	free(b->str_off);
	free(b->str_len);
	free(b->arena);
	b->nums = NULL;
	b->str_off = NULL;
	b->str_len = NULL;
	b->arena = NULL;
}

static int on_metadata(void *md, void *ctx) {
	rs_reader *r = ctx;
	return goMetadata(r->handle, rs.get_row_count(md), rs.get_var_count(md), (char *)rs.get_file_encoding(md),
	                  (char *)rs.get_file_label(md));
}

static int on_variable(int index, void *var, const char *val_labels, void *ctx) {
	rs_reader *r = ctx;
	rs_var v;
	memset(&v, 0, sizeof(v));
	v.index = rs.var_index(var);
	v.name = rs.var_name(var);
	v.label = rs.var_label(var);
	v.format = rs.var_format(var);
	v.label_set = val_labels;
	v.string = rs.var_type_class(var) == 0;
	v.measure = rs.var_measure(var);
	v.display_width = rs.var_display_width(var);
	v.storage_width = (int)rs.var_storage_width(var);
	v.missing_count = rs.var_missing_count(var);
	if (v.missing_count > 32) {
		v.missing_count = 32;
	}
	for (int i = 0; i < v.missing_count; i++) {
		v.missing_lo[i] = rs.var_missing_lo(var, i);
		v.missing_hi[i] = rs.var_missing_hi(var, i);
	}
	return goVariable(r->handle, &v);
}

static int on_value_label(const char *set, rs_value value, const char *label, void *ctx) {
	rs_reader *r = ctx;
	return goValueLabel(r->handle, (char *)set, &value, (char *)label);
}

static void on_error(const char *msg, void *ctx) {
	rs_reader *r = ctx;
	goError(r->handle, (char *)msg);
}

static double number(rs_value v) {
	if (v.is_system_missing || v.is_tagged_missing) {
		return NAN;
	}
	switch (v.type) {
	case RS_TYPE_INT8:
		return v.v.i8;
	case RS_TYPE_INT16:
		return v.v.i16;
	case RS_TYPE_INT32:
		return v.v.i32;
	case RS_TYPE_FLOAT:
		return v.v.f;
	case RS_TYPE_DOUBLE:
		return v.v.d;
	}
	return NAN;
}

static int on_value(int obs, void *var, rs_value value, void *ctx) {
	rs_reader *r = ctx;
	rs_batch *b = &r->batch;
	if (!b->nums) {
		// The first value: every variable and value label is known now.
		if (goBegin(r->handle) != 0 || !b->nums) {
			r->aborted = 1;
			return RS_HANDLER_ABORT;
		}
	}
	int col = rs.var_index(var);
	if (col < 0 || col >= b->cols) {
		return RS_HANDLER_ABORT;
	}
	size_t cell = (size_t)b->rows * (size_t)b->cols + (size_t)col;
	if (value.type == RS_TYPE_STRING || value.type == RS_TYPE_STRING_REF) {
		const char *s = value.v.s;
		size_t n = s ? strlen(s) : 0;
		if (b->arena_len + (int64_t)n > b->arena_cap) {
			int64_t cap = b->arena_cap;
			while (b->arena_len + (int64_t)n > cap) {
				cap *= 2;
			}
			char *grown = realloc(b->arena, (size_t)cap);
			if (!grown) {
				b->oom = 1;
				return RS_HANDLER_ABORT;
			}
			b->arena = grown;
			b->arena_cap = cap;
		}
		if (n > 0) {
			memcpy(b->arena + b->arena_len, s, n);
		}
		b->str_off[cell] = b->arena_len;
		b->str_len[cell] = (int32_t)n;
		b->arena_len += (int64_t)n;
		b->nums[cell] = 0;
	} else {
		b->nums[cell] = number(value);
		b->str_len[cell] = -1;
	}
	if (col == b->cols - 1) {
		b->rows++;
		if (b->rows == b->cap) {
			int rc = goFlush(r->handle);
			r->rows_done += b->rows;
			b->rows = 0;
			b->arena_len = 0;
			if (rc != 0) {
				r->aborted = 1;
				return RS_HANDLER_ABORT;
			}
		}
	}
	return RS_HANDLER_OK;
}

// I/O through a file descriptor, counting the bytes consumed so that an
// error can say where in the file it happened.

static int io_open(const char *path, void *io) {
	rs_reader *r = io;
	r->fd = open(path, O_RDONLY);
	if (r->fd < 0) {
		return -1;
	}
	struct stat st;
	if (fstat(r->fd, &st) == 0) {
		r->file_size = st.st_size;
	}
	r->offset = 0;
	return r->fd;
}

static int io_close(void *io) {
	rs_reader *r = io;
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
	return 0;
}

static off_t io_seek(off_t off, int whence, void *io) {
	rs_reader *r = io;
	int w = whence == 0 ? SEEK_SET : whence == 1 ? SEEK_CUR : SEEK_END;
	off_t pos = lseek(r->fd, off, w);
	if (pos >= 0) {
		r->offset = pos;
	}
	return pos;
}

static ssize_t io_read(void *buf, size_t n, void *io) {
	rs_reader *r = io;
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(r->fd, (char *)buf + got, n - got);
		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k < 0) {
			return -1;
		}
		if (k == 0) {
			break;
		}
		got += (size_t)k;
	}
	r->offset += (int64_t)got;
	return (ssize_t)got;
}

static int io_update(long size, void *progress, void *user, void *io) {
	rs_reader *r = io;
	return r->aborted ? 4 /* READSTAT_ERROR_USER_ABORT */ : 0;
}

int rs_parse_sav(rs_reader *r, const char *path) {
	void *p = rs.parser_init();
	if (!p) {
		return 3; // READSTAT_ERROR_MALLOC
	}
	r->fd = -1;
	rs.set_metadata_handler(p, on_metadata);
	rs.set_variable_handler(p, on_variable);
	rs.set_value_handler(p, on_value);
	rs.set_value_label_handler(p, on_value_label);
	rs.set_error_handler(p, on_error);
	rs.set_open_handler(p, io_open);
	rs.set_close_handler(p, io_close);
	rs.set_seek_handler(p, io_seek);
	rs.set_read_handler(p, io_read);
	rs.set_update_handler(p, io_update);
	rs.set_io_ctx(p, r);
	if (r->encoding) {
		rs.set_file_character_encoding(p, r->encoding);
	}
	int rc = rs.parse_sav(p, path, r);
	rs.parser_free(p);
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
	return rc;
}
