/*
 * attach: photos attached to a case, one photo.attached event each.
 *
 * Every file is loaded and checked (photo_load_file) before anything is
 * written, so a bad file in a batch stores nothing.  Then, per photo, one
 * commit holds the event and the original bytes, unchanged, at
 *   cases/<yyyy>/<mm>/<dd>/<case-id>/photos/<sha256>.jpg
 *
 * Event fields (beyond the common ones): sha256, size, item?, exif (the
 * photo_exif_json summary), checks: an array of objects, each with "check":
 *   no_gps          {gps: none|zero|invalid}
 *   far             {distance_m, limit_m}: from the case location
 *                   (config photo_max_distance_m, default 200)
 *   before_case     {taken_at, opened_at}: taken more than 5 minutes before
 *                   the case was opened
 *   long_before     {taken_at, hours, limit_h}: taken more than
 *                   photo_max_age_h (default 24) hours before the attach time
 *   future          {taken_at}: taken more than 5 minutes after now
 *   duplicate       {cases}: the same bytes are attached to other cases
 *   exif_unreadable {}: EXIF present but nothing could be read from it
 * The time taken is DateTimeOriginal with OffsetTimeOriginal, else the GPS
 * time stamp, else DateTimeOriginal in the device's zone; without any, no
 * time check is made.
 * A case with no location takes the first photo's GPS position: that event
 * carries where {lat, lon, src: "photo"} and case_location: true.
 */
#ifndef FB_ATTACH_H
#define FB_ATTACH_H

#include <jansson.h>
#include <stddef.h>

#include "workspace.h"

#define ATTACH_MAX_DISTANCE_M 200.0 /* config photo_max_distance_m */
#define ATTACH_MAX_AGE_H 24.0       /* config photo_max_age_h */
#define ATTACH_CLOCK_SLACK_S 300    /* camera clocks: 5 min either way */

/* Attach n photo files to a case (item: a form item id or NULL).  report
 * (may be NULL) gets a new array, one object per photo: path, sha256, size,
 * event, item?, checks, case_location.  When a commit fails part-way, the
 * photos recorded before it stay recorded and are in the report. */
int attach_photos(workspace *ws, const char *case_id, const char *const *paths, size_t n,
		  const char *item, json_t **report);

/* One check object in words, translated ("photo is 312 m from the case
 * location (limit 200 m)").  Caller frees; NULL on ENOMEM. */
char *attach_check_text(const json_t *check);

#endif
