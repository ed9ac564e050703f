/*
 * gps: optional live position from gpsd.  See gps.h.
 */
#include "gps.h"
#include "util.h"

#include "plugin.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool gps_enabled(const workspace *ws)
{
	return !json_is_false(json_object_get(ws->config, "gps"));
}

/* Clock skew over the limit goes into the config as a runtime key. */
static void note_skew(workspace *ws, long long gps_time)
{
	long long skew = (long long)util_now() - gps_time;
	if (llabs(skew) > GPS_MAX_SKEW_S)
		json_object_set_new(ws->config, GPS_SKEW_KEY, json_integer(skew));
	else
		json_object_del(ws->config, GPS_SKEW_KEY);
}

struct gps_conn {
	const plugin_gps *lib;
	void *conn;
};

gps_conn *gps_connect(const workspace *ws)
{
	const char *host = getenv("GPSD_HOST"), *port = getenv("GPSD_PORT");
	const plugin_gps *lib;
	gps_conn *g;
	if (!gps_enabled(ws) || !(lib = plugin_get("gps")) || !(g = calloc(1, sizeof *g)))
		return NULL;
	g->lib = lib;
	if (!(g->conn = lib->open(host && *host ? host : "localhost", port && *port ? port : NULL))) {
		free(g);
		return NULL;
	}
	return g;
}

void gps_disconnect(gps_conn *g)
{
	if (!g)
		return;
	g->lib->close(g->conn);
	free(g);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take a report if it is a usable fix: 0 no, 1 yes, 2 with accuracy. */
static int take_fix(const plugin_gps_report *r, workspace *ws)
{
	if (!r->fix)
		return 0;
	ws->where = (workspace_where){true, r->lat, r->lon, r->acc_m, "gps"};
	if (r->time > 0)
		note_skew(ws, r->time);
	return ws->where.acc_m >= 0 ? 2 : 1;
}

/* Reads until a fix with an accuracy (then only what is already there) or
 * the deadline; a fix without accuracy is kept when no better one comes. */
bool gps_update(gps_conn *g, workspace *ws, int timeout_ms)
{
	int best = 0;
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	if (!g)
		return false;
	for (;;) {
		long long left = best == 2 ? 0 : deadline - now_ms();
		plugin_gps_report r;
		/* 0: nothing more; -1: gpsd went away (keep the last position) */
		if (g->lib->read(g->conn, left > 0 ? (int)left : 0, &r) <= 0)
			break;
		if (r.no_receiver)
			break; /* gpsd runs but has no receiver: do not wait */
		int got = take_fix(&r, ws);
		best = got > best ? got : best;
	}
	return best > 0;
}

bool gps_poll(workspace *ws, int timeout_ms)
{
	const json_t *t = json_object_get(ws->config, "gps_timeout_ms");
	if (json_is_integer(t) && json_integer_value(t) >= 0 && json_integer_value(t) <= 60000)
		timeout_ms = (int)json_integer_value(t);
	gps_conn *g = gps_connect(ws);
	bool got = gps_update(g, ws, timeout_ms);
	gps_disconnect(g);
	return got;
}
