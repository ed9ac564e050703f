/*
 * packcopy: objects between local repositories without repacking.  See
 * packcopy.h.
 */
#include "packcopy.h"
#include "error.h"
#include "i18n.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();
	return error_set(ERR_GIT, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

/* --- a set of object ids (open addressing; the zero id marks a free slot) --- */

typedef struct {
	git_oid *slots;
	size_t cap, n; /* cap: a power of two */
} oidset;

static size_t slot_of(const oidset *s, const git_oid *id)
{
	uint64_t h;
	memcpy(&h, id->id, sizeof h); /* ids are uniformly distributed */
	size_t i = (size_t)h & (s->cap - 1);
	while (!git_oid_is_zero(&s->slots[i]) && !git_oid_equal(&s->slots[i], id))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int oidset_grow(oidset *s)
{
	oidset bigger = {calloc(s->cap ? s->cap * 2 : 4096, sizeof(git_oid)),
			 s->cap ? s->cap * 2 : 4096, s->n};
	if (!bigger.slots)
		return error_set(ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < s->cap; i++)
		if (!git_oid_is_zero(&s->slots[i]))
			bigger.slots[slot_of(&bigger, &s->slots[i])] = s->slots[i];
	free(s->slots);
	*s = bigger;
	return 0;
}

/* 1: added, 0: already there, <0: error. */
static int oidset_add(oidset *s, const git_oid *id)
{
	if ((s->n + 1) * 2 > s->cap && oidset_grow(s) < 0)
		return ERR_NOMEM;
	size_t i = slot_of(s, id);
	if (!git_oid_is_zero(&s->slots[i]))
		return 0;
	s->slots[i] = *id;
	s->n++;
	return 1;
}

static bool oidset_has(const oidset *s, const git_oid *id)
{
	return s->cap && !git_oid_is_zero(&s->slots[slot_of(s, id)]);
}

/* --- every object reachable from a commit ---------------------------------- */

static int reach_tree(git_repository *repo, const git_oid *id, oidset *seen)
{
	git_tree *t = NULL;
	int rc = oidset_add(seen, id);
	if (rc <= 0)
		return rc;
	if (git_tree_lookup(&t, repo, id) < 0)
		return git_fail(_("reading a tree"));
	size_t n = git_tree_entrycount(t);
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = reach_tree(repo, git_tree_entry_id(e), seen);
		else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB)
			rc = oidset_add(seen, git_tree_entry_id(e));
	}
	git_tree_free(t);
	return rc < 0 ? rc : 0;
}

static int reach_all(git_repository *repo, const git_oid *tip, oidset *seen)
{
	git_revwalk *w = NULL;
	git_oid id;
	int rc = 0;
	if (git_revwalk_new(&w, repo) < 0 || git_revwalk_push(w, tip) < 0) {
		git_revwalk_free(w);
		return git_fail(_("walking the history"));
	}
	while (rc == 0 && git_revwalk_next(&id, w) == 0) {
		git_commit *c = NULL;
		if ((rc = oidset_add(seen, &id)) < 0)
			break;
		if (git_commit_lookup(&c, repo, &id) < 0)
			rc = git_fail(_("reading a commit"));
		else
			rc = reach_tree(repo, git_commit_tree_id(c), seen);
		git_commit_free(c);
	}
	git_revwalk_free(w);
	return rc;
}

/* --- pack indexes ------------------------------------------------------------ */

#define IDX_HEAD (8 + 256 * 4) /* magic, version, fan-out table */

typedef struct {
	char *data; /* the whole .idx (version 2) */
	size_t len;
	uint32_t count;
} pack_index;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Object count from a version 2 index header; false for anything else. */
static bool idx_count(const unsigned char *head, size_t len, uint32_t *count)
{
	if (len < IDX_HEAD || memcmp(head, "\377tOc", 4) != 0 || be32(head + 4) != 2)
		return false;
	*count = be32(head + 8 + 255 * 4);
	return true;
}

static int idx_read(const char *path, pack_index *out)
{
	memset(out, 0, sizeof *out);
	int rc = util_read_file(path, &out->data, &out->len);
	if (rc)
		return rc;
	if (!idx_count((unsigned char *)out->data, out->len, &out->count) ||
	    out->len < IDX_HEAD + (size_t)out->count * GIT_OID_RAWSZ) {
		free(out->data);
		out->data = NULL;
		return error_set(ERR_INVALID, _("%s is not a pack index we can read"), path);
	}
	return 0;
}

static const unsigned char *idx_oid(const pack_index *x, uint32_t i)
{
	return (const unsigned char *)x->data + IDX_HEAD + (size_t)i * GIT_OID_RAWSZ;
}

static void pack_dir(git_repository *repo, char *out, size_t size)
{
	snprintf(out, size, "%sobjects/pack", git_repository_path(repo));
}

/* Objects in a repository's pack indexes (headers only). */
static size_t packed_objects(git_repository *repo)
{
	char dir[4096], path[4400];
	unsigned char head[IDX_HEAD];
	size_t total = 0;
	pack_dir(repo, dir, sizeof dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		uint32_t count;
		if (n < 5 || strcmp(e->d_name + n - 4, ".idx") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (f && fread(head, 1, sizeof head, f) == sizeof head &&
		    idx_count(head, sizeof head, &count))
			total += count;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return total;
}

bool packcopy_worth_it(git_repository *src, git_repository *dst)
{
	size_t s = packed_objects(src);
	return s > 0 && packed_objects(dst) * 2 < s;
}

/* --- taking one pack --------------------------------------------------------------- */

typedef struct {
	git_repository *src, *dst;
	git_odb *dst_odb;
	const packcopy_options *o;
	oidset reach;
	size_t done, total, bytes;
} copy_ctx;

static void progress(copy_ctx *c)
{
	if (c->o && c->o->progress)
		c->o->progress(c->done, c->total, c->bytes, c->o->payload);
}

/* A pack is taken when all its objects are reachable and dst lacks about
 * half of them or more: judged from an evenly spaced sample (a miss costs
 * a stat of a loose object path), since taking a pack whose objects dst
 * partly holds only wastes space. */
#define SAMPLE 256

static bool pack_wanted(copy_ctx *c, const pack_index *x)
{
	uint32_t step = x->count > SAMPLE ? x->count / SAMPLE : 1, sampled = 0, lacking = 0;
	for (uint32_t i = 0; i < x->count; i++) {
		git_oid id;
		git_oid_fromraw(&id, idx_oid(x, i));
		if (!oidset_has(&c->reach, &id))
			return false;
		if (i % step == 0) {
			sampled++;
			lacking += !git_odb_exists_ext(c->dst_odb, &id, GIT_ODB_LOOKUP_NO_REFRESH);
		}
	}
	return sampled > 0 && lacking * 2 >= sampled;
}

/* Copy a file (another file system): to a temporary name, flushed, renamed. */
static int copy_file(const char *from, const char *to)
{
	char tmp[4416], buf[1 << 16];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
	ssize_t n = 0;
	snprintf(tmp, sizeof tmp, "%s.tmp", to);
	if (in < 0 || (out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444)) < 0)
		rc = error_set(ERR_IO, "%s: %s", in < 0 ? from : tmp, strerror(errno));
	while (rc == 0 && (n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = error_set(ERR_IO, "%s: %s", tmp, strerror(errno));
	if (rc == 0 && (n < 0 || fsync(out) != 0 || rename(tmp, to) != 0))
		rc = error_set(ERR_IO, "%s: %s", to, strerror(errno));
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	if (rc)
		unlink(tmp);
	return rc;
}

static int link_or_copy(const char *from, const char *to)
{
	if (link(from, to) == 0 || errno == EEXIST)
		return 0; /* same name: same checksum, same pack */
	return copy_file(from, to);
}

/* Trusted sender: the .pack, then its .idx (which makes it visible). */
static int take_linked(copy_ctx *c, const char *src_dir, const char *base)
{
	char dir[4096], from[4400], to[4400];
	pack_dir(c->dst, dir, sizeof dir);
	const char *ext[] = {".pack", ".idx"};
	for (int i = 0; i < 2; i++) {
		snprintf(from, sizeof from, "%s/%s%s", src_dir, base, ext[i]);
		snprintf(to, sizeof to, "%s/%s%s", dir, base, ext[i]);
		int rc = link_or_copy(from, to);
		if (rc)
			return rc;
	}
	return 0;
}

static int on_index(const git_indexer_progress *st, void *payload)
{
	copy_ctx *c = payload;
	c->bytes = st->received_bytes;
	progress(c);
	return 0;
}

/* Untrusted sender: its pack bytes through our own indexer. */
static int take_indexed(copy_ctx *c, const char *src_dir, const char *base)
{
	char path[4400], buf[1 << 16];
	git_odb_writepack *wp = NULL;
	git_indexer_progress st = {0};
	size_t n;
	int rc = 0;
	snprintf(path, sizeof path, "%s/%s.pack", src_dir, base);
	FILE *f = fopen(path, "rb");
	if (!f)
		return error_set(ERR_IO, "%s: %s", path, strerror(errno));
	if (git_odb_write_pack(&wp, c->dst_odb, on_index, c) < 0)
		rc = git_fail(_("receiving objects"));
	while (rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
		if (wp->append(wp, buf, n, &st) < 0)
			rc = git_fail(path);
	if (rc == 0 && (ferror(f) || wp->commit(wp, &st) < 0))
		rc = ferror(f) ? error_set(ERR_IO, "%s: %s", path, strerror(errno)) : git_fail(path);
	if (wp)
		wp->free(wp);
	fclose(f);
	return rc;
}

static int take_pack(copy_ctx *c, const char *src_dir, const char *idx_name)
{
	char path[4400], base[256];
	pack_index x;
	snprintf(path, sizeof path, "%s/%s", src_dir, idx_name);
	snprintf(base, sizeof base, "%.*s", (int)(strlen(idx_name) - 4), idx_name);
	if (idx_read(path, &x) != 0) {
		error_clear(); /* not readable here: the packbuilder sends its objects */
		return 0;
	}
	int rc = 0;
	if (pack_wanted(c, &x)) {
		rc = c->o->trusted ? take_linked(c, src_dir, base) : take_indexed(c, src_dir, base);
		c->done += x.count;
		progress(c);
	}
	free(x.data);
	return rc;
}

static int take_packs(copy_ctx *c)
{
	char dir[4096];
	int rc = 0;
	pack_dir(c->src, dir, sizeof dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (rc == 0 && d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n > 4 && n < 250 && strcmp(e->d_name + n - 4, ".idx") == 0)
			rc = take_pack(c, dir, e->d_name);
	}
	if (d)
		closedir(d);
	return rc;
}

/* --- the rest through the packbuilder ------------------------------------------------ */

static int pack_append(void *buf, size_t size, void *payload)
{
	void **p = payload;
	git_odb_writepack *wp = p[0];
	return wp->append(wp, buf, size, p[1]);
}

int packcopy_send(git_packbuilder *pb, git_repository *dst, git_indexer_progress_cb cb,
		  void *payload)
{
	git_odb *odb = NULL;
	git_odb_writepack *wp = NULL;
	git_indexer_progress st = {0};
	void *p[2] = {NULL, &st};
	int rc = 0;
	if (git_repository_odb(&odb, dst) < 0 || git_odb_write_pack(&wp, odb, cb, payload) < 0)
		rc = git_fail(_("writing objects"));
	p[0] = wp;
	if (rc == 0 && (git_packbuilder_foreach(pb, pack_append, p) < 0 || wp->commit(wp, &st) < 0))
		rc = git_fail(_("writing objects"));
	if (wp)
		wp->free(wp);
	git_odb_free(odb);
	return rc;
}

static int send_rest(copy_ctx *c)
{
	git_packbuilder *pb = NULL;
	int rc = 0;
	if (git_odb_refresh(c->dst_odb) < 0 || git_packbuilder_new(&pb, c->src) < 0)
		return git_fail(_("packing objects"));
	for (size_t i = 0; rc == 0 && i < c->reach.cap; i++) {
		const git_oid *id = &c->reach.slots[i];
		if (!git_oid_is_zero(id) &&
		    !git_odb_exists_ext(c->dst_odb, id, GIT_ODB_LOOKUP_NO_REFRESH) &&
		    git_packbuilder_insert(pb, id, NULL) < 0)
			rc = git_fail(_("packing objects"));
	}
	if (rc == 0 && git_packbuilder_object_count(pb) > 0)
		rc = packcopy_send(pb, c->dst, on_index, c);
	git_packbuilder_free(pb);
	return rc;
}

int packcopy_run(git_repository *src, git_repository *dst, const git_oid *tip,
		 const packcopy_options *o)
{
	copy_ctx c = {src, dst, NULL, o, {0}, 0, 0, 0};
	int rc = git_repository_odb(&c.dst_odb, dst) < 0 ? git_fail(_("opening objects")) : 0;
	if (rc == 0)
		rc = reach_all(src, tip, &c.reach);
	c.total = c.reach.n;
	if (rc == 0)
		rc = take_packs(&c);
	if (rc == 0)
		rc = send_rest(&c);
	c.done = c.total;
	progress(&c);
	free(c.reach.slots);
	git_odb_free(c.dst_odb);
	return rc;
}
