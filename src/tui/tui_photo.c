/*
 * tui_photo: preview of an attached photo in the terminal.
 *
 * Load (once): the original bytes from the ledger
 * (cases/.../<case>/photos/<sha256>.jpg), the EXIF summary (photo module)
 * for the description, and, on a colour terminal, the pixels: libjpeg
 * decodes (DCT-scaled down, an error manager that longjmps, never exits),
 * then EXIF orientation is applied.  Draw: chafa (in fieldbook-chafa.so, see
 * core/plugin.h) renders the pixels into cells of the body's size in symbols
 * mode (blocks, borders, spaces) and every cell is drawn with an ncurses pair for its two colours, allocated
 * on the fly from a cache (pairs after the TUI's own slots).  The canvas
 * mode follows the terminal: COLORTERM=truecolor (mapped to the 256-colour
 * palette ncurses can address), else 240/16/8 colours by COLORS.  Without
 * colour (NO_COLOR, monochrome, vt100) the screen is the text description:
 * size, time taken, GPS, make/model, sha256 and the attach checks.  `i`
 * switches between picture and description.  A resize draws a new canvas
 * from the decoded pixels; nothing is read again.
 */
#include "tui_app.h"
#include "core/attach.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"
#include "core/photo.h"
#include "core/plugin.h"

#include <jpeglib.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECODE_MIN_W 480 /* DCT scaling keeps at least this many pixels across */

typedef struct {
	int fg, bg;
	short pair;
} pair_slot;

typedef struct {
	char case_id[96], sha256[65];
	json_t *event;
	json_t *lines;       /* the description */
	char caption[512];
	unsigned char *rgb;  /* oriented pixels, 3 bytes each */
	int w, h;
	bool show_image;
	const plugin_chafa *chafa; /* fieldbook-chafa.so */
	plugin_cell *cells;  /* the picture in cw x ch cells */
	int cw, ch;
	int mode;            /* PLUGIN_CELLS_* */
	pair_slot *pairs;
	size_t npairs, cap;
	int next_pair, max_pair;
} photo_view;

/* --- decoding --------------------------------------------------------------------------- */

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_fail(j_common_ptr c)
{
	jpeg_err *e = (jpeg_err *)c->err;
	c->err->format_message(c, e->msg);
	longjmp(e->jump, 1);
}

static void jpeg_quiet(j_common_ptr c) { (void)c; }
static void jpeg_quiet_level(j_common_ptr c, int level) { (void)c, (void)level; }

static int decode(const unsigned char *data, size_t len, const char *name, unsigned char **out,
		  int *w, int *h)
{
	struct jpeg_decompress_struct cinfo;
	jpeg_err err;
	unsigned char *volatile buf = NULL;
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = jpeg_fail;
	err.pub.output_message = jpeg_quiet;
	err.pub.emit_message = jpeg_quiet_level;
	if (setjmp(err.jump)) {
		jpeg_destroy_decompress(&cinfo);
		free(buf);
		return error_set(ERR_PHOTO, _("%s: cannot decode the image: %s"), name, err.msg);
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, (unsigned long)len);
	jpeg_read_header(&cinfo, TRUE);
	cinfo.out_color_space = JCS_RGB;
	cinfo.scale_num = 1;
	cinfo.scale_denom = 1;
	while (cinfo.scale_denom < 8 && cinfo.image_width / (cinfo.scale_denom * 2) >= DECODE_MIN_W)
		cinfo.scale_denom *= 2;
	jpeg_start_decompress(&cinfo);
	size_t stride = (size_t)cinfo.output_width * 3;
	buf = malloc(stride * cinfo.output_height + 1);
	if (!buf) {
		jpeg_destroy_decompress(&cinfo);
		return error_set(ERR_NOMEM, "out of memory");
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = buf + stride * cinfo.output_scanline;
		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_decompress(&cinfo);
	*w = (int)cinfo.output_width;
	*h = (int)cinfo.output_height;
	jpeg_destroy_decompress(&cinfo);
	*out = buf;
	return 0;
}

/* Apply EXIF orientation (1..8) to w x h RGB pixels: a new buffer, or the
 * same when there is nothing to do (or no memory: shown as stored). */
static unsigned char *orient(unsigned char *src, int *w, int *h, int orientation)
{
	int W = *w, H = *h;
	if (orientation < 2 || orientation > 8)
		return src;
	bool swap = orientation >= 5;
	int dw = swap ? H : W, dh = swap ? W : H;
	unsigned char *dst = malloc((size_t)dw * (size_t)dh * 3);
	if (!dst)
		return src;
	for (int y = 0; y < dh; y++)
		for (int x = 0; x < dw; x++) {
			int sx, sy;
			switch (orientation) {
			case 2: sx = W - 1 - x, sy = y; break;
			case 3: sx = W - 1 - x, sy = H - 1 - y; break;
			case 4: sx = x, sy = H - 1 - y; break;
			case 5: sx = y, sy = x; break;
			case 6: sx = y, sy = H - 1 - x; break;
			case 7: sx = W - 1 - y, sy = H - 1 - x; break;
			default: sx = W - 1 - y, sy = x; break; /* 8 */
			}
			memcpy(dst + ((size_t)y * (size_t)dw + (size_t)x) * 3,
			       src + ((size_t)sy * (size_t)W + (size_t)sx) * 3, 3);
		}
	free(src);
	*w = dw;
	*h = dh;
	return dst;
}

/* --- the description ----------------------------------------------------------------------- */

static void add(json_t *lines, const char *label, const char *value)
{
	char line[1024];
	if (!value || !*value)
		return;
	snprintf(line, sizeof line, "%-12s %s", label, value);
	json_array_append_new(lines, json_string(line));
}

static void describe(photo_view *v, const photo *ph, size_t len)
{
	char buf[512];
	json_t *l = v->lines = json_array();
	snprintf(buf, sizeof buf, _("%u x %u pixels, %zu bytes"), photo_width(ph), photo_height(ph), len);
	add(l, _("Size"), buf);
	if (photo_taken(ph)) {
		snprintf(buf, sizeof buf, "%s %s", photo_taken(ph), photo_offset(ph) ? photo_offset(ph) : "");
		add(l, _("Taken"), buf);
	}
	if (photo_has_gps(ph)) {
		int n = snprintf(buf, sizeof buf, "%.6f, %.6f", photo_lat(ph), photo_lon(ph));
		if (photo_has_alt(ph) && n > 0 && (size_t)n < sizeof buf)
			snprintf(buf + n, sizeof buf - (size_t)n, _(", altitude %.0f m"), photo_alt(ph));
	} else {
		snprintf(buf, sizeof buf, "%s", _("none"));
	}
	add(l, _("GPS"), buf);
	snprintf(buf, sizeof buf, "%s %s", photo_make(ph) ? photo_make(ph) : "",
		 photo_model(ph) ? photo_model(ph) : "");
	add(l, _("Camera"), buf[0] != ' ' || buf[1] ? buf : NULL);
	if (photo_orientation(ph) > 1) {
		snprintf(buf, sizeof buf, "%d", photo_orientation(ph));
		add(l, _("Orientation"), buf);
	}
	add(l, _("Item"), event_str(v->event, "item"));
	add(l, "SHA-256", v->sha256);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(v->event, "checks"), i, c) {
		char *t = attach_check_text(c);
		add(l, i ? "" : _("Checks"), t);
		free(t);
	}
	snprintf(v->caption, sizeof v->caption, "%ux%u  %s  %s", photo_width(ph), photo_height(ph),
		 photo_taken(ph) ? photo_taken(ph) : "", photo_has_gps(ph) ? _("GPS") : _("no GPS"));
}

/* --- colours ---------------------------------------------------------------------------- */

static int canvas_mode(void)
{
	const char *ct = getenv("COLORTERM");
	if (COLORS >= 256 && ct && (strcmp(ct, "truecolor") == 0 || strcmp(ct, "24bit") == 0))
		return PLUGIN_CELLS_TRUECOLOR;
	if (COLORS >= 256)
		return PLUGIN_CELLS_240;
	if (COLORS >= 16)
		return PLUGIN_CELLS_16;
	return PLUGIN_CELLS_8;
}

/* Nearest xterm-256 colour of packed RGB (the 6x6x6 cube or the grey ramp). */
static int rgb_to_256(int rgb)
{
	int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
	static const int level[6] = {0, 95, 135, 175, 215, 255};
	int ci[3], c[3] = {r, g, b};
	for (int k = 0; k < 3; k++) {
		int best = 0;
		for (int i = 1; i < 6; i++)
			if (abs(level[i] - c[k]) < abs(level[best] - c[k]))
				best = i;
		ci[k] = best;
	}
	int dr = level[ci[0]] - r, dg = level[ci[1]] - g, db = level[ci[2]] - b;
	long cube_d = (long)dr * dr + (long)dg * dg + (long)db * db;
	int grey = (r + g + b) / 3, gi = grey < 8 ? 0 : grey > 238 ? 23 : (grey - 8) / 10;
	int gv = 8 + gi * 10;
	long grey_d = (long)(gv - r) * (gv - r) + (long)(gv - g) * (gv - g) + (long)(gv - b) * (gv - b);
	return grey_d < cube_d ? 232 + gi : 16 + 36 * ci[0] + 6 * ci[1] + ci[2];
}

/* The pair for two terminal colours (-1: default), 0 when none is left. */
static short pair_for(photo_view *v, int fg, int bg)
{
	for (size_t i = 0; i < v->npairs; i++)
		if (v->pairs[i].fg == fg && v->pairs[i].bg == bg)
			return v->pairs[i].pair;
	if (v->next_pair > v->max_pair)
		return 0;
	if (v->npairs == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 256;
		pair_slot *p = realloc(v->pairs, cap * sizeof *p);
		if (!p)
			return 0;
		v->pairs = p;
		v->cap = cap;
	}
	short pair = (short)v->next_pair++;
	if (init_pair(pair, (short)fg, (short)bg) == ERR)
		return 0;
	v->pairs[v->npairs++] = (pair_slot){fg, bg, pair};
	return pair;
}

static int cell_colour(photo_view *v, int c)
{
	if (c < 0)
		return -1;
	return v->mode == PLUGIN_CELLS_TRUECOLOR ? rgb_to_256(c) : c;
}

/* --- drawing -------------------------------------------------------------------------------- */

static void draw_image(tui_app *app, photo_view *v, int y, int h)
{
	int cw = COLS, ch = h;
	if (cw < 1 || ch < 1)
		return;
	v->chafa->geometry(v->w, v->h, &cw, &ch);
	if (!v->cells || cw != v->cw || ch != v->ch) {
		free(v->cells);
		v->cells = NULL;
		v->chafa->render(v->rgb, v->w, v->h, v->mode, cw, ch, &v->cells);
		v->cw = cw;
		v->ch = ch;
	}
	if (!v->cells)
		return;
	int x0 = (COLS - cw) / 2;
	for (int row = 0; row < ch; row++)
		for (int col = 0; col < cw; col++) {
			const plugin_cell *c = &v->cells[(size_t)row * (size_t)cw + (size_t)col];
			if (!c->ch)
				continue; /* right half of a wide symbol */
			wchar_t wc[2] = {(wchar_t)c->ch, 0};
			cchar_t cc;
			setcchar(&cc, wc, A_NORMAL, pair_for(v, cell_colour(v, c->fg), cell_colour(v, c->bg)), NULL);
			mvadd_wch(y + row, x0 + col, &cc);
		}
	attrset(A_NORMAL);
}

static void text_row(tui_app *app, tui_screen *s, int row, int y, int width, bool selected)
{
	photo_view *v = s->priv;
	tui_put(y, 0, width, json_string_value(json_array_get(v->lines, (size_t)row)), A_NORMAL, false);
}

static void photo_draw(tui_app *app, tui_screen *s, int y, int h)
{
	photo_view *v = s->priv;
	if (v->show_image && v->rgb) {
		draw_image(app, v, y, h - 1);
		tui_put(y + h - 1, 0, COLS, v->caption, A_BOLD, false);
		return;
	}
	tui_panel_draw(app, s, y, h, text_row);
}

/* --- loading ----------------------------------------------------------------------------------- */

static int photo_load(tui_app *app, tui_screen *s)
{
	photo_view *v = s->priv;
	char dir[512], path[1024], *data = NULL;
	size_t len;
	photo *ph = NULL;
	int rc;
	s->panel.cursor = false;
	if (v->lines)
		return 0;
	if ((rc = case_dir(v->case_id, dir, sizeof dir)))
		return rc;
	snprintf(path, sizeof path, "%s/photos/%s.jpg", dir, v->sha256);
	if ((rc = ledger_read(app->ws->ledger, path, &data, &len)))
		return rc;
	if ((rc = photo_load_buffer(&ph, (const unsigned char *)data, len, path)))
		goto done;
	describe(v, ph, len);
	tui_panel_set(&s->panel, (int)json_array_size(v->lines));
	snprintf(s->title, sizeof s->title, _("Photo %.12s  case %s"), v->sha256, v->case_id);
	/* a picture needs colour and fieldbook-chafa.so; else the description shows */
	v->show_image = app->colour && (v->chafa = plugin_get("chafa")) != NULL;
	if (!v->show_image)
		goto done;
	v->mode = canvas_mode();
	v->next_pair = TUI_C_COUNT + 1;
	v->max_pair = COLOR_PAIRS - 1 < 32767 ? COLOR_PAIRS - 1 : 32767;
	if (decode((const unsigned char *)data, len, path, &v->rgb, &v->w, &v->h) != 0) {
		tui_err_last(app); /* the description still shows */
		v->show_image = false;
	} else {
		v->rgb = orient(v->rgb, &v->w, &v->h, photo_orientation(ph));
	}
done:
	photo_free(ph);
	free(data);
	return rc;
}

static bool has_image(tui_app *app, tui_screen *s) { return ((photo_view *)s->priv)->rgb != NULL; }

static int act_toggle(tui_app *app, tui_screen *s)
{
	photo_view *v = s->priv;
	v->show_image = !v->show_image;
	return TUI_DONE;
}

static const tui_key photo_keys[] = {
	{'i', N_("i"), N_("Picture/details"), act_toggle, has_image},
	{0},
};

static void photo_free_view(tui_screen *s)
{
	photo_view *v = s->priv;
	if (!v)
		return;
	free(v->cells);
	json_decref(v->event);
	json_decref(v->lines);
	free(v->rgb);
	free(v->pairs);
	free(v);
}

static const tui_screen_ops photo_ops = {"photo", photo_keys, photo_load, photo_draw,
					 photo_free_view};

int tui_photo_push(tui_app *app, const json_t *event)
{
	const char *sha = event_str(event, "sha256");
	if (strcmp(event_str(event, "type"), EV_PHOTO) != 0 || strlen(sha) != 64 ||
	    strspn(sha, "0123456789abcdef") != 64)
		return error_set(ERR_INVALID, "%s", _("not a photo event"));
	photo_view *v = calloc(1, sizeof *v);
	if (!v)
		return error_set(ERR_NOMEM, "out of memory");
	snprintf(v->case_id, sizeof v->case_id, "%s", event_str(event, "case"));
	snprintf(v->sha256, sizeof v->sha256, "%s", sha);
	v->event = json_deep_copy(event);
	return tui_push(app, &photo_ops, v);
}
