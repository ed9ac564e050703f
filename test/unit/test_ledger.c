/*
 * Read-around on the ledger's packs (ledger.c): libgit2 maps a pack and its
 * index whole, and a cold page fault reads the device's read-ahead window
 * around the page.  Point reads (reading a file, recording) run with the
 * maps advised random, so that a cold read fetches the pages it needs and
 * not megabytes around each; a walk of the whole history, which reads
 * packs mostly in order, runs with the kernel's default read-around.  The
 * advice is the kernel's own record: "rr" in the map's VmFlags in
 * /proc/self/smaps.  The ledger is packed by stock `git repack`.
 * Then what a walk from the root lists (ledger_walk_more.seen), against
 * stock `git rev-list --objects` and `git cat-file -p`.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ledger.h"

#include <git2.h>

#define FILES 40

static char dir[] = "/tmp/fbledger.XXXXXX";
static char gitdir[64];

static void path_of(int i, char *out, size_t size)
{
	snprintf(out, size, "cases/2026/11/23/HZ01-20261123-abc123-%d/events/e%03d.json", i % 7, i);
}

/* FILES commits of one small file each, then one pack (git repack -a -d). */
static int setup(void **s)
{
	char cmd[256];
	if (!mkdtemp(dir))
		return -1;
	snprintf(gitdir, sizeof gitdir, "%s/ledger.git", dir);
	ledger *l;
	if (ledger_create(gitdir) || ledger_open(&l, gitdir))
		return -1;
	for (int i = 0; i < FILES; i++) {
		char path[128], body[64];
		path_of(i, path, sizeof path);
		snprintf(body, sizeof body, "{\"n\": %d}\n", i);
		ledger_file f = {path, body, strlen(body)};
		ledger_author a = {"Test", "t@HZ01.fieldbook", 1795000000 + i, 480};
		if (ledger_append(l, &f, 1, &a, "test event", NULL))
			return -1;
	}
	ledger_free(l);
	snprintf(cmd, sizeof cmd, "git --git-dir=%s repack -a -d -q && git --git-dir=%s prune-packed",
		 gitdir, gitdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **s)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* How the process maps this ledger's pack files: the number of maps of an
 * index and of a pack, and of those advised random. */
struct maps {
	int idx, pack, random;
};

static struct maps pack_maps(void)
{
	struct maps m = {0, 0, 0};
	FILE *f = fopen("/proc/self/smaps", "r");
	assert_non_null(f);
	char line[4096];
	int in_pack = 0;
	while (fgets(line, sizeof line, f)) {
		if (strstr(line, gitdir) && strstr(line, "/objects/pack/pack-")) {
			in_pack = 1;
			if (strstr(line, ".idx"))
				m.idx++;
			else if (strstr(line, ".pack"))
				m.pack++;
			else
				in_pack = 0;
		} else if (strncmp(line, "VmFlags:", 8) == 0) {
			if (in_pack && strstr(line, " rr"))
				m.random++;
			in_pack = 0;
		}
	}
	fclose(f);
	return m;
}

static void test_point_reads_are_random(void **s)
{
	ledger *l;
	assert_int_equal(ledger_open(&l, gitdir), 0);
	char path[128], *data = NULL;
	size_t len;
	path_of(3, path, sizeof path);
	assert_int_equal(ledger_read(l, path, &data, &len), 0);
	assert_string_equal(data, "{\"n\": 3}\n");
	free(data);
	struct maps m = pack_maps();
	assert_int_equal(m.idx, 1);
	assert_int_equal(m.pack, 1);
	assert_int_equal(m.random, 2);
	ledger_free(l);
}

/* A first append on a packed ledger: its reads of the pack are point reads */
static void test_recording_is_random(void **s)
{
	ledger *l;
	assert_int_equal(ledger_open(&l, gitdir), 0);
	ledger_file f = {"cases/2026/11/23/HZ01-20261123-abc123-1/events/new.json", "{}\n", 3};
	ledger_author a = {"Test", "t@HZ01.fieldbook", 1795001000, 480};
	assert_int_equal(ledger_append(l, &f, 1, &a, "one more", NULL), 0);
	struct maps m = pack_maps();
	assert_int_equal(m.idx + m.pack, 2);
	assert_int_equal(m.random, 2);
	ledger_free(l);
}

struct walk {
	int files;
	struct maps during;
};

static int count_file(const char *commit, time_t when, const char *path, const char *data,
		      size_t len, void *payload)
{
	struct walk *w = payload;
	if (w->files++ == FILES / 2)
		w->during = pack_maps();
	return 0;
}

static void test_whole_walk_reads_ahead(void **s)
{
	ledger *l;
	char head[41], *data = NULL;
	assert_int_equal(ledger_open(&l, gitdir), 0);
	assert_int_equal(ledger_read(l, "FIELDBOOK", &data, NULL), 0); /* a point read first */
	free(data);
	assert_int_equal(pack_maps().random, 2);
	assert_int_equal(ledger_head(l, head), 0);
	struct walk w = {0};
	assert_int_equal(ledger_walk_added(l, "", head, LEDGER_WALK_CHECKED, NULL, count_file, &w), 0);
	assert_true(w.files >= FILES);
	assert_int_equal(w.during.idx + w.during.pack, 2);
	assert_int_equal(w.during.random, 0); /* the default read-around while walking */
	assert_int_equal(pack_maps().random, 2); /* random again after */
	ledger_free(l);
}

/* Walks that overlap: point reads are advised again only after the last */
static void test_overlapping_walks(void **s)
{
	ledger *l;
	char *data = NULL;
	assert_int_equal(ledger_open(&l, gitdir), 0);
	assert_int_equal(ledger_read(l, "FIELDBOOK", &data, NULL), 0);
	free(data);
	void *a = ledger_packs_first(ledger_repository(l));
	void *b = ledger_packs_first(ledger_repository(l));
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(pack_maps().random, 0);
	ledger_read_restore(ledger_repository(l), b);
	assert_int_equal(pack_maps().random, 0);
	ledger_read_restore(ledger_repository(l), a);
	assert_int_equal(pack_maps().random, 2);
	ledger_read_restore(ledger_repository(l), NULL); /* nothing begun: nothing ends */
	assert_int_equal(pack_maps().random, 2);
	ledger_free(l);
}

/* --- a walk's list of what it read (ledger_walk_more.seen) ----------------- */

#define SEEN_MAX 1024
struct seen_list {
	char ids[SEEN_MAX][41];
	int n;
};

static void on_seen(const git_oid *id, void *payload)
{
	struct seen_list *l = payload;
	if (l->n < SEEN_MAX)
		git_oid_tostr(l->ids[l->n++], 41, id);
}

static int no_file(const char *commit, time_t when, const char *path, const char *data,
		   size_t len, void *payload)
{
	return 0;
}

static int seen_at(const struct seen_list *l, const char *id)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->ids[i], id) == 0)
			return i;
	return -1;
}

/* The first 40 hex digits of each line that stock git prints for cmd. */
static int git_ids(const char *cmd, char ids[][41], int max)
{
	FILE *f = popen(cmd, "r");
	char line[512];
	int n = 0;
	assert_non_null(f);
	while (n < max && fgets(line, sizeof line, f))
		if (strlen(line) >= 40)
			snprintf(ids[n++], 41, "%.40s", line);
	pclose(f);
	return n;
}

/* A walk from the root lists every object of the history (what stock
 * `git rev-list --objects` lists), each once it has listed what the object
 * points to (a commit's tree and parents, a tree's entries): a new device's
 * first fetch copies in that order, so that it never holds an object
 * without what lies below it. */
static void test_walk_lists_every_object_after_its_own(void **s)
{
	static struct seen_list seen;
	static char all[SEEN_MAX][41], below[64][41];
	char head[41], cmd[1024];
	ledger *l;
	assert_int_equal(ledger_open(&l, gitdir), 0);
	assert_int_equal(ledger_head(l, head), 0);
	ledger_walk_more more = {.seen = on_seen, .payload = &seen};
	assert_int_equal(ledger_walk_added_more(l, "", head, LEDGER_WALK_CHECKED, NULL, no_file, NULL, &more), 0);
	snprintf(cmd, sizeof cmd, "git --git-dir=%s rev-list main", gitdir);
	assert_int_equal(more.commits, git_ids(cmd, all, SEEN_MAX));
	assert_true(more.commits > FILES);
	snprintf(cmd, sizeof cmd, "git --git-dir=%s rev-list --objects main", gitdir);
	int n = git_ids(cmd, all, SEEN_MAX);
	assert_true(n > FILES * 3);
	assert_int_equal(seen.n, n);
	for (int i = 0; i < n; i++) {
		int at = seen_at(&seen, all[i]);
		assert_true(at >= 0);
		/* what it points to: a commit's tree and parents, a tree's entries */
		snprintf(cmd, sizeof cmd,
			 "git --git-dir=%s cat-file -p %.40s | sed -n 's/^tree //p; s/^parent //p; "
			 "s/^[0-7]* [a-z]* \\([0-9a-f]\\{40\\}\\).*/\\1/p'",
			 gitdir, (const char *)all[i]);
		int m = git_ids(cmd, below, 64);
		for (int k = 0; k < m; k++) {
			int b = seen_at(&seen, below[k]);
			assert_true(b >= 0);
			assert_true(b < at);
		}
	}
	ledger_free(l);
}

/* Appending on a packed ledger, which asks only the loose objects whether
 * it holds what it writes: the same file again changes nothing (the same
 * head), a file whose content the pack holds under another path is
 * recorded, and stock git finds the ledger whole. */
static void test_append_beside_packs(void **s)
{
	ledger *l;
	char before[41], after[41], out[41], path[128], cmd[512];
	assert_int_equal(ledger_open(&l, gitdir), 0);
	assert_int_equal(ledger_head(l, before), 0);
	path_of(5, path, sizeof path);
	ledger_file again = {path, "{\"n\": 5}\n", 9};
	ledger_author a = {"Test", "t@HZ01.fieldbook", 1795002000, 480};
	assert_int_equal(ledger_append(l, &again, 1, &a, "the same again", out), 0);
	assert_string_equal(out, before);
	assert_int_equal(ledger_head(l, after), 0);
	assert_string_equal(after, before);
	const char *copy = "cases/2026/11/24/HZ01-20261124-abc123-9/events/e005.json";
	ledger_file f = {copy, "{\"n\": 5}\n", 9};
	assert_int_equal(ledger_append(l, &f, 1, &a, "a packed blob, elsewhere", out), 0);
	assert_int_equal(ledger_head(l, after), 0);
	assert_string_equal(after, out);
	assert_string_not_equal(after, before);
	ledger_free(l);
	snprintf(cmd, sizeof cmd,
		 "git --git-dir=%s fsck --strict --no-dangling --no-progress && "
		 "test \"$(git --git-dir=%s show main:%s)\" = '{\"n\": 5}' && "
		 "test \"$(git --git-dir=%s rev-parse main~1)\" = %s",
		 gitdir, gitdir, copy, gitdir, before);
	assert_int_equal(system(cmd), 0);
}

/* A pack that arrives while a ledger handle is open (another process's
 * sync) holds the new head: appending through the handle still finds it
 * (libgit2 looks at the pack directory again when an object is missing). */
static void test_append_after_a_pack_arrives(void **s)
{
	ledger *l;
	char head[41], out[41], cmd[1024];
	assert_int_equal(ledger_open(&l, gitdir), 0);
	assert_int_equal(ledger_head(l, head), 0);
	assert_true(ledger_exists(l, "cases/2026/11/24/HZ01-20261124-abc123-9/events/e005.json"));
	snprintf(cmd, sizeof cmd,
		 "c=$(git --git-dir=%s commit-tree main^{tree} -p main -m elsewhere) && "
		 "git --git-dir=%s update-ref refs/heads/main $c && "
		 "git --git-dir=%s repack -d -q && git --git-dir=%s prune-packed && "
		 "test -z \"$(find %s/objects -path '*/objects/[0-9a-f][0-9a-f]/*' -type f)\"",
		 gitdir, gitdir, gitdir, gitdir, gitdir);
	assert_int_equal(system(cmd), 0);
	ledger_file f = {"cases/2026/11/24/HZ01-20261124-abc123-9/events/e006.json", "{}\n", 3};
	ledger_author a = {"Test", "t@HZ01.fieldbook", 1795003000, 480};
	assert_int_equal(ledger_append(l, &f, 1, &a, "after the pack", out), 0);
	ledger_free(l);
	snprintf(cmd, sizeof cmd,
		 "test \"$(git --git-dir=%s log -1 --format=%%s main~1)\" = elsewhere && "
		 "test \"$(git --git-dir=%s rev-parse main~2)\" = %s && "
		 "git --git-dir=%s fsck --strict --no-dangling --no-progress",
		 gitdir, gitdir, head, gitdir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_point_reads_are_random),
		cmocka_unit_test(test_recording_is_random),
		cmocka_unit_test(test_whole_walk_reads_ahead),
		cmocka_unit_test(test_overlapping_walks),
		cmocka_unit_test(test_walk_lists_every_object_after_its_own),
		/* after the walk's test: its file repeats content the walk lists again */
		cmocka_unit_test(test_append_beside_packs),
		cmocka_unit_test(test_append_after_a_pack_arrives),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
