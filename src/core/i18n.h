/*
 * i18n: gettext wrappers. Every string a user reads goes through _().
 */
#ifndef FB_I18N_H
#define FB_I18N_H

#include <libintl.h>

#define _(s) gettext(s)
#define N_(s) (s)

/* Bind the "fieldbook" text domain (locale dir found next to the binary
 * or under the install prefix) and call setlocale(LC_ALL, ""). */
void i18n_init(void);
/* "zh" when the messages locale is Chinese, else "en": picks form labels. */
const char *i18n_lang(void);

#endif
