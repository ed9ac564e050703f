/*
 * loose: git's loose object files, read with zlib directly.  See loose.h.
 */
#include "loose.h"
#include "error.h"
#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static bool known_type(const char *t)
{
	return strcmp(t, "blob") == 0 || strcmp(t, "tree") == 0 || strcmp(t, "commit") == 0 ||
	       strcmp(t, "tag") == 0;
}

/* A zlib header: deflate, no preset dictionary, its check bits right. */
static bool zlib_header(const unsigned char *z, size_t zlen)
{
	return zlen >= 2 && (z[0] & 0x0f) == 8 && !(z[1] & 0x20) && ((z[0] << 8) | z[1]) % 31 == 0;
}

/* The header "<type> <size>\0" from the first bytes inflated: its length
 * with the NUL, or 0 when these bytes do not start with one. */
static size_t parse_header(const unsigned char *head, size_t got, char type[8], unsigned long long *size)
{
	const unsigned char *nul = memchr(head, 0, got);
	int used = 0;
	if (!nul || sscanf((const char *)head, "%7[a-z] %llu%n", type, size, &used) != 2 ||
	    head + used != nul || !known_type(type))
		return 0;
	return (size_t)(nul - head) + 1;
}

/* Inflate a whole loose object from z into a buffer of the size its header
 * gives: false unless the stream holds exactly that and nothing follows it
 * (with check, its adler32 must match; without, it is not even computed).  Never loops on a stream that is cut short: inflate()
 * then stops making progress and says so (Z_BUF_ERROR). */
static bool inflate_object(const unsigned char *z, size_t zlen, bool check, char **data, size_t *len,
			   char type[8])
{
	if (!zlib_header(z, zlen) || zlen > UINT_MAX)
		return false;
	z_stream s;
	memset(&s, 0, sizeof s);
	/* unchecked: raw deflate after the 2-byte header, no adler32 to compute */
	if ((check ? inflateInit(&s) : inflateInit2(&s, -MAX_WBITS)) != Z_OK)
		return false;
	unsigned char head[64];
	s.next_in = (Bytef *)z + (check ? 0 : 2);
	s.avail_in = (uInt)(zlen - (check ? 0 : 2));
	s.next_out = head;
	s.avail_out = sizeof head;
	int zr = inflate(&s, Z_NO_FLUSH);
	size_t got = sizeof head - s.avail_out, hlen;
	unsigned long long n = 0;
	char *buf = NULL;
	bool whole = false;
	/* the size is the file's word: no more is allocated than deflate can
	 * expand zlen bytes to (1032:1 at most) */
	if ((zr == Z_OK || zr == Z_STREAM_END) && (hlen = parse_header(head, got, type, &n)) &&
	    n <= UINT_MAX && n <= (unsigned long long)zlen * 1032 + sizeof head && got - hlen <= n &&
	    (buf = malloc(n + 1))) {
		memcpy(buf, head + hlen, got - hlen);
		s.next_out = (Bytef *)buf + (got - hlen);
		s.avail_out = (uInt)(n - (got - hlen));
		while (zr == Z_OK)
			zr = inflate(&s, Z_FINISH);
		/* nothing after the stream but, unchecked, its adler32 */
		whole = zr == Z_STREAM_END && s.avail_out == 0 && s.avail_in <= (check ? 0u : 4u);
	}
	inflateEnd(&s);
	if (!whole) {
		free(buf);
		return false;
	}
	buf[n] = '\0';
	*data = buf;
	*len = (size_t)n;
	return true;
}

bool loose_inflate(const void *z, size_t zlen, bool check, char **data, size_t *len, char type[8])
{
	*data = NULL;
	*len = 0;
	return inflate_object(z, zlen, check, data, len, type);
}

static int damaged(const char *path)
{
	return error_set(ERR_CONFLICT, _("%s is damaged: not a whole git object (cut short, or not "
					 "zlib data); check it with git fsck"), path);
}

bool loose_inflate_header(const void *z, size_t zlen, size_t *size, char type[8])
{
	unsigned char head[64];
	if (!zlib_header(z, zlen) || zlen > UINT_MAX)
		return false;
	z_stream s;
	memset(&s, 0, sizeof s);
	if (inflateInit(&s) != Z_OK)
		return false;
	s.next_in = (Bytef *)z;
	s.avail_in = (uInt)zlen;
	s.next_out = head;
	s.avail_out = sizeof head;
	/* one call: what these bytes give, never a loop waiting for more */
	int zr = inflate(&s, Z_SYNC_FLUSH);
	size_t got = sizeof head - s.avail_out;
	inflateEnd(&s);
	unsigned long long sz = 0;
	if ((zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) || !parse_header(head, got, type, &sz) ||
	    sz > SIZE_MAX)
		return false;
	*size = (size_t)sz;
	return true;
}

int loose_read_header(const char *path, size_t *size, char type[8])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : error_set(ERR_IO, _("cannot read %s: %s"), path, strerror(errno));
	unsigned char z[512];
	ssize_t n = read(fd, z, sizeof z);
	close(fd);
	return n > 0 && loose_inflate_header(z, (size_t)n, size, type) ? 0 : damaged(path);
}

int loose_read(const char *path, bool check, char **data, size_t *len, char type[8])
{
	struct stat st;
	*data = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : error_set(ERR_IO, _("cannot read %s: %s"), path, strerror(errno));
	bool whole = false;
	unsigned char small[16384];
	if (fstat(fd, &st) != 0)
		st.st_size = 0; /* reported as damaged below */
	if (st.st_size > 0 && (size_t)st.st_size <= sizeof small) {
		/* most objects (events, signatures, trees): a read beats a mapping */
		ssize_t n = read(fd, small, sizeof small);
		whole = n == st.st_size && inflate_object(small, (size_t)n, check, data, len, type);
		close(fd);
	} else {
		void *m = st.st_size > 0 ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
					 : MAP_FAILED;
		close(fd);
		whole = m != MAP_FAILED && inflate_object(m, (size_t)st.st_size, check, data, len, type);
		if (m != MAP_FAILED)
			munmap(m, (size_t)st.st_size);
	}
	return whole ? 0 : damaged(path);
}
