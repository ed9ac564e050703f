/*
 * util: small helpers shared by the core: files, time, hashing, text.
 * No terminal output.  Time can be pinned for tests and the demo with
 * FIELDBOOK_NOW=<RFC 3339 UTC or epoch seconds>.
 */
#ifndef FB_UTIL_H
#define FB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Directory of the running executable. */
int util_exe_dir(char *buf, size_t size);
bool util_is_dir(const char *path);
bool util_is_file(const char *path);
/* mkdir -p with mode for every created component. */
int util_mkdirs(const char *path, int mode);
/* Read a whole file (NUL-terminated, *len excludes the NUL); caller frees. */
int util_read_file(const char *path, char **out, size_t *len);
/* Write a file atomically (temp + fsync + rename) with mode. */
int util_write_file(const char *path, const void *data, size_t len, int mode);
/* Create a new file (refused if it exists) with mode, without fsync: for
 * files in a directory that is flushed as a whole (util_sync_tree).  The
 * disk write of a large file is started at once (util_start_writeback). */
int util_write_new(const char *path, const void *data, size_t len, int mode);
/* Start writing the len bytes just written to fd to the disk, without
 * waiting, when there are at least UTIL_WRITEBACK_MIN of them: the flush
 * that makes them durable (util_sync_tree) then has less left to wait for
 * (photos, packages: tens of MB). */
#define UTIL_WRITEBACK_MIN (256 * 1024)
void util_start_writeback(int fd, size_t len);
/* Make everything written under dir durable: one syncfs() of its file system. */
int util_sync_tree(const char *dir);
/* Make a new or renamed entry durable: fsync of the directory holding path. */
int util_sync_parent(const char *path);
/* Remove a directory and everything under it (best effort; links are not followed). */
void util_remove_tree(const char *path);
/* A temporary name beside `path` (same directory), unique in this process,
 * for a file written there and then renamed to `path`: "tmp_obj_" first,
 * the prefix by which git's fsck and prune know a temporary object. */
void util_temp_beside(const char *path, char *out, size_t size);

/* Current time: real clock, or FIELDBOOK_NOW when set. */
time_t util_now(void);
/* "2026-11-23T04:47:29Z" */
void util_time_rfc3339(time_t t, char out[32]);
/* Now with milliseconds, "2026-11-23T04:47:29.123Z": the "at" of events,
 * so that events of different devices in the same second keep their order. */
void util_time_rfc3339_ms(char out[32]);
/* "20261123T044729Z" */
void util_time_compact(time_t t, char out[20]);
/* Local UTC offset at t, "+08:00". */
void util_time_tz(time_t t, char out[8]);
/* Local calendar date at t, "2026-11-23". */
void util_time_local_date(time_t t, char out[11]);
/* An event's UTC time (at) shown in its own zone (tz, "+08:00"): strftime
 * fmt of the shifted time, then " +08:00" when show_zone ("UTC" when the
 * zone is unknown); at itself when it cannot be parsed. */
void util_time_in_zone(const char *at, const char *tz, const char *fmt, bool show_zone,
		       char *out, size_t size);
/* Parse "2026-11-23T04:47:29Z" (or with +hh:mm). */
int util_time_parse(const char *s, time_t *out);
/* Days from date a to date b ("YYYY-MM-DD"), b - a. */
int util_date_diff(const char *a, const char *b, long *days);
/* date + n days. */
int util_date_add(const char *date, int n, char out[11]);

/* sha256 of bytes as lowercase hex (65 bytes with NUL). */
void util_sha256_hex(const void *data, size_t len, char out[65]);

/* Duplicate a string; NULL stays NULL. Aborts on OOM is not allowed: returns NULL. */
char *util_strdup(const char *s);
/* Whether s ends with suffix, letters in either case (file names: ".PDF", ".idx"). */
bool util_ends_with(const char *s, const char *suffix);
/* Count display columns of UTF-8 text (utf8proc widths). */
int util_text_width(const char *s);



/* Copy s into out fitted to exactly `width` display columns: elided with
 * "…" when longer (never cutting a character), padded with spaces when
 * shorter (pad=true).  Returns the columns used. */
int util_text_fit(const char *s, int width, bool pad, char *out, size_t size);
#endif
