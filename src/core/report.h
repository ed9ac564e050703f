/*
 * report: the case report a court or a supervisor reads, as HTML and as a
 * PDF (cairo + pango, A4, a CJK font from fontconfig).  Case summary, site
 * and party, the timeline with officer, local time and place of every step,
 * each checklist with answers and legal basis, orders and deadlines,
 * photos, the signature status of every event and how to verify the
 * package.  The renderers live in fieldbook-report.so (see plugin.h); text is
 * escaped there with glib (g_markup_escape_text).
 */
#ifndef FB_REPORT_H
#define FB_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "form.h"

/* Bytes of the photo with this sha256 (borrowed), or non-zero. */
typedef int (*report_photo_fn)(const char *sha256, const unsigned char **data, size_t *len,
			       void *payload);

typedef struct {
	const json_t *state;   /* folded case state */
	const json_t *rows;    /* [{commit, event, verdict, path}] in (at, id) order */
	const form *form;      /* the case's form, or NULL */
	const json_t *roster;  /* folded roster entries (names of officers), or NULL */
	const char *unit;
	const char *agent;     /* "fieldbook 0.1.0" */
	bool redacted;
	bool inline_photos;    /* HTML: data: URIs instead of photos/<sha256>.jpg */
	report_photo_fn photo;
	void *payload;
} report_input;

/* Start loading the renderer and finding the PDF's fonts on a thread of
 * its own (~8 ms), so that a report drawn soon after, by the thread that
 * called this, finds them ready: callers that know a report is coming (an
 * export, before it opens the workspace and reads the case) call it first.
 * Errors are left to the rendering; the process's exit waits for the
 * thread. */
void report_prepare(void);

/* The HTML report (caller frees *out). */
int report_html(const report_input *in, char **out, size_t *len);
/* The PDF report, written to out as it is drawn (the caller checks out
 * for write errors: a failed write also fails the drawing). */
int report_pdf(const report_input *in, FILE *out);

#endif
