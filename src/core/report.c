/*
 * report: the case report.  See report.h.
 *
 * The content is built once as a list of blocks (a small document model:
 * headings, paragraphs, label/value lists, tables, photos, code lines);
 * the HTML and the PDF renderers (src/plugin/plugin_report.c, loaded as
 * fieldbook-report.so) only lay blocks out, so both formats always say the
 * same thing.
 */
#include "report.h"
#include "case.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "util.h"

#include "plugin.h"

#include <pthread.h>
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
	char *s;
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static char *dup(const char *s) { return strdup(s ? s : ""); }

/* Blocks: {"kind": "h1"|"h2"|"h3"|"p"|"note"|"code"|"kv"|"table"|"photo", ...} */
static void add_text(json_t *doc, const char *kind, const char *text)
{
	json_array_append_new(doc, json_pack("{s:s, s:s}", "kind", kind, "text", text ? text : ""));
}

static void add_text_free(json_t *doc, const char *kind, char *text)
{
	add_text(doc, kind, text);
	free(text);
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
	free(value);
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
	return *name ? fmt("%s (%s)", name, id) : dup(id);
}

static char *when_text(const json_t *ev)
{
	char t[64];
	report_local_time(str(ev, "at"), str(ev, "tz"), t, sizeof t);
	return dup(t);
}

static char *place_text(const json_t *where)
{
	const json_t *lat = json_object_get(where, "lat"), *lon = json_object_get(where, "lon");
	if (!json_is_number(lat) || !json_is_number(lon))
		return dup(_("no position"));
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
	return strcmp(str(row, "verdict"), "ok") == 0 ? dup(_("valid")) : fmt(_("INVALID: %s"), str(row, "verdict"));
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
		free(who);
		free(when);
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
			free(cells[c]);
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
				return dup(form_item_choice_label(it, i, b->lang));
		static const struct { const char *v, *label; } pf[] = {{"pass", N_("pass")}, {"fail", N_("FAIL")},
								     {"na", N_("n/a")}};
		for (size_t i = 0; it && form_item_get_type(it) == FORM_PASSFAIL && i < 3; i++)
			if (strcmp(pf[i].v, s) == 0)
				return dup(_(pf[i].label));
		return dup(s);
	}
	if (json_is_number(v))
		return fmt("%g %s", json_number_value(v), it ? form_item_unit(it) : "");
	char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	char *out = dup(dump ? dump : "");
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
	free(who);
	free(when);
	json_t *rows = table_new(b->doc, head, w, 5);
	const char *id;
	json_t *v;
	json_object_foreach((json_t *)answers, id, v) {
		const form_item *it = b->in->form ? form_item_find(b->in->form, id) : NULL;
		bool failed = event_array_has(fails, id);
		char *ans = answer_text(b, it, v);
		char *shown = failed ? fmt("%s ✗", ans) : dup(ans);
		json_array_append_new(rows, json_pack("[s, s, s, s, s]", id, it ? form_item_label(it, b->lang) : "",
						      shown, str(notes, id),
						      failed && it ? form_item_legal_basis(it, b->lang) : ""));
		free(ans);
		free(shown);
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
	free(who);
	free(when);
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
				     : dup("");
		json_array_append_new(rows, json_pack("[s, s, s, s]", item, fi ? form_item_label(fi, b->lang) : "",
						      *bt ? bt : fi ? form_item_legal_basis(fi, b->lang) : "", days));
		free(days);
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
			    : dup(*str(ex, "gps") ? str(ex, "gps") : "-");
	char *l1 = fmt(_("item %s; attached %s by %s"), *str(ev, "item") ? str(ev, "item") : "-", when, who);
	char *l2 = fmt(_("taken %s %s; GPS %s; camera %s %s; %lldx%lld px"), *str(ex, "taken") ? str(ex, "taken") : "?",
		       str(ex, "offset"), gps, str(ex, "make"), str(ex, "model"),
		       (long long)json_integer_value(json_object_get(ex, "width")),
		       (long long)json_integer_value(json_object_get(ex, "height")));
	json_t *lines = json_pack("[s, s, s]", str(ev, "sha256"), l1, l2);
	free(l1);
	free(l2);
	free(gps);
	free(who);
	free(when);
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

/* --- rendering (fieldbook-report.so) ----------------------------------------------------- */

/* The thread report_prepare started, while it has not been joined. */
static pthread_t preparing;
static bool prepare_running;

static void *prepare_thread(void *unused)
{
	const plugin_report *r = plugin_get("report");
	if (r)
		r->prepare();
	/* a failure is reported by the rendering, which loads the plugin again */
	return NULL;
}

static void prepare_join(void)
{
	if (prepare_running) {
		pthread_join(preparing, NULL);
		prepare_running = false;
	}
}

void report_prepare(void)
{
	static bool registered;
	if (prepare_running)
		return;
	prepare_running = pthread_create(&preparing, NULL, prepare_thread, NULL) == 0;
	/* a process that exits first (a failed export) waits for it rather
	 * than unloading libraries under it */
	if (prepare_running && !registered)
		registered = atexit(prepare_join) == 0;
}

/* One rendering: the plugin, its input and the document; title backs pdf_title. */
typedef struct {
	const plugin_report *r;
	plugin_report_input pin;
	json_t *doc;
	char *title;
} rendering;

static int render_begin(const report_input *in, rendering *x)
{
	prepare_join();
	*x = (rendering){.r = plugin_get("report")};
	if (!x->r)
		return error_prefix(ERR_NOTFOUND, _("cannot render the report"));
	const char *id = str(in->state, "id");
	x->title = fmt(_("Case report %s"), id);
	x->pin = (plugin_report_input){
		.lang = strcmp(i18n_lang(), "zh") == 0 ? "zh-CN" : "en",
		.case_id = id,
		.creator = in->agent ? in->agent : "fieldbook",
		.pdf_title = x->title ? x->title : id,
		.page_fmt = _("%s - page %d"),
		.undecodable = _("(the photo could not be decoded)"),
		.inline_photos = in->inline_photos,
		.photo = in->photo,
		.payload = in->payload,
	};
	x->doc = build(in);
	return 0;
}

static void render_end(rendering *x)
{
	json_decref(x->doc);
	free(x->title);
}

int report_html(const report_input *in, char **out, size_t *len)
{
	rendering x;
	int rc = render_begin(in, &x);
	if (rc)
		return rc;
	if (x.r->html(x.doc, &x.pin, out, len) != 0)
		rc = error_set(ERR_NOMEM, "%s", x.pin.error);
	render_end(&x);
	return rc;
}

int report_pdf(const report_input *in, FILE *out)
{
	rendering x;
	int rc = render_begin(in, &x);
	if (rc)
		return rc;
	if (x.r->pdf(x.doc, &x.pin, out) != 0)
		rc = error_set(ERR_IO, _("cannot draw the PDF report: %s"), x.pin.error);
	render_end(&x);
	return rc;
}
