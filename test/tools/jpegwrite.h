/*
 * jpegwrite: make small test JPEGs with EXIF (header-only; shared by
 * test/tools/mkjpeg.c and the unit tests).
 *
 * The picture is a gradient with coloured blocks derived from the seed, so
 * different seeds give different bytes.  It is encoded with libjpeg; the EXIF
 * block is built with libexif (IFD0: Make, Model, Orientation; Exif IFD:
 * DateTimeOriginal, OffsetTimeOriginal; GPS IFD: version, lat/lon with refs,
 * altitude with ref, GPSDateStamp/GPSTimeStamp) and written as APP1 right
 * after SOI (no JFIF APP0, as cameras do).  A raw APP1 payload can be given
 * instead, to build damaged EXIF.
 */
#ifndef FB_TEST_JPEGWRITE_H
#define FB_TEST_JPEGWRITE_H

#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>   /* after stdio.h/stddef.h: it needs FILE and size_t */
#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>

struct testjpeg {
	int width, height;        /* default 64x48 */
	unsigned seed;
	int quality;              /* default 85 */
	bool big_endian;          /* EXIF byte order MM (default II) */
	bool no_exif;             /* no APP1 at all */
	bool has_gps;
	double lat, lon;
	bool has_alt;
	double alt;
	const char *taken;        /* DateTimeOriginal "YYYY:MM:DD HH:MM:SS" */
	const char *offset;       /* OffsetTimeOriginal "+08:00" */
	/* GPS date/time "YYYY:MM:DD HH:MM:SS" UTC; NULL: taken - offset when
	 * the photo has GPS and both are given; "" for none. */
	const char *gps_stamp;
	const char *make, *model;
	int orientation;          /* 1..8, 0 = no tag */
	const unsigned char *raw_app1;   /* "Exif\0\0..." written verbatim */
	size_t raw_app1_len;
};

/* ---- EXIF ------------------------------------------------------------- */

static inline unsigned char *tj_entry(ExifData *d, ExifIfd ifd, ExifTag tag,
	ExifFormat fmt, unsigned long n)
{
	ExifMem *mem = exif_mem_new_default();
	ExifEntry *e = exif_entry_new_mem(mem);
	size_t size = exif_format_get_size(fmt) * n;
	unsigned char *data = exif_mem_alloc(mem, (ExifLong)size);
	e->data = data;
	e->size = (unsigned)size;
	e->tag = tag;
	e->format = fmt;
	e->components = n;
	exif_content_add_entry(d->ifd[ifd], e);
	exif_entry_unref(e);
	exif_mem_unref(mem);
	return data;
}

static inline void tj_ascii(ExifData *d, ExifIfd ifd, ExifTag tag, const char *s)
{
	size_t n = strlen(s) + 1;
	memcpy(tj_entry(d, ifd, tag, EXIF_FORMAT_ASCII, n), s, n);
}

static inline void tj_rationals(ExifData *d, ExifTag tag, const ExifRational *r,
	int n)
{
	ExifByteOrder o = exif_data_get_byte_order(d);
	unsigned char *p = tj_entry(d, EXIF_IFD_GPS, tag, EXIF_FORMAT_RATIONAL, n);
	for (int i = 0; i < n; i++)
		exif_set_rational(p + 8 * i, o, r[i]);
}

/* |deg| as D/1, M/1, S*1e6/1e6 (split in whole micro-arcseconds). */
static inline void tj_coord(ExifData *d, ExifTag tag, ExifTag ref_tag, double v,
	const char *letters)
{
	long long us = llround(fabs(v) * 3600e6);
	ExifRational r[3] = {{(ExifLong)(us / 3600000000LL), 1},
		{(ExifLong)(us / 60000000LL % 60), 1},
		{(ExifLong)(us % 60000000LL), 1000000}};
	char ref[2] = {v < 0 ? letters[1] : letters[0], 0};
	tj_ascii(d, EXIF_IFD_GPS, ref_tag, ref);
	tj_rationals(d, tag, r, 3);
}

static inline long long tj_days(long y, int m, int dd)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
	return era * 146097LL + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* GPS date/time from taken - offset (or the explicit stamp). */
static inline bool tj_gps_stamp(const struct testjpeg *o, char date[32],
	ExifRational hms[3])
{
	int y, mo, dd, h, mi, s, oh = 0, om = 0;
	char sign = '+';
	const char *src = o->gps_stamp ? o->gps_stamp : o->taken;
	if (!src || !src[0] || (!o->gps_stamp && !o->offset))
		return false;
	if (sscanf(src, "%d:%d:%d %d:%d:%d", &y, &mo, &dd, &h, &mi, &s) != 6)
		return false;
	if (!o->gps_stamp && sscanf(o->offset, "%c%d:%d", &sign, &oh, &om) != 3)
		return false;
	long long t = tj_days(y, mo, dd) * 86400 + h * 3600 + mi * 60 + s;
	t -= (sign == '-' ? -1 : 1) * (oh * 3600LL + om * 60);
	long long days = (t >= 0 ? t : t - 86399) / 86400, sod = t - days * 86400;
	/* civil from days (H. Hinnant) */
	long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int cd = (int)(doy - (153 * mp + 2) / 5 + 1), cm = (int)(mp < 10 ? mp + 3 : mp - 9);
	long long cy = yoe + era * 400 + (cm <= 2);
	snprintf(date, 32, "%04lld:%02d:%02d", cy % 10000, cm, cd);
	hms[0] = (ExifRational){(ExifLong)(sod / 3600), 1};
	hms[1] = (ExifRational){(ExifLong)(sod / 60 % 60), 1};
	hms[2] = (ExifRational){(ExifLong)(sod % 60), 1};
	return true;
}

static inline void tj_gps(ExifData *d, const struct testjpeg *o)
{
	char date[32];
	ExifRational hms[3];
	unsigned char *v = tj_entry(d, EXIF_IFD_GPS, EXIF_TAG_GPS_VERSION_ID,
		EXIF_FORMAT_BYTE, 4);
	memcpy(v, "\2\3\0\0", 4);
	tj_coord(d, EXIF_TAG_GPS_LATITUDE, EXIF_TAG_GPS_LATITUDE_REF, o->lat, "NS");
	tj_coord(d, EXIF_TAG_GPS_LONGITUDE, EXIF_TAG_GPS_LONGITUDE_REF, o->lon, "EW");
	if (o->has_alt) {
		ExifRational r = {(ExifLong)llround(fabs(o->alt) * 1000), 1000};
		*tj_entry(d, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE_REF,
			EXIF_FORMAT_BYTE, 1) = o->alt < 0;
		tj_rationals(d, EXIF_TAG_GPS_ALTITUDE, &r, 1);
	}
	if (tj_gps_stamp(o, date, hms)) {
		tj_rationals(d, EXIF_TAG_GPS_TIME_STAMP, hms, 3);
		tj_ascii(d, EXIF_IFD_GPS, EXIF_TAG_GPS_DATE_STAMP, date);
	}
}

/* The APP1 payload ("Exif\0\0" + TIFF), malloc'd; 0 on success. */
static inline int testjpeg_exif(const struct testjpeg *o, unsigned char **out,
	unsigned *len)
{
	ExifData *d = exif_data_new();
	unsigned char *buf = NULL;
	if (!d)
		return -1;
	exif_data_unset_option(d, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
	exif_data_set_byte_order(d, o->big_endian ? EXIF_BYTE_ORDER_MOTOROLA
		: EXIF_BYTE_ORDER_INTEL);
	if (o->make)
		tj_ascii(d, EXIF_IFD_0, EXIF_TAG_MAKE, o->make);
	if (o->model)
		tj_ascii(d, EXIF_IFD_0, EXIF_TAG_MODEL, o->model);
	if (o->orientation)
		exif_set_short(tj_entry(d, EXIF_IFD_0, EXIF_TAG_ORIENTATION,
			EXIF_FORMAT_SHORT, 1), exif_data_get_byte_order(d),
			(ExifShort)o->orientation);
	if (o->taken)
		tj_ascii(d, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, o->taken);
	if (o->offset)
		tj_ascii(d, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL, o->offset);
	if (o->has_gps)
		tj_gps(d, o);
	exif_data_save_data(d, &buf, len);
	exif_data_unref(d);
	if (!buf || !*len) {
		free(buf);
		return -1;
	}
	/* libexif's default allocator is malloc/free */
	*out = buf;
	return 0;
}

/* ---- JPEG ------------------------------------------------------------- */

struct tj_err {
	struct jpeg_error_mgr mgr;
	jmp_buf jb;
};

static inline void tj_error_exit(j_common_ptr c)
{
	longjmp(((struct tj_err *)c->err)->jb, 1);
}

static inline unsigned tj_rand(unsigned *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* One RGB row: a diagonal gradient plus blocks coloured from the seed. */
static inline void tj_row(const struct testjpeg *o, int y, unsigned char *row)
{
	for (int x = 0; x < o->width; x++) {
		unsigned s = o->seed * 2654435761u + (unsigned)(x / 16) * 40503u
			+ (unsigned)(y / 16) * 9973u + 1u;
		unsigned r = tj_rand(&s);
		bool block = (r & 3) == 0;
		row[3 * x + 0] = block ? (unsigned char)(r >> 8) : (unsigned char)(x * 255 / (o->width > 1 ? o->width - 1 : 1));
		row[3 * x + 1] = block ? (unsigned char)(r >> 16) : (unsigned char)(y * 255 / (o->height > 1 ? o->height - 1 : 1));
		row[3 * x + 2] = block ? (unsigned char)(r >> 24) : (unsigned char)(o->seed * 37);
	}
}

static inline int tj_compress(const struct testjpeg *o, const unsigned char *app1,
	size_t app1_len, unsigned char **out, size_t *len)
{
	struct jpeg_compress_struct c;
	struct tj_err e;
	unsigned char *volatile row = NULL;
	unsigned char *mem = NULL;
	unsigned long size = 0;
	c.err = jpeg_std_error(&e.mgr);
	e.mgr.error_exit = tj_error_exit;
	if (setjmp(e.jb)) {
		jpeg_destroy_compress(&c);
		free(row);
		free(mem);
		return -1;
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &mem, &size);
	c.image_width = (JDIMENSION)o->width;
	c.image_height = (JDIMENSION)o->height;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, o->quality ? o->quality : 85, TRUE);
	c.write_JFIF_header = FALSE;
	row = malloc((size_t)o->width * 3);
	if (!row)
		longjmp(e.jb, 1);
	jpeg_start_compress(&c, TRUE);
	if (app1)
		jpeg_write_marker(&c, JPEG_APP0 + 1, app1, (unsigned)app1_len);
	for (int y = 0; y < o->height; y++) {
		JSAMPROW rp = row;
		tj_row(o, y, row);
		jpeg_write_scanlines(&c, &rp, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	*out = mem;
	*len = size;
	return 0;
}

/* Encode the whole file into a malloc'd buffer; 0 on success. */
static inline int testjpeg_encode(const struct testjpeg *opts, unsigned char **out,
	size_t *len)
{
	struct testjpeg o = *opts;
	unsigned char *exif = NULL;
	unsigned exif_len = 0;
	int rc;
	o.width = o.width > 0 ? o.width : 64;
	o.height = o.height > 0 ? o.height : 48;
	if (o.raw_app1 && o.raw_app1_len > 65533)
		return -1;
	if (!o.raw_app1 && !o.no_exif && testjpeg_exif(&o, &exif, &exif_len))
		return -1;
	rc = tj_compress(&o, o.raw_app1 ? o.raw_app1 : exif,
		o.raw_app1 ? o.raw_app1_len : exif_len, out, len);
	free(exif);
	return rc;
}

/* Write the JPEG to path; 0 on success, -1 (errno may tell) on failure. */
static inline int photo_testjpeg_write(const char *path, const struct testjpeg *o)
{
	unsigned char *buf;
	size_t len;
	if (testjpeg_encode(o, &buf, &len))
		return -1;
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(buf, 1, len, f) == len;
	if (f && fclose(f))
		ok = 0;
	free(buf);
	return ok ? 0 : -1;
}

#endif
