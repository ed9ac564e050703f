/*
 * error: the last error of the calling thread, libgit2-style.
 *
 * Core functions return 0 or a negative ERR_* code and leave a
 * human-readable message here; the CLI and TUI print it, the core never.
 * Messages are already translated (gettext) when they are set.
 */
#ifndef FB_ERROR_H
#define FB_ERROR_H

enum {
	ERR_OK = 0,
	ERR_GENERIC = -1,
	ERR_NOMEM = -2,
	ERR_NOTFOUND = -3,
	ERR_EXISTS = -4,
	ERR_INVALID = -5,  /* bad input: arguments, answers, JSON */
	ERR_STATE = -6,    /* illegal step for the case's state */
	ERR_IO = -7,       /* file system, disk full */
	ERR_CONFLICT = -8, /* concurrent writer, retry exhausted, tampering */
	ERR_FORM = -9,     /* form file invalid */
	ERR_GIT = -10,     /* libgit2 error */
	ERR_DB = -11,      /* SQLite error */
	ERR_PHOTO = -12,   /* photo unreadable or rejected */
};

/* Set the message (printf format). Returns code, so `return error_set(...)`. */
int error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append a context line ("while ...") before the current message. */
int error_prefix(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Borrowed: the current message, "" when none. */
const char *error_last(void);
int error_code(void);
void error_clear(void);

#endif
