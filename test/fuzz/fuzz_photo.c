/*
 * fuzz_photo: libFuzzer target for the photo module (JPEG walk, libjpeg
 * header, libexif EXIF path, JSON summary, time).  Seed it with
 * the JPEGs in ../shared/testdata/photos and photos made by build/tools/mkjpeg.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c17 -D_GNU_SOURCE \
 *     -Isrc $(pkg-config --cflags jansson libexif libjpeg libsodium) \
 *     test/fuzz/fuzz_photo.c src/core/photo.c src/core/error.c \
 *     $(pkg-config --libs jansson libexif libjpeg libsodium) -lm \
 *     -o build/fuzz/fuzz_photo
 */
#include "core/photo.h"

#include <stdint.h>
#include <stdlib.h>

static void exercise(const photo *p)
{
	time_t t;
	size_t n;
	json_t *j = photo_exif_json(p);
	char *s = j ? json_dumps(j, JSON_SORT_KEYS) : NULL;
	free(s);
	json_decref(j);
	photo_taken_utc(p, &t);
	photo_taken_at_offset(p, 8 * 3600, &t);
	photo_bytes(p, &n);
	if (photo_has_gps(p))
		photo_distance_m(photo_lat(p), photo_lon(p), 31.23, 121.47);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	photo *p = NULL;
	if (photo_load_buffer(&p, data, size, "fuzz.jpg") == 0) {
		exercise(p);
		photo_free(p);
	}
	/* the lenient path reads EXIF of damaged JPEGs too */
	if (photo_load_buffer_ex(&p, data, size, "fuzz.jpg",
			PHOTO_LOAD_KEEP_DAMAGED) == 0) {
		exercise(p);
		photo_free(p);
	}
	return 0;
}
