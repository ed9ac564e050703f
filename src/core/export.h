/*
 * export: the evidence package of one case, a BagIt 1.0 bag (RFC 8493),
 * written as a directory or a zip archive.  See docs/EVIDENCE.md.
 *
 *   bagit.txt  bag-info.txt  manifest-sha256.txt  manifest-sha512.txt
 *   tagmanifest-sha256.txt  tagmanifest-sha512.txt
 *   data/events/<event-id>.json(.sig)   the ledger's bytes, unchanged
 *   data/redacted/<event-id>.json       instead, in a redacted package
 *   data/photos/<sha256>.jpg            original photos
 *   data/forms/<form-id>/<version>.yaml the form texts the events used
 *   data/roster/<event-id>.json(.sig)   roster changes naming the signers
 *                                       and the admins who signed those
 *   data/allowed_signers                for ssh-keygen -Y verify
 *   data/audit.tsv                      commit, time, officer, event, type, signature
 *   data/report.html  data/report.pdf
 *
 * The package is built in memory as an export_bag (path -> bytes), which
 * pkgverify also reads packages into.  Hashes: OpenSSL's libcrypto.
 */
#ifndef FB_EXPORT_H
#define FB_EXPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workspace.h"

/* Manifest algorithms (RFC 8493 names) and their lowercase hex digests. */
#define EXPORT_HEX_MAX 129
#define EXPORT_ALGS 2

typedef struct {
	char *path; /* relative to the bag: "data/events/<id>.json" */
	unsigned char *data;
	size_t len;
	bool hashed; /* hex holds the digests (export_alg_name order); set by export */
	bool written; /* export only: already in the package directory being written */
	bool mapped;  /* data is a read-only mapping of a file (munmap, not free) */
	char hex[EXPORT_ALGS][EXPORT_HEX_MAX];
} export_file;

typedef struct {
	export_file *files;
	size_t n, cap;
} export_bag;

/* Add a copy of data at path (ERR_EXISTS when the path is taken). */
int export_bag_add(export_bag *b, const char *path, const void *data, size_t len);
/* Same, taking ownership of malloc'd data (freed on error too). */
int export_bag_take(export_bag *b, const char *path, void *data, size_t len);
/* Add the len bytes of the file open at fd, mapped read-only (the bag owns
 * the mapping, not the descriptor). */
int export_bag_map(export_bag *b, const char *path, int fd, size_t len);
const export_file *export_bag_find(const export_bag *b, const char *path);
void export_bag_free(export_bag *b);
/* Read a bag from a directory or a .zip file (a single top directory
 * holding bagit.txt is stripped).  Symbolic links and special files are
 * refused. */
int export_bag_load(export_bag *b, const char *path);

/* Payload names: [A-Za-z0-9._/-], no empty, "." or ".." component. */
bool export_path_valid(const char *path);

size_t export_alg_count(void);
const char *export_alg_name(size_t i); /* "sha256", "sha512" */
void export_hash_hex(size_t alg, const void *data, size_t len, char out[EXPORT_HEX_MAX]);

/* Progress: files and bytes written so far of the totals. */
typedef void (*export_progress_cb)(size_t files_done, size_t files_total, uint64_t bytes_done,
				   uint64_t bytes_total, void *payload);

typedef struct {
	const char *out;   /* directory (must not exist or be empty) or zip file */
	bool zip;
	bool redact;       /* personal fields and party contact replaced */
	const char *agent; /* Bag-Software-Agent, "fieldbook 0.1.0" */
	export_progress_cb progress;
	void *payload;
} export_opts;

#define EXPORT_REDACTED "[redacted]"

/* Write the evidence package of a case. */
int export_case(workspace *ws, const char *case_id, const export_opts *o);
/* Write the report of a case alone: format from the name (.pdf or .html;
 * the HTML then carries its photos inline). */
int export_report(workspace *ws, const char *case_id, const char *out, bool redact,
		  const char *agent);
/* Replace personal answers and notes (form f, may be NULL) and the party's
 * contact in an event, also inside a correction's changes.  Returns how
 * many fields were replaced. */
int export_redact_event(json_t *ev, const form *f);

#endif
