/*
 * mkjpeg: write a small real JPEG with EXIF/GPS for tests and the demo.
 *
 *   mkjpeg OUT.jpg [--lat D --lon D --alt M --taken "YYYY:MM:DD HH:MM:SS"
 *                   --offset +08:00 --gps-time "YYYY:MM:DD HH:MM:SS"
 *                   --make M --model M --orientation N --size WxH --seed N
 *                   --quality Q --big-endian --no-exif]
 *
 * GPS is written when --lat and --lon are both given.  GPSDateStamp and
 * GPSTimeStamp come from --gps-time (UTC), else from --taken minus --offset
 * when both are given; --gps-time "" writes none.  The written file is read
 * back with the photo module, so a file mkjpeg writes is one fieldbook
 * accepts.
 */
#include "jpegwrite.h"

#include "core/error.h"
#include "core/photo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
	fputs("usage: mkjpeg OUT.jpg [--lat D --lon D --alt M "
		"--taken \"YYYY:MM:DD HH:MM:SS\" --offset +08:00\n"
		"        --gps-time \"YYYY:MM:DD HH:MM:SS\" --make M --model M "
		"--orientation N\n"
		"        --size WxH --seed N --quality Q --big-endian --no-exif]\n",
		stderr);
	exit(2);
}

static double num(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end) {
		fprintf(stderr, "mkjpeg: %s: not a number: %s\n", opt, s);
		exit(2);
	}
	return v;
}

static long whole(const char *opt, const char *s, long min, long max)
{
	double v = num(opt, s);
	if (v != (long)v || v < min || v > max) {
		fprintf(stderr, "mkjpeg: %s: want an integer %ld..%ld: %s\n", opt,
			min, max, s);
		exit(2);
	}
	return (long)v;
}

static void size_opt(struct testjpeg *o, const char *s)
{
	int w, h;
	char x;
	if (sscanf(s, "%d%c%d", &w, &x, &h) != 3 || x != 'x' || w < 1 ||
	    h < 1 || w > 8192 || h > 8192) {
		fprintf(stderr, "mkjpeg: --size: want WxH (1..8192): %s\n", s);
		exit(2);
	}
	o->width = w;
	o->height = h;
}

/* Options with a value; returns false when name is not one of them. */
static bool value_opt(struct testjpeg *o, const char *name, const char *v,
	bool *lat, bool *lon)
{
	if (!strcmp(name, "--lat")) { o->lat = num(name, v); *lat = true; }
	else if (!strcmp(name, "--lon")) { o->lon = num(name, v); *lon = true; }
	else if (!strcmp(name, "--alt")) { o->alt = num(name, v); o->has_alt = true; }
	else if (!strcmp(name, "--taken")) o->taken = v;
	else if (!strcmp(name, "--offset")) o->offset = v;
	else if (!strcmp(name, "--gps-time")) o->gps_stamp = v;
	else if (!strcmp(name, "--make")) o->make = v;
	else if (!strcmp(name, "--model")) o->model = v;
	else if (!strcmp(name, "--orientation")) o->orientation = (int)whole(name, v, 1, 8);
	else if (!strcmp(name, "--seed")) o->seed = (unsigned)whole(name, v, 0, 4294967295L);
	else if (!strcmp(name, "--quality")) o->quality = (int)whole(name, v, 1, 100);
	else if (!strcmp(name, "--size")) size_opt(o, v);
	else return false;
	return true;
}

int main(int argc, char **argv)
{
	struct testjpeg o = {.seed = 1};
	const char *out = NULL;
	bool lat = false, lon = false;
	photo *p;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--big-endian"))
			o.big_endian = true;
		else if (!strcmp(argv[i], "--no-exif"))
			o.no_exif = true;
		else if (!strncmp(argv[i], "--", 2) && i + 1 < argc &&
			 value_opt(&o, argv[i], argv[i + 1], &lat, &lon))
			i++;
		else if (argv[i][0] != '-' && !out)
			out = argv[i];
		else
			usage();
	}
	if (!out || lat != lon)
		usage();
	o.has_gps = lat && lon;
	if (photo_testjpeg_write(out, &o)) {
		fprintf(stderr, "mkjpeg: %s: cannot write: %s\n", out,
			errno ? strerror(errno) : "encoding failed");
		return 1;
	}
	if (photo_load_file(&p, out)) {
		fprintf(stderr, "mkjpeg: %s: written but not accepted: %s\n", out,
			error_last());
		return 1;
	}
	photo_free(p);
	return 0;
}
