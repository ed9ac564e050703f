/*
 * sync: remotes, fetch, validation of incoming history, fast-forward or
 * union merge, push with per-ref status checks and bounded retry.  See
 * sync.h.
 */
#include "sync.h"
#include "audit.h"
#include "packcopy.h"
#include "sign.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "index.h"
#include "util.h"
#include "walkpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <sys/file.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ATTEMPTS 20

#define CAS_TRIES 20
#define MAX_PARENTS 16

static bool remote_name_ok(const char *name)
{
	int valid = 0;
	return git_remote_name_is_valid(&valid, name) == 0 && valid;
}

/* Bounded copy (truncates). */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();
	return error_set(ERR_GIT, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

/* Re-raise the current message with a prefix on the same line. */
static int fail_in_commit(int code, const char *commit)
{
	char msg[768];
	snprintf(msg, sizeof msg, "%s", error_last());
	return error_set(code, _("commit %s: %s"), commit, msg);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* --- layout of the files a commit may add ------------------------------- */

typedef struct {
	const char *commit, *path, *data;
	size_t len;
	json_t *ev; /* set by check_event: the parsed event, for the hub's signature check */
} added_file;

typedef bool (*path_match_fn)(const char *path);
typedef int (*file_check_fn)(added_file *f);

static bool is_marker(const char *p) { return strcmp(p, "FIELDBOOK") == 0; }

static int check_marker(added_file *f)
{
	static const char head[] = "fieldbook ledger\n";
	if (f->len < sizeof head - 1 || memcmp(f->data, head, sizeof head - 1) != 0)
		return error_set(ERR_CONFLICT, _("commit %s: %s is not a fieldbook format marker"),
				 f->commit, f->path);
	return 0;
}

static bool is_form(const char *p)
{
	char id[64], ver[16];
	int n = 0;
	if (sscanf(p, "forms/%63[A-Za-z0-9_.-]/%15[0-9].yaml%n", id, ver, &n) != 2 || p[n])
		return false;
	return id[0] != '.';
}

static int check_form(added_file *f)
{
	if (f->len == 0 || memchr(f->data, '\0', f->len))
		return error_set(ERR_CONFLICT, _("commit %s: %s is not a form text"), f->commit,
				 f->path);
	return 0;
}

/* The yyyy/mm/dd directories must be the date inside the case id. */
static bool case_dir_matches(const char *path, const char *case_id)
{
	char dir[160];
	if (case_dir(case_id, dir, sizeof dir) != 0)
		return false;
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static bool is_event(const char *p)
{
	char c[96], e[96];
	return event_path_parse(p, c, e) && case_dir_matches(p, c);
}

/* Device part of "<ts>-<device>-<seq>". */
static bool event_id_device(const char *id, char *out, size_t size)
{
	const char *a = strchr(id, '-'), *b = strrchr(id, '-');
	if (!a || !b || b <= a + 1 || (size_t)(b - a - 1) >= size)
		return false;
	snprintf(out, size, "%.*s", (int)(b - a - 1), a + 1);
	return true;
}

static int check_event(added_file *f)
{
	char c[96], e[96], dev[64];
	json_t *ev;
	event_path_parse(f->path, c, e);
	if (event_parse(f->data, f->len, f->path, &ev) != 0)
		return fail_in_commit(ERR_CONFLICT, f->commit);
	const char *why = NULL;
	if (strcmp(event_str(ev, "id"), e) != 0)
		why = _("its \"id\" is not the file name");
	else if (strcmp(event_str(ev, "case"), c) != 0)
		why = _("its \"case\" is not the case directory");
	else if (!event_id_device(e, dev, sizeof dev) || strcmp(event_str(ev, "device"), dev) != 0)
		why = _("its \"device\" does not match the event id");
	if (why) {
		json_decref(ev);
		return error_set(ERR_CONFLICT, _("commit %s: event %s: %s"), f->commit, f->path, why);
	}
	f->ev = ev;
	return 0;
}

static bool is_signature(const char *p)
{
	size_t n = strlen(p);
	char base[512];
	if (n < 5 || n >= sizeof base || strcmp(p + n - 4, ".sig") != 0)
		return false;
	snprintf(base, sizeof base, "%.*s", (int)(n - 4), p);
	return is_event(base);
}

static int check_signature(added_file *f)
{
	static const char head[] = "-----BEGIN SSH SIGNATURE-----";
	if (f->len < sizeof head - 1 || memcmp(f->data, head, sizeof head - 1) != 0)
		return error_set(ERR_CONFLICT, _("commit %s: %s is not an SSH signature"), f->commit,
				 f->path);
	return 0;
}

static bool is_photo(const char *p)
{
	char y[5], m[3], d[3], c[96], hex[66];
	int n = 0;
	if (sscanf(p, "cases/%4[0-9]/%2[0-9]/%2[0-9]/%95[^/]/photos/%65[0-9a-f].jpg%n", y, m, d, c,
		   hex, &n) != 5 || p[n] || strlen(hex) != 64)
		return false;
	return case_id_valid(c) && case_dir_matches(p, c);
}

static int check_photo(added_file *f)
{
	char sha[65];
	const char *name = strrchr(f->path, '/') + 1;
	util_sha256_hex(f->data, f->len, sha);
	if (strncmp(name, sha, 64) != 0)
		return error_set(ERR_CONFLICT,
				 _("commit %s: photo %s: its content has sha256 %s, not its name"),
				 f->commit, f->path, sha);
	return 0;
}

/* roster/<event-id>.json: signed roster changes (signatures issue). */
static bool roster_id(const char *p, char id[96])
{
	int n = 0;
	size_t len;
	if (sscanf(p, "roster/%95[^/]%n", id, &n) != 1 || p[n] || (len = strlen(id)) < 6 ||
	    strcmp(id + len - 5, ".json") != 0)
		return false;
	id[len - 5] = '\0';
	return true;
}

static bool is_roster(const char *p)
{
	char id[96];
	return roster_id(p, id);
}

static int check_roster(added_file *f)
{
	char id[96];
	json_t *ev;
	roster_id(f->path, id);
	if (event_parse(f->data, f->len, f->path, &ev) != 0)
		return fail_in_commit(ERR_CONFLICT, f->commit);
	bool ok = strcmp(event_str(ev, "id"), id) == 0 &&
		  strncmp(event_str(ev, "type"), "roster.", 7) == 0;
	json_decref(ev);
	if (!ok)
		return error_set(ERR_CONFLICT,
				 _("commit %s: %s: not a roster change with the id of its file name"),
				 f->commit, f->path);
	return 0;
}

static bool is_roster_signature(const char *p)
{
	size_t n = strlen(p);
	char base[512];
	if (n < 5 || n >= sizeof base || strcmp(p + n - 4, ".sig") != 0)
		return false;
	snprintf(base, sizeof base, "%.*s", (int)(n - 4), p);
	return is_roster(base);
}

static const struct {
	path_match_fn match;
	file_check_fn check;
} layout[] = {
	{is_marker, check_marker},
	{is_form, check_form},
	{is_event, check_event},
	{is_signature, check_signature},
	{is_photo, check_photo},
	{is_roster, check_roster},
	{is_roster_signature, check_signature},
};

static int check_layout(added_file *f)
{
	for (size_t i = 0; i < sizeof layout / sizeof *layout; i++)
		if (layout[i].match(f->path))
			return layout[i].check(f);
	return error_set(ERR_CONFLICT,
			 _("commit %s adds %s, which is outside the ledger layout"), f->commit, f->path);
}

/* payload: the hub's signature check (audit_pusher), or NULL on a device.
 * Both checks in one walk: each file is read and parsed once. */
static int check_added(const char *commit, time_t when, const char *path, const char *data,
		       size_t len, void *payload)
{
	added_file f = {commit, path, data, len, NULL};
	int rc = check_layout(&f);
	if (rc == 0 && payload)
		rc = audit_push_file(payload, commit, path, f.ev, data, len);
	json_decref(f.ev);
	return rc;
}

/* --- merge commits must be exact unions of their parents ---------------- */

struct merge_check {
	git_tree *parents[MAX_PARENTS];
	unsigned n, self;
	const char *hex;
};

static bool parent_has(struct merge_check *m, const char *path, const git_oid *id)
{
	for (unsigned j = 0; j < m->n; j++) {
		git_tree_entry *e = NULL;
		if (j == m->self || git_tree_entry_bypath(&e, m->parents[j], path) != 0)
			continue;
		bool same = git_oid_equal(git_tree_entry_id(e), id);
		git_tree_entry_free(e);
		if (same)
			return true;
	}
	return false;
}

/* ledger_merge_added: a file the merge adds to one parent's tree must be
 * another parent's. */
static int merge_added_file(const char *path, const char *blob, void *payload)
{
	struct merge_check *m = payload;
	git_oid id;
	if (git_oid_fromstr(&id, blob) == 0 && parent_has(m, path, &id))
		return 0;
	return error_set(ERR_CONFLICT,
			 _("merge commit %s adds %s, which none of its parents holds: "
			   "a merge may only join its parents"), m->hex, path);
}

/* ledger_walk_more.merge: checked on a validation walk's own thread, so
 * the history is walked once. */
static int check_merge_commit(ledger *l, git_commit *c, ledger_walk_more *more)
{
	struct merge_check m = {.n = git_commit_parentcount(c)};
	char hex[41];
	int rc = 0;
	git_oid_tostr(hex, sizeof hex, git_commit_id(c));
	m.hex = hex;
	if (m.n > MAX_PARENTS)
		return error_set(ERR_CONFLICT, _("merge commit %s has %u parents"), hex, m.n);
	for (unsigned i = 0; i < m.n && rc == 0; i++) {
		git_commit *pc = NULL;
		if (git_commit_parent(&pc, c, i) < 0 || git_commit_tree(&m.parents[i], pc) < 0)
			rc = git_fail(hex);
		git_commit_free(pc);
	}
	for (m.self = 0; m.self < m.n && rc == 0; m.self++)
		rc = ledger_merge_added(l, hex, m.self, merge_added_file, &m, more);
	for (unsigned i = 0; i < m.n; i++)
		git_tree_free(m.parents[i]);
	return rc;
}

/* A new device's first fetch from a path hub: the hub's history, validated
 * from the hub's own packs while they are indexed into our ledger
 * (packcopy_options.meanwhile).  libgit2 checks the hash of every object
 * this walk reads (no LEDGER_WALK_TRUSTED), and our indexer hashes the same
 * objects on their way in: an id names one content, so what is validated
 * here is what lands in our ledger. */
struct hub_check {
	const char *path;
	char tip[41];
	bool done;    /* validated: integrate need not walk it again */
	bool refused; /* the history is not valid: a refusal, not a failed transfer */
	fbindex *ix;  /* our index, built in the same walk (index_intake) */
	index_intake *intake;
	int commits;  /* in the validated history */
};

/* Each file that passes validation goes on to the index, with the event
 * parsed from it (check_event). */
static int check_and_take(const char *commit, time_t when, const char *path, const char *data,
			  size_t len, void *payload)
{
	struct hub_check *h = payload;
	added_file f = {commit, path, data, len, NULL};
	int rc = check_layout(&f);
	if (rc == 0 && h->intake) {
		json_t *ev = f.ev; /* the intake's now */
		f.ev = NULL;
		if (index_intake_file(h->intake, commit, when, path, data, len, ev))
			error_clear(); /* the intake stopped: the index is built after, as usual */
	}
	json_decref(f.ev);
	return rc;
}

static int validate_hub(void *payload, packcopy_seen_cb seen, void *seen_payload)
{
	struct hub_check *h = payload;
	ledger *hub = NULL;
	if (ledger_open(&hub, h->path) != 0) {
		error_clear(); /* validated later, from our ledger, as usual */
		return 0;
	}
	if (h->ix && index_intake_start(&h->intake, h->ix, hub, h->tip) != 0)
		error_clear(); /* indexed after, as usual */
	ledger_walk_more more = {.merge = check_merge_commit, .seen = seen, .payload = seen_payload};
	int rc = walkpipe_run(hub, "", h->tip, 0, NULL, check_and_take, h, &more);
	index_intake_end(h->intake, rc);
	h->commits = more.commits;
	if (rc == ERR_GIT) /* not a verdict on the history: the hub's files cannot be read */
		error_prefix(rc, _("%s: the hub's objects are damaged"), h->path);
	ledger_free(hub);
	h->done = rc == 0;
	h->refused = rc != 0;
	return rc;
}

/* Every object these walks read got its id from content hashed here:
 * packs that arrive go through an indexer (ours, libgit2's or git's
 * index-pack on a hub), loose objects from a hub are read back hash-checked
 * before they are taken, and a path hub links only the pusher's own files
 * (packcopy.h).  So they skip libgit2's second hash of each object. */
int sync_validate(ledger *l, const char *base, const char *tip)
{
	ledger_walk_more more = {.merge = check_merge_commit};
	return walkpipe_run(l, base, tip, LEDGER_WALK_TRUSTED, NULL, check_added, NULL, &more);
}

/* --- counting what moved ------------------------------------------------- */

struct counts {
	int events;
	json_t *cases; /* may be NULL */
};

/* Event files of tree b that tree a (NULL: none) lacks, descending only
 * where the ids differ: a subtree both hold costs nothing. */
static int count_tree(git_repository *repo, const git_tree *a, const git_tree *b,
		      const char *prefix, struct counts *c)
{
	int rc = 0;
	for (size_t i = 0, n = git_tree_entrycount(b); rc == 0 && i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(b, i);
		const git_tree_entry *o = a ? git_tree_entry_byname(a, git_tree_entry_name(e)) : NULL;
		char path[1024], case_id[96], event_id[96];
		if (o && git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(e)))
			continue;
		snprintf(path, sizeof path, "%s%s", prefix, git_tree_entry_name(e));
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
			if (!o && event_path_parse(path, case_id, event_id)) {
				c->events++;
				if (c->cases)
					json_object_set_new(c->cases, case_id, json_true());
			}
			continue;
		}
		git_tree *sa = NULL, *sb = NULL;
		if (git_tree_lookup(&sb, repo, git_tree_entry_id(e)) < 0 ||
		    (o && git_tree_entry_type(o) == GIT_OBJECT_TREE &&
		     git_tree_lookup(&sa, repo, git_tree_entry_id(o)) < 0))
			rc = -1;
		char sub[1040];
		snprintf(sub, sizeof sub, "%s/", path);
		if (rc == 0)
			rc = count_tree(repo, sa, sb, sub, c);
		git_tree_free(sa);
		git_tree_free(sb);
	}
	return rc;
}

static int commit_tree(git_repository *repo, const git_oid *id, git_tree **out)
{
	git_commit *c = NULL;
	*out = NULL;
	if (!id)
		return 0;
	int rc = git_commit_lookup(&c, repo, id) < 0 || git_commit_tree(out, c) < 0 ? -1 : 0;
	git_commit_free(c);
	return rc;
}

/* Event files in `to` and not in `from` (NULL = empty). */
static int count_events(git_repository *repo, const git_oid *from, const git_oid *to,
			struct counts *c)
{
	git_tree *a = NULL, *b = NULL;
	int rc = 0;
	if (commit_tree(repo, from, &a) < 0 || commit_tree(repo, to, &b) < 0 ||
	    count_tree(repo, a, b, "", c) < 0)
		rc = git_fail(_("comparing ledger trees"));
	git_tree_free(a);
	git_tree_free(b);
	return rc;
}

/* --- union merge --------------------------------------------------------- */

/* The same name with other content on both sides: tampering or a bug. */
static int union_conflict(const char *path, const git_tree_entry *ours,
			  const git_tree_entry *theirs, const char *label)
{
	char a[13], b[13];
	git_oid_tostr(a, sizeof a, git_tree_entry_id(ours));
	git_oid_tostr(b, sizeof b, git_tree_entry_id(theirs));
	return error_set(ERR_CONFLICT,
			 _("%s differs between this ledger (blob %s) and %s (blob %s): the same "
			   "path with other content is tampering or a bug; nothing was changed"),
			 path, a, label, b);
}

/* ours + what only theirs holds, tree by tree: an entry only one side has
 * is taken whole (a subtree by its id), an entry both hold once, and only
 * subtrees that differ on the two sides are joined and written anew.
 * `base` is the same directory where the two histories forked (NULL: not
 * known): a side that has not changed it since adds nothing to the
 * other, whose version is taken without reading either (both histories
 * only add: sync validated theirs), and the old side, mostly packed, is
 * not searched for in the pack index. */
static int union_tree(git_repository *repo, const git_tree *ours, const git_tree *theirs,
		      const git_tree *base, const char *prefix, const char *label, git_oid *out)
{
	git_treebuilder *tb = NULL;
	int rc = 0;
	if (git_treebuilder_new(&tb, repo, ours) < 0)
		return git_fail(_("writing the merged tree"));
	for (size_t i = 0, n = git_tree_entrycount(theirs); rc == 0 && i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(theirs, i);
		const char *name = git_tree_entry_name(e);
		const git_tree_entry *o = git_tree_entry_byname(ours, name);
		char path[1024];
		git_oid sub;
		snprintf(path, sizeof path, "%s%s", prefix, name);
		if (o && git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(e)) &&
		    git_tree_entry_filemode(o) == git_tree_entry_filemode(e))
			continue;
		const git_tree_entry *b = base ? git_tree_entry_byname(base, name) : NULL;
		if (o && b && git_tree_entry_type(o) == GIT_OBJECT_TREE &&
		    git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			if (git_oid_equal(git_tree_entry_id(e), git_tree_entry_id(b)))
				continue; /* theirs added nothing here: ours stands */
			if (git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(b))) {
				if (git_treebuilder_insert(NULL, tb, name, git_tree_entry_id(e),
							   GIT_FILEMODE_TREE) < 0)
					rc = git_fail(_("writing the merged tree"));
				continue; /* ours added nothing here: theirs holds it all */
			}
		}
		if (!o) {
			if (git_treebuilder_insert(NULL, tb, name, git_tree_entry_id(e),
						   git_tree_entry_filemode(e)) < 0)
				rc = git_fail(_("writing the merged tree"));
			continue;
		}
		if (git_tree_entry_type(o) != GIT_OBJECT_TREE || git_tree_entry_type(e) != GIT_OBJECT_TREE) {
			rc = union_conflict(path, o, e, label);
			continue;
		}
		git_tree *sa = NULL, *sb = NULL, *sbase = ledger_subtree(repo, base, name);
		char sub_prefix[1040];
		snprintf(sub_prefix, sizeof sub_prefix, "%s/", path);
		if (git_tree_lookup(&sa, repo, git_tree_entry_id(o)) < 0 ||
		    git_tree_lookup(&sb, repo, git_tree_entry_id(e)) < 0)
			rc = git_fail(_("reading the ledger trees"));
		else if ((rc = union_tree(repo, sa, sb, sbase, sub_prefix, label, &sub)) == 0 &&
			 git_treebuilder_insert(NULL, tb, name, &sub, GIT_FILEMODE_TREE) < 0)
			rc = git_fail(_("writing the merged tree"));
		git_tree_free(sa);
		git_tree_free(sb);
		git_tree_free(sbase);
	}
	if (rc == 0 && git_treebuilder_write(out, tb) < 0)
		rc = git_fail(_("writing the merged tree"));
	git_treebuilder_free(tb);
	return rc;
}

static int merge_signature(workspace *ws, git_signature **sig)
{
	char email[256];
	snprintf(email, sizeof email, "%s@%s.fieldbook", ws->officer ? ws->officer : "device",
		 ws->unit ? ws->unit : "local");
	if (git_signature_new(sig, ws->name && *ws->name ? ws->name : "fieldbook", email,
			      (git_time_t)util_now(), 0) < 0 &&
	    git_signature_new(sig, "fieldbook", "fieldbook@localhost", (git_time_t)util_now(), 0) < 0)
		return git_fail(_("merge signature"));
	return 0;
}

/* Merge commits are signed like every other commit (namespace "git"). */
static int write_signed_merge(workspace *ws, const git_signature *sig, const char *msg,
			      const git_tree *tree, git_commit *ours, git_commit *theirs, git_oid *out)
{
	git_repository *repo = ledger_repository(ws->ledger);
	const git_commit *parents[2] = {ours, theirs};
	git_signature *committer = NULL;
	git_buf buf = {0};
	char *signature = NULL;
	int rc = ledger_committer(&committer, sig, parents, 2);
	if (rc)
		return rc;
	if (git_commit_create_buffer(&buf, repo, sig, committer, NULL, msg, tree, 2, parents) < 0)
		rc = git_fail(_("writing the merge commit"));
	else if ((rc = workspace_sign(ws, SIGN_NS_GIT, buf.ptr, buf.size, &signature)) == 0 &&
		 git_commit_create_with_signature(out, repo, buf.ptr, signature, "gpgsig") < 0)
		rc = git_fail(_("writing the merge commit"));
	free(signature);
	git_buf_dispose(&buf);
	git_signature_free(committer);
	return rc;
}

/* The tree where the histories of ours and theirs forked, when they are
 * two lines of commits above it (ledger_fork_point); NULL otherwise. */
static git_tree *fork_tree(ledger *l, git_commit *ours, git_commit *theirs)
{
	char a[41], b[41], f[41];
	git_oid id;
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_oid_tostr(a, sizeof a, git_commit_id(ours));
	git_oid_tostr(b, sizeof b, git_commit_id(theirs));
	if (ledger_fork_point(l, a, b, f) && git_oid_fromstr(&id, f) == 0 &&
	    git_commit_lookup(&c, ledger_repository(l), &id) == 0 && git_commit_tree(&t, c) < 0)
		t = NULL;
	git_commit_free(c);
	git_error_clear();
	return t;
}

static int make_merge(workspace *ws, git_commit *ours, git_commit *theirs, const char *label,
		      git_oid *out)
{
	git_repository *repo = ledger_repository(ws->ledger);
	git_tree *a = NULL, *b = NULL, *base = NULL, *merged = NULL;
	git_signature *sig = NULL;
	git_oid tree_id;
	char msg[1200];
	int rc;
	if (git_commit_tree(&a, ours) < 0 || git_commit_tree(&b, theirs) < 0) {
		rc = git_fail(_("reading the ledger trees"));
		goto done;
	}
	base = fork_tree(ws->ledger, ours, theirs);
	if ((rc = union_tree(repo, a, b, base, "", label, &tree_id)) || (rc = merge_signature(ws, &sig)))
		goto done;
	if (git_tree_lookup(&merged, repo, &tree_id) < 0) {
		rc = git_fail(_("writing the merged tree"));
		goto done;
	}
	snprintf(msg, sizeof msg, "sync: union merge with %s\n", label);
	rc = write_signed_merge(ws, sig, msg, merged, ours, theirs, out);
done:
	git_signature_free(sig);
	git_tree_free(merged);
	git_tree_free(a);
	git_tree_free(b);
	git_tree_free(base);
	return rc;
}

/* Is `d` `a` or a descendant of it?  ledger_is_ancestor looks at the
 * nearest parents first: libgit2's own walk stops by commit time and reads
 * the whole history when a device's clock was behind or ahead. */
static bool descends(ledger *l, const git_oid *d, const git_oid *a)
{
	char dh[41], ah[41];
	git_oid_tostr(dh, sizeof dh, d);
	git_oid_tostr(ah, sizeof ah, a);
	return ledger_is_ancestor(l, ah, dh);
}

/* One attempt to move our branch to include theirs.  1 = raced, retry. */
static int integrate_once(workspace *ws, const git_oid *tip, const char *label,
			  const git_oid *unseen_below, bool *validated, sync_summary *s,
			  git_oid *moved_from, git_oid *moved_to)
{
	git_repository *repo = ledger_repository(ws->ledger);
	git_commit *ours = NULL, *theirs = NULL;
	git_reference *ref = NULL;
	char head[41], tip_hex[41];
	git_oid head_id, new_id;
	int rc, r;
	git_oid_tostr(tip_hex, sizeof tip_hex, tip);
	if ((rc = ledger_head(ws->ledger, head)))
		return rc;
	if (git_commit_lookup(&theirs, repo, tip) < 0)
		return error_set(ERR_CONFLICT, _("%s: its head %s is not a commit we can read"), label,
				 tip_hex);
	if (head[0] && (git_oid_fromstr(&head_id, head) < 0 || git_commit_lookup(&ours, repo, &head_id) < 0)) {
		rc = git_fail(_("reading the ledger head"));
		goto done;
	}
	/* Nothing new?  Not when our head is still the one the fetch found and
	 * the ledger lacked the fetched head then: a commit's whole history
	 * is in the ledger that holds it (asking would read our nearest 256
	 * commits, each a search of the pack index). */
	bool unseen = ours && unseen_below && git_oid_equal(unseen_below, &head_id);
	if (ours && !unseen && descends(ws->ledger, &head_id, tip))
		goto done;
	if (!*validated) {
		if ((rc = sync_validate(ws->ledger, head, tip_hex)))
			goto done;
		*validated = true;
	}
	/* a ledger that has recorded nothing takes the hub's history as it is:
	 * no merge commit to sign, and nothing of ours is left behind */
	bool adopt = ours && ledger_is_bare_start(ws->ledger, head, tip_hex);
	if (!ours || adopt || descends(ws->ledger, tip, &head_id)) {
		new_id = *tip;
		s->fast_forward = true;
	} else if ((rc = make_merge(ws, ours, theirs, label, &new_id))) {
		goto done;
	} else {
		s->merged = true;
	}
	r = ours ? git_reference_create_matching(&ref, repo, LEDGER_REF, &new_id, 1, &head_id,
						 "fieldbook sync")
		 : git_reference_create(&ref, repo, LEDGER_REF, &new_id, 0, "fieldbook sync");
	if (r == GIT_EMODIFIED || r == GIT_ELOCKED || r == GIT_EEXISTS)
		rc = 1;
	else if (r < 0)
		rc = git_fail(_("moving the ledger branch"));
	else {
		if (ours && !adopt)
			*moved_from = head_id;
		*moved_to = new_id;
	}
done:
	git_reference_free(ref);
	git_commit_free(ours);
	git_commit_free(theirs);
	return rc;
}

/* What a fetch learned about the head it brought. */
typedef struct {
	const git_oid *unseen_below; /* the ledger lacked it while its head was this (NULL: unknown) */
	int commits;                 /* in its history, counted by its validation (0: not counted) */
} fetch_facts;

static int integrate(workspace *ws, const char *tip, const char *label, bool validated,
		     const fetch_facts *facts, sync_summary *s)
{
	const git_oid *unseen_below = facts ? facts->unseen_below : NULL;
	git_repository *repo = ledger_repository(ws->ledger);
	git_oid tip_id, from, to;
	bool has_from = false;
	int rc = 1;
	if (git_oid_fromstr(&tip_id, tip) < 0)
		return error_set(ERR_INVALID, _("not a commit id: %s"), tip);
	if (!s->old_head[0])
		ledger_head(ws->ledger, s->old_head);
	memset(&to, 0, sizeof to);
	if ((rc = ledger_lock(ws->ledger)))
		return rc;
	rc = 1;
	for (int i = 0; rc == 1 && i < CAS_TRIES; i++) {
		memset(&from, 0, sizeof from);
		rc = integrate_once(ws, &tip_id, label, unseen_below, &validated, s, &from, &to);
		if (rc == 1)
			sleep_ms(5 + i * 10);
	}
	ledger_unlock(ws->ledger);
	if (rc == 1)
		return error_set(ERR_CONFLICT, _("the ledger kept changing while merging %s; "
						 "nothing was changed, try again"), label);
	if (rc)
		return rc;
	if (!git_oid_is_zero(&to)) {
		has_from = !git_oid_is_zero(&from);
		struct counts c = {0, s->cases};
		/* the whole history, when the ledger took the hub's as it is */
		void *saved = has_from ? NULL : ledger_packs_first(repo);
		rc = count_events(repo, has_from ? &from : NULL, &to, &c);
		if (rc == 0 && !has_from && facts && facts->commits && git_oid_equal(&to, &tip_id))
			s->commits_received += facts->commits; /* the hub's history, taken as it is */
		else if (rc == 0)
			s->commits_received += ledger_count_range(ws->ledger, has_from ? &from : NULL, &to);
		ledger_read_restore(repo, saved);
		if (rc)
			return rc;
		s->events_received += c.events;
	}
	ledger_head(ws->ledger, s->new_head);
	return 0;
}

int sync_integrate(workspace *ws, const char *tip, const char *label, sync_summary *s)
{
	int rc = integrate(ws, tip, label, false, NULL, s);
	return rc ? rc : index_sync(ws->index, ws->ledger);
}

/* --- remotes -------------------------------------------------------------- */

/* Remotes are read from the config directly: libgit2 1.5's regex matching
 * (git_remote_list, insteadOf rewriting in git_remote_lookup/create) leaks
 * pcre2 match data for every config entry that does not match. */

/* Every "remote.<name>.url" as [{name, url}] (new reference). */
static int remotes_read(git_repository *repo, json_t **out)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	if (git_repository_config_snapshot(&cfg, repo) < 0 || git_config_iterator_new(&it, cfg) < 0) {
		git_config_free(cfg);
		return git_fail(_("reading remotes"));
	}
	json_t *arr = json_array();
	while (git_config_next(&e, it) == 0) {
		size_t n = strlen(e->name);
		if (strncmp(e->name, "remote.", 7) != 0 || n < 12 || strcmp(e->name + n - 4, ".url") != 0)
			continue;
		char name[128];
		snprintf(name, sizeof name, "%.*s", (int)(n - 11), e->name + 7);
		json_array_append_new(arr, json_pack("{s:s, s:s}", "name", name, "url", e->value));
	}
	git_config_iterator_free(it);
	git_config_free(cfg);
	*out = arr;
	return 0;
}

/* URL of a named remote into url, or ERR_NOTFOUND. */
static int remote_url(git_repository *repo, const char *name, char *url, size_t size)
{
	json_t *list, *r;
	size_t i;
	int rc = remotes_read(repo, &list);
	if (rc)
		return rc;
	rc = ERR_NOTFOUND;
	json_array_foreach(list, i, r)
		if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0) {
			copy_str(url, size, json_string_value(json_object_get(r, "url")));
			rc = 0;
		}
	json_decref(list);
	return rc;
}

static int open_remote(git_remote **out, git_repository *repo, const char *name,
		       const char *url, const char *fetchspec)
{
	git_remote_create_options o;
	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = repo;
	o.name = name;
	o.fetchspec = fetchspec;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
		  (fetchspec ? 0 : GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC);
	return git_remote_create_with_opts(out, url, &o);
}

int sync_remote_add(ledger *l, const char *name, const char *url)
{
	git_repository *repo = ledger_repository(l);
	git_remote *r = NULL;
	char spec[300], old[1024];
	if (!remote_name_ok(name) || strlen(name) > 100)
		return error_set(ERR_INVALID, _("not a usable remote name: %s"), name);
	if (remote_url(repo, name, old, sizeof old) == 0)
		return error_set(ERR_EXISTS, _("a remote named %s already exists (%s)"), name, old);
	snprintf(spec, sizeof spec, "+refs/heads/main:refs/remotes/%s/main", name);
	int rc = open_remote(&r, repo, name, url, spec);
	git_remote_free(r);
	return rc < 0 ? git_fail(name) : 0;
}

int sync_remote_remove(ledger *l, const char *name)
{
	git_repository *repo = ledger_repository(l);
	git_config *cfg = NULL;
	git_reference *ref = NULL;
	char key[200], url[1024];
	int rc = 0;
	if (!remote_name_ok(name) || strlen(name) > 100 || remote_url(repo, name, url, sizeof url))
		return error_set(ERR_NOTFOUND, _("no remote named %s"), name);
	if (git_repository_config(&cfg, repo) < 0)
		return git_fail(name);
	snprintf(key, sizeof key, "remote.%s.url", name);
	if (git_config_delete_entry(cfg, key) < 0)
		rc = git_fail(name);
	snprintf(key, sizeof key, "remote.%s.fetch", name);
	git_config_delete_multivar(cfg, key, ".*"); /* matches all: no leak */
	git_config_free(cfg);
	snprintf(key, sizeof key, "refs/remotes/%s/main", name);
	if (git_reference_lookup(&ref, repo, key) == 0)
		git_reference_delete(ref);
	git_reference_free(ref);
	return rc;
}

int sync_remote_list(ledger *l, json_t **out)
{
	return remotes_read(ledger_repository(l), out);
}

/* --- targets ---------------------------------------------------------------- */

typedef struct {
	char name[128];
	char url[1024];
	char path[PATH_MAX]; /* set when the hub is a local directory */
	char track[256];     /* our record of the hub's head */
} target;

static bool looks_like_url(const char *s)
{
	return strstr(s, "://") || (s[0] != '/' && s[0] != '.' && strchr(s, ':'));
}

static void set_path(target *t)
{
	const char *u = t->url;
	if (strncmp(u, "file://", 7) == 0)
		u += 7;
	else if (looks_like_url(u))
		return;
	if (!realpath(u, t->path))
		snprintf(t->path, sizeof t->path, "%s", u);
}

static int default_remote(git_repository *repo, char *name, size_t size)
{
	json_t *list, *r;
	size_t i;
	int rc = remotes_read(repo, &list);
	if (rc)
		return rc;
	const char *pick = NULL;
	json_array_foreach(list, i, r) {
		const char *n = json_string_value(json_object_get(r, "name"));
		if (json_array_size(list) == 1 || strcmp(n, "origin") == 0 || strcmp(n, "hub") == 0)
			pick = pick ? pick : n;
	}
	if (pick)
		snprintf(name, size, "%s", pick);
	json_decref(list);
	if (!pick)
		return error_set(ERR_NOTFOUND,
				 _("no hub given and no single remote (or \"origin\"/\"hub\"): use "
				   "'fieldbook remote add NAME URL' or 'fieldbook sync PATH|URL'"));
	return 0;
}

static int resolve_target(git_repository *repo, const char *arg, target *t)
{
	char picked[128];
	int rc;
	memset(t, 0, sizeof *t);
	if (!arg) {
		if ((rc = default_remote(repo, picked, sizeof picked)))
			return rc;
		arg = picked;
	}
	if (remote_name_ok(arg) && remote_url(repo, arg, t->url, sizeof t->url) == 0) {
		snprintf(t->name, sizeof t->name, "%s", arg);
	} else if (looks_like_url(arg) || util_is_dir(arg)) {
		t->name[0] = '\0';
		snprintf(t->url, sizeof t->url, "%s", arg);
	} else {
		return error_set(ERR_NOTFOUND,
				 _("\"%s\" is neither a remote (see 'fieldbook remote list'), a hub "
				   "directory nor a URL"), arg);
	}
	set_path(t);
	if (t->path[0] && !util_is_dir(t->path))
		return error_set(ERR_NOTFOUND, _("no hub at %s: create one with sync/hub-init %s"),
				 t->path, t->path);
	if (t->path[0])
		copy_str(t->url, sizeof t->url, t->path);
	if (t->name[0]) {
		snprintf(t->track, sizeof t->track, "refs/remotes/%s/main", t->name);
	} else {
		git_oid h;
		char hex[41];
		git_odb_hash(&h, t->url, strlen(t->url), GIT_OBJECT_BLOB);
		git_oid_tostr(hex, sizeof hex, &h);
		snprintf(t->track, sizeof t->track, "refs/fieldbook/hubs/%s/main", hex);
	}
	return 0;
}

/* --- transport callbacks ------------------------------------------------------ */

typedef struct {
	const sync_options *o;
	sync_progress p;
	char remote_msg[1024];
	size_t msg_len;
	char ref_status[512];
	bool refused, capture; /* capture: keep the hub's messages (push) */
	const char *stage;     /* "fetch" or "push": progress of a path hub's copy */
	bool first;            /* the ledger is at its bare start: a first fetch */
	bool validated;        /* the fetched head's history was validated (validate_hub) */
	bool tip_new;          /* the ledger lacked the fetched head before this fetch... */
	git_oid head_before;   /* ... when its head was this (zero: none) */
	bool invalid;          /* ... and refused */
	fbindex *ix;           /* a first fetch indexes the hub's history as it validates it... */
	index_intake *intake;  /* ... into this, kept or dropped once the rounds are over */
	int tip_commits;       /* commits in the fetched head's history, when validated (0: not counted) */
	char cert_msg[768];
	int cred_tries;
} xfer;

static void report(xfer *x, const char *stage, size_t done, size_t total, size_t bytes)
{
	if (!x->o || !x->o->progress)
		return;
	x->p = (sync_progress){stage, done, total, bytes};
	x->o->progress(&x->p, x->o->payload);
}

static int on_transfer(const git_indexer_progress *st, void *payload)
{
	report(payload, "fetch", st->received_objects, st->total_objects, st->received_bytes);
	return 0;
}

static int on_push_transfer(unsigned current, unsigned total, size_t bytes, void *payload)
{
	report(payload, "push", current, total, bytes);
	return 0;
}

static int on_pack(int stage, uint32_t current, uint32_t total, void *payload)
{
	report(payload, "pack", current, total, 0);
	return 0;
}

static void on_packcopy(size_t done, size_t total, size_t bytes, void *payload)
{
	xfer *x = payload;
	report(x, x->stage, done, total, bytes);
}

static int on_sideband(const char *str, int len, void *payload)
{
	xfer *x = payload;
	if (!x->capture)
		return 0;
	size_t room = sizeof x->remote_msg - 1 - x->msg_len;
	size_t n = (size_t)len < room ? (size_t)len : room;
	memcpy(x->remote_msg + x->msg_len, str, n);
	x->msg_len += n;
	x->remote_msg[x->msg_len] = '\0';
	return 0;
}

static int on_ref_update(const char *refname, const char *status, void *payload)
{
	xfer *x = payload;
	if (status) {
		x->refused = true;
		snprintf(x->ref_status, sizeof x->ref_status, "%s: %s", refname, status);
	}
	return 0;
}

static void ssh_fingerprint(git_cert *cert, char *out, size_t size)
{
	git_cert_hostkey *hk = (git_cert_hostkey *)cert;
	snprintf(out, size, "?");
	if (hk->type & GIT_CERT_SSH_SHA256) {
		char b64[64];
		sodium_bin2base64(b64, sizeof b64, hk->hash_sha256, 32,
				  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
		snprintf(out, size, "SHA256:%s", b64);
	}
}

static int on_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	xfer *x = payload;
	char fp[80];
	if (valid)
		return 0;
	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
		ssh_fingerprint(cert, fp, sizeof fp);
		snprintf(x->cert_msg, sizeof x->cert_msg,
			 _("the ssh host key of %s (%s) is not in ~/.ssh/known_hosts or does not "
			   "match the key recorded there: not connecting.  Check the fingerprint with "
			   "the hub's administrator, then record it (ssh-keyscan HOST >> "
			   "~/.ssh/known_hosts; for a changed key first ssh-keygen -R HOST)"),
			 host, fp);
	} else {
		snprintf(x->cert_msg, sizeof x->cert_msg,
			 _("the TLS certificate of %s is not trusted: not connecting"), host);
	}
	return GIT_ECERTIFICATE;
}

static int ssh_key_credential(git_credential **out, const char *user, int n)
{
	char pub[PATH_MAX + 8], key[PATH_MAX];
	const char *home = getenv("HOME"), *given = getenv("FIELDBOOK_SSH_KEY");
	static const char *names[] = {"id_ed25519", "id_ecdsa", "id_rsa"};
	int k = 0;
	if (given && *given && k++ == n) {
		snprintf(pub, sizeof pub, "%s.pub", given);
		return git_credential_ssh_key_new(out, user, util_is_file(pub) ? pub : NULL, given, NULL);
	}
	for (size_t i = 0; home && i < sizeof names / sizeof *names; i++) {
		snprintf(key, sizeof key, "%s/.ssh/%s", home, names[i]);
		snprintf(pub, sizeof pub, "%s.pub", key);
		if (util_is_file(key) && k++ == n)
			return git_credential_ssh_key_new(out, user, util_is_file(pub) ? pub : NULL, key, NULL);
	}
	return 1; /* no more keys */
}

static int on_credentials(git_credential **out, const char *url, const char *user_from_url,
			  unsigned int allowed, void *payload)
{
	xfer *x = payload;
	const char *user = user_from_url && *user_from_url ? user_from_url : getenv("USER");
	int n = x->cred_tries++;
	if (!user || !*user)
		user = "git";
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		bool agent = getenv("SSH_AUTH_SOCK") != NULL;
		if (agent && n == 0)
			return git_credential_ssh_key_from_agent(out, user);
		if (ssh_key_credential(out, user, n - agent) == 0)
			return 0;
	}
	const char *hu = getenv("FIELDBOOK_HUB_USER"), *hp = getenv("FIELDBOOK_HUB_PASSWORD");
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && hu && hp && n == 0)
		return git_credential_userpass_plaintext_new(out, hu, hp);
	snprintf(x->cert_msg, sizeof x->cert_msg,
		 _("could not authenticate to %s: tried the ssh agent and ~/.ssh/id_* "
		   "(FIELDBOOK_SSH_KEY names another key; FIELDBOOK_HUB_USER and "
		   "FIELDBOOK_HUB_PASSWORD for https)"), url);
	return GIT_EUSER;
}

/* Callbacks for one connection (credential attempts start over). */
static git_remote_callbacks callbacks(xfer *x)
{
	git_remote_callbacks cb;
	x->cred_tries = 0;
	x->cert_msg[0] = '\0';
	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb.sideband_progress = on_sideband;
	cb.credentials = on_credentials;
	cb.certificate_check = on_certificate;
	cb.transfer_progress = on_transfer;
	cb.pack_progress = on_pack;
	cb.push_transfer_progress = on_push_transfer;
	cb.push_update_reference = on_ref_update;
	cb.payload = x;
	return cb;
}

static int net_fail(xfer *x, const char *what, const char *url)
{
	if (x->cert_msg[0])
		return error_set(ERR_GIT, "%s", x->cert_msg);
	const git_error *e = git_error_last();
	return error_set(ERR_GIT, _("%s %s: %s"), what, url,
			 e && e->message ? e->message : "libgit2 error");
}

/* --- fetch ---------------------------------------------------------------------- */

static int find_main(git_remote *r, git_oid *out)
{
	const git_remote_head **heads;
	size_t n;
	if (git_remote_ls(&heads, &n, r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(heads[i]->name, LEDGER_REF) == 0) {
			*out = heads[i]->oid;
			return 1;
		}
	return 0;
}

/* A path hub's objects are taken as the files they are instead of having
 * libgit2 repack them (packcopy.h).  1: done (*hub set), 0: empty hub,
 * 2: not a repository we can open here: use the ordinary transport. */
static int fetch_path(git_repository *repo, const target *t, xfer *x, git_oid *hub)
{
	git_repository *h = NULL;
	git_odb *odb = NULL;
	int rc;
	if (git_repository_open_ext(&h, t->path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		git_error_clear();
		return 2;
	}
	/* the hub's loose objects are read through loose.c (ledger.c: libgit2
	 * 1.5 hangs on one cut short); a new device reads the hub's whole
	 * history, packs first, as libgit2 does */
	if (ledger_read_order(h, !x->first) != 0) {
		rc = error_code();
		git_repository_free(h);
		return rc;
	}
	int r = git_reference_name_to_id(hub, h, LEDGER_REF);
	if (r == GIT_ENOTFOUND)
		rc = 0;
	else if (r < 0)
		rc = net_fail(x, _("fetching from"), t->url);
	else if (git_repository_odb(&odb, repo) < 0)
		rc = git_fail(_("opening the ledger"));
	else if (git_odb_exists(odb, hub))
		rc = 1;
	else {
		struct hub_check hc = {.path = t->path, .ix = x->intake ? NULL : x->ix};
		x->tip_new = true;
		git_oid_tostr(hc.tip, sizeof hc.tip, hub);
		packcopy_options po = {on_packcopy, x, false, x->first, validate_hub, &hc};
		x->stage = "fetch";
		rc = packcopy_run(h, repo, hub, &po);
		x->validated = rc == 0 && hc.done;
		x->invalid = hc.refused;
		x->tip_commits = x->validated ? hc.commits : 0;
		if (hc.intake)
			x->intake = hc.intake;
		rc = rc ? rc : 1;
	}
	git_odb_free(odb);
	git_repository_free(h);
	return rc;
}

/* Hub head into *hub (1) or 0 when the hub is empty. */
static int fetch(git_repository *repo, const target *t, xfer *x, git_oid *hub)
{
	git_remote *r = NULL;
	git_odb *odb = NULL;
	git_remote_callbacks cb = callbacks(x);
	char *spec = "refs/heads/main";
	git_strarray specs = {&spec, 1};
	int found, rc = 0;
	if (t->path[0] && (rc = fetch_path(repo, t, x, hub)) != 2)
		return rc;
	rc = 0;
	if (open_remote(&r, repo, NULL, t->url, NULL) < 0 ||
	    git_remote_connect(r, GIT_DIRECTION_FETCH, &cb, NULL, NULL) < 0 ||
	    (found = find_main(r, hub)) < 0) {
		rc = net_fail(x, _("connecting to"), t->url);
		goto done;
	}
	if (found && git_repository_odb(&odb, repo) == 0 && !git_odb_exists(odb, hub)) {
		x->tip_new = true;
		git_fetch_options fo;
		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.callbacks = cb;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		if (git_remote_download(r, &specs, &fo) < 0)
			rc = net_fail(x, _("fetching from"), t->url);
	}
	rc = rc ? rc : found;
done:
	if (r)
		git_remote_disconnect(r);
	git_odb_free(odb);
	git_remote_free(r);
	return rc;
}

/* --- push ------------------------------------------------------------------------ */

/* PUSH_RACE: someone pushed first, fetch and retry.  A refusal for any
 * other reason is final: negative, with x->refused set. */
enum { PUSH_OK = 0, PUSH_RACE = 1 };

static bool race_status(const char *status)
{
	static const char *race[] = {"non-fast-forward", "fetch first", "lock", "failed to update",
				     "stale info"};
	for (size_t i = 0; i < sizeof race / sizeof *race; i++)
		if (strstr(status, race[i]))
			return true;
	return false;
}

static int push_net(git_repository *repo, const target *t, xfer *x)
{
	git_remote *r = NULL;
	git_push_options po;
	char *spec = "refs/heads/main:refs/heads/main";
	git_strarray specs = {&spec, 1};
	int rc = PUSH_OK;
	x->refused = false;
	x->msg_len = 0;
	x->remote_msg[0] = x->ref_status[0] = '\0';
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	po.callbacks = callbacks(x);
	if (open_remote(&r, repo, NULL, t->url, NULL) < 0)
		return net_fail(x, _("pushing to"), t->url);
	x->capture = true;
	int r2 = git_remote_push(r, &specs, &po);
	x->capture = false;
	if (r2 == GIT_ENONFASTFORWARD) {
		snprintf(x->ref_status, sizeof x->ref_status, _("%s: the hub moved (non-fast-forward)"),
			 LEDGER_REF);
		rc = PUSH_RACE;
	} else if (r2 < 0) {
		rc = net_fail(x, _("pushing to"), t->url);
	} else if (x->refused) { /* git_remote_push said 0, the ref status says no */
		rc = race_status(x->ref_status)
			     ? PUSH_RACE
			     : error_set(ERR_CONFLICT, "%s%s%s", x->ref_status,
					 x->remote_msg[0] ? "\n" : "", x->remote_msg);
	}
	git_remote_free(r);
	return rc;
}

static int hub_moved(xfer *x)
{
	snprintf(x->ref_status, sizeof x->ref_status,
		 _("%s: the hub moved while we pushed (someone pushed first)"), LEDGER_REF);
	return PUSH_RACE;
}

/* A local hub gets the checks its hook would run, then a compare-and-swap. */
static int push_path_checked(ledger *hub, git_repository *src, const git_oid *old,
			     const git_oid *new, xfer *x)
{
	git_repository *dst = ledger_repository(hub);
	git_reference *ref = NULL;
	git_oid cur;
	char old_hex[41] = "", new_hex[41];
	int r = git_reference_name_to_id(&cur, dst, LEDGER_REF);
	if (r < 0 && r != GIT_ENOTFOUND)
		return git_fail(_("reading the hub's head"));
	if ((r == GIT_ENOTFOUND) != (old == NULL) || (old && !git_oid_equal(&cur, old)))
		return hub_moved(x);
	packcopy_options po = {on_packcopy, x, true, false, NULL, NULL}; /* our own ledger */
	int rc = packcopy_run(src, dst, new, &po);
	if (rc)
		return rc;
	if (old)
		git_oid_tostr(old_hex, sizeof old_hex, old);
	git_oid_tostr(new_hex, sizeof new_hex, new);
	if ((rc = sync_hook_check(hub, old ? old_hex : "0000000000000000000000000000000000000000",
				  new_hex, LEDGER_REF))) {
		snprintf(x->ref_status, sizeof x->ref_status, "%s", error_last());
		x->refused = true;
		return rc;
	}
	r = old ? git_reference_create_matching(&ref, dst, LEDGER_REF, new, 1, old, "fieldbook sync")
		: git_reference_create(&ref, dst, LEDGER_REF, new, 0, "fieldbook sync");
	git_reference_free(ref);
	if (r == GIT_EMODIFIED || r == GIT_EEXISTS || r == GIT_ELOCKED)
		return hub_moved(x);
	return r < 0 ? git_fail(_("moving the hub's branch")) : PUSH_OK;
}

static int push_path(git_repository *src, const target *t, const git_oid *old, const git_oid *new,
		     xfer *x)
{
	ledger *hub;
	x->stage = "push";
	x->refused = false;
	x->ref_status[0] = '\0';
	if (ledger_open(&hub, t->path) != 0)
		return error_prefix(ERR_GIT, _("opening the hub %s"), t->path);
	int rc = push_path_checked(hub, src, old, new, x);
	ledger_free(hub);
	return rc;
}

/* --- the sync loop ------------------------------------------------------------------ */

static int check_rewrite(ledger *l, const target *t, const git_oid *hub)
{
	git_repository *repo = ledger_repository(l);
	git_oid seen;
	char a[41], b[41];
	if (git_reference_name_to_id(&seen, repo, t->track) < 0)
		return 0;
	if (hub && descends(l, hub, &seen))
		return 0;
	git_oid_tostr(a, sizeof a, &seen);
	if (!hub)
		return error_set(ERR_CONFLICT,
				 _("the hub %s has lost its history (%s is gone; we last saw %s there): "
				   "not syncing with it, nothing was changed"), t->url, LEDGER_REF, a);
	git_oid_tostr(b, sizeof b, hub);
	return error_set(ERR_CONFLICT,
			 _("the hub %s rewrote its history: its head %s does not contain %s, which "
			   "it held before; not syncing with it, nothing was changed"), t->url, b, a);
}

static void set_tracking(git_repository *repo, const target *t, const git_oid *id)
{
	git_reference *ref = NULL;
	if (git_reference_create(&ref, repo, t->track, id, 1, "fieldbook sync") == 0)
		git_reference_free(ref);
}

static int refuse(sync_summary *s, int code)
{
	s->refused = true;
	snprintf(s->reason, sizeof s->reason, "%s", error_last());
	return code;
}

static int push_once(workspace *ws, const target *t, const git_oid *hub, const git_oid *head,
		     xfer *x)
{
	git_repository *repo = ledger_repository(ws->ledger);
	return t->path[0] ? push_path(repo, t, hub, head, x) : push_net(repo, t, x);
}

static void count_sent(ledger *l, const git_oid *hub, const git_oid *head, sync_summary *s)
{
	struct counts c = {0, NULL};
	if (count_events(ledger_repository(l), hub, head, &c) == 0)
		s->events_sent += c.events;
	s->commits_sent += ledger_count_range(l, hub, head);
}

/* Full jitter: a random wait up to a limit that doubles, capped at 3 s. */
static long backoff_ms(int attempt)
{
	long limit = 50L << (attempt < 6 ? attempt : 6);
	if (limit > 3000)
		limit = 3000;
	return 10 + rand() % limit;
}

/* One round: fetch, integrate, push.  Returns 0 done, 1 retry, <0 error. */
static int round_once(workspace *ws, const target *t, const sync_options *o, xfer *x,
		      sync_summary *s)
{
	git_repository *repo = ledger_repository(ws->ledger);
	git_oid hub, head;
	char hub_hex[41] = "", head_hex[41];
	const char *label = t->name[0] ? t->name : t->url;
	x->first = ledger_at_start(ws->ledger);
	x->validated = x->invalid = x->tip_new = false;
	x->tip_commits = 0;
	memset(&x->head_before, 0, sizeof x->head_before);
	char before[41];
	if (ledger_head(ws->ledger, before) == 0 && before[0])
		git_oid_fromstr(&x->head_before, before);
	int found = fetch(repo, t, x, &hub), rc;
	fetch_facts facts = {x->tip_new ? &x->head_before : NULL, x->tip_commits};
	if (found < 0)
		return x->invalid ? refuse(s, found) : found;
	if (found)
		git_oid_tostr(hub_hex, sizeof hub_hex, &hub);
	snprintf(s->hub_head, sizeof s->hub_head, "%s", hub_hex);
	if ((rc = check_rewrite(ws->ledger, t, found ? &hub : NULL)) ||
	    (found && (rc = integrate(ws, hub_hex, label, x->validated, &facts, s))))
		return refuse(s, rc);
	if (found)
		set_tracking(repo, t, &hub);
	if ((rc = ledger_head(ws->ledger, head_hex)) || git_oid_fromstr(&head, head_hex) < 0)
		return rc ? rc : git_fail(_("reading the ledger head"));
	if (o->no_push || (found && git_oid_equal(&hub, &head)))
		return 0;
	rc = push_once(ws, t, found ? &hub : NULL, &head, x);
	if (rc == PUSH_OK) {
		s->pushed = true;
		count_sent(ws->ledger, found ? &hub : NULL, &head, s);
		snprintf(s->hub_head, sizeof s->hub_head, "%s", head_hex);
		set_tracking(repo, t, &head);
	}
	if (rc < 0 && x->refused) { /* the hub's checks said no: retrying cannot help */
		char msg[1024];
		copy_str(msg, sizeof msg, error_last());
		return refuse(s, error_set(ERR_CONFLICT, _("the hub refused our push: %s"), msg));
	}
	return rc;
}

static int run_rounds(workspace *ws, const target *t, const sync_options *o, sync_summary *s)
{
	xfer x = {.o = o, .ix = ws->index};
	int max = o->max_attempts > 0 ? o->max_attempts : DEFAULT_ATTEMPTS;
	int rc = 1;
	for (int attempt = 1; rc == 1; attempt++) {
		s->attempts = attempt;
		rc = round_once(ws, t, o, &x, s);
		if (rc == 1 && attempt == max)
			rc = refuse(s, error_set(ERR_CONFLICT,
						 _("the hub kept moving: gave up after %d attempts (%s); "
						   "what was merged is kept, sync again later"),
						 max, x.ref_status));
		else if (rc == 1)
			sleep_ms(backoff_ms(attempt));
	}
	index_intake_finish(x.intake, ws->ledger);
	return rc;
}

/* Devices sharing a path hub (USB stick, shared folder) take turns: an
 * advisory lock in the hub directory avoids wasted fetch-merge-push rounds.
 * Correctness never depends on it (the branch still moves by CAS); when it
 * cannot be had within LOCK_WAIT_MS we go on without it.  -1 = no lock. */
#define LOCK_WAIT_MS 60000

static int hub_lock(const target *t)
{
	char path[PATH_MAX + 32];
	if (!t->path[0])
		return -1;
	snprintf(path, sizeof path, "%s/fieldbook-sync.lock", t->path);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0664);
	if (fd < 0)
		return -1;
	for (long waited = 0; waited < LOCK_WAIT_MS; waited += 20) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		sleep_ms(20);
	}
	close(fd);
	return -1;
}

static void hub_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

int sync_run(workspace *ws, const char *arg, const sync_options *opts, sync_summary *s)
{
	git_repository *repo = ledger_repository(ws->ledger);
	sync_options none = {0};
	target t;
	int rc;
	static bool seeded;
	if (!seeded) {
		srand((unsigned)(time(NULL) ^ (getpid() << 8)));
		seeded = true;
	}
	if (!s->cases)
		s->cases = json_object();
	if ((rc = resolve_target(repo, arg, &t)) || (rc = ledger_pack_settings(ws->ledger)))
		return rc;
	snprintf(s->remote, sizeof s->remote, "%s", t.name);
	copy_str(s->url, sizeof s->url, t.url);
	ledger_head(ws->ledger, s->old_head);
	int lock = hub_lock(&t);
	rc = run_rounds(ws, &t, opts ? opts : &none, s);
	hub_unlock(lock);
	ledger_head(ws->ledger, s->new_head);
	int irc = index_sync(ws->index, ws->ledger);
	/* the hub now holds our head: nothing indexed is unsynced */
	if (rc == 0 && irc == 0 && !(opts && opts->no_push))
		irc = index_mark_synced(ws->index);
	return rc ? rc : irc;
}

/* --- summary ------------------------------------------------------------------------- */

void sync_summary_clear(sync_summary *s)
{
	if (!s)
		return;
	json_decref(s->cases);
	memset(s, 0, sizeof *s);
}

json_t *sync_summary_json(const sync_summary *s)
{
	json_t *cases = json_array();
	const char *k;
	json_t *v;
	if (s->cases)
		json_object_foreach(s->cases, k, v)
			json_array_append_new(cases, json_string(k));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:o, s:i, s:b, s:b, "
			 "s:b, s:b, s:s}",
			 "remote", s->remote, "url", s->url, "old_head", s->old_head, "new_head",
			 s->new_head, "hub_head", s->hub_head, "events_received", s->events_received,
			 "events_sent", s->events_sent, "commits_received", s->commits_received,
			 "commits_sent", s->commits_sent, "cases_changed", (int)json_array_size(cases),
			 "cases", cases, "attempts", s->attempts, "merged", s->merged,
			 "fast_forward", s->fast_forward, "pushed", s->pushed, "refused", s->refused,
			 "reason", s->reason);
}

/* --- hub side -------------------------------------------------------------------------- */

int sync_hook_open(ledger **out)
{
	const char *dir = getenv("GIT_DIR");
	const char *q = getenv("GIT_QUARANTINE_PATH");
	int rc = ledger_open(out, dir && *dir ? dir : ".");
	if (rc)
		return rc;
	if (!q || !*q)
		q = getenv("GIT_OBJECT_DIRECTORY");
	if (q && *q) {
		git_odb *odb = NULL;
		if (git_repository_odb(&odb, ledger_repository(*out)) < 0 ||
		    git_odb_add_disk_alternate(odb, q) < 0)
			rc = git_fail(q);
		git_odb_free(odb);
	}
	if (rc) {
		ledger_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Layout, merges, signatures and roles of base..tip in one walk, under the
 * hub's pinned trust root (git config fieldbook.trustRoot, pinned on the
 * first push that brings a roster). */
static int hub_validate(ledger *hub, const char *base, const char *tip)
{
	git_repository *repo = ledger_repository(hub);
	git_config *cfg = NULL;
	git_buf pinned = {0};
	audit_pusher *p = NULL;
	char root[200] = "";
	if (git_repository_config(&cfg, repo) < 0)
		return git_fail(_("reading the hub's config"));
	if (git_config_get_string_buf(&pinned, cfg, "fieldbook.trustRoot") < 0)
		git_error_clear();
	int rc = audit_push_open(hub, tip, pinned.size ? pinned.ptr : NULL, &p);
	ledger_walk_more more = {.merge = check_merge_commit};
	if (rc == 0)
		rc = walkpipe_run(hub, base, tip, LEDGER_WALK_TRUSTED, NULL, check_added, p, &more);
	int crc = audit_push_close(p, rc == 0, root, sizeof root);
	rc = rc ? rc : crc;
	if (rc == 0 && !pinned.size && root[0] && git_config_set_string(cfg, "fieldbook.trustRoot", root) < 0)
		rc = git_fail(_("pinning the hub's trust root"));
	git_buf_dispose(&pinned);
	git_config_free(cfg);
	return rc;
}

int sync_hook_check(ledger *hub, const char *old, const char *new, const char *ref)
{
	git_oid o, n;
	if (strcmp(ref, LEDGER_REF) != 0)
		return error_set(ERR_CONFLICT, _("%s: only %s can be pushed to a fieldbook hub"), ref,
				 LEDGER_REF);
	if (git_oid_fromstr(&o, old) < 0 || git_oid_fromstr(&n, new) < 0)
		return error_set(ERR_INVALID, _("%s: not a ref update: %s %s"), ref, old, new);
	if (git_oid_is_zero(&n))
		return error_set(ERR_CONFLICT, _("%s: deleting the ledger branch is not allowed"), ref);
	if (!git_oid_is_zero(&o) && !descends(hub, &n, &o))
		return error_set(ERR_CONFLICT,
				 _("%s: %s does not contain the hub's head %s: rewriting the ledger's "
				   "history is not allowed (force-push refused)"), ref, new, old);
	return hub_validate(hub, git_oid_is_zero(&o) ? "" : old, new);
}
