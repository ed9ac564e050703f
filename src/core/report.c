/*
 * report: the case report.  See report.h.
 *
 * The content is built once as a list of blocks (a small document model:
 * headings, paragraphs, label/value lists, tables, photos, code lines);
 * the HTML and the PDF renderers below only lay blocks out, so both
 * formats always say the same thing.
 */
#include "report.h"
#include "case.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "util.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <glib.h>
#include <jpeglib.h>
#include <pango/pangocairo.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* --- helpers -------------------------------------------------------------------------------- */

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* "2026-11-23 10:00 +08:00" from an event's UTC time and its zone. */
static void report_local_time(const char *at, const char *tz, char *out, size_t size)
{
	util_time_in_zone(at, tz, "%Y-%m-%d %H:%M:%S", true, out, size);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = g_strdup_vprintf(f, ap);
	va_end(ap);
	return s;
}

/* Blocks: {"kind": "h1"|"h2"|"h3"|"p"|"note"|"code"|"kv"|"table"|"photo", ...} */
static void add_text(json_t *doc, const char *kind, const char *text)
{
	json_array_append_new(doc, json_pack("{s:s, s:s}", "kind", kind, "text", text ? text : ""));
}

static void add_text_free(json_t *doc, const char *kind, char *text)
{
	add_text(doc, kind, text);
	g_free(text);
}

/* kv rows: [[label, value], ...]; rows with an empty value are left out. */
static json_t *kv_new(json_t *doc)
{
	json_t *rows = json_array();
	json_array_append_new(doc, json_pack("{s:s, s:o}", "kind", "kv", "rows", rows));
	return rows;
}

static void kv(json_t *rows, const char *label, const char *value)
{
	if (value && *value)
		json_array_append_new(rows, json_pack("[s, s]", label, value));
}

static void kv_free(json_t *rows, const char *label, char *value)
{
	kv(rows, label, value);
	g_free(value);
}

/* table: head [..], widths [..] (relative), rows [[..], ..] */
static json_t *table_new(json_t *doc, const char *const *head, const double *widths, size_t n)
{
	json_t *h = json_array(), *w = json_array(), *rows = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(h, json_string(head[i]));
		json_array_append_new(w, json_real(widths[i]));
	}
	json_array_append_new(doc, json_pack("{s:s, s:o, s:o, s:o}", "kind", "table", "head", h, "widths", w,
					     "rows", rows));
	return rows;
}

/* --- what the report says -------------------------------------------------------------------- */

typedef struct {
	const report_input *in;
	const char *lang;
	json_t *doc;
} builder;

static const char *officer_name(const builder *b, const char *id)
{
	size_t i;
	json_t *e;
	json_array_foreach(b->in->roster, i, e)
		if (strcmp(str(e, "officer"), id) == 0 && *str(e, "name"))
			return str(e, "name");
	return "";
}

static char *officer_text(const builder *b, const char *id)
{
	const char *name = officer_name(b, id);
	return *name ? fmt("%s (%s)", name, id) : g_strdup(id);
}

static char *when_text(const json_t *ev)
{
	char t[64];
	report_local_time(str(ev, "at"), str(ev, "tz"), t, sizeof t);
	return g_strdup(t);
}

static char *place_text(const json_t *where)
{
	const json_t *lat = json_object_get(where, "lat"), *lon = json_object_get(where, "lon");
	if (!json_is_number(lat) || !json_is_number(lon))
		return g_strdup(_("no position"));
	const json_t *acc = json_object_get(where, "acc_m");
	char accs[32] = "";
	if (json_is_number(acc))
		snprintf(accs, sizeof accs, " ±%.0f m", json_number_value(acc));
	return fmt("%.6f, %.6f%s (%s)", json_number_value(lat), json_number_value(lon), accs, str(where, "src"));
}

static char *verdict_text(const builder *b, const json_t *row)
{
	if (b->in->redacted)
		return fmt(_("%s (on the original; not checkable on this redacted copy)"), str(row, "verdict"));
	return strcmp(str(row, "verdict"), "ok") == 0 ? g_strdup(_("valid")) : fmt(_("INVALID: %s"), str(row, "verdict"));
}

static void build_title(builder *b)
{
	const json_t *st = b->in->state;
	add_text_free(b->doc, "h1", fmt(_("Case report %s"), str(st, "id")));
	char now[32];
	util_time_rfc3339(util_now(), now);
	add_text_free(b->doc, "p", fmt(_("Unit %s. Full record of the case from the signed ledger, "
					 "made by %s on %s."), b->in->unit, b->in->agent ? b->in->agent : "fieldbook", now));
	if (b->in->redacted)
		add_text_free(b->doc, "note", fmt(_("Redacted for publication: personal fields and the party's contact "
						    "are replaced by \"[redacted]\". The signatures apply to the "
						    "unredacted originals held by %s."), b->in->unit));
}

static void build_summary(builder *b)
{
	const json_t *st = b->in->state, *cat = json_object_get(st, "category");
	char today[11];
	long days;
	util_time_local_date(util_now(), today);
	add_text(b->doc, "h2", _("Summary"));
	json_t *rows = kv_new(b->doc);
	kv(rows, _("Case"), str(st, "id"));
	kv(rows, _("Unit"), str(st, "unit"));
	kv(rows, _("Status"), case_status_label(case_display_status(st, today, &days)));
	kv_free(rows, _("Category"), fmt("%s %s / %s", str(cat, "code"), str(cat, "zh"), str(cat, "en")));
	if (b->in->form)
		kv_free(rows, _("Checklist"), fmt("%s (%s, v%d)", form_title(b->in->form, b->lang),
						  form_id(b->in->form), form_version(b->in->form)));
	const json_t *first = json_object_get(json_array_get(b->in->rows, 0), "event");
	if (first) {
		char *who = officer_text(b, str(st, "opened_by")), *when = when_text(first);
		kv_free(rows, _("Opened"), fmt("%s, %s", when, who));
		g_free(who);
		g_free(when);
	}
	const json_t *order = json_object_get(st, "order");
	kv(rows, _("Deadline"), str(order, "deadline"));
	kv(rows, _("Outcome"), str(st, "outcome"));
	kv_free(rows, _("Events"), fmt("%zu", json_array_size(b->in->rows)));
}

static void build_site(builder *b)
{
	const json_t *st = b->in->state, *site = json_object_get(st, "site"), *party = json_object_get(st, "party");
	add_text(b->doc, "h2", _("Site and party"));
	json_t *rows = kv_new(b->doc);
	kv(rows, _("Address"), str(site, "address"));
	kv(rows, _("Grid"), str(site, "grid"));
	kv_free(rows, _("Location"), place_text(json_object_get(st, "where")));
	kv(rows, _("Party"), str(party, "name"));
	kv(rows, _("Contact"), str(party, "contact"));
}

static void build_timeline(builder *b)
{
	static const double w[] = {0.5, 2.2, 1.8, 4.2, 2.3, 1.6};
	const char *head[] = {"#", _("Time (local)"), _("Officer"), _("Step"), _("Place"), _("Signature")};
	add_text(b->doc, "h2", _("Timeline"));
	json_t *rows = table_new(b->doc, head, w, 6);
	size_t i;
	json_t *row;
	json_array_foreach(b->in->rows, i, row) {
		const json_t *ev = json_object_get(row, "event");
		char *summary = event_summary(ev);
		char *cells[] = {fmt("%zu", i + 1), when_text(ev), officer_text(b, str(ev, "officer")),
				 fmt("%s\n%s", summary ? summary : str(ev, "type"), str(ev, "id")),
				 place_text(json_object_get(ev, "where")), verdict_text(b, row)};
		json_t *r = json_array();
		for (size_t c = 0; c < 6; c++) {
			json_array_append_new(r, json_string(cells[c]));
			g_free(cells[c]);
		}
		json_array_append_new(rows, r);
		free(summary);
	}
}

/* An answer as a person reads it: choice labels, units, pass/fail. */
static char *answer_text(const builder *b, const form_item *it, const json_t *v)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		for (size_t i = 0; it && i < form_item_choice_count(it); i++)
			if (strcmp(form_item_choice_value(it, i), s) == 0)
				return g_strdup(form_item_choice_label(it, i, b->lang));
		static const struct { const char *v, *label; } pf[] = {{"pass", N_("pass")}, {"fail", N_("FAIL")},
								     {"na", N_("n/a")}};
		for (size_t i = 0; it && form_item_get_type(it) == FORM_PASSFAIL && i < 3; i++)
			if (strcmp(pf[i].v, s) == 0)
				return g_strdup(_(pf[i].label));
		return g_strdup(s);
	}
	if (json_is_number(v))
		return fmt("%g %s", json_number_value(v), it ? form_item_unit(it) : "");
	char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	char *out = g_strdup(dump ? dump : "");
	free(dump);
	return out;
}

static void build_checklist(builder *b, const json_t *ev)
{
	static const double w[] = {0.8, 3.0, 2.0, 2.4, 3.4};
	const char *head[] = {_("Item"), _("Question"), _("Answer"), _("Note"), _("Legal basis")};
	const json_t *answers = json_object_get(ev, "answers"), *notes = json_object_get(ev, "notes"),
		     *fails = json_object_get(ev, "failures");
	char *who = officer_text(b, str(ev, "officer")), *when = when_text(ev);
	add_text_free(b->doc, "h3", fmt("%s — %s, %s", event_type_label(str(ev, "type")), when, who));
	g_free(who);
	g_free(when);
	json_t *rows = table_new(b->doc, head, w, 5);
	const char *id;
	json_t *v;
	json_object_foreach((json_t *)answers, id, v) {
		const form_item *it = b->in->form ? form_item_find(b->in->form, id) : NULL;
		bool failed = event_array_has(fails, id);
		char *ans = answer_text(b, it, v);
		char *shown = failed ? fmt("%s ✗", ans) : g_strdup(ans);
		json_array_append_new(rows, json_pack("[s, s, s, s, s]", id, it ? form_item_label(it, b->lang) : "",
						      shown, str(notes, id),
						      failed && it ? form_item_legal_basis(it, b->lang) : ""));
		g_free(ans);
		g_free(shown);
	}
}

static void build_checklists(builder *b)
{
	bool any = false;
	size_t i;
	json_t *row;
	json_array_foreach(b->in->rows, i, row) {
		const json_t *ev = json_object_get(row, "event");
		const char *type = str(ev, "type");
		if (strcmp(type, EV_INSPECTION) && strcmp(type, EV_REINSPECTION))
			continue;
		if (!any)
			add_text(b->doc, "h2", _("Checklists"));
		any = true;
		build_checklist(b, ev);
	}
}

static void build_order(builder *b, const json_t *ev)
{
	static const double w[] = {0.8, 3.4, 5.0, 1.2};
	const char *head[] = {_("Item"), _("Question"), _("Legal basis"), _("Days")};
	char *who = officer_text(b, str(ev, "officer")), *when = when_text(ev);
	add_text_free(b->doc, "h3", fmt(_("Rectification order of %s by %s"), when, who));
	g_free(who);
	g_free(when);
	json_t *kvr = kv_new(b->doc);
	kv(kvr, _("Deadline"), str(ev, "deadline"));
	json_t *rows = table_new(b->doc, head, w, 4);
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(ev, "items"), i, it) {
		const char *item = json_is_string(it) ? json_string_value(it) : str(it, "item");
		const form_item *fi = b->in->form ? form_item_find(b->in->form, item) : NULL;
		const json_t *basis = json_object_get(it, "basis");
		const char *bt = str(basis, b->lang);
		char *days = json_is_integer(json_object_get(it, "days"))
				     ? fmt("%lld", (long long)json_integer_value(json_object_get(it, "days")))
				     : g_strdup("");
		json_array_append_new(rows, json_pack("[s, s, s, s]", item, fi ? form_item_label(fi, b->lang) : "",
						      *bt ? bt : fi ? form_item_legal_basis(fi, b->lang) : "", days));
		g_free(days);
	}
}

static void build_orders(builder *b)
{
	bool any = false;
	size_t i;
	json_t *row;
	json_array_foreach(b->in->rows, i, row) {
		const json_t *ev = json_object_get(row, "event");
		if (strcmp(str(ev, "type"), EV_ORDER) != 0)
			continue;
		if (!any)
			add_text(b->doc, "h2", _("Orders and deadlines"));
		any = true;
		build_order(b, ev);
	}
}

static json_t *photo_caption(builder *b, const json_t *ev)
{
	const json_t *ex = json_object_get(ev, "exif");
	const json_t *lat = json_object_get(ex, "lat"), *lon = json_object_get(ex, "lon");
	char *who = officer_text(b, str(ev, "officer")), *when = when_text(ev);
	char *gps = json_is_number(lat) && json_is_number(lon)
			    ? fmt("%.6f, %.6f", json_number_value(lat), json_number_value(lon))
			    : g_strdup(*str(ex, "gps") ? str(ex, "gps") : "-");
	char *l1 = fmt(_("item %s; attached %s by %s"), *str(ev, "item") ? str(ev, "item") : "-", when, who);
	char *l2 = fmt(_("taken %s %s; GPS %s; camera %s %s; %lldx%lld px"), *str(ex, "taken") ? str(ex, "taken") : "?",
		       str(ex, "offset"), gps, str(ex, "make"), str(ex, "model"),
		       (long long)json_integer_value(json_object_get(ex, "width")),
		       (long long)json_integer_value(json_object_get(ex, "height")));
	json_t *lines = json_pack("[s, s, s]", str(ev, "sha256"), l1, l2);
	g_free(l1);
	g_free(l2);
	g_free(gps);
	g_free(who);
	g_free(when);
	return lines;
}

static void build_photos(builder *b)
{
	bool any = false;
	size_t i;
	json_t *row;
	json_array_foreach(b->in->rows, i, row) {
		const json_t *ev = json_object_get(row, "event");
		if (strcmp(str(ev, "type"), EV_PHOTO) != 0)
			continue;
		if (!any)
			add_text(b->doc, "h2", _("Photos"));
		any = true;
		json_array_append_new(b->doc, json_pack("{s:s, s:s, s:o}", "kind", "photo", "sha256", str(ev, "sha256"),
							"caption", photo_caption(b, ev)));
	}
}

static void build_verify(builder *b)
{
	add_text(b->doc, "h2", _("How to verify this package"));
	add_text(b->doc, "p", _("In the package directory, check every file against the manifest, then any event's "
				"signature with stock OpenSSH (the officer's id is in the event and in audit.tsv):"));
	add_text(b->doc, "code", "sha256sum -c manifest-sha256.txt\n"
				 "ssh-keygen -Y verify -f data/allowed_signers -I <officer> -n fieldbook \\\n"
				 "    -s data/events/<event>.json.sig < data/events/<event>.json\n"
				 "fieldbook verify <package>");
	add_text(b->doc, "p", _("fieldbook verify also checks the roles and validity dates of the signers' keys "
				"against the roster excerpt in data/roster/, that every photo an event refers to "
				"is present with its hash, and the audit log. Compare the trust root's key "
				"fingerprint it prints with the key the unit publishes."));
}

static json_t *build(const report_input *in)
{
	builder b = {in, i18n_lang(), json_array()};
	build_title(&b);
	build_summary(&b);
	build_site(&b);
	build_timeline(&b);
	build_checklists(&b);
	build_orders(&b);
	build_photos(&b);
	build_verify(&b);
	return b.doc;
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

int report_html(const report_input *in, char **out, size_t *len)
{
	json_t *doc = build(in);
	FILE *f = open_memstream(out, len);
	if (!f) {
		json_decref(doc);
		return error_set(ERR_NOMEM, "out of memory");
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head><meta charset=\"utf-8\">\n<title>",
		strcmp(i18n_lang(), "zh") == 0 ? "zh-CN" : "en");
	esc(f, str(in->state, "id"));
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
	json_decref(doc);
	return 0;
}

/* --- PDF (cairo + pango, A4) ------------------------------------------------------------------ */

#define PAGE_W 595.276
#define PAGE_H 841.890
#define MARGIN 48.0
#define CONTENT_W (PAGE_W - 2 * MARGIN)
#define FONT_SANS "Noto Sans CJK SC, WenQuanYi Micro Hei, Droid Sans Fallback, sans-serif"
#define FONT_MONO "Noto Sans Mono CJK SC, WenQuanYi Micro Hei Mono, monospace"
#define PHOTO_MAX_W 320.0
#define PHOTO_MAX_H 240.0

typedef struct {
	cairo_t *cr;
	double y;
	int page;
	const report_input *in;
	const json_t *table; /* the table being drawn, to repeat its head on a new page */
} pdf;

static PangoLayout *layout(pdf *p, const char *text, const char *font, double size, bool bold, double width)
{
	PangoLayout *l = pango_cairo_create_layout(p->cr);
	PangoFontDescription *fd = pango_font_description_from_string(font);
	pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
	if (bold)
		pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
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
	char *t = fmt(_("%s - page %d"), str(p->in->state, "id"), p->page);
	PangoLayout *l = layout(p, t, FONT_SANS, 7, false, CONTENT_W);
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

static void pdf_text(pdf *p, const char *text, const char *font, double size, bool bold, double before,
		     double after)
{
	PangoLayout *l = layout(p, text, font, size, bold, CONTENT_W);
	double h = layout_h(l);
	p->y += before;
	need(p, h + (bold ? 40 : 0)); /* keep a heading with what follows */
	show(p, l, MARGIN, p->y);
	p->y += h + after;
	g_object_unref(l);
}

static void pdf_note(pdf *p, const char *text)
{
	PangoLayout *l = layout(p, text, FONT_SANS, 9, true, CONTENT_W - 12);
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
		PangoLayout *k = layout(p, json_string_value(json_array_get(r, 0)), FONT_SANS, 9, true, lw - 6);
		PangoLayout *v = layout(p, json_string_value(json_array_get(r, 1)), FONT_SANS, 9, false, CONTENT_W - lw);
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
		l[i] = layout(p, json_string_value(json_array_get(cells, i)), FONT_SANS, 7.5, head, w[i] - 2 * CELL_PAD);
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

/* Decode a JPEG scaled down (by libjpeg's 1/2..1/8) to about max_px wide. */
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

static void pdf_photo(pdf *p, const json_t *blk)
{
	const unsigned char *data;
	size_t len;
	cairo_surface_t *img = NULL;
	if (p->in->photo && p->in->photo(str(blk, "sha256"), &data, &len, p->in->payload) == 0)
		img = decode_jpeg(data, len, 1200);
	GString *cap = g_string_new(NULL);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(blk, "caption"), i, l)
		g_string_append_printf(cap, "%s%s", i ? "\n" : "sha256 ", json_string_value(l));
	if (!img)
		g_string_append_printf(cap, "\n%s", _("(the photo could not be decoded)"));
	PangoLayout *c = layout(p, cap->str, FONT_MONO, 7, false, CONTENT_W);
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
		pdf_text(p, text, FONT_SANS, 16, true, 0, 8);
	else if (strcmp(kind, "h2") == 0)
		pdf_text(p, text, FONT_SANS, 12.5, true, 10, 5);
	else if (strcmp(kind, "h3") == 0)
		pdf_text(p, text, FONT_SANS, 10, true, 6, 4);
	else if (strcmp(kind, "p") == 0)
		pdf_text(p, text, FONT_SANS, 9, false, 0, 6);
	else if (strcmp(kind, "code") == 0)
		pdf_text(p, text, FONT_MONO, 8, false, 0, 6);
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

static int report_render_pdf(const json_t *doc, const report_input *in, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	if (!f)
		return error_set(ERR_NOMEM, "out of memory");
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(pdf_write, f, PAGE_W, PAGE_H);
	char *title = fmt(_("Case report %s"), str(in->state, "id"));
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, in->agent ? in->agent : "fieldbook");
	g_free(title);
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
	fclose(f);
	if (st != CAIRO_STATUS_SUCCESS) {
		free(*out);
		*out = NULL;
		return error_set(ERR_IO, _("cannot draw the PDF report: %s"), cairo_status_to_string(st));
	}
	return 0;
}

int report_pdf(const report_input *in, char **out, size_t *len)
{
	json_t *doc = build(in);
	int rc = report_render_pdf(doc, in, out, len);
	json_decref(doc);
	return rc;
}
