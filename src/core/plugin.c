/*
 * plugin: optional parts loaded with dlopen().  See plugin.h.
 */
#include "plugin.h"
#include "error.h"
#include "i18n.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	char name[16];
	const void *table;
} loaded;

static loaded cache[4];

/* The directory of the running executable ("" when unknown). */
static void exe_dir(char *out, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	out[n > 0 ? n : 0] = 0;
	char *slash = strrchr(out, '/');
	if (slash)
		*slash = 0;
	else
		out[0] = 0;
}

/* dlopen the first candidate that exists; path gets the file tried last. */
static void *open_plugin(const char *name, char *path, size_t size)
{
	static const char *const where[] = {"%s/fieldbook-%s.so", "%s/../lib/fieldbook/fieldbook-%s.so"};
	char dir[PATH_MAX];
	exe_dir(dir, sizeof dir);
	for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
		snprintf(path, size, where[i], dir, name);
		if (access(path, F_OK) == 0 || i + 1 == sizeof where / sizeof *where)
			return dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	return NULL;
}

/* plugin_get is called from more than one thread (report_prepare) */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static const void *get_locked(const char *name);

const void *plugin_get(const char *name)
{
	pthread_mutex_lock(&cache_lock);
	const void *table = get_locked(name);
	pthread_mutex_unlock(&cache_lock);
	return table;
}

static const void *get_locked(const char *name)
{
	size_t i;
	for (i = 0; i < sizeof cache / sizeof *cache && cache[i].table; i++)
		if (strcmp(cache[i].name, name) == 0)
			return cache[i].table;
	char path[PATH_MAX + 64], sym[64];
	void *h = open_plugin(name, path, sizeof path);
	if (!h) {
		const char *why = dlerror();
		error_set(ERR_NOTFOUND, _("%s: cannot load this part of fieldbook: %s"), path,
			  why ? why : "?");
		return NULL;
	}
	snprintf(sym, sizeof sym, "fieldbook_plugin_%s", name);
	const int *table = dlsym(h, sym);
	if (!table || *table != PLUGIN_ABI) {
		error_set(ERR_INVALID, _("%s: not a fieldbook %s plugin of this version (reinstall "
					 "fieldbook)"), path, name);
		dlclose(h);
		return NULL;
	}
	/* Plugins stay loaded: their tables are handed out for the process's life. */
	if (i < sizeof cache / sizeof *cache && strlen(name) < sizeof cache[i].name) {
		strcpy(cache[i].name, name);
		cache[i].table = table;
	}
	return table;
}
