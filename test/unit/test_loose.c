/*
 * Loose object files read with zlib (loose.c): a whole object gives its
 * type and bytes, with or without zlib's checksum; a damaged one (cut
 * short, trailing bytes, a size header that lies, not zlib at all) is
 * refused at once, naming the file: libgit2 1.5 loops forever on the
 * first of these.  Objects are written by stock `git hash-object -w`.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "core/loose.h"

static char repo[] = "/tmp/fbloose.XXXXXX";

static int setup(void **s)
{
	char cmd[256];
	if (!mkdtemp(repo))
		return -1;
	snprintf(cmd, sizeof cmd, "git init -q --bare %s", repo);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **s)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", repo);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write content with stock git; the object's file path into path. */
static void git_write(const char *content, char *path, size_t size)
{
	char cmd[512], hex[64] = "";
	snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | git --git-dir=%s hash-object -w --stdin", content, repo);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(hex, sizeof hex, p));
	pclose(p);
	hex[40] = '\0';
	snprintf(path, size, "%s/objects/%.2s/%s", repo, hex, hex + 2);
}

/* Replace the file at path with bytes. */
static void put(const char *path, const void *bytes, size_t len)
{
	unlink(path);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	fclose(f);
}

static void slurp(const char *path, unsigned char *buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	*len = fread(buf, 1, *len, f);
	fclose(f);
}

static void test_whole_object_checked_or_not(void **s)
{
	char path[512], type[8], *data;
	size_t len;
	git_write("解放路12号 shop sign", path, sizeof path);
	for (int check = 0; check < 2; check++) {
		assert_int_equal(loose_read(path, check, &data, &len, type), 0);
		assert_string_equal(type, "blob");
		assert_int_equal(len, strlen("解放路12号 shop sign"));
		assert_memory_equal(data, "解放路12号 shop sign", len);
		assert_int_equal(data[len], '\0');
		free(data);
	}
}

static void test_missing_file_is_not_loose(void **s)
{
	char path[600], type[8], *data;
	size_t len;
	snprintf(path, sizeof path, "%s/objects/00/0000000000000000000000000000000000000", repo);
	assert_int_equal(loose_read(path, true, &data, &len, type), 1);
	assert_null(data);
}

/* Refused when read with zlib's checksum checked, and also without it
 * unless only_checked (the adler32 trailer is not read then). */
static void assert_refused(const char *path, bool only_checked)
{
	char type[8], *data;
	size_t len;
	for (int check = only_checked; check < 2; check++) {
		assert_int_equal(loose_read(path, check, &data, &len, type), ERR_CONFLICT);
		assert_null(data);
		assert_non_null(strstr(error_last(), path));
		assert_non_null(strstr(error_last(), "not a whole git object"));
	}
}

static void assert_damaged(const char *path)
{
	assert_refused(path, false);
}

static void test_cut_short_is_refused(void **s)
{
	char path[512];
	unsigned char buf[4096];
	size_t len = sizeof buf;
	git_write("an event that will be cut short by a pulled USB stick", path, sizeof path);
	slurp(path, buf, &len);
	for (size_t cut = 0; cut < len; cut++) {
		put(path, buf, cut);
		/* the last 4 bytes are zlib's adler32, read only when checked */
		assert_refused(path, cut >= len - 4);
	}
}

/* The header: from a whole object, from one cut anywhere after its header
 * (the rest is loose_read's to find), never from one cut inside it. */
static void test_header_of_whole_and_cut_objects(void **s)
{
	char path[512], type[8];
	unsigned char buf[4096];
	size_t len = sizeof buf, size = 0;
	const char *content = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor 张伟 <3101-0042@HZ01>";
	git_write(content, path, sizeof path);
	assert_int_equal(loose_read_header(path, &size, type), 0);
	assert_string_equal(type, "blob");
	assert_int_equal(size, strlen(content));
	slurp(path, buf, &len);
	size_t cut;
	for (cut = len; cut > 0; cut--) { /* shorter and shorter: once refused, always */
		put(path, buf, cut);
		if (loose_read_header(path, &size, type) != 0)
			break;
		assert_string_equal(type, "blob");
		assert_int_equal(size, strlen(content));
	}
	assert_true(cut > 2); /* at least the zlib header and a byte were needed */
	for (; cut > 0; cut--) {
		put(path, buf, cut);
		assert_int_equal(loose_read_header(path, &size, type), ERR_CONFLICT);
		assert_non_null(strstr(error_last(), path));
	}
	put(path, "", 0);
	assert_int_equal(loose_read_header(path, &size, type), ERR_CONFLICT);
	unlink(path);
	assert_int_equal(loose_read_header(path, &size, type), 1);
}

static void test_trailing_bytes_and_lying_sizes_are_refused(void **s)
{
	char path[512];
	unsigned char z[256], junk[300];
	uLongf zlen;
	git_write("x", path, sizeof path);
	/* the stream, then bytes after it */
	const char whole[] = "blob 5\0hello";
	zlen = sizeof z;
	assert_int_equal(compress(z, &zlen, (const Bytef *)whole, sizeof whole - 1), Z_OK);
	memcpy(junk, z, zlen);
	memcpy(junk + zlen, "garbage", 7);
	put(path, junk, zlen + 7);
	assert_damaged(path);
	/* a header that claims fewer bytes than follow (libgit2 issue #7177) */
	const char fewer[] = "blob 2\0hello, longer than two bytes";
	zlen = sizeof z;
	assert_int_equal(compress(z, &zlen, (const Bytef *)fewer, sizeof fewer - 1), Z_OK);
	put(path, z, zlen);
	assert_damaged(path);
	/* ... and one that claims more */
	const char more[] = "blob 900\0hello";
	zlen = sizeof z;
	assert_int_equal(compress(z, &zlen, (const Bytef *)more, sizeof more - 1), Z_OK);
	put(path, z, zlen);
	assert_damaged(path);
	/* ... or far more than the stream could hold: refused before any allocation */
	const char huge[] = "blob 4000000000\0hello";
	zlen = sizeof z;
	assert_int_equal(compress(z, &zlen, (const Bytef *)huge, sizeof huge - 1), Z_OK);
	put(path, z, zlen);
	assert_damaged(path);
	/* not an object header, not zlib, empty */
	const char notype[] = "photo 5\0hello";
	zlen = sizeof z;
	assert_int_equal(compress(z, &zlen, (const Bytef *)notype, sizeof notype - 1), Z_OK);
	put(path, z, zlen);
	assert_damaged(path);
	static const char jpeg[] = "\xff\xd8\xff\xe0 a JPEG, not an object";
	put(path, jpeg, sizeof jpeg - 1);
	assert_damaged(path);
	put(path, "", 0);
	assert_damaged(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_object_checked_or_not),
		cmocka_unit_test(test_missing_file_is_not_loose),
		cmocka_unit_test(test_cut_short_is_refused),
		cmocka_unit_test(test_header_of_whole_and_cut_objects),
		cmocka_unit_test(test_trailing_bytes_and_lying_sizes_are_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
