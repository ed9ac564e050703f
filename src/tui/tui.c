/*
 * tui: placeholder until the screens land (issue 3).
 */
#include "tui.h"
#include "core/error.h"
#include "core/i18n.h"

int tui_run(workspace *ws)
{
	(void)ws;
	return error_set(ERR_GENERIC, _("the terminal interface is not built yet; use the commands "
					"(fieldbook help)"));
}
