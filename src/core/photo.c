/*
 * photo: JPEG checks (segment walk + libjpeg header) and the EXIF summary
 * (libexif).  See photo.h for the rules.
 */
#include "core/photo.h"

#include "core/error.h"
#include "core/i18n.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>   /* after stdio.h/stddef.h: it needs FILE and size_t */
#include <libexif/exif-data.h>
#include <libexif/exif-log.h>
#include <libexif/exif-utils.h>

#define TEXT_MAX 256   /* strings: at most 255 bytes + NUL */

struct photo {
	char *name;
	unsigned char *bytes;
	size_t len;
	char sha[65];          /* "" until photo_sha256() */
	char *damage;          /* KEEP_DAMAGED only */
	unsigned width, height;
	photo_exif_status exif;
	photo_gps_status gps;
	double lat, lon, alt;  /* alt NAN when absent */
	char lat_ref[2], lon_ref[2];
	char taken[20], offset[7], gps_date[11], gps_time[24];
	char make[TEXT_MAX], model[TEXT_MAX];
	int orientation;
};

/* ---- small helpers ---------------------------------------------------- */

static char *dupstr(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static int nomem(void)
{
	return error_set(ERR_NOMEM, "%s", _("out of memory"));
}

static bool is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long days_from_civil(long y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n ASCII digits at s -> value, -1 when any is not a digit. */
static long digits(const char *s, int n)
{
	long v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY:MM:DD" -> days since the epoch; false when malformed. */
static bool parse_date(const char *s, long *days)
{
	if (strlen(s) < 10 || s[4] != ':' || s[7] != ':')
		return false;
	long y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m))
		return false;
	*days = days_from_civil(y, (int)m, (int)d);
	return true;
}

/* "HH:MM:SS" -> seconds of the day; false when malformed. */
static bool parse_clock(const char *s, long *secs)
{
	if (strlen(s) < 8 || s[2] != ':' || s[5] != ':')
		return false;
	long h = digits(s, 2), m = digits(s + 3, 2), c = digits(s + 6, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59 || c < 0 || c > 60)
		return false;
	*secs = h * 3600 + m * 60 + c;
	return true;
}

/* "YYYY:MM:DD HH:MM:SS" -> seconds since the epoch, read as UTC. */
static bool parse_datetime(const char *s, int64_t *out)
{
	long days, secs;
	if (strlen(s) != 19 || s[10] != ' ' || !parse_date(s, &days) ||
	    !parse_clock(s + 11, &secs))
		return false;
	*out = (int64_t)days * 86400 + secs;
	return true;
}

/* "+HH:MM" / "-HH:MM" -> seconds east of UTC. */
static bool parse_offset(const char *s, long *out)
{
	if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return false;
	long h = digits(s + 1, 2), m = digits(s + 4, 2);
	if (h < 0 || h > 18 || m < 0 || m > 59)
		return false;
	*out = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
	return true;
}

/* ---- text from EXIF ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2
		: c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;   /* overlong, surrogate, beyond U+10FFFF */
	return len;
}

/* C0/C1 controls and DEL: never let them reach a terminal. */
static bool is_control(const unsigned char *s, size_t len)
{
	return (len == 1 && (s[0] < 0x20 || s[0] == 0x7f)) ||
	       (len == 2 && s[0] == 0xc2 && s[1] < 0xa0);
}

/* Copy n bytes of EXIF text: cut at the first NUL, replace invalid UTF-8 and
 * controls with U+FFFD, strip trailing spaces, cap to cap-1 bytes. */
static void copy_text(char *dst, size_t cap, const unsigned char *src,
	size_t n)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *nul = memchr(src, 0, n);
	size_t o = 0;
	if (nul)
		n = (size_t)(nul - src);
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq(src + i, n - i);
		const char *piece = (const char *)src + i;
		size_t plen = len;
		if (!len || is_control(src + i, len)) {
			piece = repl;
			plen = 3;
			len = len ? len : 1;
		}
		if (o + plen >= cap)
			break;
		memcpy(dst + o, piece, plen);
		o += plen;
		i += len;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* ---- not-a-JPEG detection ---------------------------------------------- */

static const struct magic {
	size_t off;
	const char *magic;
	size_t len;
	size_t off2;       /* a second pattern, when len2 > 0 */
	const char *magic2;
	size_t len2;
	const char *what;
} magics[] = {
	{0, "\x89PNG\r\n\x1a\n", 8, 0, NULL, 0, N_("a PNG image")},
	{0, "GIF87a", 6, 0, NULL, 0, N_("a GIF image")},
	{0, "GIF89a", 6, 0, NULL, 0, N_("a GIF image")},
	{4, "ftypheic", 8, 0, NULL, 0, N_("a HEIC image")},
	{4, "ftypheix", 8, 0, NULL, 0, N_("a HEIC image")},
	{4, "ftyphevc", 8, 0, NULL, 0, N_("a HEIC image")},
	{4, "ftyphevx", 8, 0, NULL, 0, N_("a HEIC image")},
	{4, "ftypheim", 8, 0, NULL, 0, N_("a HEIC image")},
	{4, "ftypheis", 8, 0, NULL, 0, N_("a HEIC image")},
	{4, "ftypmif1", 8, 0, NULL, 0, N_("a HEIF image")},
	{4, "ftypmsf1", 8, 0, NULL, 0, N_("a HEIF image")},
	{4, "ftypavif", 8, 0, NULL, 0, N_("an AVIF image")},
	{4, "ftypavis", 8, 0, NULL, 0, N_("an AVIF image")},
	{4, "ftyp", 4, 0, NULL, 0, N_("an ISO media file (video or HEIF)")},
	{0, "RIFF", 4, 8, "WEBP", 4, N_("a WebP image")},
	{0, "II*\0", 4, 0, NULL, 0, N_("a TIFF image or camera raw file")},
	{0, "MM\0*", 4, 0, NULL, 0, N_("a TIFF image or camera raw file")},
	{0, "%PDF-", 5, 0, NULL, 0, N_("a PDF document")},
	{0, "\0\0\0\x0cjP  ", 8, 0, NULL, 0, N_("a JPEG 2000 image")},
	{0, "\xff\x4f\xff\x51", 4, 0, NULL, 0, N_("a JPEG 2000 image")},
	{0, "BM", 2, 14, "\x28\0\0\0", 4, N_("a BMP image")},
	{0, "BM", 2, 14, "\x7c\0\0\0", 4, N_("a BMP image")},
};

static bool has_at(const unsigned char *b, size_t n, size_t off,
	const char *m, size_t len)
{
	return off + len <= n && memcmp(b + off, m, len) == 0;
}

const char *photo_sniff(const unsigned char *buf, size_t len)
{
	if (has_at(buf, len, 0, "\xff\xd8", 2))
		return NULL;
	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
		const struct magic *m = &magics[i];
		if (has_at(buf, len, m->off, m->magic, m->len) &&
		    (!m->len2 || has_at(buf, len, m->off2, m->magic2, m->len2)))
			return _(m->what);
	}
	return NULL;
}

/* ---- JPEG structure walk ----------------------------------------------- */

typedef enum {
	WALK_OK,
	WALK_TRUNC_HEADER,   /* a segment runs past the end of the file */
	WALK_TRUNC_DATA,     /* no EOI: cut inside the image data */
	WALK_BAD_LENGTH,
	WALK_SECOND_SOI,
	WALK_NO_IMAGE,       /* EOI before any SOS */
	WALK_TOO_BIG,
} walk_result;

struct walk {
	const unsigned char *exif;   /* APP1 payload from "Exif\0\0", or NULL */
	size_t exif_len;
	unsigned sof_w, sof_h;
	bool sof;
};

static bool is_sof(unsigned m)
{
	return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Marker bytes with no length field after FF. */
static bool is_standalone(unsigned m)
{
	return m == 0x00 || m == 0x01 || (m >= 0xd0 && m <= 0xd7);
}

static walk_result walk_segment(struct walk *w, unsigned m,
	const unsigned char *seg, size_t len)
{
	if (m == 0xe1 && !w->exif && len >= 6 && !memcmp(seg, "Exif\0\0", 6)) {
		w->exif = seg;
		w->exif_len = len;
	}
	if (is_sof(m) && !w->sof && len >= 5) {
		w->sof = true;
		w->sof_h = (unsigned)seg[1] << 8 | seg[2];
		w->sof_w = (unsigned)seg[3] << 8 | seg[4];
		if ((uint64_t)w->sof_w * w->sof_h > PHOTO_MAX_PIXELS)
			return WALK_TOO_BIG;
	}
	return WALK_OK;
}

/* From after SOI to EOI.  Between segments and inside entropy-coded data
 * the next marker is the next FF not followed by 00, RSTn or FF. */
static walk_result walk_jpeg(const unsigned char *b, size_t n, struct walk *w)
{
	size_t pos = 2;
	bool scan = false;
	memset(w, 0, sizeof *w);
	for (;;) {
		const unsigned char *ff = pos < n ? memchr(b + pos, 0xff, n - pos) : NULL;
		if (!ff)
			return scan ? WALK_TRUNC_DATA : WALK_TRUNC_HEADER;
		pos = (size_t)(ff - b);
		while (pos < n && b[pos] == 0xff)
			pos++;
		if (pos >= n)
			return scan ? WALK_TRUNC_DATA : WALK_TRUNC_HEADER;
		unsigned m = b[pos++];
		if (is_standalone(m))
			continue;
		if (m == 0xd9)   /* EOI: anything after it is not ours to check */
			return scan ? WALK_OK : WALK_NO_IMAGE;
		if (m == 0xd8)
			return WALK_SECOND_SOI;
		if (n - pos < 2)
			return WALK_TRUNC_HEADER;
		size_t len = (size_t)b[pos] << 8 | b[pos + 1];
		if (len < 2)
			return WALK_BAD_LENGTH;
		if (len > n - pos) {   /* keep a cut Exif block for KEEP_DAMAGED */
			if (m == 0xe1 && n - pos >= 2)
				walk_segment(w, m, b + pos + 2, n - pos - 2);
			return WALK_TRUNC_HEADER;
		}
		walk_result r = walk_segment(w, m, b + pos + 2, len - 2);
		if (r != WALK_OK)
			return r;
		pos += len;
		scan = scan || m == 0xda;
	}
}

static const char *walk_message(walk_result r)
{
	static const char *const msg[] = {
		[WALK_TRUNC_HEADER] = N_("%s: the JPEG file is truncated (a header segment runs past the end of the file)"),
		[WALK_TRUNC_DATA] = N_("%s: the JPEG file is truncated (the image data ends without the end-of-image marker)"),
		[WALK_BAD_LENGTH] = N_("%s: the JPEG file is damaged (a segment has an impossible length)"),
		[WALK_SECOND_SOI] = N_("%s: the JPEG file is damaged (a second start-of-image marker inside the image)"),
		[WALK_NO_IMAGE] = N_("%s: the JPEG file has no image data"),
	};
	return _(msg[r]);
}

/* ---- libjpeg header ----------------------------------------------------- */

struct jerr {
	struct jpeg_error_mgr mgr;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
};

static void jerr_exit(j_common_ptr c)
{
	struct jerr *e = (struct jerr *)c->err;
	c->err->format_message(c, e->msg);
	longjmp(e->jb, 1);
}

static void jerr_quiet(j_common_ptr c) { (void)c; }
static void jerr_emit(j_common_ptr c, int level) { (void)c; (void)level; }

/* 0 and the size, or -1 with libjpeg's message in msg. */
static int jpeg_header(const unsigned char *b, size_t n, unsigned *w,
	unsigned *h, char *msg, size_t cap)
{
	struct jpeg_decompress_struct ci;
	struct jerr e;
	memset(&ci, 0, sizeof ci);
	ci.err = jpeg_std_error(&e.mgr);
	e.mgr.error_exit = jerr_exit;
	e.mgr.output_message = jerr_quiet;
	e.mgr.emit_message = jerr_emit;
	e.msg[0] = '\0';
	if (setjmp(e.jb)) {
		jpeg_destroy_decompress(&ci);
		snprintf(msg, cap, "%s", e.msg);
		return -1;
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, b, (unsigned long)n);
	jpeg_read_header(&ci, TRUE);
	*w = ci.image_width;
	*h = ci.image_height;
	jpeg_destroy_decompress(&ci);
	return 0;
}

/* ---- EXIF ------------------------------------------------------------- */

static void exif_log_quiet(ExifLog *log, ExifLogCode code, const char *domain,
	const char *format, va_list args, void *data)
{
	(void)log; (void)code; (void)domain; (void)format; (void)args;
	(void)data;
}

/* The entry (tag in ifd) if it holds at least min_n values of a format of
 * one of the sizes accepted by the caller; NULL otherwise. */
static ExifEntry *get(ExifData *d, ExifIfd ifd, ExifTag tag,
	unsigned long min_n)
{
	ExifEntry *e = exif_content_get_entry(d->ifd[ifd], tag);
	if (!e || !e->data || e->components < min_n)
		return NULL;
	size_t fs = exif_format_get_size(e->format);
	if (!fs || e->size < fs * e->components)
		return NULL;
	return e;
}

/* Text-like entry (ASCII, BYTE, UNDEFINED) copied into dst. */
static bool get_text(ExifData *d, ExifIfd ifd, ExifTag tag, char *dst,
	size_t cap)
{
	ExifEntry *e = get(d, ifd, tag, 1);
	dst[0] = '\0';
	if (!e || exif_format_get_size(e->format) != 1)
		return false;
	copy_text(dst, cap, e->data, e->size);
	return dst[0] != '\0';
}

/* Unsigned integer value i of a BYTE/SHORT/LONG entry. */
static bool get_uint(ExifData *d, ExifIfd ifd, ExifTag tag, unsigned long *v)
{
	ExifEntry *e = get(d, ifd, tag, 1);
	ExifByteOrder o = exif_data_get_byte_order(d);
	if (!e)
		return false;
	switch (e->format) {
	case EXIF_FORMAT_BYTE: *v = e->data[0]; return true;
	case EXIF_FORMAT_SHORT: *v = exif_get_short(e->data, o); return true;
	case EXIF_FORMAT_LONG: *v = exif_get_long(e->data, o); return true;
	default: return false;
	}
}

/* Rational i of a RATIONAL or non-negative SRATIONAL entry. */
static bool rational_at(ExifData *d, ExifEntry *e, unsigned i, double *num,
	double *den)
{
	ExifByteOrder o = exif_data_get_byte_order(d);
	if (i >= e->components)
		return false;
	if (e->format == EXIF_FORMAT_RATIONAL) {
		ExifRational r = exif_get_rational(e->data + 8 * i, o);
		*num = r.numerator;
		*den = r.denominator;
		return true;
	}
	if (e->format == EXIF_FORMAT_SRATIONAL) {
		ExifSRational r = exif_get_srational(e->data + 8 * i, o);
		if (r.numerator < 0 || r.denominator < 0)
			return false;
		*num = r.numerator;
		*den = r.denominator;
		return true;
	}
	return false;
}

/* One coordinate from up to three rationals (deg, min, sec); see photo.h
 * for the zero-denominator rule. */
static bool get_coord(ExifData *d, ExifTag tag, double *out)
{
	static const double scale[3] = {1.0, 60.0, 3600.0};
	ExifEntry *e = get(d, EXIF_IFD_GPS, tag, 1);
	double v = 0;
	if (!e)
		return false;
	for (unsigned i = 0; i < 3 && i < e->components; i++) {
		double num, den;
		if (!rational_at(d, e, i, &num, &den))
			return false;
		if (den == 0 && (i == 0 || num != 0))
			return false;
		if (den != 0)
			v += num / den / scale[i];
	}
	*out = v;
	return true;
}

/* "N"/"S" or "E"/"W" ref; sign is -1 for the second letter. */
static void get_ref(ExifData *d, ExifTag tag, const char *letters,
	char ref[2], double *sign)
{
	char buf[8];
	ref[0] = '\0';
	*sign = 1;
	if (!get_text(d, EXIF_IFD_GPS, tag, buf, sizeof buf))
		return;
	if (buf[0] == letters[0] || buf[0] == letters[1]) {
		ref[0] = buf[0];
		ref[1] = '\0';
		*sign = buf[0] == letters[1] ? -1 : 1;
	}
}

static void read_gps_position(photo *p, ExifData *d)
{
	double lat, lon, slat, slon;
	bool has_lat = get_coord(d, EXIF_TAG_GPS_LATITUDE, &lat);
	bool has_lon = get_coord(d, EXIF_TAG_GPS_LONGITUDE, &lon);
	bool tag_lat = exif_content_get_entry(d->ifd[EXIF_IFD_GPS], EXIF_TAG_GPS_LATITUDE);
	bool tag_lon = exif_content_get_entry(d->ifd[EXIF_IFD_GPS], EXIF_TAG_GPS_LONGITUDE);
	if (!tag_lat && !tag_lon) {
		p->gps = PHOTO_GPS_NONE;
		return;
	}
	get_ref(d, EXIF_TAG_GPS_LATITUDE_REF, "NS", p->lat_ref, &slat);
	get_ref(d, EXIF_TAG_GPS_LONGITUDE_REF, "EW", p->lon_ref, &slon);
	if (!has_lat || !has_lon || lat > 90 || lon > 180) {
		p->gps = PHOTO_GPS_INVALID;
		p->lat_ref[0] = p->lon_ref[0] = '\0';
		return;
	}
	p->lat = slat * lat;
	p->lon = slon * lon;
	p->gps = lat == 0 && lon == 0 ? PHOTO_GPS_ZERO : PHOTO_GPS_OK;
}

static void read_gps_alt(photo *p, ExifData *d)
{
	ExifEntry *e = get(d, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE, 1);
	unsigned long ref = 0;
	double num, den;
	if (!e || !rational_at(d, e, 0, &num, &den) || den == 0)
		return;
	get_uint(d, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE_REF, &ref);
	p->alt = (ref == 1 ? -1 : 1) * num / den;
}

/* GPSTimeStamp: whole hours and minutes, seconds possibly fractional. */
static void read_gps_time(photo *p, ExifData *d)
{
	ExifEntry *e = get(d, EXIF_IFD_GPS, EXIF_TAG_GPS_TIME_STAMP, 3);
	double v[3];
	if (!e)
		return;
	for (unsigned i = 0; i < 3; i++) {
		double num, den;
		if (!rational_at(d, e, i, &num, &den) || den == 0)
			return;
		if (i < 2 && fmod(num, den) != 0)
			return;
		v[i] = num / den;
	}
	if (v[0] > 23 || v[1] > 59 || v[2] >= 61)
		return;
	int n = snprintf(p->gps_time, sizeof p->gps_time, "%02d:%02d:%09.6f",
		(int)v[0], (int)v[1], v[2]);
	while (n > 8 && (p->gps_time[n - 1] == '0' || p->gps_time[n - 1] == '.'))
		p->gps_time[--n] = '\0';   /* "12:34:56.500000" -> "12:34:56.5" */
}

static void read_gps(photo *p, ExifData *d)
{
	char date[16];
	long days;
	read_gps_position(p, d);
	read_gps_alt(p, d);
	read_gps_time(p, d);
	if (get_text(d, EXIF_IFD_GPS, EXIF_TAG_GPS_DATE_STAMP, date, sizeof date)
	    && strlen(date) == 10 && parse_date(date, &days))
		memcpy(p->gps_date, date, 11);
}

static void read_tags(photo *p, ExifData *d)
{
	char buf[TEXT_MAX];
	int64_t t;
	long off;
	unsigned long orient;
	get_text(d, EXIF_IFD_0, EXIF_TAG_MAKE, p->make, sizeof p->make);
	get_text(d, EXIF_IFD_0, EXIF_TAG_MODEL, p->model, sizeof p->model);
	if (get_uint(d, EXIF_IFD_0, EXIF_TAG_ORIENTATION, &orient) &&
	    orient >= 1 && orient <= 8)
		p->orientation = (int)orient;
	if (get_text(d, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, buf, sizeof buf)
	    && parse_datetime(buf, &t))
		memcpy(p->taken, buf, 20);
	if (get_text(d, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL, buf, sizeof buf)
	    && parse_offset(buf, &off))
		memcpy(p->offset, buf, 7);
	read_gps(p, d);
}

static unsigned entry_count(ExifData *d)
{
	unsigned n = 0;
	for (int i = 0; i < EXIF_IFD_COUNT; i++)
		n += d->ifd[i]->count;
	return n;
}

static int read_exif(photo *p, const unsigned char *app1, size_t len)
{
	ExifData *d = exif_data_new();
	ExifLog *log = exif_log_new();
	if (!d || !log) {
		exif_data_unref(d);
		exif_log_unref(log);
		return nomem();
	}
	exif_log_set_func(log, exif_log_quiet, NULL);
	exif_data_log(d, log);
	exif_data_unset_option(d, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
	exif_data_unset_option(d, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
	exif_data_load_data(d, app1, (unsigned)len);
	p->exif = entry_count(d) ? PHOTO_EXIF_OK : PHOTO_EXIF_UNREADABLE;
	if (p->exif == PHOTO_EXIF_OK)
		read_tags(p, d);
	exif_data_unref(d);
	exif_log_unref(log);
	return 0;
}

/* ---- loading ---------------------------------------------------------- */

static photo *photo_new(unsigned char *bytes, size_t len, const char *name)
{
	photo *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->name = dupstr(name ? name : "");
	if (!p->name) {
		free(p);
		return NULL;
	}
	p->bytes = bytes;
	p->len = len;
	p->lat = p->lon = p->alt = NAN;
	return p;
}

void photo_free(photo *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->bytes);
	free(p->damage);
	free(p);
}

static int too_large(const char *path, size_t n)
{
	return error_set(ERR_PHOTO,
		_("%s: the file is too large (%zu bytes); fieldbook accepts photos up to %zu MiB"),
		path, n, PHOTO_MAX_BYTES >> 20);
}

static int check_kind(const unsigned char *b, size_t n, const char *name)
{
	const char *what;
	if (n == 0)
		return error_set(ERR_PHOTO, _("%s: the file is empty"), name);
	if (n > PHOTO_MAX_BYTES)
		return too_large(name, n);
	if ((what = photo_sniff(b, n)))
		return error_set(ERR_PHOTO,
			_("%s: this is %s; fieldbook stores JPEG photos only"), name, what);
	if (n < 2 || b[0] != 0xff || b[1] != 0xd8)
		return error_set(ERR_PHOTO,
			_("%s: not a JPEG image (it does not start with the JPEG marker FF D8)"),
			name);
	return 0;
}

static int too_many_pixels(const char *name, unsigned w, unsigned h)
{
	return error_set(ERR_PHOTO,
		_("%s: the image is %ux%u pixels (%.0f megapixels); fieldbook refuses photos over %llu megapixels"),
		name, w, h, (double)w * h / 1e6, PHOTO_MAX_PIXELS / 1000000);
}

/* Structure walk + libjpeg header; sets width/height (when the header could
 * be read); error set on failure.  The walk's findings come first: they are
 * clearer than libjpeg's for truncated files. */
static int check_image(photo *p, struct walk *w)
{
	char msg[JMSG_LENGTH_MAX];
	walk_result r = walk_jpeg(p->bytes, p->len, w);
	if (r == WALK_TOO_BIG)
		return too_many_pixels(p->name, w->sof_w, w->sof_h);
	int hdr = jpeg_header(p->bytes, p->len, &p->width, &p->height, msg,
		sizeof msg);
	if (r != WALK_OK)
		return error_set(ERR_PHOTO, walk_message(r), p->name);
	if (hdr)
		return error_set(ERR_PHOTO, _("%s: the JPEG file is damaged or of an unsupported kind (%s)"),
			p->name, msg);
	if ((uint64_t)p->width * p->height > PHOTO_MAX_PIXELS) /* DNL-sized */
		return too_many_pixels(p->name, p->width, p->height);
	return 0;
}

/* Takes ownership of bytes (freed on failure too). */
static int load_owned(photo **out, unsigned char *bytes, size_t len,
	const char *name, unsigned flags)
{
	struct walk w;
	int rc;
	*out = NULL;
	if ((rc = check_kind(bytes, len, name))) {
		free(bytes);
		return rc;
	}
	photo *p = photo_new(bytes, len, name);
	if (!p) {
		free(bytes);
		return nomem();
	}
	if ((rc = check_image(p, &w))) {
		if (!(flags & PHOTO_LOAD_KEEP_DAMAGED) || rc == ERR_NOMEM ||
		    !(p->damage = dupstr(error_last()))) {
			photo_free(p);
			return rc == ERR_PHOTO ? rc : nomem();
		}
		error_clear();
	}
	if (w.exif && (rc = read_exif(p, w.exif, w.exif_len))) {
		photo_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int photo_load_buffer_ex(photo **out, const unsigned char *buf, size_t len,
	const char *name, unsigned flags)
{
	unsigned char *copy;
	*out = NULL;
	if (len == 0 || len > PHOTO_MAX_BYTES)
		return check_kind(buf, len, name ? name : "");
	if (!(copy = malloc(len)))
		return nomem();
	memcpy(copy, buf, len);
	return load_owned(out, copy, len, name ? name : "", flags);
}

int photo_load_buffer(photo **out, const unsigned char *buf, size_t len,
	const char *name)
{
	return photo_load_buffer_ex(out, buf, len, name, 0);
}

static int file_error(const char *path, int err)
{
	return error_set(err == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path,
		strerror(err));
}

/* Read all of fd, refusing more than PHOTO_MAX_BYTES. */
static int read_all(int fd, const char *path, size_t hint,
	unsigned char **out, size_t *len)
{
	size_t cap = hint ? hint + 1 : 65536, n = 0;
	unsigned char *b = malloc(cap);
	if (!b)
		return nomem();
	for (;;) {
		if (n == cap) {
			size_t ncap = cap * 2 > PHOTO_MAX_BYTES + 1 ? PHOTO_MAX_BYTES + 1 : cap * 2;
			unsigned char *nb = ncap > cap ? realloc(b, ncap) : NULL;
			if (!nb) {
				free(b);
				return ncap > cap ? nomem() : too_large(path, n);
			}
			b = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			free(b);
			return file_error(path, err);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = b;
	*len = n;
	return 0;
}

int photo_load_file_ex(photo **out, const char *path, unsigned flags)
{
	struct stat st;
	unsigned char *b = NULL;
	size_t n = 0;
	int rc;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return file_error(path, errno);
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		int err = fstat(fd, &st) < 0 ? errno : EISDIR;
		close(fd);
		return file_error(path, err);
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > PHOTO_MAX_BYTES) {
		close(fd);
		return too_large(path, (size_t)st.st_size);
	}
	rc = read_all(fd, path, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0,
		&b, &n);
	close(fd);
	if (rc)
		return rc;
	if (n > PHOTO_MAX_BYTES) {
		free(b);
		return too_large(path, n);
	}
	return load_owned(out, b, n, path, flags);
}

int photo_load_file(photo **out, const char *path)
{
	return photo_load_file_ex(out, path, 0);
}

/* ---- accessors -------------------------------------------------------- */

static const char *opt(const char *s) { return s[0] ? s : NULL; }

const char *photo_name(const photo *p) { return p->name; }
const char *photo_damage(const photo *p) { return p->damage; }
unsigned photo_width(const photo *p) { return p->width; }
unsigned photo_height(const photo *p) { return p->height; }
photo_exif_status photo_exif(const photo *p) { return p->exif; }
bool photo_exif_readable(const photo *p) { return p->exif == PHOTO_EXIF_OK; }
photo_gps_status photo_gps(const photo *p) { return p->gps; }
bool photo_has_gps(const photo *p) { return p->gps == PHOTO_GPS_OK; }
double photo_lat(const photo *p) { return p->lat; }
double photo_lon(const photo *p) { return p->lon; }
bool photo_has_alt(const photo *p) { return !isnan(p->alt); }
double photo_alt(const photo *p) { return p->alt; }
const char *photo_taken(const photo *p) { return opt(p->taken); }
const char *photo_offset(const photo *p) { return opt(p->offset); }
const char *photo_gps_date(const photo *p) { return opt(p->gps_date); }
const char *photo_gps_time(const photo *p) { return opt(p->gps_time); }
const char *photo_make(const photo *p) { return opt(p->make); }
const char *photo_model(const photo *p) { return opt(p->model); }
int photo_orientation(const photo *p) { return p->orientation; }

const unsigned char *photo_bytes(const photo *p, size_t *len)
{
	if (len)
		*len = p->len;
	return p->bytes;
}

const char *photo_sha256(const photo *p)
{
	photo *m = (photo *)p;   /* the cache; the object is never const */
	if (!m->sha[0])
		util_sha256_hex(p->bytes, p->len, m->sha);
	return m->sha[0] ? m->sha : NULL;
}

/* ---- JSON ------------------------------------------------------------- */

static int set_str(json_t *o, const char *k, const char *v)
{
	return v && v[0] ? json_object_set_new(o, k, json_string(v)) : 0;
}

static int set_real(json_t *o, const char *k, double v)
{
	return isnan(v) ? 0 : json_object_set_new(o, k, json_real(v));
}

static int set_int(json_t *o, const char *k, long long v)
{
	return v ? json_object_set_new(o, k, json_integer(v)) : 0;
}

json_t *photo_exif_json(const photo *p)
{
	static const char *const exif_names[] = {"none", "ok", "unreadable"};
	static const char *const gps_names[] = {"none", "ok", "zero", "invalid"};
	json_t *o = json_object();
	bool pos = p->gps == PHOTO_GPS_OK || p->gps == PHOTO_GPS_ZERO;
	int rc = !o;
	rc = rc || set_str(o, "exif", exif_names[p->exif]);
	rc = rc || set_str(o, "gps", gps_names[p->gps]);
	rc = rc || set_str(o, "taken", p->taken);
	rc = rc || set_str(o, "offset", p->offset);
	rc = rc || set_real(o, "lat", pos ? p->lat : NAN);
	rc = rc || set_real(o, "lon", pos ? p->lon : NAN);
	rc = rc || set_str(o, "lat_ref", p->lat_ref);
	rc = rc || set_str(o, "lon_ref", p->lon_ref);
	rc = rc || set_real(o, "alt", p->alt);
	rc = rc || set_str(o, "gps_date", p->gps_date);
	rc = rc || set_str(o, "gps_time", p->gps_time);
	rc = rc || set_str(o, "make", p->make);
	rc = rc || set_str(o, "model", p->model);
	rc = rc || set_int(o, "orientation", p->orientation);
	rc = rc || set_int(o, "width", p->width);
	rc = rc || set_int(o, "height", p->height);
	if (rc) {
		json_decref(o);
		nomem();
		return NULL;
	}
	return o;
}

/* ---- time and distance ------------------------------------------------ */

static int no_time(const photo *p, const char *what)
{
	return error_set(ERR_NOTFOUND, what, p->name);
}

int photo_taken_utc_src(const photo *p, time_t *out, const char **src)
{
	int64_t t;
	long off, days, secs;
	if (p->taken[0] && p->offset[0] && parse_datetime(p->taken, &t) &&
	    parse_offset(p->offset, &off)) {
		*out = (time_t)(t - off);
		if (src)
			*src = "exif";
		return 0;
	}
	if (p->gps_date[0] && p->gps_time[0] && parse_date(p->gps_date, &days) &&
	    parse_clock(p->gps_time, &secs)) {
		*out = (time_t)((int64_t)days * 86400 + secs);
		if (src)
			*src = "gps";
		return 0;
	}
	return no_time(p, _("%s: the photo records no time with a time zone (no OffsetTimeOriginal, no GPS time)"));
}

int photo_taken_utc(const photo *p, time_t *out)
{
	return photo_taken_utc_src(p, out, NULL);
}

int photo_taken_at_offset(const photo *p, long fallback_offset_s, time_t *out)
{
	int64_t t;
	long off = fallback_offset_s;
	if (!p->taken[0] || !parse_datetime(p->taken, &t))
		return no_time(p, _("%s: the photo records no date taken (DateTimeOriginal)"));
	if (p->offset[0])
		parse_offset(p->offset, &off);
	*out = (time_t)(t - off);
	return 0;
}

double photo_distance_m(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371008.8, rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double s1 = sin(dlat / 2), s2 = sin(dlon / 2);
	double a = s1 * s1 + cos(lat1 * rad) * cos(lat2 * rad) * s2 * s2;
	if (a > 1)
		a = 1;
	return 2 * r * atan2(sqrt(a), sqrt(1 - a));
}
