/*
 * event: the JSON event model (jansson, keys sorted, one object per file)
 * and the ledger paths derived from case and event ids.  See docs/FORMAT.md.
 *
 * Events are kept as jansson objects exactly as read: fields and types this
 * version does not know are preserved and shown, never dropped.
 */
#ifndef FB_EVENT_H
#define FB_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define EVENT_FORMAT 1

/* Known event types (others are kept as they are). */
#define EV_CASE_OPENED "case.opened"
#define EV_INSPECTION "inspection.recorded"
#define EV_PHOTO "photo.attached"
#define EV_NOTE "note.added"
#define EV_ORDER "order.issued"
#define EV_REINSPECTION "reinspection.recorded"
#define EV_ESCALATED "case.escalated"
#define EV_CLOSED "case.closed"
#define EV_REVIEW_APPROVED "review.approved"
#define EV_REVIEW_RETURNED "review.returned"
#define EV_REOPENED "case.reopened"
#define EV_CORRECTION "correction"
#define EV_ROSTER_ADDED "roster.added"
#define EV_ROSTER_RETIRED "roster.retired"

/* "<yyyymmddThhmmssZ>-<device>-<seq, 6 digits>" */
void event_id_make(char out[64], time_t at, const char *device, long seq);
/* New event with the common fields; where = {src: none}. */
json_t *event_new(const char *type, const char *case_id, time_t at,
		  const char *officer, const char *device, long seq);
void event_set_where(json_t *ev, double lat, double lon, double acc_m,
		     const char *src);
/* Serialised form written to the ledger (sorted keys, 2-space indent,
 * trailing newline).  Caller frees. */
char *event_dump(const json_t *ev);
/* Parse and check the common fields; name is used in messages. */
int event_parse(const char *text, size_t len, const char *name, json_t **out);

const char *event_str(const json_t *ev, const char *key); /* "" when absent */
bool event_type_known(const char *type);
/* Translated name of the type ("case opened"), or the raw type. */
const char *event_type_label(const char *type);
/* One-line human summary (translated, form labels in lang).  Caller frees. */
char *event_summary(const json_t *ev);

/* Case ids: <unit>-<yyyymmdd>-<device>-<n>. */
bool case_id_valid(const char *id);
/* "cases/yyyy/mm/dd/<case-id>" from the date inside the id. */
int case_dir(const char *case_id, char *out, size_t size);
int event_path(const char *case_id, const char *event_id, char *out, size_t size);
/* Does a ledger path name an event file?  Fills case id and event id. */
bool event_path_parse(const char *path, char case_id[96], char event_id[96]);

/* Does a JSON array of strings (item ids, case ids) hold s? */
bool event_array_has(const json_t *arr, const char *s);

/* Roster changes: roster/<event-id>.json (+ .sig). */
int roster_event_path(const char *event_id, char *out, size_t size);
bool roster_path_parse(const char *path, char event_id[96]);

#endif
