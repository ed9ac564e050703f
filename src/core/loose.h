/*
 * loose: git's loose object files (objects/<xx>/<38 hex>: a zlib stream of
 * "<type> <size>\0<content>"), read with zlib directly.
 *
 * Two reasons not to leave these reads to libgit2:
 *   - libgit2 1.5 (Debian 12's) loops forever on a loose object whose zlib
 *     stream is cut short (libgit2 issue #7342, fixed upstream in 2026): a
 *     USB stick pulled out mid-copy, a damaged disk.  Objects that arrive
 *     from a hub are checked here before libgit2 reads them (packcopy.c),
 *     and the ledger reads its own loose blobs here (ledger.c);
 *   - a photo (stored, not compressed: see ledger.c) is mapped and inflated
 *     once into the caller's buffer, where libgit2 reads the file into one
 *     buffer and inflates it into another.
 */
#ifndef FB_LOOSE_H
#define FB_LOOSE_H

#include <stdbool.h>
#include <stddef.h>

/* The content of the loose object at path into *data (caller frees; NUL
 * added after len bytes) and its type ("blob", "tree", "commit", "tag").
 * With check, zlib's adler32 of the stream is checked too (the caller
 * checks the content's own hash either way).  0; 1 when there is no such
 * file (the object is packed, or absent); ERR_CONFLICT, naming the file,
 * when it is not a whole loose object. */
int loose_read(const char *path, bool check, char **data, size_t *len, char type[8]);
/* The type and size of the loose object at path, from the first bytes of
 * its file (the rest is not read: a file cut short after its header gives
 * them too, and loose_read finds the damage).  0; 1 when there is no such
 * file; ERR_CONFLICT, naming the file, when its header cannot be read. */
int loose_read_header(const char *path, size_t *size, char type[8]);
/* The same from the first zlen bytes of a loose object file at z: true when
 * they start with a whole header (fuzzed by test/fuzz/fuzz_loose.c). */
bool loose_inflate_header(const void *z, size_t zlen, size_t *size, char type[8]);
/* The same from the zlen bytes of a loose object file at z: true when they
 * are a whole object (fuzzed by test/fuzz/fuzz_loose.c). */
bool loose_inflate(const void *z, size_t zlen, bool check, char **data, size_t *len, char type[8]);

#endif
