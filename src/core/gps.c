/*
 * gps: optional live position from gpsd.  See gps.h.
 */
#include "gps.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<gps.h>)
#define FB_HAVE_LIBGPS 1
#endif
#endif

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

#ifdef FB_HAVE_LIBGPS

#include <gps.h>
#include <math.h>
#include <time.h>

struct gps_conn {
	struct gps_data_t d;
};

bool gps_available(void) { return true; }

gps_conn *gps_connect(const workspace *ws)
{
	const char *host = getenv("GPSD_HOST"), *port = getenv("GPSD_PORT");
	gps_conn *g;
	if (!gps_enabled(ws) || !(g = calloc(1, sizeof *g)))
		return NULL;
	if (gps_open(host && *host ? host : "localhost", port && *port ? port : DEFAULT_GPSD_PORT,
		     &g->d) != 0) {
		free(g);
		return NULL;
	}
	if (gps_stream(&g->d, WATCH_ENABLE | WATCH_JSON, NULL) != 0) {
		gps_close(&g->d);
		free(g);
		return NULL;
	}
	return g;
}

void gps_disconnect(gps_conn *g)
{
	if (!g)
		return;
	gps_stream(&g->d, WATCH_DISABLE, NULL);
	gps_close(&g->d);
	free(g);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double accuracy(const struct gps_fix_t *f)
{
	double a = isfinite(f->eph) ? f->eph : -1;
	if (a < 0 && isfinite(f->epx) && isfinite(f->epy))
		a = f->epx > f->epy ? f->epx : f->epy;
	return a < 0 ? -1 : round(a * 10) / 10;
}

/* Take the last report if it is a usable fix: 0 no, 1 yes, 2 with accuracy. */
static int take_fix(gps_conn *g, workspace *ws)
{
	const struct gps_fix_t *f = &g->d.fix;
	if (!(g->d.set & LATLON_SET) || f->mode < MODE_2D || !isfinite(f->latitude) ||
	    !isfinite(f->longitude) || fabs(f->latitude) > 90 || fabs(f->longitude) > 180)
		return 0;
	ws->where = (workspace_where){true, f->latitude, f->longitude, accuracy(f), "gps"};
	if ((g->d.set & TIME_SET) && f->time.tv_sec > 0)
		note_skew(ws, (long long)f->time.tv_sec);
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
		if (!gps_waiting(&g->d, left > 0 ? (int)(left * 1000) : 0))
			break;
		if (gps_read(&g->d, NULL, 0) < 0)
			break; /* gpsd went away: keep the last position */
		/* gpsd runs (e.g. socket-activated) but has no receiver: do not wait */
		if ((g->d.set & DEVICELIST_SET) && g->d.devices.ndevices == 0)
			break;
		int got = take_fix(g, ws);
		best = got > best ? got : best;
	}
	return best > 0;
}

#else /* no libgps: nothing to ask */

bool gps_available(void) { return false; }
gps_conn *gps_connect(const workspace *ws) { (void)gps_enabled; (void)note_skew; return NULL; }
bool gps_update(gps_conn *g, workspace *ws, int timeout_ms) { return false; }
void gps_disconnect(gps_conn *g) {}

#endif

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
