/*
 * i18n: locate the message catalogue and pick the form label language.
 * Catalogue search: $FIELDBOOK_LOCALEDIR, <exe dir>/locale (build tree),
 * <exe dir>/../share/locale (installed).
 */
#include "i18n.h"
#include "util.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bind_catalogue(void)
{
	const char *env = getenv("FIELDBOOK_LOCALEDIR");
	char dir[4096], probe[4200];
	if (env && *env) {
		bindtextdomain("fieldbook", env);
		return;
	}
	if (util_exe_dir(dir, sizeof dir) == 0) {
		snprintf(probe, sizeof probe, "%s/locale", dir);
		if (util_is_dir(probe)) {
			bindtextdomain("fieldbook", probe);
			return;
		}
		snprintf(probe, sizeof probe, "%s/../share/locale", dir);
		if (util_is_dir(probe)) {
			bindtextdomain("fieldbook", probe);
			return;
		}
	}
	bindtextdomain("fieldbook", FB_PREFIX "/share/locale");
}

void i18n_init(void)
{
	setlocale(LC_ALL, "");
	bind_catalogue();
	bind_textdomain_codeset("fieldbook", "UTF-8");
	textdomain("fieldbook");
}

const char *i18n_lang(void)
{
	const char *v = getenv("LANGUAGE");
	if (!v || !*v) v = getenv("LC_ALL");
	if (!v || !*v) v = getenv("LC_MESSAGES");
	if (!v || !*v) v = getenv("LANG");
	return (v && strncmp(v, "zh", 2) == 0) ? "zh" : "en";
}
