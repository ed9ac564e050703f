/*
 * photo: a JPEG photo as fieldbook stores it — the original bytes, checked,
 * with the EXIF summary that goes into a photo.attached event.
 *
 * Loading does, in this order (all in memory, nothing printed):
 *  1. size: empty files and files over PHOTO_MAX_BYTES are refused;
 *  2. magic: PNG, GIF, HEIC/HEIF/AVIF (ISO "ftyp"), TIFF/raw, WebP, BMP, PDF
 *     are named as what they are; anything else not starting with FF D8 is
 *     "not a JPEG";
 *  3. structure: a walk over the JPEG segments from SOI to EOI, skipping the
 *     entropy-coded data with memchr (no decoding).  Every segment length
 *     must fit in the file and the walk must reach the end-of-image marker
 *     after at least one SOS: a file cut short anywhere is "truncated".
 *     Bytes after EOI (zero padding, MPF images, phone trailers) are allowed.
 *     The first SOF's size is checked against PHOTO_MAX_PIXELS here;
 *  4. libjpeg(-turbo) jpeg_read_header() with an error manager that
 *     longjmps and keeps the message (never exits, never prints): it checks
 *     the frame/table headers and gives the pixel size.  The image is not
 *     decoded (too slow for bulk reading; step 3 is the truncation check);
 *  5. EXIF: the first APP1 "Exif\0\0" segment is parsed with libexif
 *     (FOLLOW_SPECIFICATION and IGNORE_UNKNOWN_TAGS unset, so libexif neither
 *     invents nor drops tags; its log is swallowed).  Broken EXIF never
 *     rejects a photo whose image data is valid: it is recorded as
 *     "unreadable".
 *
 * Values read (what the accessors and photo_exif_json() return):
 *  - GPS only from the GPS IFD.  A coordinate component x/0 with x != 0, or a
 *    degrees component with a zero denominator, makes the coordinate invalid;
 *    0/0 in minutes or seconds counts as 0 (writers use it for "unused").
 *    Out-of-range results (|lat| > 90, |lon| > 180) are invalid.  Exactly
 *    (0, 0) is reported as PHOTO_GPS_ZERO ("null island": a phone without a
 *    fix) and photo_has_gps() is false for it.
 *  - Strings are copied with the entry's size (no NUL needed), cut at the
 *    first NUL, trailing spaces removed, capped at 255 bytes; bytes that are
 *    not UTF-8, and control characters, become U+FFFD.  Empty = absent.
 *  - Dates must be well formed ("YYYY:MM:DD HH:MM:SS", a real calendar date)
 *    or they are absent (placeholders like "    :  :     :  :  ").
 *
 * Errors: functions return 0 or a negative ERR_* (core/error.h) and set a
 * translated message naming the file, e.g.
 *   "IMG_1.png: this is a PNG image; fieldbook stores JPEG photos only".
 * A photo object is immutable after loading, except that photo_sha256()
 * computes the hash on first use (so the first call on one object must not
 * race with another call on the same object).
 */
#ifndef FB_PHOTO_H
#define FB_PHOTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct photo photo;

#define PHOTO_MAX_BYTES ((size_t)64 << 20)   /* 64 MiB */
#define PHOTO_MAX_PIXELS 100000000ULL        /* 100 megapixels */

typedef enum {
	PHOTO_EXIF_NONE,        /* no APP1 Exif segment */
	PHOTO_EXIF_OK,          /* parsed; at least one tag recovered */
	PHOTO_EXIF_UNREADABLE,  /* an Exif segment nothing could be read from */
} photo_exif_status;

typedef enum {
	PHOTO_GPS_NONE,     /* no latitude/longitude tags */
	PHOTO_GPS_OK,
	PHOTO_GPS_ZERO,     /* exactly 0,0: placeholder written without a fix */
	PHOTO_GPS_INVALID,  /* present but unusable: x/0, out of range, half */
} photo_gps_status;

/* Flag for the _ex loaders: when the bytes are a JPEG (start with FF D8) but
 * fail the image checks (truncated, damaged, too many pixels), still return
 * the photo with its EXIF read and the failure in photo_damage(), and return
 * 0.  For "photo info" style inspection only: never store such a photo. */
#define PHOTO_LOAD_KEEP_DAMAGED 1u

/* Read a file (regular file or stream; refused beyond PHOTO_MAX_BYTES) and
 * validate it.  ERR_NOTFOUND when missing, ERR_IO when unreadable,
 * ERR_PHOTO when not an acceptable JPEG, ERR_NOMEM. */
int photo_load_file(photo **out, const char *path);
int photo_load_file_ex(photo **out, const char *path, unsigned flags);
/* Same from memory; the bytes are copied.  name is used in messages. */
int photo_load_buffer(photo **out, const unsigned char *buf, size_t len,
	const char *name);
int photo_load_buffer_ex(photo **out, const unsigned char *buf, size_t len,
	const char *name, unsigned flags);
void photo_free(photo *p);

const char *photo_name(const photo *p);
/* The original bytes, unchanged (borrowed). */
const unsigned char *photo_bytes(const photo *p, size_t *len);
/* Lowercase hex SHA-256 of the bytes (libsodium), computed on first use;
 * NULL only when libsodium cannot initialise. */
const char *photo_sha256(const photo *p);
/* NULL for a valid photo; the image-check message under KEEP_DAMAGED. */
const char *photo_damage(const photo *p);

/* Pixel size from the JPEG frame header (0 when it could not be read). */
unsigned photo_width(const photo *p);
unsigned photo_height(const photo *p);

photo_exif_status photo_exif(const photo *p);
bool photo_exif_readable(const photo *p);          /* exif == OK */
photo_gps_status photo_gps(const photo *p);
bool photo_has_gps(const photo *p);                /* gps == OK */
/* Signed decimal degrees (S and W negative); NAN unless gps is OK or ZERO. */
double photo_lat(const photo *p);
double photo_lon(const photo *p);
/* Metres, negative below sea level (GPSAltitudeRef 1); NAN when absent. */
bool photo_has_alt(const photo *p);
double photo_alt(const photo *p);

/* Borrowed strings, NULL when absent. */
const char *photo_taken(const photo *p);     /* "YYYY:MM:DD HH:MM:SS" */
const char *photo_offset(const photo *p);    /* "+08:00" */
const char *photo_gps_date(const photo *p);  /* "YYYY:MM:DD" (UTC) */
const char *photo_gps_time(const photo *p);  /* "HH:MM:SS" or "HH:MM:SS.25" */
const char *photo_make(const photo *p);
const char *photo_model(const photo *p);
int photo_orientation(const photo *p);       /* 1..8, 0 when absent */

/* The EXIF summary for the event (new reference; NULL only on ENOMEM).
 * Keys, each omitted when absent: taken, offset, lat, lon, lat_ref,
 * lon_ref, alt, gps_date, gps_time, make, model, orientation, width,
 * height; always present: exif ("ok" | "none" | "unreadable") and gps
 * ("ok" | "none" | "zero" | "invalid").  lat/lon are given for gps "ok"
 * and "zero". */
json_t *photo_exif_json(const photo *p);

/* When the photo was taken, as UTC:
 *  1. DateTimeOriginal + OffsetTimeOriginal when both are present;
 *  2. else GPSDateStamp + GPSTimeStamp (UTC by definition; fraction dropped);
 *  3. else ERR_NOTFOUND (with a message).
 * *src (may be NULL) gets "exif" or "gps". */
int photo_taken_utc(const photo *p, time_t *out);
int photo_taken_utc_src(const photo *p, time_t *out, const char **src);
/* DateTimeOriginal as UTC using the file's OffsetTimeOriginal when present,
 * else fallback_offset_s (e.g. the device's zone): for photos from cameras
 * that record local time only.  ERR_NOTFOUND without DateTimeOriginal. */
int photo_taken_at_offset(const photo *p, long fallback_offset_s,
	time_t *out);

/* Great-circle distance in metres (haversine, mean Earth radius
 * 6371008.8 m, the IUGG/WGS84 mean).  Degrees in; NAN in -> NAN out. */
double photo_distance_m(double lat1, double lon1, double lat2, double lon2);

/* What the bytes are when they are not a JPEG ("a PNG image", translated),
 * NULL when they start with FF D8 or are not recognised. */
const char *photo_sniff(const unsigned char *buf, size_t len);

#endif
