/*
 * gps: optional live position from gpsd (libgps).
 *
 * When gpsd answers (GPSD_HOST, default localhost; GPSD_PORT, default 2947)
 * and reports a 2D or 3D fix, ws->where becomes {lat, lon, acc_m, "gps"},
 * so new events carry the fix (action_event copies ws->where).  acc_m is
 * gpsd's horizontal error estimate (eph, else the larger of epx and epy),
 * -1 when gpsd gives none.  When the fix has a time, the clock skew (system
 * clock minus GPS time, seconds) over GPS_MAX_SKEW_S is put in ws->config
 * as the runtime key "_clock_skew_s" (never saved), for events to carry as
 * "clock_skew_s"; a skew within the limit removes the key.
 *
 * No gpsd, no fix, or no fieldbook-gps.so (the libgps part, see plugin.h):
 * nothing changes, no error,
 * no message.  Config "gps": false turns the client off; config
 * "gps_timeout_ms" (0..60000) overrides gps_poll's timeout.
 */
#ifndef FB_GPS_H
#define FB_GPS_H

#include <stdbool.h>

#include "workspace.h"

#define GPS_MAX_SKEW_S 300
#define GPS_SKEW_KEY "_clock_skew_s"

typedef struct gps_conn gps_conn;

/* One-shot: connect, wait up to timeout_ms for a fix, disconnect.
 * Returns true when ws->where was set from gpsd. */
bool gps_poll(workspace *ws, int timeout_ms);

/* A lasting connection (the TUI's status bar): NULL when gpsd does not
 * answer.  gps_update reads what gpsd sent, waiting at most timeout_ms (0:
 * only what is already there), and returns true when ws->where was set
 * from a new fix. */
gps_conn *gps_connect(const workspace *ws);
bool gps_update(gps_conn *g, workspace *ws, int timeout_ms);
void gps_disconnect(gps_conn *g);

#endif
