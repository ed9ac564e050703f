/*
 * plugin_gps: fieldbook-gps.so, the gpsd client (libgps).  gps.c asks it
 * for reports and decides what to keep; see core/gps.h and core/plugin.h.
 */
#include "core/plugin.h"

#include <gps.h>
#include <math.h>
#include <stdlib.h>

static void *conn_open(const char *host, const char *port)
{
	struct gps_data_t *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	if (gps_open(host, port ? port : DEFAULT_GPSD_PORT, d) != 0) {
		free(d);
		return NULL;
	}
	if (gps_stream(d, WATCH_ENABLE | WATCH_JSON, NULL) != 0) {
		gps_close(d);
		free(d);
		return NULL;
	}
	return d;
}

static void conn_close(void *conn)
{
	struct gps_data_t *d = conn;
	if (!d)
		return;
	gps_stream(d, WATCH_DISABLE, NULL);
	gps_close(d);
	free(d);
}

static double accuracy(const struct gps_fix_t *f)
{
	double a = isfinite(f->eph) ? f->eph : -1;
	if (a < 0 && isfinite(f->epx) && isfinite(f->epy))
		a = f->epx > f->epy ? f->epx : f->epy;
	return a < 0 ? -1 : round(a * 10) / 10;
}

static void describe(const struct gps_data_t *d, plugin_gps_report *r)
{
	const struct gps_fix_t *f = &d->fix;
	*r = (plugin_gps_report){.acc_m = -1};
	/* gpsd runs (e.g. socket-activated) but has no receiver */
	r->no_receiver = (d->set & DEVICELIST_SET) && d->devices.ndevices == 0;
	if (!(d->set & LATLON_SET) || f->mode < MODE_2D || !isfinite(f->latitude) ||
	    !isfinite(f->longitude) || fabs(f->latitude) > 90 || fabs(f->longitude) > 180)
		return;
	r->fix = true;
	r->lat = f->latitude;
	r->lon = f->longitude;
	r->acc_m = accuracy(f);
	if ((d->set & TIME_SET) && f->time.tv_sec > 0)
		r->time = (long long)f->time.tv_sec;
}

static int conn_read(void *conn, int timeout_ms, plugin_gps_report *r)
{
	struct gps_data_t *d = conn;
	if (!gps_waiting(d, timeout_ms > 0 ? timeout_ms * 1000 : 0))
		return 0;
	if (gps_read(d, NULL, 0) < 0)
		return -1;
	describe(d, r);
	return 1;
}

const plugin_gps fieldbook_plugin_gps = {PLUGIN_ABI, conn_open, conn_read, conn_close};
