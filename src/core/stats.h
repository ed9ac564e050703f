/*
 * stats: supervisor figures over the index's case states: cases opened,
 * closed and overdue and the mean time to close, per grid, category or
 * officer, within a date range; and every case as CSV or GeoJSON.
 */
#ifndef FB_STATS_H
#define FB_STATS_H

#include <jansson.h>
#include <stdbool.h>

#include "workspace.h"

/* by: "grid", "category" or "officer".  from/to: local dates
 * (YYYY-MM-DD, inclusive, NULL = open) on the date a case was opened.
 * Result (new reference): [{"key", "opened", "closed", "overdue",
 * "open", "mean_days_to_close" (number or null)}] sorted by key, the
 * last row with key "" being the total. */
int stats_compute(workspace *ws, const char *by, const char *from, const char *to,
		  const char *today, json_t **out);

/* The same rows as CSV (RFC 4180, UTF-8, optional BOM). Caller frees. */
int stats_csv(const json_t *rows, const char *by, bool bom, char **out, size_t *len);

/* Every case with the given status filter (list's: open, ordered,
 * overdue, closed, all): CSV or a GeoJSON FeatureCollection of Points
 * (cases without a location get a null geometry).  Caller frees. */
int stats_export_csv(workspace *ws, const char *status, const char *today, bool bom,
		     char **out, size_t *len);
int stats_export_geojson(workspace *ws, const char *status, const char *today, char **out,
			 size_t *len);

#endif
