/*
 * Ledger and index together: append-only writes, incremental indexing,
 * rebuild equality, drafts and counters.  Real git repository and SQLite
 * file in a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/event.h"
#include "core/index.h"
#include "core/ledger.h"

#define CASE_ID "HZ01-20261123-abc123-1"

struct fx {
	char dir[64], repo[128], db[128];
	ledger *l;
	fbindex *ix;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/fbunit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->repo, sizeof f->repo, "%s/ledger.git", f->dir);
	snprintf(f->db, sizeof f->db, "%s/index.sqlite", f->dir);
	assert_int_equal(ledger_create(f->repo), 0);
	assert_int_equal(ledger_open(&f->l, f->repo), 0);
	assert_int_equal(index_open(&f->ix, f->db), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	index_free(f->ix);
	ledger_free(f->l);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const ledger_author author = {"张伟", "3101-0042@HZ01.fieldbook", 1795000000, 480};

static void put_event(struct fx *f, const char *type, long seq, const char *extra)
{
	json_t *ev = event_new(type, CASE_ID, 1795000000 + seq, "3101-0042", "abc123", seq);
	if (extra) {
		json_t *x = json_loads(extra, 0, NULL);
		json_object_update(ev, x);
		json_decref(x);
	}
	char path[256], *text = event_dump(ev);
	event_path(CASE_ID, event_str(ev, "id"), path, sizeof path);
	ledger_file file = {path, text, strlen(text)};
	assert_int_equal(ledger_append(f->l, &file, 1, &author, type, NULL), 0);
	free(text);
	json_decref(ev);
}

static void test_append_and_index(void **state)
{
	struct fx *f = *state;
	put_event(f, "case.opened", 1, "{\"site\": {\"address\": \"解放路12号\"}}");
	put_event(f, "inspection.recorded", 2, "{\"answers\": {\"SB04\": \"fail\"}, \"failures\": [\"SB04\"]}");
	assert_int_equal(index_sync(f->ix, f->l), 0);
	json_t *st;
	assert_int_equal(index_case_get(f->ix, CASE_ID, &st), 0);
	assert_string_equal(event_str(st, "status"), "inspected");
	json_decref(st);
	json_t *rows;
	assert_int_equal(index_case_events(f->ix, CASE_ID, &rows), 0);
	assert_int_equal(json_array_size(rows), 2);
	assert_int_equal(strlen(event_str(json_array_get(rows, 0), "commit")), 40);
	json_decref(rows);
	char a[41], b[41];
	ledger_head(f->l, a);
	index_head(f->ix, b);
	assert_string_equal(a, b);
}

static void test_ledger_is_append_only(void **state)
{
	struct fx *f = *state;
	ledger_file one = {"cases/2026/11/23/" CASE_ID "/photos/aa.jpg", "abc", 3};
	char c1[41], c2[41];
	assert_int_equal(ledger_append(f->l, &one, 1, &author, "photo", c1), 0);
	/* the same bytes again: nothing to do, no new commit */
	assert_int_equal(ledger_append(f->l, &one, 1, &author, "photo", c2), 0);
	assert_string_equal(c1, c2);
	ledger_file changed = {one.path, "abd", 3};
	assert_int_equal(ledger_append(f->l, &changed, 1, &author, "photo", NULL), ERR_CONFLICT);
	assert_non_null(strstr(error_last(), "append-only"));
	char *data;
	size_t len;
	assert_int_equal(ledger_read(f->l, one.path, &data, &len), 0);
	assert_memory_equal(data, "abc", 3);
	free(data);
}

static int count_cb(const char *commit, time_t t, const char *path, const char *data, size_t len, void *p)
{
	(*(int *)p)++;
	return 0;
}

static bool want_none(const char *path, void *p) { return false; }

/* A commit made behind our back that modifies a path is reported, whether
 * the walk reads that path or not; a path not wanted is not read. */
static void test_walk_reports_modified_paths(void **state)
{
	struct fx *f = *state;
	put_event(f, "case.opened", 1, NULL);
	char before[41];
	ledger_head(f->l, before);
	int all = 0, wanted = 0;
	assert_int_equal(ledger_walk_added(f->l, "", before, LEDGER_WALK_CHECKED, NULL, count_cb, &all), 0);
	assert_int_equal(all, 2); /* the marker and the event */
	assert_int_equal(ledger_walk_added(f->l, "", before, LEDGER_WALK_CHECKED, want_none, count_cb,
					   &wanted), 0);
	assert_int_equal(wanted, 0);
	git_repository *repo = ledger_repository(f->l);
	git_oid head, blob, tree_id, commit;
	git_commit *parent;
	git_tree *tree, *newtree;
	git_signature *sig;
	git_reference_name_to_id(&head, repo, LEDGER_REF);
	git_commit_lookup(&parent, repo, &head);
	git_commit_tree(&tree, parent);
	git_blob_create_from_buffer(&blob, repo, "tampered\n", 9);
	git_tree_update up = {GIT_TREE_UPDATE_UPSERT, blob, GIT_FILEMODE_BLOB, "FIELDBOOK"};
	git_tree_create_updated(&tree_id, repo, tree, 1, &up);
	git_tree_lookup(&newtree, repo, &tree_id);
	git_signature_now(&sig, "x", "x@y");
	const git_commit *parents[] = {parent};
	git_commit_create(&commit, repo, LEDGER_REF, sig, sig, NULL, "tamper", newtree, 1, parents);
	char to[41];
	git_oid_tostr(to, sizeof to, &commit);
	int n = 0;
	assert_int_equal(ledger_walk_added(f->l, before, to, LEDGER_WALK_CHECKED, NULL, count_cb, &n),
			 ERR_CONFLICT);
	assert_non_null(strstr(error_last(), "modifies FIELDBOOK"));
	assert_int_equal(ledger_walk_added(f->l, before, to, LEDGER_WALK_CHECKED, want_none, count_cb, &n),
			 ERR_CONFLICT);
	assert_non_null(strstr(error_last(), "modifies FIELDBOOK"));
	git_signature_free(sig);
	git_tree_free(newtree);
	git_tree_free(tree);
	git_commit_free(parent);
}

static char *list_json(fbindex *ix)
{
	json_t *l;
	assert_int_equal(index_case_list(ix, "all", NULL, "2026-12-01", &l), 0);
	char *s = json_dumps(l, JSON_SORT_KEYS);
	json_decref(l);
	return s;
}

static void test_rebuild_equals_incremental(void **state)
{
	struct fx *f = *state;
	put_event(f, "case.opened", 1, "{\"site\": {\"address\": \"解放路12号\"}}");
	index_sync(f->ix, f->l);
	put_event(f, "inspection.recorded", 2, "{\"answers\": {\"SB04\": \"fail\"}, \"failures\": [\"SB04\"]}");
	index_sync(f->ix, f->l);
	put_event(f, "order.issued", 3, "{\"items\": [\"SB04\"], \"deadline\": \"2026-11-25\"}");
	put_event(f, "note.added", 4, "{\"text\": \"锈蚀严重\"}");
	index_sync(f->ix, f->l);
	char *inc = list_json(f->ix);
	assert_int_equal(index_rebuild(f->ix, f->l), 0);
	char *re = list_json(f->ix);
	assert_string_equal(inc, re);
	free(inc);
	free(re);
	json_t *found;
	assert_int_equal(index_case_list(f->ix, "overdue", "锈蚀", "2026-12-01", &found), 0);
	assert_int_equal(json_array_size(found), 1);
	json_decref(found);
	assert_int_equal(index_case_list(f->ix, "overdue", "锈蚀", "2026-11-20", &found), 0);
	assert_int_equal(json_array_size(found), 0);
	json_decref(found);
	/* LIKE wildcards in a search are literal */
	assert_int_equal(index_case_list(f->ix, "all", "%", NULL, &found), 0);
	assert_int_equal(json_array_size(found), 0);
	json_decref(found);
}

static void test_drafts_and_counters_survive_rebuild(void **state)
{
	struct fx *f = *state;
	put_event(f, "case.opened", 7, NULL);
	index_sync(f->ix, f->l);
	json_t *d = json_pack("{s:{s:s}}", "answers", "SB04", "fail");
	assert_int_equal(index_draft_put(f->ix, CASE_ID, "inspection", d), 0);
	json_decref(d);
	assert_int_equal(index_rebuild(f->ix, f->l), 0);
	assert_int_equal(index_draft_get(f->ix, CASE_ID, "inspection", &d), 0);
	assert_string_equal(event_str(json_object_get(d, "answers"), "SB04"), "fail");
	json_decref(d);
	long seq, n;
	assert_int_equal(index_next_seq(f->ix, "abc123", &seq), 0);
	assert_int_equal(seq, 8); /* above what the ledger holds */
	assert_int_equal(index_next_seq(f->ix, "abc123", &seq), 0);
	assert_int_equal(seq, 9);
	assert_int_equal(index_next_case_number(f->ix, "abc123", "20261123", &n), 0);
	assert_int_equal(n, 2);
}

static void test_draft_of_a_recorded_event_is_removed(void **state)
{
	struct fx *f = *state;
	put_event(f, "case.opened", 1, NULL);
	index_sync(f->ix, f->l);
	char id[64];
	event_id_make(id, 1795000000 + 2, "abc123", 2);
	json_t *d = json_pack("{s:{s:s}, s:s}", "answers", "SB04", "fail", "committing_event", id);
	index_draft_put(f->ix, CASE_ID, "inspection", d);
	json_decref(d);
	put_event(f, "inspection.recorded", 2, "{\"answers\": {\"SB04\": \"fail\"}}");
	assert_int_equal(index_sync(f->ix, f->l), 0);
	assert_int_equal(index_draft_get(f->ix, CASE_ID, "inspection", &d), ERR_NOTFOUND);
}

static void test_bad_event_files_are_reported_not_dropped(void **state)
{
	struct fx *f = *state;
	put_event(f, "case.opened", 1, NULL);
	char path[256];
	event_path(CASE_ID, "20261123T000000Z-abc123-000099", path, sizeof path);
	ledger_file bad = {path, "{not json", 9};
	assert_int_equal(ledger_append(f->l, &bad, 1, &author, "bad", NULL), 0);
	assert_int_equal(index_sync(f->ix, f->l), 0);
	json_t *p;
	assert_int_equal(index_problems(f->ix, &p), 0);
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(event_str(json_array_get(p, 0), "path"), path);
	json_decref(p);
}

/* Files added between two commits, counted by ledger_walk_added. */
static int added_between(struct fx *f, const char *from, const char *to)
{
	int n = 0;
	assert_int_equal(ledger_walk_added(f->l, from, to, 0, NULL, count_cb, &n), 0);
	return n;
}

/* The commit ledger_append just wrote, made again as fieldbook wrote it
 * before commit times were clamped (ledger_committer): committer time =
 * author time, the device's clock.  The branch is moved onto it. */
static void as_written_before(struct fx *f, char id[41], const ledger_author *a)
{
	git_repository *repo = ledger_repository(f->l);
	git_commit *c = NULL, *parent = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_reference *ref = NULL;
	git_oid oid, again;
	assert_int_equal(git_oid_fromstr(&oid, id), 0);
	assert_int_equal(git_commit_lookup(&c, repo, &oid), 0);
	assert_int_equal(git_commit_tree(&tree, c), 0);
	size_t np = git_commit_parentcount(c);
	if (np)
		assert_int_equal(git_commit_parent(&parent, c, 0), 0);
	assert_int_equal(git_signature_new(&sig, a->name, a->email, a->when, a->tz_minutes), 0);
	const git_commit *parents[1] = {parent};
	assert_int_equal(git_commit_create(&again, repo, NULL, sig, sig, NULL, git_commit_message(c),
					   tree, np, parents), 0);
	assert_int_equal(git_reference_create(&ref, repo, "refs/heads/main", &again, 1, "test"), 0);
	git_oid_tostr(id, 41, &again);
	git_reference_free(ref);
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(parent);
	git_commit_free(c);
}

static git_time_t git_time_of(git_repository *repo, const git_oid *id)
{
	git_commit *c = NULL;
	assert_int_equal(git_commit_lookup(&c, repo, id), 0);
	git_time_t t = git_commit_time(c);
	git_commit_free(c);
	return t;
}

static git_time_t time_of(struct fx *f, const char *id, bool committer)
{
	git_commit *c = NULL;
	git_oid oid;
	assert_int_equal(git_oid_fromstr(&oid, id), 0);
	assert_int_equal(git_commit_lookup(&c, ledger_repository(f->l), &oid), 0);
	git_time_t t = committer ? git_commit_time(c) : git_commit_author(c)->when.time;
	git_commit_free(c);
	return t;
}

/* A device whose clock is behind its ledger's newest commit (set back, or
 * after a hub brought commits from a clock ahead), N events.  clamped:
 * written by this version, whose commit times never go back; otherwise
 * as an earlier version wrote them (every commit older than the one
 * before it), which ledgers and hubs still hold.  libgit2's walks stop by
 * commit time, so the ledger takes its own path for short ranges (a few
 * parents) and libgit2's for long ones: both must give the same answers. */
static void record_going_back(struct fx *f, bool clamped)
{
	enum { N = 300 };
	char ids[N + 1][41];
	ledger_author back = author;
	for (long i = 1; i <= N; i++) {
		json_t *ev = event_new(i == 1 ? "case.opened" : "note.added", CASE_ID, 1795000000 - i * 60,
				       "3101-0042", "abc123", i);
		char path[256], *text = event_dump(ev);
		event_path(CASE_ID, event_str(ev, "id"), path, sizeof path);
		ledger_file file = {path, text, strlen(text)};
		back.when = author.when - i * 3600;
		assert_int_equal(ledger_append(f->l, &file, 1, &back, "event", ids[i]), 0);
		if (!clamped)
			as_written_before(f, ids[i], &back);
		/* the author time is the device's clock, in both */
		assert_int_equal(time_of(f, ids[i], false), back.when);
		if (i > 1) {
			git_time_t mine = time_of(f, ids[i], true), parent = time_of(f, ids[i - 1], true);
			if (clamped)
				assert_true(mine > parent);
			else
				assert_true(mine < parent);
		}
		free(text);
		json_decref(ev);
		if (i <= 3 || i % 100 == 0)
			assert_int_equal(index_sync(f->ix, f->l), 0);
	}
	json_t *rows;
	assert_int_equal(index_case_events(f->ix, CASE_ID, &rows), 0);
	assert_int_equal(json_array_size(rows), N);
	json_decref(rows);
	assert_int_equal(added_between(f, ids[N - 1], ids[N]), 1);
	assert_int_equal(added_between(f, ids[N - 100], ids[N]), 100);
	assert_int_equal(added_between(f, ids[1], ids[N]), N - 1); /* past the short path */
	assert_int_equal(added_between(f, "", ids[N]), N + 1);     /* and the roster marker */
	assert_true(ledger_is_ancestor(f->l, ids[N - 1], ids[N]));
	assert_true(ledger_is_ancestor(f->l, ids[1], ids[N]));
	assert_false(ledger_is_ancestor(f->l, ids[N], ids[N - 1]));
	assert_false(ledger_is_ancestor(f->l, ids[N], ids[1]));
}

static void test_commit_times_never_go_back(void **state) { record_going_back(*state, true); }

static void test_clock_behind_in_an_older_ledger(void **state) { record_going_back(*state, false); }

static void move_main(struct fx *f, const char *hex)
{
	git_reference *ref = NULL;
	git_oid id;
	assert_int_equal(git_oid_fromstr(&id, hex), 0);
	assert_int_equal(git_reference_create(&ref, ledger_repository(f->l), "refs/heads/main", &id, 1,
					      "test"), 0);
	git_reference_free(ref);
}

/* `seq0`..: n events on top of the branch head; the new head in `head`. */
static void put_line(struct fx *f, long seq0, int n, char head[41])
{
	for (long i = 0; i < n; i++)
		put_event(f, "note.added", seq0 + i, NULL);
	assert_int_equal(ledger_head(f->l, head), 0);
}

/* A sync's range runs from our head to a hub's head that forked from it:
 * two lines of single-parent commits above the fork, short or longer than
 * the distance the walk goes alone, and one side holding a merge (then
 * libgit2's walk): each range holds exactly the other side's events. */
static void test_ranges_between_forked_lines(void **state)
{
	struct fx *f = *state;
	static const int sizes[][2] = {{1, 1}, {3, 40}, {40, 3}, {20, 20}, {250, 2}};
	char fork[41], a[41], b[41];
	long seq = 1;
	put_event(f, "case.opened", seq++, NULL);
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		assert_int_equal(ledger_head(f->l, fork), 0);
		put_line(f, seq, sizes[k][0], a);
		seq += sizes[k][0];
		move_main(f, fork);
		put_line(f, seq, sizes[k][1], b);
		seq += sizes[k][1];
		assert_int_equal(added_between(f, b, a), sizes[k][0]);
		assert_int_equal(added_between(f, a, b), sizes[k][1]);
		assert_int_equal(added_between(f, fork, a), sizes[k][0]);
		assert_int_equal(added_between(f, a, fork), 0);
		assert_false(ledger_is_ancestor(f->l, a, b));
		assert_false(ledger_is_ancestor(f->l, b, a));
		assert_true(ledger_is_ancestor(f->l, fork, a));
		assert_true(ledger_is_ancestor(f->l, fork, b));
		assert_false(ledger_is_ancestor(f->l, a, fork));
		char meet[41];
		assert_true(ledger_fork_point(f->l, b, a, meet));
		assert_string_equal(meet, fork);
		assert_true(ledger_fork_point(f->l, a, b, meet));
		assert_string_equal(meet, fork);
	}
	/* b's side merges a: the range from the merge to a is empty, and from
	 * a to the merge holds b's line only */
	git_repository *repo = ledger_repository(f->l);
	git_commit *ca = NULL, *cb = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_oid ida, idb, m;
	char mh[41];
	assert_int_equal(git_oid_fromstr(&ida, a), 0);
	assert_int_equal(git_oid_fromstr(&idb, b), 0);
	assert_int_equal(git_commit_lookup(&ca, repo, &ida), 0);
	assert_int_equal(git_commit_lookup(&cb, repo, &idb), 0);
	assert_int_equal(git_commit_tree(&tree, cb), 0); /* the content does not matter here */
	assert_int_equal(git_signature_now(&sig, "t", "t@t"), 0);
	const git_commit *parents[2] = {cb, ca};
	assert_int_equal(git_commit_create(&m, repo, NULL, sig, sig, NULL, "merge", tree, 2, parents), 0);
	git_oid_tostr(mh, sizeof mh, &m);
	move_main(f, mh);
	put_line(f, seq, 3, b);
	assert_int_equal(added_between(f, b, a), 0);
	assert_int_equal(added_between(f, a, b), sizes[4][1] + 3);
	assert_true(ledger_is_ancestor(f->l, a, b)); /* through the merge's second parent */
	assert_false(ledger_is_ancestor(f->l, b, a));
	char meet[41];
	assert_false(ledger_fork_point(f->l, a, b, meet)); /* a merge on the way: not known */
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(ca);
	git_commit_free(cb);
}

/* n events on top of the head, each as an earlier version wrote it with
 * the device's clock stuck at the author time (every commit time the
 * same: a clock ahead once gave every later commit its time); the new
 * head in `head`. */
static void put_flat_line(struct fx *f, long seq0, int n, char head[41])
{
	for (long i = 0; i < n; i++) {
		json_t *ev = event_new("note.added", CASE_ID, 1795000000 + seq0 + i, "3101-0042", "abc123",
				       seq0 + i);
		char path[256], *text = event_dump(ev);
		event_path(CASE_ID, event_str(ev, "id"), path, sizeof path);
		ledger_file file = {path, text, strlen(text)};
		assert_int_equal(ledger_append(f->l, &file, 1, &author, "event", head), 0);
		as_written_before(f, head, &author);
		free(text);
		json_decref(ev);
	}
}

/* A day's sync over such a ledger: our line and the hub's above a fork,
 * joined by a merge.  libgit2's revwalk goes on past commits of equal
 * time (to the root); the ledger follows the two lines and the merge
 * itself.  The range from our head to the merge is the hub's line and
 * the merge; the summary's count and the index's walk take it. */
static void test_day_sync_range_over_equal_commit_times(void **state)
{
	struct fx *f = *state;
	char fork[41], ours[41], theirs[41], mh[41];
	put_event(f, "case.opened", 1, NULL);
	put_flat_line(f, 2, 60, fork);
	put_flat_line(f, 100, 20, theirs);
	move_main(f, fork);
	put_flat_line(f, 200, 20, ours);
	git_repository *repo = ledger_repository(f->l);
	git_commit *co = NULL, *ct = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_oid io, it, m;
	assert_int_equal(git_oid_fromstr(&io, ours), 0);
	assert_int_equal(git_oid_fromstr(&it, theirs), 0);
	assert_int_equal(git_time_of(repo, &io), git_time_of(repo, &it)); /* one commit time */
	assert_int_equal(git_commit_lookup(&co, repo, &io), 0);
	assert_int_equal(git_commit_lookup(&ct, repo, &it), 0);
	assert_int_equal(git_commit_tree(&tree, co), 0); /* the content does not matter here */
	assert_int_equal(git_signature_new(&sig, "t", "t@t", author.when, 480), 0);
	const git_commit *parents[2] = {co, ct};
	assert_int_equal(git_commit_create(&m, repo, NULL, sig, sig, NULL, "merge", tree, 2, parents), 0);
	git_oid_tostr(mh, sizeof mh, &m);
	assert_int_equal(ledger_count_range(f->l, &io, &m), 21);
	assert_int_equal(ledger_count_range(f->l, &it, &m), 21);
	assert_int_equal(added_between(f, ours, mh), 20);
	assert_int_equal(added_between(f, theirs, mh), 20);
	assert_int_equal(added_between(f, fork, mh), 40);  /* not a day's shape: libgit2's walk */
	assert_int_equal(ledger_count_range(f->l, NULL, &m), 103); /* the whole history */
	git_oid ifork;
	assert_int_equal(git_oid_fromstr(&ifork, fork), 0);
	assert_int_equal(ledger_count_range(f->l, &ifork, &io), 20);
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(co);
	git_commit_free(ct);
}

/* --- a first fetch indexed while it is validated (index_intake) ------------- */

static int intake_cb(const char *commit, time_t t, const char *path, const char *data,
		     size_t len, void *p)
{
	index_intake_file(p, commit, t, path, data, len, NULL);
	return 0;
}

/* The fixture's ledger as a hub: three cases' worth of events, one file
 * that is not an event; its head into head. */
static void hub_history(struct fx *f, char head[41])
{
	put_event(f, "case.opened", 1, "{\"site\": {\"address\": \"解放路12号\"}}");
	put_event(f, "inspection.recorded", 2, "{\"answers\": {\"SB04\": \"fail\"}, \"failures\": [\"SB04\"]}");
	put_event(f, "note.added", 3, "{\"text\": \"锈蚀严重\"}");
	char path[256];
	event_path(CASE_ID, "20261123T000000Z-abc123-000099", path, sizeof path);
	ledger_file bad = {path, "{not json", 9};
	assert_int_equal(ledger_append(f->l, &bad, 1, &author, "bad", NULL), 0);
	assert_int_equal(ledger_head(f->l, head), 0);
}

/* A new index taking the whole history at `head` through an intake whose
 * walk ends with walk_rc (1: never ended), then finished against f->l. */
static fbindex *take_in(struct fx *f, const char *name, const char *head, int walk_rc)
{
	char db[160];
	fbindex *ix;
	index_intake *in;
	snprintf(db, sizeof db, "%s/%s", f->dir, name);
	assert_int_equal(index_open(&ix, db), 0);
	assert_int_equal(index_intake_start(&in, ix, f->l, head), 0);
	assert_int_equal(ledger_walk_added(f->l, "", head, 0, NULL, intake_cb, in), 0);
	if (walk_rc != 1)
		index_intake_end(in, walk_rc);
	index_intake_finish(in, f->l);
	return ix;
}

static void assert_same_index(fbindex *a, fbindex *b)
{
	char *la = list_json(a), *lb = list_json(b);
	assert_string_equal(la, lb);
	free(la);
	free(lb);
	json_t *ea, *eb, *pa, *pb;
	assert_int_equal(index_case_events(a, CASE_ID, &ea), 0);
	assert_int_equal(index_case_events(b, CASE_ID, &eb), 0);
	assert_true(json_equal(ea, eb));
	assert_int_equal(index_problems(a, &pa), 0);
	assert_int_equal(index_problems(b, &pb), 0);
	assert_true(json_equal(pa, pb));
	json_decref(ea);
	json_decref(eb);
	json_decref(pa);
	json_decref(pb);
}

static void test_intake_equals_a_sync(void **state)
{
	struct fx *f = *state;
	char head[41], done[41];
	hub_history(f, head);
	assert_int_equal(index_sync(f->ix, f->l), 0);
	fbindex *ix = take_in(f, "intake.sqlite", head, 0);
	assert_int_equal(index_head(ix, done), 0);
	assert_string_equal(done, head);
	assert_same_index(ix, f->ix);
	json_t *found;
	assert_int_equal(index_case_list(ix, "all", "锈蚀", NULL, &found), 0);
	assert_int_equal(json_array_size(found), 1);
	json_decref(found);
	/* and it goes on from there as any index */
	put_event(f, "order.issued", 4, "{\"items\": [\"SB04\"], \"deadline\": \"2026-11-25\"}");
	assert_int_equal(index_sync(f->ix, f->l), 0);
	assert_int_equal(index_sync(ix, f->l), 0);
	assert_same_index(ix, f->ix);
	index_free(ix);
}

/* Kept only when the ledger stands at the walked head after a walk that
 * ended well: otherwise nothing of it is in the index, and index_sync
 * builds it as usual. */
static void test_intake_dropped_unless_it_fits(void **state)
{
	struct fx *f = *state;
	char head[41], done[41];
	hub_history(f, head);
	const int walks[] = {ERR_CONFLICT, 1};
	for (size_t i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof name, "failed%zu.sqlite", i);
		fbindex *ix = take_in(f, name, head, walks[i]);
		assert_int_equal(index_head(ix, done), 0);
		assert_string_equal(done, "");
		char *l = list_json(ix);
		assert_string_equal(l, "[]");
		free(l);
		index_free(ix);
	}
	/* the ledger moved on before the intake was finished */
	char db[160];
	fbindex *ix;
	index_intake *in;
	snprintf(db, sizeof db, "%s/moved.sqlite", f->dir);
	assert_int_equal(index_open(&ix, db), 0);
	assert_int_equal(index_intake_start(&in, ix, f->l, head), 0);
	assert_int_equal(ledger_walk_added(f->l, "", head, 0, NULL, intake_cb, in), 0);
	index_intake_end(in, 0);
	put_event(f, "order.issued", 4, NULL);
	index_intake_finish(in, f->l);
	assert_int_equal(index_head(ix, done), 0);
	assert_string_equal(done, "");
	assert_int_equal(index_sync(ix, f->l), 0);
	assert_int_equal(index_sync(f->ix, f->l), 0);
	assert_same_index(ix, f->ix);
	index_free(ix);
}

static void test_newer_schema_is_refused(void **state)
{
	struct fx *f = *state;
	char cmd[256];
	index_free(f->ix);
	f->ix = NULL;
	snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'PRAGMA user_version = 99'", f->db);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(index_open(&f->ix, f->db), ERR_DB);
	assert_non_null(strstr(error_last(), "newer fieldbook"));
}

/* An index written by an earlier schema (4: status lists looked up each
 * case's row; events had an index by path) is upgraded on open: the same
 * lists, now from one covering index, and the query plan says so; the
 * index by path is gone (6: lookups by path go through the event's id). */
static void test_schema_4_is_upgraded(void **state)
{
	struct fx *f = *state;
	char cmd[512], *before, *after;
	put_event(f, "case.opened", 1, "{\"site\": {\"address\": \"解放路12号\"}}");
	put_event(f, "order.issued", 2, "{\"items\": [\"SB04\"], \"deadline\": \"2026-11-25\"}");
	assert_int_equal(index_sync(f->ix, f->l), 0);
	json_t *l;
	assert_int_equal(index_case_list(f->ix, "ordered", NULL, "2026-12-01", &l), 0);
	assert_int_equal(json_array_size(l), 1);
	before = json_dumps(l, JSON_SORT_KEYS);
	json_decref(l);
	index_free(f->ix);
	f->ix = NULL;
	snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'DROP INDEX cases_status; CREATE INDEX cases_status"
		 " ON cases(status, deadline); CREATE INDEX events_path ON events(path);"
		 " PRAGMA user_version = 4'", f->db);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(index_open(&f->ix, f->db), 0);
	assert_int_equal(index_case_list(f->ix, "ordered", NULL, "2026-12-01", &l), 0);
	after = json_dumps(l, JSON_SORT_KEYS);
	json_decref(l);
	assert_string_equal(after, before);
	free(before);
	free(after);
	snprintf(cmd, sizeof cmd, "test \"$(sqlite3 '%s' 'PRAGMA user_version')\" = 6 && "
		 "test \"$(sqlite3 '%s' \"SELECT count(*) FROM sqlite_master WHERE name = 'events_path'\")\" = 0",
		 f->db, f->db);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'EXPLAIN QUERY PLAN SELECT id, address FROM cases"
		 " WHERE status = \"ordered\" ORDER BY opened_at DESC, id DESC' |"
		 " grep -q 'SEARCH cases USING COVERING INDEX cases_status (status=?)$'", f->db);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_and_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ledger_is_append_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_reports_modified_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_equals_incremental, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drafts_and_counters_survive_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_draft_of_a_recorded_event_is_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_event_files_are_reported_not_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_4_is_upgraded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_times_never_go_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_behind_in_an_older_ledger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges_between_forked_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_day_sync_range_over_equal_commit_times, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_intake_equals_a_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intake_dropped_unless_it_fits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
