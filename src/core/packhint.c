/* packhint: the pages a pack index lookup will touch, asked for at once.  See packhint.h. */
#include "packhint.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096
/* git's pack index, version 2: magic and version, 256 cumulative counts by
 * the ids' first byte, then the sorted ids (20 bytes each), their CRC32s (4
 * each), their 4-byte offsets in the pack; then large offsets, checksums. */
#define IDS_AT PACKHINT_INDEX_HEAD
#define ID_SIZE 20
#define MIN_INDEX (64 * 1024) /* smaller ones: a few pages, read soon enough */
#define MAX_INDEXES 16        /* the largest: a device has one large pack, many small */
#define MAX_PAGES 64

struct pack_index {
	int fd;
	off_t size;
	uint32_t count[256]; /* ids whose first byte is <= i */
	char name[64];       /* pack-<id>, without .idx */
};

struct packhint {
	char *dir; /* <objects>/pack */
	size_t n;
	struct pack_index idx[MAX_INDEXES];
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool packhint_index_counts(const unsigned char *head, size_t len, uint32_t counts[256])
{
	if (len < PACKHINT_INDEX_HEAD || memcmp(head, "\377tOc", 4) != 0 || be32(head + 4) != 2)
		return false;
	for (int i = 0; i < 256; i++) {
		counts[i] = be32(head + 8 + 4 * i);
		if (i > 0 && counts[i] < counts[i - 1])
			return false;
	}
	return true;
}

/* The counts of the version-2 index open on fd; false when it is not one. */
static bool read_counts(struct pack_index *x)
{
	unsigned char head[IDS_AT];
	return pread(x->fd, head, sizeof head, 0) == (ssize_t)sizeof head &&
	       packhint_index_counts(head, sizeof head, x->count) &&
	       /* ids, CRCs and offsets, then the two checksums */
	       (off_t)IDS_AT + (off_t)x->count[255] * 28 + 40 <= x->size;
}

static uint32_t isqrt(uint32_t v)
{
	uint32_t r = 0;
	while ((uint64_t)(r + 1) * (r + 1) <= v)
		r++;
	return r;
}

struct pages {
	off_t at[MAX_PAGES];
	size_t n;
};

static void add_page(struct pages *p, off_t offset)
{
	off_t page = offset / PAGE;
	for (size_t i = 0; i < p->n; i++)
		if (p->at[i] == page)
			return;
	if (p->n < MAX_PAGES)
		p->at[p->n++] = page;
}

/* The entries a binary search of [lo, hi) probes on its way to the
 * position `rank` (libgit2's git_pack__lookup_sha1: mid = (lo + hi) / 2). */
static void add_search(struct pages *p, uint32_t lo, uint32_t hi, uint32_t rank)
{
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		add_page(p, IDS_AT + (off_t)mid * ID_SIZE);
		add_page(p, IDS_AT + (off_t)mid * ID_SIZE + ID_SIZE - 1); /* across a page */
		if (mid < rank)
			lo = mid + 1;
		else
			hi = mid;
	}
}

static int by_offset(const void *a, const void *b)
{
	off_t x = *(const off_t *)a, y = *(const off_t *)b;
	return (x > y) - (x < y);
}

/* The pages of x that a lookup of id touches, asked for in runs. */
static void hint_one(const struct pack_index *x, const unsigned char *id)
{
	uint32_t lo = id[0] ? x->count[id[0] - 1] : 0, hi = x->count[id[0]], n = x->count[255];
	if (hi <= lo)
		return; /* the counts alone answer */
	/* Its rank among the ids of its first byte follows from the next four
	 * bytes, within a few standard deviations (at most sqrt(n) / 2) */
	uint32_t guess = lo + (uint32_t)(((uint64_t)(hi - lo) * be32(id + 1)) >> 32);
	uint32_t spread = 2 * isqrt(hi - lo) + 8;
	uint32_t first = guess - lo > spread ? guess - spread : lo;
	uint32_t last = hi - guess > spread ? guess + spread : hi;
	/* Every search for a rank between first and last probes only what the
	 * searches for those two probe, or entries between them. */
	struct pages p = {.n = 0};
	add_search(&p, lo, hi, first);
	add_search(&p, lo, hi, last);
	off_t from = (IDS_AT + (off_t)first * ID_SIZE) / PAGE;
	off_t to = (IDS_AT + (off_t)last * ID_SIZE + ID_SIZE - 1) / PAGE;
	for (off_t page = from; page <= to; page++)
		add_page(&p, page * PAGE);
	/* the offset of the entry found */
	off_t offsets = IDS_AT + (off_t)n * (ID_SIZE + 4);
	add_page(&p, offsets + (off_t)first * 4);
	add_page(&p, offsets + (off_t)last * 4);
	qsort(p.at, p.n, sizeof *p.at, by_offset);
	for (size_t i = 0; i < p.n;) {
		size_t j = i + 1;
		while (j < p.n && p.at[j] == p.at[j - 1] + 1)
			j++;
		posix_fadvise(x->fd, p.at[i] * PAGE, (off_t)(j - i) * PAGE, POSIX_FADV_WILLNEED);
		i = j;
	}
}

void packhint_lookup(const packhint *h, const git_oid *id)
{
	for (size_t i = 0; h && i < h->n; i++)
		hint_one(&h->idx[i], id->id);
}

/* Where id is in the pack of x, by the index (its pages hinted first);
 * -1 when it is not there or the index cannot be read. */
static off_t pack_offset(const struct pack_index *x, const unsigned char *id)
{
	uint32_t lo = id[0] ? x->count[id[0] - 1] : 0, hi = x->count[id[0]], n = x->count[255];
	unsigned char at[ID_SIZE], off[8];
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pread(x->fd, at, ID_SIZE, IDS_AT + (off_t)mid * ID_SIZE) != ID_SIZE)
			return -1;
		int cmp = memcmp(at, id, ID_SIZE);
		if (cmp == 0) {
			off_t offsets = IDS_AT + (off_t)n * (ID_SIZE + 4);
			if (pread(x->fd, off, 4, offsets + (off_t)mid * 4) != 4)
				return -1;
			if (!(off[0] & 0x80))
				return be32(off);
			/* past 2 GiB: an index into the table of 8-byte offsets */
			off_t large = offsets + (off_t)n * 4 + (off_t)(be32(off) & 0x7fffffff) * 8;
			if (pread(x->fd, off, 8, large) != 8)
				return -1;
			return (off_t)((uint64_t)be32(off) << 32 | be32(off + 4));
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void packhint_object(const packhint *h, const git_oid *id)
{
	packhint_lookup(h, id);
	for (size_t i = 0; h && i < h->n; i++) {
		off_t at = pack_offset(&h->idx[i], id->id);
		if (at < 0)
			continue;
		char path[4200];
		snprintf(path, sizeof path, "%s/%s.pack", h->dir, h->idx[i].name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		/* the object's header and its first bytes, which may cross a page */
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM) == 0)
			posix_fadvise(fd, at - at % PAGE, 2 * PAGE, POSIX_FADV_WILLNEED);
		close(fd);
		return;
	}
}

static int larger_first(const void *a, const void *b)
{
	off_t x = ((const struct pack_index *)a)->size, y = ((const struct pack_index *)b)->size;
	return (x < y) - (x > y);
}

/* Open the index dir/name into x when it is large enough and of the format. */
static bool open_index(struct pack_index *x, const char *dir, const char *name)
{
	char path[4400];
	struct stat st;
	size_t len = strlen(name) - strlen(".idx");
	if (len >= sizeof x->name)
		return false;
	memcpy(x->name, name, len);
	x->name[len] = '\0';
	snprintf(path, sizeof path, "%s/%s", dir, name);
	x->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (x->fd < 0)
		return false; /* libgit2 will say what is wrong with it */
	/* read-ahead off on this descriptor: the pages asked for, no more */
	if (fstat(x->fd, &st) == 0 && st.st_size >= MIN_INDEX &&
	    posix_fadvise(x->fd, 0, 0, POSIX_FADV_RANDOM) == 0) {
		x->size = st.st_size;
		if (read_counts(x))
			return true;
	}
	close(x->fd);
	return false;
}

packhint *packhint_open(const char *objects_dir)
{
	packhint *h = calloc(1, sizeof *h);
	if (!h || asprintf(&h->dir, "%s/pack", objects_dir) < 0) {
		free(h);
		return NULL;
	}
	DIR *d = opendir(h->dir);
	struct pack_index x;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "pack-", 5) != 0 || !util_ends_with(e->d_name, ".idx") ||
		    !open_index(&x, h->dir, e->d_name))
			continue;
		if (h->n == MAX_INDEXES) { /* keep the largest */
			qsort(h->idx, h->n, sizeof *h->idx, larger_first);
			if (x.size <= h->idx[h->n - 1].size) {
				close(x.fd);
				continue;
			}
			close(h->idx[--h->n].fd);
		}
		h->idx[h->n++] = x;
	}
	if (d)
		closedir(d);
	if (h->n == 0) {
		packhint_free(h);
		return NULL;
	}
	/* libgit2's first lookup in each (ledger.c: an id of zeros, plus one),
	 * and the pack's checksum at the index's end, which it compares with
	 * the pack's own when it opens the pack */
	git_oid low = {{0}};
	low.id[GIT_OID_RAWSZ - 1] = 1;
	packhint_lookup(h, &low);
	for (size_t i = 0; i < h->n; i++) {
		off_t tail = h->idx[i].size - 2 * ID_SIZE;
		posix_fadvise(h->idx[i].fd, tail - tail % PAGE, 2 * PAGE, POSIX_FADV_WILLNEED);
	}
	return h;
}

void packhint_free(packhint *h)
{
	for (size_t i = 0; h && i < h->n; i++)
		close(h->idx[i].fd);
	if (h)
		free(h->dir);
	free(h);
}
