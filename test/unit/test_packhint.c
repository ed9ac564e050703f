/*
 * Pack index hints (packhint.c): with a pack and its index out of the page
 * cache, a hint for an id brings in every page that a binary search of the
 * index for that id visits (as libgit2's lookup does), its entry in the
 * offset table, and not much more; a hint for an object brings in the page
 * of the pack where it starts.  The pack is written by stock
 * `git fast-import` (5,000 blobs: a 141 KB index), its offsets read with
 * stock `git show-index`; page residency is the kernel's (mincore).  An
 * index that is not one, or too small to matter, gives no hints.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/packhint.h"

#define OBJECTS 5000
#define PAGE 4096

static char repo[] = "/tmp/fbpackhint.XXXXXX";
static char objects[128], idx_path[256], pack_path[256];
static struct entry {
	unsigned char id[20];
	long offset;
} entries[OBJECTS];
static int nentries;

static int setup(void **s)
{
	char cmd[512], line[256];
	if (!mkdtemp(repo))
		return -1;
	snprintf(objects, sizeof objects, "%s/objects", repo);
	snprintf(cmd, sizeof cmd,
		 "git init -q --bare %s && awk 'BEGIN { for (i = 0; i < %d; i++) { s = \"object \" i; "
		 "printf \"blob\\ndata %%d\\n%%s\\n\", length(s), s } }' | "
		 "git --git-dir=%s fast-import --quiet",
		 repo, OBJECTS, repo);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "ls %s/pack/*.idx", objects);
	FILE *f = popen(cmd, "r");
	if (!f || !fgets(idx_path, sizeof idx_path, f))
		return -1;
	pclose(f);
	idx_path[strcspn(idx_path, "\n")] = '\0';
	snprintf(pack_path, sizeof pack_path, "%.*s.pack", (int)(strlen(idx_path) - 4), idx_path);
	snprintf(cmd, sizeof cmd, "git show-index < %s", idx_path);
	f = popen(cmd, "r");
	while (f && nentries < OBJECTS && fgets(line, sizeof line, f)) {
		char hex[41];
		struct entry *e = &entries[nentries];
		if (sscanf(line, "%ld %40s", &e->offset, hex) != 2)
			continue;
		for (int i = 0; i < 20; i++)
			sscanf(hex + 2 * i, "%2hhx", &e->id[i]);
		nentries++;
	}
	if (f)
		pclose(f);
	return nentries == OBJECTS ? 0 : -1;
}

static int teardown(void **s)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", repo);
	return system(cmd) == 0 ? 0 : -1;
}

/* Out of the page cache (written back first: dirty pages stay). */
static void evict(const char *path)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	fdatasync(fd);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
}

struct file {
	unsigned char *map;
	size_t size;
};

static struct file map_file(const char *path)
{
	struct file f;
	struct stat st;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	f.size = (size_t)st.st_size;
	f.map = mmap(NULL, f.size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(f.map != MAP_FAILED);
	close(fd);
	return f;
}

/* Is page `page` of the file in the page cache?  Waits up to a second for
 * reads the hint started (mincore does not fault pages in). */
static bool resident(const struct file *f, size_t page)
{
	unsigned char v;
	for (int tries = 0; tries < 1000; tries++) {
		assert_int_equal(mincore(f->map + page * PAGE, PAGE, &v), 0);
		if (v & 1)
			return true;
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	return false;
}

static size_t resident_pages(const struct file *f)
{
	size_t n = (f->size + PAGE - 1) / PAGE, count = 0;
	unsigned char *v = malloc(n);
	assert_int_equal(mincore(f->map, f->size, v), 0);
	for (size_t i = 0; i < n; i++)
		count += v[i] & 1;
	free(v);
	return count;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The pages of the index a lookup of id visits: libgit2's binary search
 * (git_pack__lookup_sha1) over the ids of its first byte, then the entry's
 * offset when found.  Read from a copy, so as not to touch the pages. */
static int search_pages(const unsigned char *idx, const unsigned char *id, size_t *pages)
{
	const unsigned char *fanout = idx + 8;
	uint32_t n = be32(fanout + 255 * 4);
	uint32_t lo = id[0] ? be32(fanout + (id[0] - 1) * 4) : 0, hi = be32(fanout + id[0] * 4);
	int count = 0;
	pages[count++] = 0; /* the counts */
	while (lo < hi) {
		uint32_t mi = (lo + hi) / 2;
		size_t at = 8 + 1024 + (size_t)mi * 20;
		pages[count++] = at / PAGE;
		if ((at + 19) / PAGE != at / PAGE) /* an id across two pages */
			pages[count++] = (at + 19) / PAGE;
		int cmp = memcmp(idx + at, id, 20);
		if (cmp == 0) {
			pages[count++] = (8 + 1024 + (size_t)n * 24 + (size_t)mi * 4) / PAGE;
			break;
		}
		if (cmp > 0)
			hi = mi;
		else
			lo = mi + 1;
	}
	return count;
}

static unsigned char *read_copy(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*size = (size_t)ftell(f);
	rewind(f);
	unsigned char *buf = malloc(*size);
	assert_int_equal(fread(buf, 1, *size, f), *size);
	fclose(f);
	return buf;
}

/* Every page a lookup of id visits in the index is in the page cache. */
static void assert_search_resident(const unsigned char *copy, const struct file *f, const git_oid *id)
{
	size_t pages[64];
	int n = search_pages(copy, id->id, pages);
	for (int i = 0; i < n; i++)
		assert_true(resident(f, pages[i]));
}

/* Hints for ids in the index and absent ones, each from a cold index. */
static void test_lookup_brings_the_search_pages(void **s)
{
	size_t size;
	unsigned char *copy = read_copy(idx_path, &size);
	assert_true(size > 64 * 1024);
	for (int k = 0; k < 40; k++) {
		git_oid id;
		memcpy(id.id, entries[(k * 997) % OBJECTS].id, 20);
		if (k % 2) /* absent: the same first bytes, another end */
			id.id[19] ^= 0x5a, id.id[10] ^= 0xa5;
		evict(idx_path);
		packhint *h = packhint_open(objects);
		assert_non_null(h);
		struct file f = map_file(idx_path);
		packhint_lookup(h, &id);
		assert_search_resident(copy, &f, &id);
		/* the search's pages and a few around the guess, not the index */
		assert_true(resident_pages(&f) <= 24);
		munmap(f.map, f.size);
		packhint_free(h);
	}
	free(copy);
}

/* Opening asks for what libgit2 reads first: its lookup of an id of zeros
 * (plus one) and the pack's checksum at the index's end. */
static void test_open_brings_the_first_lookup(void **s)
{
	size_t size;
	unsigned char *copy = read_copy(idx_path, &size);
	git_oid low = {{0}};
	low.id[19] = 1;
	evict(idx_path);
	packhint *h = packhint_open(objects);
	assert_non_null(h);
	struct file f = map_file(idx_path);
	assert_search_resident(copy, &f, &low);
	assert_true(resident(&f, (size - 40) / PAGE));
	munmap(f.map, f.size);
	packhint_free(h);
	free(copy);
}

/* A hint for an object brings the page of the pack where it starts. */
static void test_object_brings_its_pack_page(void **s)
{
	for (int k = 0; k < 10; k++) {
		const struct entry *e = &entries[(k * 1231 + 7) % OBJECTS];
		git_oid id;
		memcpy(id.id, e->id, 20);
		evict(idx_path);
		evict(pack_path);
		packhint *h = packhint_open(objects);
		assert_non_null(h);
		struct file f = map_file(pack_path);
		packhint_object(h, &id);
		assert_true(resident(&f, (size_t)e->offset / PAGE));
		assert_true(resident_pages(&f) <= 2);
		munmap(f.map, f.size);
		packhint_free(h);
	}
}

/* No hints from what is not a version-2 index, nor from small ones; a
 * directory without packs gives none either. */
static void test_no_hints_from_other_files(void **s)
{
	char dir[200], path[400], cmd[1200];
	snprintf(dir, sizeof dir, "%s/other", repo);
	snprintf(cmd, sizeof cmd, "mkdir -p %s/pack", dir);
	assert_int_equal(system(cmd), 0);
	assert_null(packhint_open(dir));
	/* the real index with another magic, and cut short */
	snprintf(path, sizeof path, "%s/pack/pack-0000000000000000000000000000000000000001.idx", dir);
	snprintf(cmd, sizeof cmd, "(printf 'XtOc'; tail -c +5 %s) > %s", idx_path, path);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/pack/pack-0000000000000000000000000000000000000002.idx", dir);
	snprintf(cmd, sizeof cmd, "head -c 70000 %s > %s", idx_path, path);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/pack/pack-0000000000000000000000000000000000000003.idx", dir);
	snprintf(cmd, sizeof cmd, "head -c 1032 %s > %s", idx_path, path);
	assert_int_equal(system(cmd), 0);
	assert_null(packhint_open(dir));
	packhint_lookup(NULL, (git_oid *)entries[0].id);
	packhint_object(NULL, (git_oid *)entries[0].id);
	packhint_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_brings_the_search_pages),
		cmocka_unit_test(test_open_brings_the_first_lookup),
		cmocka_unit_test(test_object_brings_its_pack_page),
		cmocka_unit_test(test_no_hints_from_other_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
