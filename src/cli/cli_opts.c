/*
 * cli_opts: option parsing shared by every command (one table each).
 */
#include "cli.h"
#include "core/i18n.h"

#include <stdlib.h>
#include <string.h>

static int global_opt(cli_args *a, const char *name, const char *v)
{
	if (strcmp(name, "home") == 0)
		a->home_opt = v;
	else if (strcmp(name, "lat") == 0)
		cli_lat = atof(v), cli_has_where = true;
	else if (strcmp(name, "lon") == 0)
		cli_lon = atof(v), cli_has_where = true;
	else if (strcmp(name, "acc") == 0)
		cli_acc = atof(v);
	else
		return 0;
	return 1;
}

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t len)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

static int take(const cli_opt *o, const char *v)
{
	switch (o->kind) {
	case 's': *(const char **)o->target = v; break;
	case 'm': json_array_append_new(o->target, json_string(v)); break;
	}
	return 0;
}

int cli_parse(cli_args *a, const cli_opt *opts, char **pos, int maxpos, int *npos)
{
	const char *cmd = a->argv[0];
	*npos = 0;
	for (int i = 1; i < a->argc; i++) {
		const char *arg = a->argv[i];
		if (strcmp(arg, "--") == 0) {
			for (i++; i < a->argc; i++) {
				if (*npos == maxpos)
					return cli_usage(cmd, _("too many arguments"));
				pos[(*npos)++] = a->argv[i];
			}
			break;
		}
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			if (*npos == maxpos)
				return cli_usage(cmd, _("unexpected argument \"%s\""), arg);
			pos[(*npos)++] = a->argv[i];
			continue;
		}
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const cli_opt *o = find_opt(opts, name, len);
		if (o && o->kind == 'b') {
			*(bool *)o->target = true;
			continue;
		}
		const char *v = eq ? eq + 1 : (i + 1 < a->argc ? a->argv[++i] : NULL);
		static const char *globals[] = {"home", "lat", "lon", "acc"};
		int is_global = 0;
		for (size_t g = 0; !o && g < 4; g++)
			is_global |= strlen(globals[g]) == len && strncmp(globals[g], name, len) == 0;
		if (!o && !is_global)
			return cli_usage(cmd, _("unknown option --%.*s"), (int)len, name);
		if (!v)
			return cli_usage(cmd, _("option --%.*s needs a value"), (int)len, name);
		if (o)
			take(o, v);
		else {
			char n[8];
			snprintf(n, sizeof n, "%.*s", (int)len, name);
			global_opt(a, n, v);
		}
	}
	return 0;
}
