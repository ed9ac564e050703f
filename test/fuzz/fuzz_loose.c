/*
 * fuzz_loose: libFuzzer target for loose object files as they come from a
 * hub (loose.c): any bytes must give a whole object (or its header) or a
 * refusal, never a hang, a crash or a read past the input.  Seeded by `make fuzz` with
 * loose objects written by stock git.
 */
#include "core/loose.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int check = 0; check < 2; check++) {
		char *out, type[8];
		size_t len;
		if (loose_inflate(data, size, check, &out, &len, type)) {
			/* a whole object: its size as the header said, NUL after it */
			if (out[len] != '\0' || strlen(type) == 0)
				abort();
			free(out);
		}
	}
	/* the header alone (read_header): a type and a size, or a refusal */
	char type[8];
	size_t hsize;
	if (loose_inflate_header(data, size, &hsize, type) && strlen(type) == 0)
		abort();
	return 0;
}
