/*
 * plugin_chafa: fieldbook-chafa.so, photo pixels to terminal cells (chafa,
 * symbols mode: blocks, borders and spaces, no wide symbols).  The TUI's
 * photo preview draws the cells with ncurses; see core/plugin.h.
 */
#include "core/plugin.h"

#include <chafa.h>
#include <stdlib.h>

static void geometry(int w, int h, int *cw, int *ch)
{
	chafa_calc_canvas_geometry(w, h, cw, ch, 0.5f, FALSE, FALSE);
}

static ChafaCanvasMode canvas_mode(int mode)
{
	switch (mode) {
	case PLUGIN_CELLS_TRUECOLOR: return CHAFA_CANVAS_MODE_TRUECOLOR;
	case PLUGIN_CELLS_240: return CHAFA_CANVAS_MODE_INDEXED_240;
	case PLUGIN_CELLS_16: return CHAFA_CANVAS_MODE_INDEXED_16;
	default: return CHAFA_CANVAS_MODE_INDEXED_8;
	}
}

static ChafaCanvas *make_canvas(const unsigned char *rgb, int w, int h, int mode, int cw, int ch)
{
	ChafaCanvasConfig *cfg = chafa_canvas_config_new();
	ChafaSymbolMap *map = chafa_symbol_map_new();
	chafa_symbol_map_add_by_tags(map, CHAFA_SYMBOL_TAG_BLOCK | CHAFA_SYMBOL_TAG_BORDER |
						  CHAFA_SYMBOL_TAG_SPACE);
	chafa_symbol_map_remove_by_tags(map, CHAFA_SYMBOL_TAG_WIDE);
	chafa_canvas_config_set_symbol_map(cfg, map);
	chafa_canvas_config_set_canvas_mode(cfg, canvas_mode(mode));
	chafa_canvas_config_set_geometry(cfg, cw, ch);
	ChafaCanvas *canvas = chafa_canvas_new(cfg);
	if (canvas)
		chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGB8, rgb, w, h, w * 3);
	chafa_symbol_map_unref(map);
	chafa_canvas_config_unref(cfg);
	return canvas;
}

static int render(const unsigned char *rgb, int w, int h, int mode, int cw, int ch, plugin_cell **cells)
{
	*cells = NULL;
	if (cw < 1 || ch < 1)
		return -1;
	ChafaCanvas *canvas = make_canvas(rgb, w, h, mode, cw, ch);
	plugin_cell *c = canvas ? calloc((size_t)cw * (size_t)ch, sizeof *c) : NULL;
	if (!c) {
		if (canvas)
			chafa_canvas_unref(canvas);
		return -1;
	}
	for (int row = 0; row < ch; row++)
		for (int col = 0; col < cw; col++) {
			plugin_cell *p = &c[(size_t)row * (size_t)cw + (size_t)col];
			p->ch = chafa_canvas_get_char_at(canvas, col, row);
			if (mode == PLUGIN_CELLS_TRUECOLOR)
				chafa_canvas_get_colors_at(canvas, col, row, &p->fg, &p->bg);
			else
				chafa_canvas_get_raw_colors_at(canvas, col, row, &p->fg, &p->bg);
		}
	chafa_canvas_unref(canvas);
	*cells = c;
	return 0;
}

const plugin_chafa fieldbook_plugin_chafa = {PLUGIN_ABI, geometry, render};
