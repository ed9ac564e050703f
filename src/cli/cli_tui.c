/*
 * cli_tui: the "tui" command (also what a bare `fieldbook` runs).
 */
#include "cli.h"
#include "core/i18n.h"
#include "tui/tui.h"

#include <stdio.h>

int cmd_tui(cli_args *a)
{
	workspace *ws;
	int rc = cli_open(a, &ws);
	if (rc)
		return rc;
	rc = tui_run(ws);
	workspace_free(ws);
	return rc ? cli_error() : CLI_OK;
}
