/*
 * plugin_report: fieldbook-report.so, the HTML and PDF renderers of a case
 * report.  report.c builds the document (a list of blocks: headings,
 * paragraphs, label/value lists, tables, photos, code lines); this only lays
 * the blocks out.  HTML is escaped with glib; the PDF is A4, drawn with cairo
 * and pango in a CJK font from fontconfig, photos decoded with libjpeg.
 * Loaded by plugin_get("report") so that only `export` and `report` pay for
 * these libraries (see core/plugin.h).
 */
#include "core/plugin.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <glib.h>
#include <jpeglib.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef plugin_report_input report_input;

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int fail(report_input *in, const char *why)
{
	snprintf(in->error, sizeof in->error, "%s", why);
	return -1;
}

/* --- HTML ------------------------------------------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
	char *e = g_markup_escape_text(s, -1);
	fputs(e, f);
	g_free(e);
}

static void html_text(FILE *f, const char *tag, const char *text)
{
	fprintf(f, "<%s>", tag);
	esc(f, text);
	fprintf(f, "</%s>\n", tag);
}

static void html_kv(FILE *f, const json_t *blk)
{
	fputs("<table class=\"kv\">\n", f);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(blk, "rows"), i, r) {
		fputs("<tr><th>", f);
		esc(f, json_string_value(json_array_get(r, 0)));
		fputs("</th><td>", f);
		esc(f, json_string_value(json_array_get(r, 1)));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_table(FILE *f, const json_t *blk)
{
	size_t i, j;
	json_t *r, *c;
	fputs("<table class=\"grid\">\n<tr>", f);
	json_array_foreach(json_object_get(blk, "head"), i, c) {
		fputs("<th>", f);
		esc(f, json_string_value(c));
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	json_array_foreach(json_object_get(blk, "rows"), i, r) {
		fputs("<tr>", f);
		json_array_foreach(r, j, c) {
			fputs("<td>", f);
			esc(f, json_string_value(c));
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_photo(FILE *f, const json_t *blk, const report_input *in)
{
	const char *sha = str(blk, "sha256");
	const unsigned char *data;
	size_t len;
	fputs("<figure>", f);
	if (in->inline_photos && in->photo && in->photo(sha, &data, &len, in->payload) == 0) {
		gchar *b64 = g_base64_encode(data, len);
		fprintf(f, "<img src=\"data:image/jpeg;base64,%s\" alt=\"%s\">", b64, sha);
		g_free(b64);
	} else {
		fprintf(f, "<a href=\"photos/%s.jpg\"><img src=\"photos/%s.jpg\" alt=\"%s\"></a>", sha, sha, sha);
	}
	fputs("<figcaption>", f);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(blk, "caption"), i, l) {
		fputs(i ? "<br>" : "<code>", f);
		esc(f, json_string_value(l));
		if (!i)
			fputs("</code>", f);
	}
	fputs("</figcaption></figure>\n", f);
}

static const char css[] =
	"body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;margin:2em;color:#111}"
	"h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:1.5em}h3{font-size:1em}"
	"table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.2em .4em;"
	"vertical-align:top;text-align:left;white-space:pre-wrap}table.kv th{background:#f3f3f3}"
	"table.grid th{background:#e8e8e8}.note{border:2px solid #c00;padding:.5em;background:#fee}"
	"img{max-width:480px;max-height:480px}figure{margin:1em 0}pre{background:#f6f6f6;padding:.5em}"
	"@media print{h2{page-break-after:avoid}tr,figure{page-break-inside:avoid}}";

static int render_html(const json_t *doc, report_input *in, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	if (!f)
		return fail(in, "out of memory");
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head><meta charset=\"utf-8\">\n<title>", in->lang);
	esc(f, in->case_id);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n", css);
	size_t i;
	json_t *blk;
	json_array_foreach(doc, i, blk) {
		const char *kind = str(blk, "kind");
		if (strcmp(kind, "kv") == 0)
			html_kv(f, blk);
		else if (strcmp(kind, "table") == 0)
			html_table(f, blk);
		else if (strcmp(kind, "photo") == 0)
			html_photo(f, blk, in);
		else if (strcmp(kind, "note") == 0) {
			fputs("<p class=\"note\">", f);
			esc(f, str(blk, "text"));
			fputs("</p>\n", f);
		} else
			html_text(f, strcmp(kind, "code") == 0 ? "pre" : kind, str(blk, "text"));
	}
	fputs("</body>\n</html>\n", f);
	fclose(f);
	return 0;
}

/* --- PDF (cairo + pango, A4) ------------------------------------------------------------------ */

#define PAGE_W 595.276
#define PAGE_H 841.890
#define MARGIN 48.0
#define CONTENT_W (PAGE_W - 2 * MARGIN)
/* WenQuanYi Micro Hei first: its outlines are TrueType, which cairo subsets to
 * the glyphs a report uses (~40 KB).  Noto Sans CJK's are CFF, of which cairo
 * 1.16 embeds ~0.9 MB in every report, and loading and deflating it was most
 * of the export of a small case (0.11 s of 0.16 s). */
#define FONT_SANS "WenQuanYi Micro Hei, Noto Sans CJK SC, Droid Sans Fallback, sans-serif"
#define FONT_MONO "DejaVu Sans Mono, WenQuanYi Micro Hei Mono, Noto Sans CJK SC, monospace"
/* The text styles of the PDF: what each layout() draws in, and what
 * prepare() finds the fonts of ahead. */
enum style { ST_H1, ST_H2, ST_H3, ST_LABEL, ST_BODY, ST_CELL_HEAD, ST_CELL, ST_FOOTER, ST_CODE, ST_CAPTION };
static const struct {
	const char *font;
	double size;
	bool bold;
} styles[] = {
	[ST_H1] = {FONT_SANS, 16, true},       [ST_H2] = {FONT_SANS, 12.5, true},
	[ST_H3] = {FONT_SANS, 10, true},       [ST_LABEL] = {FONT_SANS, 9, true},
	[ST_BODY] = {FONT_SANS, 9, false},     [ST_CELL_HEAD] = {FONT_SANS, 7.5, true},
	[ST_CELL] = {FONT_SANS, 7.5, false},   [ST_FOOTER] = {FONT_SANS, 7, false},
	[ST_CODE] = {FONT_MONO, 8, false},     [ST_CAPTION] = {FONT_MONO, 7, false},
};
#define PHOTO_MAX_W 320.0
#define PHOTO_MAX_H 240.0

typedef struct {
	cairo_t *cr;
	double y;
	int page;
	const report_input *in;
	const json_t *table; /* the table being drawn, to repeat its head on a new page */
} pdf;

static void set_style(PangoLayout *l, enum style st)
{
	PangoFontDescription *fd = pango_font_description_from_string(styles[st].font);
	pango_font_description_set_absolute_size(fd, styles[st].size * PANGO_SCALE);
	if (styles[st].bold)
		pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
}

static PangoLayout *layout(pdf *p, const char *text, enum style st, double width)
{
	PangoLayout *l = pango_cairo_create_layout(p->cr);
	set_style(l, st);
	pango_layout_set_width(l, (int)(width * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_text(l, text, -1);
	return l;
}

static double layout_h(PangoLayout *l)
{
	int w, h;
	pango_layout_get_size(l, &w, &h);
	return (double)h / PANGO_SCALE;
}

static void show(pdf *p, PangoLayout *l, double x, double y)
{
	cairo_move_to(p->cr, x, y);
	pango_cairo_show_layout(p->cr, l);
}

static void footer(pdf *p)
{
	char *t = g_strdup_printf(p->in->page_fmt, p->in->case_id, p->page);
	PangoLayout *l = layout(p, t, ST_FOOTER, CONTENT_W);
	cairo_set_source_rgb(p->cr, 0.4, 0.4, 0.4);
	show(p, l, MARGIN, PAGE_H - MARGIN + 14);
	cairo_set_source_rgb(p->cr, 0, 0, 0);
	g_object_unref(l);
	g_free(t);
}

static void table_head(pdf *p);

static void new_page(pdf *p)
{
	footer(p);
	cairo_show_page(p->cr);
	p->page++;
	p->y = MARGIN;
	if (p->table)
		table_head(p);
}

/* Start a new page unless h more points fit on this one. */
static void need(pdf *p, double h)
{
	if (p->y + h > PAGE_H - MARGIN && p->y > MARGIN + 1)
		new_page(p);
}

static void pdf_text(pdf *p, const char *text, enum style st, double before, double after)
{
	PangoLayout *l = layout(p, text, st, CONTENT_W);
	double h = layout_h(l);
	p->y += before;
	need(p, h + (styles[st].bold ? 40 : 0)); /* keep a heading with what follows */
	show(p, l, MARGIN, p->y);
	p->y += h + after;
	g_object_unref(l);
}

static void pdf_note(pdf *p, const char *text)
{
	PangoLayout *l = layout(p, text, ST_LABEL, CONTENT_W - 12);
	double h = layout_h(l) + 12;
	need(p, h);
	cairo_set_source_rgb(p->cr, 0.8, 0, 0);
	cairo_set_line_width(p->cr, 1.5);
	cairo_rectangle(p->cr, MARGIN, p->y, CONTENT_W, h);
	cairo_stroke(p->cr);
	show(p, l, MARGIN + 6, p->y + 6);
	cairo_set_source_rgb(p->cr, 0, 0, 0);
	p->y += h + 8;
	g_object_unref(l);
}

static void pdf_kv(pdf *p, const json_t *blk)
{
	const double lw = 110;
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(blk, "rows"), i, r) {
		PangoLayout *k = layout(p, json_string_value(json_array_get(r, 0)), ST_LABEL, lw - 6);
		PangoLayout *v = layout(p, json_string_value(json_array_get(r, 1)), ST_BODY, CONTENT_W - lw);
		double h = MAX(layout_h(k), layout_h(v)) + 3;
		need(p, h);
		show(p, k, MARGIN, p->y);
		show(p, v, MARGIN + lw, p->y);
		p->y += h;
		g_object_unref(k);
		g_object_unref(v);
	}
	p->y += 6;
}

/* Column x positions from the table's relative widths. */
static void columns_of(const json_t *blk, double *x, double *w, size_t n)
{
	double sum = 0, at = MARGIN;
	for (size_t i = 0; i < n; i++)
		sum += json_number_value(json_array_get(json_object_get(blk, "widths"), i));
	for (size_t i = 0; i < n; i++) {
		w[i] = CONTENT_W * json_number_value(json_array_get(json_object_get(blk, "widths"), i)) / sum;
		x[i] = at;
		at += w[i];
	}
}

#define CELL_PAD 3.0
#define MAX_COLS 8

/* One row of cells; shade: a header row. */
static void table_row(pdf *p, const json_t *cells, bool head)
{
	size_t n = MIN(json_array_size(cells), MAX_COLS);
	double x[MAX_COLS], w[MAX_COLS], h = 0;
	PangoLayout *l[MAX_COLS];
	columns_of(p->table, x, w, n);
	for (size_t i = 0; i < n; i++) {
		l[i] = layout(p, json_string_value(json_array_get(cells, i)), head ? ST_CELL_HEAD : ST_CELL,
			      w[i] - 2 * CELL_PAD);
		h = MAX(h, layout_h(l[i]) + 2 * CELL_PAD);
	}
	if (!head)
		need(p, h);
	for (size_t i = 0; i < n; i++) {
		if (head) {
			cairo_set_source_rgb(p->cr, 0.9, 0.9, 0.9);
			cairo_rectangle(p->cr, x[i], p->y, w[i], h);
			cairo_fill(p->cr);
			cairo_set_source_rgb(p->cr, 0, 0, 0);
		}
		cairo_set_line_width(p->cr, 0.4);
		cairo_rectangle(p->cr, x[i], p->y, w[i], h);
		cairo_stroke(p->cr);
		show(p, l[i], x[i] + CELL_PAD, p->y + CELL_PAD);
		g_object_unref(l[i]);
	}
	p->y += h;
}

static void table_head(pdf *p) { table_row(p, json_object_get(p->table, "head"), true); }

static void pdf_table(pdf *p, const json_t *blk)
{
	need(p, 40);
	p->table = blk;
	table_head(p);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(blk, "rows"), i, r)
		table_row(p, r, false);
	p->table = NULL;
	p->y += 8;
}

/* libjpeg errors jump back instead of exiting. */
typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
} jpeg_err;

static void jpeg_fail(j_common_ptr c) { longjmp(((jpeg_err *)c->err)->jb, 1); }
static void jpeg_quiet(j_common_ptr c) {}

static void copy_row(const unsigned char *rgb, uint32_t *dst, unsigned w)
{
	for (unsigned x = 0; x < w; x++)
		dst[x] = (uint32_t)rgb[3 * x] << 16 | (uint32_t)rgb[3 * x + 1] << 8 | rgb[3 * x + 2];
}

/* The photo as a cairo surface of its proportions, or NULL when libjpeg
 * cannot read it.  A JPEG whose markers libjpeg reads without a warning is
 * one cairo embeds as it is (embed_original): cairo finds the frame header
 * the same way and draws the JPEG over the surface's extent without
 * reading its pixels, so the surface is only the photo's size divided by
 * the largest of 8, 4, 2 that divides both sides (the same proportions),
 * never decoded: decoding, and cairo copying the pixels when the surface is
 * destroyed before its page is written, were most of an export's time.
 * Any other JPEG is decoded, scaled down (by libjpeg's 1/2..1/8) to about
 * max_px wide: the pixels cairo falls back on. */
static cairo_surface_t *decode_jpeg(const unsigned char *data, size_t len, unsigned max_px)
{
	struct jpeg_decompress_struct d;
	jpeg_err je;
	cairo_surface_t *volatile s = NULL;
	unsigned char *volatile row = NULL;
	d.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = jpeg_fail;
	je.pub.output_message = jpeg_quiet;
	if (setjmp(je.jb)) {
		jpeg_destroy_decompress(&d);
		free(row);
		if (s)
			cairo_surface_destroy(s);
		return NULL;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, data, len);
	jpeg_read_header(&d, TRUE);
	bool embeddable = d.num_components == 1 || d.num_components == 3 || d.num_components == 4;
	if (je.pub.num_warnings == 0 && embeddable) {
		unsigned k = 8;
		while (k > 1 && (d.image_width % k || d.image_height % k))
			k /= 2;
		s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(d.image_width / k),
					       (int)(d.image_height / k));
		jpeg_destroy_decompress(&d);
		if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS)
			return s;
		cairo_surface_destroy(s);
		return NULL;
	}
	d.out_color_space = JCS_RGB;
	d.scale_num = 1;
	d.scale_denom = 1;
	while (d.scale_denom < 8 && d.image_width / (d.scale_denom * 2) >= max_px)
		d.scale_denom *= 2;
	jpeg_start_decompress(&d);
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)d.output_width, (int)d.output_height);
	row = malloc((size_t)d.output_width * 3);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS || !row)
		longjmp(je.jb, 1);
	unsigned char *px = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	cairo_surface_flush(s);
	while (d.output_scanline < d.output_height) {
		JSAMPROW rows[1] = {row};
		JDIMENSION y = d.output_scanline;
		if (jpeg_read_scanlines(&d, rows, 1) != 1)
			longjmp(je.jb, 1);
		copy_row(row, (uint32_t *)(px + (size_t)y * (size_t)stride), d.output_width);
	}
	cairo_surface_mark_dirty(s);
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	free(row);
	return s;
}

static double pdf_image(pdf *p, cairo_surface_t *img, double caption_h)
{
	double iw = cairo_image_surface_get_width(img), ih = cairo_image_surface_get_height(img);
	double k = MIN(PHOTO_MAX_W / iw, PHOTO_MAX_H / ih);
	need(p, ih * k + caption_h + 6);
	cairo_save(p->cr);
	cairo_translate(p->cr, MARGIN, p->y);
	cairo_scale(p->cr, k, k);
	cairo_set_source_surface(p->cr, img, 0, 0);
	cairo_paint(p->cr);
	cairo_restore(p->cr);
	return ih * k;
}

/* The PDF carries the photo's original JPEG bytes (DCTDecode) instead of
 * the decoded pixels deflated again: the exact evidence bytes, a smaller
 * file, and no zlib pass over every pixel (which was half the export's
 * time).  The bytes are borrowed until the renderer returns (plugin.h), and
 * cairo writes every image before that (cairo_surface_finish in
 * render_pdf): no copy. */
static void embed_original(cairo_surface_t *img, const unsigned char *data, size_t len)
{
	cairo_surface_set_mime_data(img, CAIRO_MIME_TYPE_JPEG, data, len, NULL, NULL);
}

static void pdf_photo(pdf *p, const json_t *blk)
{
	const unsigned char *data;
	size_t len;
	cairo_surface_t *img = NULL;
	if (p->in->photo && p->in->photo(str(blk, "sha256"), &data, &len, p->in->payload) == 0 &&
	    (img = decode_jpeg(data, len, 1200)))
		embed_original(img, data, len);
	GString *cap = g_string_new(NULL);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(blk, "caption"), i, l)
		g_string_append_printf(cap, "%s%s", i ? "\n" : "sha256 ", json_string_value(l));
	if (!img)
		g_string_append_printf(cap, "\n%s", p->in->undecodable);
	PangoLayout *c = layout(p, cap->str, ST_CAPTION, CONTENT_W);
	double ch = layout_h(c);
	if (img) {
		p->y += pdf_image(p, img, ch) + 3;
		cairo_surface_destroy(img);
	} else
		need(p, ch);
	show(p, c, MARGIN, p->y);
	p->y += ch + 12;
	g_object_unref(c);
	g_string_free(cap, TRUE);
}

static void pdf_block(pdf *p, const json_t *blk)
{
	const char *kind = str(blk, "kind"), *text = str(blk, "text");
	if (strcmp(kind, "h1") == 0)
		pdf_text(p, text, ST_H1, 0, 8);
	else if (strcmp(kind, "h2") == 0)
		pdf_text(p, text, ST_H2, 10, 5);
	else if (strcmp(kind, "h3") == 0)
		pdf_text(p, text, ST_H3, 6, 4);
	else if (strcmp(kind, "p") == 0)
		pdf_text(p, text, ST_BODY, 0, 6);
	else if (strcmp(kind, "code") == 0)
		pdf_text(p, text, ST_CODE, 0, 6);
	else if (strcmp(kind, "note") == 0)
		pdf_note(p, text);
	else if (strcmp(kind, "kv") == 0)
		pdf_kv(p, blk);
	else if (strcmp(kind, "table") == 0)
		pdf_table(p, blk);
	else if (strcmp(kind, "photo") == 0)
		pdf_photo(p, blk);
}

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int len)
{
	return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* --- fonts found ahead (prepare) --------------------------------------------------------- */

/* fontconfig's configuration for the PDF: the font directories and caches
 * of Debian's /etc/fonts/fonts.conf and one rule, without the ~60 files of
 * rules it includes.  Those are about screens (hinting, antialiasing, the
 * fonts a desktop prefers for "sans-serif"); the PDF names its families
 * (FONT_SANS, FONT_MONO) and draws outlines, so the fonts it finds are the
 * same.  The one rule kept is the synthetic bold of 90-synthetic.conf:
 * WenQuanYi Micro Hei has no bold face, and the report's headings are
 * bold.  Reading the rules, and matching each style through them, were
 * about a third of the report of a small case. */
static const char report_fonts_conf[] =
	"<fontconfig>"
	"<dir>/usr/share/fonts</dir><dir>/usr/local/share/fonts</dir>"
	"<dir prefix=\"xdg\">fonts</dir><dir>~/.fonts</dir>"
	"<cachedir>/var/cache/fontconfig</cachedir><cachedir prefix=\"xdg\">fontconfig</cachedir>"
	"<cachedir>~/.fontconfig</cachedir>"
	"<match target=\"font\">"
	"<test name=\"weight\" compare=\"less_eq\"><const>medium</const></test>"
	"<test target=\"pattern\" name=\"weight\" compare=\"more_eq\"><const>bold</const></test>"
	"<edit name=\"embolden\" mode=\"assign\"><bool>true</bool></edit>"
	"<edit name=\"weight\" mode=\"assign\"><const>bold</const></edit>"
	"</match>"
	"</fontconfig>";

/* The CJK families FONT_SANS names, one of which the configuration above
 * must find to be used. */
static const char *const cjk_families[] = {"WenQuanYi Micro Hei", "Noto Sans CJK SC",
					   "Droid Sans Fallback"};

static bool has_family(FcConfig *c, const char *family)
{
	FcPattern *p = FcPatternBuild(NULL, FC_FAMILY, FcTypeString, family, (char *)NULL);
	FcObjectSet *os = FcObjectSetBuild(FC_FAMILY, (char *)NULL);
	FcFontSet *fs = p && os ? FcFontList(c, p, os) : NULL;
	bool found = fs && fs->nfont > 0;
	if (fs)
		FcFontSetDestroy(fs);
	if (os)
		FcObjectSetDestroy(os);
	if (p)
		FcPatternDestroy(p);
	return found;
}

/* A font map for the PDF: with report_fonts_conf when that finds a CJK
 * family of FONT_SANS, else with the system's configuration (fonts in
 * directories of its own, say). */
static PangoFontMap *new_font_map(void)
{
	FcConfig *c = FcConfigCreate();
	bool own = c && FcConfigParseAndLoadFromMemory(c, (const FcChar8 *)report_fonts_conf, FcFalse) &&
		   FcConfigBuildFonts(c);
	bool cjk = false;
	for (size_t i = 0; own && !cjk && i < sizeof cjk_families / sizeof *cjk_families; i++)
		cjk = has_family(c, cjk_families[i]);
	/* fontconfig's default too, set before pango starts: pango's start
	 * calls FcInit() on a thread of its own, which would otherwise read
	 * the system's configuration for nothing (~5 ms of CPU while the case
	 * is read), and cairo's substitutions then use the same rules */
	if (own && cjk)
		FcConfigSetCurrent(c);
	PangoFontMap *fm = pango_cairo_font_map_new();
	if (own && cjk && PANGO_IS_FC_FONT_MAP(fm))
		pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(fm), c);
	if (c)
		FcConfigDestroy(c);
	return fm;
}

/* A font map in which prepare() has already found and opened the fonts of
 * every style, or NULL.  Set on prepare's thread, taken by the next PDF on
 * the thread that draws it: the core joins the first before calling the
 * second (report.c). */
static PangoFontMap *prepared_map;

/* Do now what the first lines of any PDF would otherwise wait for:
 * fontconfig reading its configuration and caches, pango matching each
 * style (with the CJK fallback) and FreeType and HarfBuzz opening the
 * fonts: ~8 ms with the plugin's loading, which the core overlaps with
 * reading the case.  The text is laid out against a PDF surface that
 * writes nowhere, so the fonts are the ones a PDF's layouts look up. */
static void prepare(void)
{
	/* once: the thread that drew the first PDF keeps its map for the next */
	static bool done;
	if (done)
		return;
	done = true;
	PangoFontMap *fm = new_font_map();
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(NULL, NULL, PAGE_W, PAGE_H);
	cairo_t *cr = cairo_create(s);
	PangoContext *ctx = pango_font_map_create_context(fm);
	pango_cairo_update_context(cr, ctx);
	for (size_t i = 0; i < sizeof styles / sizeof *styles; i++) {
		PangoLayout *l = pango_layout_new(ctx);
		set_style(l, (enum style)i);
		pango_layout_set_text(l, "Fieldbook 0123 案件报告", -1);
		int w, h;
		pango_layout_get_size(l, &w, &h);
		g_object_unref(l);
	}
	g_object_unref(ctx);
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	prepared_map = fm;
}

static int render_pdf(const json_t *doc, report_input *in, FILE *f)
{
	/* this thread's layouts (pango_cairo_create_layout) use the map set here */
	static _Thread_local bool has_map;
	if (prepared_map || !has_map) {
		PangoFontMap *fm = prepared_map ? prepared_map : new_font_map();
		pango_cairo_font_map_set_default(PANGO_CAIRO_FONT_MAP(fm));
		g_object_unref(fm);
		prepared_map = NULL;
		has_map = true;
	}
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(pdf_write, f, PAGE_W, PAGE_H);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, in->pdf_title);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, in->creator);
	pdf p = {.cr = cairo_create(s), .y = MARGIN, .page = 1, .in = in};
	size_t i;
	json_t *blk;
	json_array_foreach(doc, i, blk)
		pdf_block(&p, blk);
	footer(&p);
	cairo_show_page(p.cr);
	cairo_status_t st = cairo_status(p.cr);
	cairo_destroy(p.cr);
	cairo_surface_finish(s);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	return st == CAIRO_STATUS_SUCCESS ? 0 : fail(in, cairo_status_to_string(st));
}

const plugin_report fieldbook_plugin_report = {PLUGIN_ABI, prepare, render_html, render_pdf};
