/*
 * tui: the officer's terminal interface (ncursesw) over the core API.
 */
#ifndef FB_TUI_H
#define FB_TUI_H

#include "core/workspace.h"

/* Run the interface until the user quits.  0 or a negative ERR_* code. */
int tui_run(workspace *ws);

#endif
