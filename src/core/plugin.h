/*
 * plugin: the parts that need heavy libraries, loaded only when used.
 *
 * Every fieldbook process used to link pango, cairo, glib, chafa and libgps
 * (77 shared libraries in all) although only `export`/`report`, the TUI's
 * photo preview and the gpsd client use them; the dynamic loader alone cost
 * ~15 ms per command.  These parts are now small shared objects of ours,
 * each linked with its own libraries and opened with dlopen() the first
 * time it is needed:
 *
 *   fieldbook-report.so  HTML and PDF rendering of a report (glib, cairo, pango)
 *   fieldbook-gps.so     the gpsd client (libgps)
 *   fieldbook-chafa.so   photo to terminal cells (chafa)
 *
 * They are looked for next to the executable (the build directory), then in
 * <exe dir>/../lib/fieldbook/ (an installed tree, relocatable with DESTDIR).
 * Each exports one table, `fieldbook_plugin_<name>`, whose first field is
 * PLUGIN_ABI; a table of another ABI is refused.  Plugins never call back
 * into the executable: everything they need (translated strings, photo
 * bytes) is passed in.
 */
#ifndef FB_PLUGIN_H
#define FB_PLUGIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#define PLUGIN_ABI 3

/* The table of plugin `name` (borrowed; the plugin stays loaded), or NULL
 * with the error set naming the file and the loader's reason. */
const void *plugin_get(const char *name);

/* --- fieldbook-report.so ------------------------------------------------------------------ */

/* Bytes of the photo with this sha256, borrowed until the renderer returns. */
typedef int (*plugin_photo_fn)(const char *sha256, const unsigned char **data, size_t *len,
			       void *payload);

typedef struct {
	const char *lang;        /* HTML lang: "zh-CN" or "en" */
	const char *case_id;
	const char *creator;     /* PDF metadata: "fieldbook 0.1.0" */
	const char *pdf_title;   /* translated "Case report <id>" */
	const char *page_fmt;    /* translated "%s - page %d" (case id, page number) */
	const char *undecodable; /* translated "(the photo could not be decoded)" */
	bool inline_photos;      /* HTML: data: URIs instead of photos/<sha256>.jpg */
	plugin_photo_fn photo;
	void *payload;
	char error[256];         /* why a renderer failed (untranslated library text) */
} plugin_report_input;

typedef struct {
	int abi;
	/* Find and open the PDF's fonts ahead of a rendering, on any thread
	 * (report_prepare); the next PDF drawn uses them.  Must return before
	 * a renderer is called. */
	void (*prepare)(void);
	/* Render the report document (report.c) as HTML (the caller frees
	 * *out) or as a PDF written to out as it is drawn (a report's PDF
	 * carries its photos: tens of MB); 0, or -1 with in->error set. */
	int (*html)(const json_t *doc, plugin_report_input *in, char **out, size_t *len);
	int (*pdf)(const json_t *doc, plugin_report_input *in, FILE *out);
} plugin_report;

/* --- fieldbook-gps.so ----------------------------------------------------------------------- */

typedef struct {
	bool fix;          /* a 2D/3D fix with a valid position */
	double lat, lon;
	double acc_m;      /* horizontal error estimate, -1 when gpsd gives none */
	long long time;    /* the fix's time (Unix seconds), 0 when none */
	bool no_receiver;  /* gpsd answered that it has no device */
} plugin_gps_report;

typedef struct {
	int abi;
	void *(*open)(const char *host, const char *port); /* NULL: gpsd does not answer */
	/* Wait up to timeout_ms for one report: 1 read (r filled), 0 nothing came,
	 * -1 gpsd went away. */
	int (*read)(void *conn, int timeout_ms, plugin_gps_report *r);
	void (*close)(void *conn);
} plugin_gps;

/* --- fieldbook-chafa.so --------------------------------------------------------------------- */

enum { PLUGIN_CELLS_TRUECOLOR, PLUGIN_CELLS_240, PLUGIN_CELLS_16, PLUGIN_CELLS_8 };

typedef struct {
	uint32_t ch; /* Unicode code point; 0: the right half of a wide symbol */
	int fg, bg;  /* packed RGB (truecolor) or a palette index; -1: default */
} plugin_cell;

typedef struct {
	int abi;
	/* Fit a w x h picture into at most *cw x *ch cells (cells twice as tall as wide). */
	void (*geometry)(int w, int h, int *cw, int *ch);
	/* Render RGB8 pixels into cw x ch cells (row-major; the caller frees *cells). */
	int (*render)(const unsigned char *rgb, int w, int h, int mode, int cw, int ch,
		      plugin_cell **cells);
} plugin_chafa;

#endif
