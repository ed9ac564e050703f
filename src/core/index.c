/*
 * index: SQLite schema, migrations, incremental indexing from the ledger,
 * queries and drafts.  See index.h for the invariants.
 */
#include "index.h"
#include "case.h"
#include "error.h"
#include "event.h"
#include "feed.h"
#include "i18n.h"
#include "util.h"
#include "verify.h"
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fbindex {
	sqlite3 *db;
	char *path;
	char *trust_root; /* pinned first admin key, or NULL */
	index_progress_cb progress;
	void *progress_payload;
};

void index_set_progress(fbindex *ix, index_progress_cb cb, void *payload)
{
	ix->progress = cb;
	ix->progress_payload = payload;
}

static index_progress_cb default_progress;
static void *default_progress_payload;

void index_set_default_progress(index_progress_cb cb, void *payload)
{
	default_progress = cb;
	default_progress_payload = payload;
}

void index_set_trust_root(fbindex *ix, const char *key)
{
	free(ix->trust_root);
	ix->trust_root = key && *key ? strdup(key) : NULL;
}

/* Migrations: entry i brings user_version from i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE events(id TEXT PRIMARY KEY, case_id TEXT NOT NULL, type TEXT NOT NULL,"
	" at TEXT NOT NULL, officer TEXT, device TEXT, seq INTEGER, commit_id TEXT,"
	" commit_time INTEGER, path TEXT, json TEXT NOT NULL);"
	"CREATE INDEX events_case ON events(case_id, at, id);"
	"CREATE INDEX events_device ON events(device, seq);"
	"CREATE TABLE cases(id TEXT PRIMARY KEY, status TEXT NOT NULL, deadline TEXT,"
	" opened_at TEXT, updated_at TEXT, form TEXT, category TEXT, grid TEXT, address TEXT,"
	" party TEXT, officer TEXT, device TEXT, day TEXT, n INTEGER, state TEXT NOT NULL);"
	"CREATE INDEX cases_status ON cases(status, deadline);"
	"CREATE INDEX cases_opened ON cases(opened_at, id);"
	"CREATE INDEX cases_number ON cases(device, day, n);"
	"CREATE VIRTUAL TABLE cases_fts USING fts5(id UNINDEXED, text, tokenize='trigram');"
	"CREATE TABLE photos(sha256 TEXT NOT NULL, case_id TEXT NOT NULL, event_id TEXT NOT NULL,"
	" PRIMARY KEY(sha256, event_id));"
	"CREATE TABLE problems(path TEXT PRIMARY KEY, problem TEXT NOT NULL);"
	"CREATE TABLE drafts(case_id TEXT NOT NULL, kind TEXT NOT NULL, draft TEXT NOT NULL,"
	" updated_at TEXT NOT NULL, PRIMARY KEY(case_id, kind));"
	"CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);",
	/* 2: signatures, verdicts and the roster */
	"ALTER TABLE events ADD COLUMN sig TEXT;"
	"ALTER TABLE events ADD COLUMN verdict TEXT;"
	"CREATE INDEX events_path ON events(path);"
	"CREATE TABLE roster(id TEXT PRIMARY KEY, at TEXT NOT NULL, path TEXT NOT NULL,"
	" json TEXT NOT NULL, sig TEXT);",
	/* 3: search rows share their case's rowid; rebuild what was derived */
	"DELETE FROM events; DELETE FROM cases; DELETE FROM cases_fts; DELETE FROM photos;"
	"DELETE FROM problems; DELETE FROM roster; DELETE FROM meta WHERE key = 'ledger_head';",
	/* 4: lists read a covering index (about 500 bytes a case) instead of the
	 * case rows, which carry the whole state (list all at 100k: 2x faster) */
	"CREATE INDEX cases_list ON cases(opened_at, id, status, deadline, updated_at, form,"
	" category, grid, address, party, officer);"
	"DROP INDEX cases_opened;",
	/* 5: a status filter reads its cases in list order from one covering
	 * index, instead of looking up each case's row and sorting them
	 * (list --status ordered at 100k: 40 -> 20 ms).  It replaces (status,
	 * deadline): every refold rewrites both anyway (the upsert sets every
	 * column), so an event writes no more pages. */
	"DROP INDEX cases_status;"
	"CREATE INDEX cases_status ON cases(status, opened_at, id, deadline, updated_at, form,"
	" category, grid, address, party, officer);",
	/* 6: an event's path names its id (cases/.../<case>/events/<id>.json),
	 * so lookups by path go through the id's index: one index fewer for
	 * each event to update (a cold note at 100k cases read 4 of its 57
	 * pages in it; about 40 MB at 100k) */
	"DROP INDEX IF EXISTS events_path;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof *migrations))

/* Tables rebuilt from the ledger by index_rebuild. */
static const char derived_reset[] =
	"DELETE FROM events; DELETE FROM cases; DELETE FROM cases_fts; DELETE FROM photos;"
	"DELETE FROM problems; DELETE FROM roster; DELETE FROM meta WHERE key = 'ledger_head';";

/* SQLite says "disk I/O error" for a full disk: say what the user can fix. */
static bool disk_full(fbindex *ix)
{
	int code = sqlite3_errcode(ix->db);
	if (code == SQLITE_FULL)
		return true;
	return (code & 0xff) == SQLITE_IOERR && sqlite3_system_errno(ix->db) == ENOSPC;
}

static int db_fail(fbindex *ix, const char *what)
{
	if (disk_full(ix))
		return error_set(ERR_IO, _("%s: %s: the disk is full (no space left on the device); "
					   "free some space and try again"), ix->path, what);
	return error_set(ERR_DB, "%s: %s: %s", ix->path, what, sqlite3_errmsg(ix->db));
}

static int exec(fbindex *ix, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(ix->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = disk_full(ix) ? db_fail(ix, _("writing the index"))
				       : error_set(ERR_DB, "%s: %s", ix->path, msg ? msg : "sqlite error");
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static int prepare(fbindex *ix, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v3(ix->db, sql, -1, 0, st, NULL) != SQLITE_OK)
		return db_fail(ix, "prepare");
	return 0;
}

static int user_version(fbindex *ix, int *v)
{
	sqlite3_stmt *st;
	if (prepare(ix, &st, "PRAGMA user_version"))
		return ERR_DB;
	*v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

static int migrate(fbindex *ix)
{
	int v, rc;
	if ((rc = user_version(ix, &v)))
		return rc;
	if (v > SCHEMA_VERSION)
		return error_set(ERR_DB, _("%s was written by a newer fieldbook (schema %d, this "
					   "version knows %d)"), ix->path, v, SCHEMA_VERSION);
	for (; v < SCHEMA_VERSION; v++) {
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d;", v + 1);
		if ((rc = exec(ix, "BEGIN IMMEDIATE")) || (rc = exec(ix, migrations[v])) ||
		    (rc = exec(ix, pragma)) || (rc = exec(ix, "COMMIT"))) {
			exec(ix, "ROLLBACK");
			return rc;
		}
	}
	return 0;
}

int index_open(fbindex **out, const char *path)
{
	fbindex *ix = calloc(1, sizeof *ix);
	int rc;
	if (!ix || !(ix->path = strdup(path))) {
		free(ix);
		return error_set(ERR_NOMEM, "out of memory");
	}
	index_set_progress(ix, default_progress, default_progress_payload);
	if (sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rc = db_fail(ix, _("cannot open"));
		index_free(ix);
		return rc;
	}
	sqlite3_busy_timeout(ix->db, 10000);
	/* Derived tables and counters can be rebuilt from the ledger, so commits
	 * need not reach the disk at once (WAL keeps them consistent); drafts
	 * are written with synchronous=FULL (index_draft_put). */
	if ((rc = exec(ix, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			   "PRAGMA foreign_keys=ON;")) ||
	    (rc = migrate(ix))) {
		index_free(ix);
		return rc;
	}
	*out = ix;
	return 0;
}

void index_free(fbindex *ix)
{
	if (!ix)
		return;
	sqlite3_close(ix->db);
	free(ix->trust_root);
	free(ix->path);
	free(ix);
}

/* --- meta ------------------------------------------------------------------ */

static int meta_get(fbindex *ix, const char *key, char *out, size_t size)
{
	sqlite3_stmt *st;
	out[0] = '\0';
	if (prepare(ix, &st, "SELECT value FROM meta WHERE key = ?"))
		return ERR_DB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

static int meta_set(fbindex *ix, const char *key, const char *value)
{
	sqlite3_stmt *st;
	if (prepare(ix, &st, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)"))
		return ERR_DB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(ix, "meta");
	sqlite3_finalize(st);
	return rc;
}

int index_head(fbindex *ix, char out[41]) { return meta_get(ix, "ledger_head", out, 41); }

int index_mark_synced(fbindex *ix)
{
	char n[32] = "0";
	sqlite3_stmt *st;
	if (prepare(ix, &st, "SELECT max(rowid) FROM events"))
		return ERR_DB;
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(n, sizeof n, "%lld", (long long)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	return meta_set(ix, "synced_events", n);
}

int index_unsynced(fbindex *ix, const char *device, long limit, long *out)
{
	char mark[32];
	sqlite3_stmt *st;
	int rc = meta_get(ix, "synced_events", mark, sizeof mark);
	if (rc)
		return rc;
	/* rows after the mark only, and at most limit of them: the cost is
	 * that of the events since the last sync, not of the ledger */
	if (prepare(ix, &st, "SELECT count(*) FROM (SELECT 1 FROM events WHERE rowid > ?1 AND device = ?2"
			     " LIMIT ?3)"))
		return ERR_DB;
	sqlite3_bind_int64(st, 1, atoll(mark));
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, limit);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(st, 0);
	else
		rc = db_fail(ix, "unsynced");
	sqlite3_finalize(st);
	return rc;
}

int index_meta_get(fbindex *ix, const char *key, char *out, size_t size) { return meta_get(ix, key, out, size); }

int index_meta_set(fbindex *ix, const char *key, const char *value) { return meta_set(ix, key, value); }

/* --- indexing ----------------------------------------------------------------- */

static const char case_events_sql[] =
	"SELECT commit_id, json, verdict, path, sig IS NOT NULL FROM events"
	" WHERE case_id = ? ORDER BY at, id";

/* Statements of one index_sync, prepared once. */
enum {
	ST_EVENT, ST_PHOTO, ST_PROBLEM, ST_DRAFT, ST_ROSTER, ST_SIG_EVENT, ST_SIG_ROSTER,
	ST_CASE_JSON, ST_CASE, ST_CASE_ROWID, ST_FTS_TEXT, ST_FTS_DELETE, ST_FTS_INSERT, ST_COUNT
};

static const char *const sync_sql[ST_COUNT] = {
	[ST_EVENT] = "INSERT OR IGNORE INTO events(id, case_id, type, at, officer, device, seq,"
		     " commit_id, commit_time, path, json, sig, verdict) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_PHOTO] = "INSERT OR IGNORE INTO photos(sha256, case_id, event_id) VALUES(?,?,?)",
	[ST_PROBLEM] = "INSERT OR REPLACE INTO problems(path, problem) VALUES(?,?)",
	[ST_DRAFT] = "DELETE FROM drafts WHERE json_extract(draft, '$.committing_event') = ?",
	[ST_ROSTER] = "INSERT OR IGNORE INTO roster(id, at, path, json) VALUES(?,?,?,?)",
	[ST_SIG_EVENT] = "UPDATE events SET sig = ?1 WHERE id = ?3 AND path = ?2",
	[ST_SIG_ROSTER] = "UPDATE roster SET sig = ?1 WHERE path = ?2",
	[ST_CASE_JSON] = "SELECT json FROM events WHERE case_id = ? ORDER BY at, id",
	/* An upsert keeps the row's rowid, which is also the search row's. */
	[ST_CASE] = "INSERT INTO cases(id, status, deadline, opened_at, updated_at, form, category,"
		    " grid, address, party, officer, device, day, n, state)"
		    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
		    " status = excluded.status, deadline = excluded.deadline, opened_at ="
		    " excluded.opened_at, updated_at = excluded.updated_at, form = excluded.form,"
		    " category = excluded.category, grid = excluded.grid, address = excluded.address,"
		    " party = excluded.party, officer = excluded.officer, state = excluded.state",
	[ST_CASE_ROWID] = "SELECT rowid FROM cases WHERE id = ?",
	[ST_FTS_TEXT] = "SELECT text FROM cases_fts WHERE rowid = ?",
	[ST_FTS_DELETE] = "DELETE FROM cases_fts WHERE rowid = ?",
	[ST_FTS_INSERT] = "INSERT INTO cases_fts(rowid, id, text) VALUES(?, ?, ?)",
};

struct sync_ctx {
	fbindex *ix;
	json_t *touched;  /* set of case ids */
	json_t *verify;   /* set of event paths still to (re)verify */
	bool roster_changed;
	sqlite3_stmt *st[ST_COUNT];
};

static sqlite3_stmt *stmt(struct sync_ctx *c, int which)
{
	sqlite3_reset(c->st[which]);
	return c->st[which];
}

static int note_problem(struct sync_ctx *c, const char *path, const char *problem)
{
	sqlite3_stmt *st = stmt(c, ST_PROBLEM);
	sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, problem, -1, SQLITE_TRANSIENT);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c->ix, "problems");
}

/* A signature file: attach it to its event (or roster change) at `base`. */
static int attach_sig(struct sync_ctx *c, const char *base, const char *data, size_t len)
{
	static const int which[2] = {ST_SIG_EVENT, ST_SIG_ROSTER};
	char case_id[96], event_id[96];
	bool event = event_path_parse(base, case_id, event_id);
	for (int i = 0; i < 2; i++) {
		if (which[i] == ST_SIG_EVENT && !event)
			continue; /* only event paths are in events */
		sqlite3_stmt *st = stmt(c, which[i]);
		sqlite3_bind_text(st, 1, data, (int)len, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, base, -1, SQLITE_TRANSIENT);
		if (which[i] == ST_SIG_EVENT)
			sqlite3_bind_text(st, 3, event_id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_fail(c->ix, "signatures");
		if (sqlite3_changes(c->ix->db) == 0)
			continue;
		if (i == 0)
			json_object_set_new(c->verify, base, json_true());
		else
			c->roster_changed = true;
		return 0;
	}
	return 0;
}

static int sig_file(struct sync_ctx *c, const feed_item *it)
{
	char base[512];
	size_t n = strlen(it->path) - 4;
	if (n >= sizeof base)
		return 0;
	memcpy(base, it->path, n);
	base[n] = '\0';
	return attach_sig(c, base, it->text, it->len);
}

/* The event row comes with its signature and its verdict under the feed's
 * roster (sync_range checks that roster afterwards).  A row already there
 * (same id) is kept, and the signature goes where it would have gone. */
static int insert_event(struct sync_ctx *c, const feed_item *it)
{
	const json_t *ev = it->ev;
	sqlite3_stmt *st = stmt(c, ST_EVENT);
	sqlite3_bind_text(st, 1, event_str(ev, "id"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, event_str(ev, "case"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, event_str(ev, "type"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, event_str(ev, "at"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, event_str(ev, "officer"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, event_str(ev, "device"), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, json_integer_value(json_object_get(ev, "seq")));
	sqlite3_bind_text(st, 8, it->commit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)it->commit_time);
	sqlite3_bind_text(st, 10, it->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, it->text, -1, SQLITE_STATIC);
	if (it->sig)
		sqlite3_bind_text(st, 12, it->sig, (int)it->siglen, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 12);
	sqlite3_bind_text(st, 13, it->verdict, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(c->ix, "events");
	bool inserted = sqlite3_changes(c->ix->db) > 0;
	/* A draft whose event is now in the ledger is done. */
	st = stmt(c, ST_DRAFT);
	sqlite3_bind_text(st, 1, event_str(ev, "id"), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(c->ix, "drafts");
	const char *sha = event_str(ev, "sha256");
	if (strcmp(event_str(ev, "type"), EV_PHOTO) == 0 && *sha) {
		st = stmt(c, ST_PHOTO);
		sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, event_str(ev, "case"), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, event_str(ev, "id"), -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_fail(c->ix, "photos");
	}
	json_object_set_new(c->touched, event_str(ev, "case"), json_true());
	if (inserted)
		return 0;
	json_object_set_new(c->verify, it->path, json_true());
	return it->sig ? attach_sig(c, it->path, it->sig, it->siglen) : 0;
}

static int insert_roster(struct sync_ctx *c, const feed_item *it)
{
	sqlite3_stmt *st = stmt(c, ST_ROSTER);
	sqlite3_bind_text(st, 1, event_str(it->ev, "id"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, event_str(it->ev, "at"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, it->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, it->text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(c->ix, "roster");
	c->roster_changed = true;
	return 0;
}

static int index_item(struct sync_ctx *c, const feed_item *it)
{
	switch (it->kind) {
	case FEED_EVENT:
		return insert_event(c, it);
	case FEED_ROSTER:
		return insert_roster(c, it);
	case FEED_SIG:
		return sig_file(c, it);
	case FEED_PROBLEM: {
		/* an unreadable event's signature goes where it would have gone */
		int rc = note_problem(c, it->path, it->problem);
		return rc || !it->sig ? rc : attach_sig(c, it->path, it->sig, it->siglen);
	}
	}
	return 0;
}

static char *search_text(const json_t *st, const json_t *events)
{
	const json_t *site = json_object_get(st, "site"), *party = json_object_get(st, "party");
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	fprintf(f, "%s\n%s\n%s\n%s\n", event_str(st, "id"), event_str(site, "address"),
		event_str(site, "grid"), event_str(party, "name"));
	size_t i;
	json_t *ev;
	json_array_foreach(events, i, ev) {
		fprintf(f, "%s\n", event_str(ev, "text"));
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(ev, "notes"), k, v)
			if (json_is_string(v))
				fprintf(f, "%s\n", json_string_value(v));
	}
	fclose(f);
	return text;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* A case to fold: its events' texts are read by the indexer, the JSON
 * work (parse, fold, serialise, search text) is done by the worker. */
struct fold_job {
	json_t *texts; /* the events' JSON texts, ordered by (at, id) */
	json_t *state;
	char *state_text, *search;
};

static void fold_job_free(void *p)
{
	struct fold_job *j = p;
	json_decref(j->texts);
	json_decref(j->state);
	free(j->state_text);
	free(j->search);
	free(j);
}

static void fold_job_run(void *p)
{
	struct fold_job *j = p;
	json_t *events = json_array();
	size_t i;
	json_t *text;
	json_array_foreach(j->texts, i, text) {
		json_t *ev = json_loads(json_string_value(text), 0, NULL);
		if (ev)
			json_array_append_new(events, ev);
	}
	if (case_fold(events, &j->state) == 0) {
		j->state_text = json_dumps(j->state, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(10));
		j->search = search_text(j->state, events);
	}
	json_decref(events);
}

static int fold_job_read(struct sync_ctx *c, const char *case_id, struct fold_job **out)
{
	struct fold_job *j = calloc(1, sizeof *j);
	if (!j || !(j->texts = json_array())) {
		free(j);
		return error_set(ERR_NOMEM, "out of memory");
	}
	sqlite3_stmt *q = stmt(c, ST_CASE_JSON);
	sqlite3_bind_text(q, 1, case_id, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW)
		json_array_append_new(j->texts, json_string((const char *)sqlite3_column_text(q, 0)));
	sqlite3_reset(q);
	*out = j;
	return 0;
}

/* The case row (upsert: the rowid stays) and its search row, which shares
 * that rowid, so it is replaced by rowid without a scan. */
static int store_case(struct sync_ctx *c, const struct fold_job *j)
{
	const json_t *st = j->state;
	if (!j->state_text || !j->search)
		return error_set(ERR_NOMEM, "out of memory");
	const char *id = event_str(st, "id");
	char device[32] = "", day[9] = "";
	long n = 0;
	sscanf(id, "%*[^-]-%8[0-9]-%31[^-]-%ld", day, device, &n);
	const json_t *site = json_object_get(st, "site");
	sqlite3_stmt *ins = stmt(c, ST_CASE);
	sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
	bind_opt(ins, 2, event_str(st, "status"));
	bind_opt(ins, 3, event_str(json_object_get(st, "order"), "deadline"));
	bind_opt(ins, 4, event_str(st, "opened_at"));
	bind_opt(ins, 5, event_str(st, "updated_at"));
	bind_opt(ins, 6, event_str(json_object_get(st, "form"), "id"));
	bind_opt(ins, 7, event_str(json_object_get(st, "category"), "code"));
	bind_opt(ins, 8, event_str(site, "grid"));
	bind_opt(ins, 9, event_str(site, "address"));
	bind_opt(ins, 10, event_str(json_object_get(st, "party"), "name"));
	bind_opt(ins, 11, event_str(st, "opened_by"));
	bind_opt(ins, 12, device);
	bind_opt(ins, 13, day);
	sqlite3_bind_int64(ins, 14, n);
	sqlite3_bind_text(ins, 15, j->state_text, -1, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE)
		return db_fail(c->ix, "cases");
	sqlite3_int64 rowid = 0;
	sqlite3_stmt *q = stmt(c, ST_CASE_ROWID);
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		rowid = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	/* most steps leave the searchable text as it was: rewriting the search
	 * row anyway doubled the pages an event writes */
	q = stmt(c, ST_FTS_TEXT);
	sqlite3_bind_int64(q, 1, rowid);
	bool same = j->search && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0) &&
		    strcmp((const char *)sqlite3_column_text(q, 0), j->search) == 0;
	sqlite3_reset(q);
	if (same)
		return 0;
	q = stmt(c, ST_FTS_DELETE);
	sqlite3_bind_int64(q, 1, rowid);
	sqlite3_step(q);
	q = stmt(c, ST_FTS_INSERT);
	sqlite3_bind_int64(q, 1, rowid);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, j->search, -1, SQLITE_STATIC);
	return sqlite3_step(q) == SQLITE_DONE ? 0 : db_fail(c->ix, "search index");
}

static int store_and_free(struct sync_ctx *c, struct fold_job *j)
{
	int rc = j ? store_case(c, j) : 0;
	if (j)
		fold_job_free(j);
	return rc;
}

/* Refold each touched case from its events, in order: the indexer reads
 * and writes, the worker thread folds the cases in between. */
static int refold_all(struct sync_ctx *c)
{
	worker *w = NULL;
	int rc = worker_start(&w, fold_job_run);
	const char *case_id;
	json_t *v;
	struct fold_job *j = NULL;
	if (rc == 0)
		json_object_foreach(c->touched, case_id, v)
			if ((rc = fold_job_read(c, case_id, &j)) ||
			    (rc = store_and_free(c, worker_put(w, j))))
				break;
	while (rc == 0 && (j = worker_take(w)))
		rc = store_and_free(c, j);
	if (w)
		worker_free(w, fold_job_free);
	return rc;
}

static json_t *column_json(sqlite3_stmt *st, int col);

/* Rows of a bound "SELECT commit_id, json, verdict, path, ..." (index_case_events). */
static json_t *case_rows(sqlite3_stmt *st)
{
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *ev = column_json(st, 1);
		if (!ev)
			continue;
		const char *verdict = (const char *)sqlite3_column_text(st, 2);
		json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:s}", "commit",
						     (const char *)sqlite3_column_text(st, 0), "event", ev,
						     "verdict", verdict ? verdict : "unverified", "path",
						     (const char *)sqlite3_column_text(st, 3)));
	}
	sqlite3_reset(st);
	return arr;
}

/* --- signatures ------------------------------------------------------------------ */

/* A roster change for verify_roster_build, parsed as the stored text is. */
static void add_roster_item(json_t *items, const char *text, const char *sig)
{
	json_t *ev = json_loads(text, 0, NULL);
	if (ev)
		json_array_append_new(items, json_pack("{s:o, s:s, s:s?}", "event", ev, "text", text,
						       "sig", sig));
}

static int load_roster(fbindex *ix, verify_roster **out)
{
	sqlite3_stmt *st;
	if (prepare(ix, &st, "SELECT json, sig FROM roster"))
		return ERR_DB;
	json_t *items = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		add_roster_item(items, (const char *)sqlite3_column_text(st, 0),
				(const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	int rc = verify_roster_build(out, items, ix->trust_root);
	json_decref(items);
	return rc;
}

/* One roster/ file at `commit`, as indexing would store it (else skipped). */
static void add_ledger_roster_item(ledger *l, const char *commit, const char *path, json_t *items)
{
	char id[96], sigpath[1024];
	char *text = NULL, *sig = NULL;
	json_t *ev = NULL;
	size_t len, siglen;
	if (!roster_path_parse(path, id) || ledger_read_at(l, commit, path, &text, &len) ||
	    event_parse(text, len, path, &ev) || strcmp(event_str(ev, "id"), id) != 0)
		goto done;
	snprintf(sigpath, sizeof sigpath, "%s.sig", path);
	if (ledger_read_at(l, commit, sigpath, &sig, &siglen))
		sig = NULL;
	add_roster_item(items, text, sig);
done:
	json_decref(ev);
	free(text);
	free(sig);
}

/* The roster folded from the roster/ directory at `commit`: what a rebuild
 * up to that commit will most likely end with. */
static int ledger_roster(fbindex *ix, ledger *l, const char *commit, verify_roster **out)
{
	char **names;
	size_t n;
	int rc = ledger_list_at(l, commit, "roster", &names, &n);
	if (rc)
		return rc;
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		add_ledger_roster_item(l, commit, names[i], items);
		free(names[i]);
	}
	free(names);
	error_clear();
	rc = verify_roster_build(out, items, ix->trust_root);
	json_decref(items);
	return rc;
}

/* Verify the events at `paths` (NULL: every event up to rowid `upto`, after
 * a roster change) and store each verdict; cases whose verdicts change are
 * refolded. */
static int verify_events(fbindex *ix, const json_t *paths, sqlite3_int64 upto, json_t *touched)
{
	verify_roster *r;
	sqlite3_stmt *sel = NULL, *upd = NULL;
	int rc;
	if (paths && json_object_size(paths) == 0)
		return 0;
	if ((rc = load_roster(ix, &r)))
		return rc;
	if ((rc = prepare(ix, &sel, paths ? "SELECT id, json, sig, case_id, verdict FROM events"
					    " WHERE id = ?2 AND path = ?1"
					  : "SELECT id, json, sig, case_id, verdict FROM events"
					    " WHERE rowid <= ?")) ||
	    (rc = prepare(ix, &upd, "UPDATE events SET verdict = ? WHERE id = ?")))
		goto done;
	if (!paths)
		sqlite3_bind_int64(sel, 1, upto);
	void *iter = paths ? json_object_iter((json_t *)paths) : NULL;
	while (rc == 0) {
		if (paths) {
			if (!iter)
				break;
			const char *path = json_object_iter_key(iter);
			char case_id[96], event_id[96];
			iter = json_object_iter_next((json_t *)paths, iter);
			if (!event_path_parse(path, case_id, event_id))
				continue; /* only event paths are in events */
			sqlite3_reset(sel);
			sqlite3_bind_text(sel, 1, path, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(sel, 2, event_id, -1, SQLITE_TRANSIENT);
		}
		int step = sqlite3_step(sel);
		if (step != SQLITE_ROW) {
			if (!paths)
				break;
			continue;
		}
		const char *text = (const char *)sqlite3_column_text(sel, 1);
		const char *sig = (const char *)sqlite3_column_text(sel, 2);
		const char *old = (const char *)sqlite3_column_text(sel, 4);
		json_t *ev = json_loads(text, 0, NULL);
		char reason[512] = "ok";
		verify_event(r, ev, text, strlen(text), sig, sig ? strlen(sig) : 0, reason, sizeof reason);
		json_decref(ev);
		if (old && strcmp(old, reason) == 0)
			continue;
		json_object_set_new(touched, (const char *)sqlite3_column_text(sel, 3), json_true());
		sqlite3_reset(upd);
		sqlite3_bind_text(upd, 1, reason, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(upd, 2, (const char *)sqlite3_column_text(sel, 0), -1, SQLITE_TRANSIENT);
		if (sqlite3_step(upd) != SQLITE_DONE)
			rc = db_fail(ix, "verdicts");
	}
done:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	verify_roster_free(r);
	return rc;
}

int index_roster(fbindex *ix, verify_roster **out) { return load_roster(ix, out); }

static int scalar_long(fbindex *ix, const char *sql, const char *a, const char *b, long *out);

/* Events were stored with their verdict under `guess`: the roster before
 * the walk, or the one at the new head when the walk brings roster changes
 * (see sync_range).  Check again what that guess does not cover: signatures
 * attached to older rows; after a roster change, the rows indexed before
 * the walk (up to rowid `before`), or every row when the roster did not end
 * as guessed. */
static int verify_rest(struct sync_ctx *c, const verify_roster *guess, sqlite3_int64 before)
{
	if (!c->roster_changed)
		return verify_events(c->ix, c->verify, 0, c->touched);
	verify_roster *now;
	int rc;
	if ((rc = load_roster(c->ix, &now)))
		return rc;
	bool same = json_equal(verify_roster_entries(now), verify_roster_entries(guess));
	verify_roster_free(now);
	if (!same)
		return verify_events(c->ix, NULL, INT64_MAX, c->touched);
	if ((rc = verify_events(c->ix, c->verify, 0, c->touched)) || before == 0)
		return rc;
	return verify_events(c->ix, NULL, before, c->touched);
}

/* Index the feed's items as they come (the walker thread reads and checks
 * the next ones meanwhile); progress: report it. */
static int take_items(struct sync_ctx *c, feed *f, bool progress)
{
	feed_item *it;
	fbindex *ix = c->ix;
	index_progress_cb cb = progress ? ix->progress : NULL;
	long events = 0;
	int rc;
	while ((rc = feed_next(f, &it)) == 0 && it) {
		rc = index_item(c, it);
		if (it->kind == FEED_EVENT && ++events % INDEX_PROGRESS_STEP == 0 && cb)
			cb(events, ix->progress_payload);
		feed_item_free(it);
		if (rc)
			break;
	}
	if (rc == 0 && cb)
		cb(events, ix->progress_payload);
	return rc;
}

/* Everything of an index_sync but finding the roster and starting the
 * walk: index what the feed brings (checked under `guess`), check again
 * what the guess does not cover, refold the touched cases.  The feed is
 * the caller's; when this fails it is stopped, so that its producer does
 * not wait for room. */
static int take_feed(fbindex *ix, feed *f, const verify_roster *guess, bool progress)
{
	struct sync_ctx c = {.ix = ix, .touched = json_object(), .verify = json_object()};
	int rc = 0;
	/* A larger page cache while indexing many events: fewer pages written
	 * to the WAL again and read back (the default is restored after). */
	long cache_pages = 0, before = 0;
	if (scalar_long(ix, "PRAGMA cache_size", NULL, NULL, &cache_pages) || cache_pages == 0)
		cache_pages = -2000;
	exec(ix, "PRAGMA cache_size = -65536");
	for (int i = 0; i < ST_COUNT && rc == 0; i++)
		rc = prepare(ix, &c.st[i], sync_sql[i]);
	if (rc == 0)
		rc = scalar_long(ix, "SELECT coalesce(max(rowid), 0) FROM events", NULL, NULL, &before);
	if (rc == 0)
		rc = take_items(&c, f, progress);
	if (rc)
		feed_stop(f);
	if (rc == 0)
		rc = verify_rest(&c, guess, before);
	if (rc == 0)
		rc = refold_all(&c);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c.st[i]);
	char pragma[64];
	snprintf(pragma, sizeof pragma, "PRAGMA cache_size = %ld", cache_pages);
	exec(ix, pragma);
	json_decref(c.touched);
	json_decref(c.verify);
	return rc;
}

static int sync_range(fbindex *ix, ledger *l, const char *from, const char *to)
{
	verify_roster *guess = NULL;
	feed *f = NULL;
	bool rebuild = !from || !*from;
	/* The roster the events will be checked under while they are walked:
	 * the index's, unless the walk brings roster changes (a rebuild, a
	 * first sync): then the one at the new head, which it will end with,
	 * and not every event is checked twice. */
	int rc = rebuild || !ledger_same_at(l, from, to, "roster") ? ledger_roster(ix, l, to, &guess)
								  : load_roster(ix, &guess);
	if (rc == 0 && (rc = feed_start(&f, l, from, to, guess)) == 0)
		rc = take_feed(ix, f, guess, true);
	feed_free(f); /* joins the walker, long done unless this failed */
	verify_roster_free(guess);
	return rc;
}

/* Inside a write transaction: index up to `head` from where the index is. */
static int sync_locked(fbindex *ix, ledger *l, const char *head)
{
	char done_head[41];
	int rc;
	/* Another process may have indexed meanwhile: re-read inside the lock. */
	if ((rc = index_head(ix, done_head)) == 0 && done_head[0] && strcmp(head, done_head) != 0 &&
	    !ledger_is_ancestor(l, done_head, head) && ledger_is_bare_start(l, done_head, head))
		done_head[0] = '\0'; /* a new device took a hub's history (sync.c): index it all */
	else if (rc == 0 && done_head[0] && strcmp(head, done_head) != 0 &&
		 !ledger_is_ancestor(l, done_head, head))
		rc = error_set(ERR_CONFLICT, _("the ledger history was rewritten: commit %.12s, already "
					       "indexed, is no longer in it"), done_head);
	if (rc == 0 && strcmp(head, done_head) != 0 && (rc = sync_range(ix, l, done_head, head)) == 0)
		rc = meta_set(ix, "ledger_head", head);
	return rc;
}

/* BEGIN IMMEDIATE, optionally drop the derived tables, sync, COMMIT. */
static int sync_transaction(fbindex *ix, ledger *l, const char *head, bool reset)
{
	int rc;
	if ((rc = exec(ix, "BEGIN IMMEDIATE")))
		return rc;
	if ((!reset || (rc = exec(ix, derived_reset)) == 0) && head[0])
		rc = sync_locked(ix, l, head);
	if (rc) {
		exec(ix, "ROLLBACK");
		return rc;
	}
	return exec(ix, "COMMIT");
}

int index_sync(fbindex *ix, ledger *l)
{
	char head[41], done_head[41];
	int rc;
	if ((rc = ledger_head(l, head)) || !head[0])
		return rc;
	if ((rc = index_head(ix, done_head)))
		return rc;
	if (strcmp(head, done_head) == 0)
		return 0;
	return sync_transaction(ix, l, head, false);
}

/* --- a first fetch indexed while it is validated --------------------------------- */

struct index_intake {
	fbindex *ix;
	char tip[41];
	verify_roster *guess;
	feed *f;
	pthread_t thread;
	bool began; /* the transaction is open */
	int rc;     /* the indexing thread's result */
};

static void *intake_main(void *arg)
{
	index_intake *in = arg;
	in->rc = exec(in->ix, "BEGIN IMMEDIATE");
	in->began = in->rc == 0;
	if (in->rc == 0)
		in->rc = take_feed(in->ix, in->f, in->guess, false);
	else
		feed_stop(in->f);
	return NULL;
}

static void intake_free(index_intake *in)
{
	feed_free(in->f);
	verify_roster_free(in->guess);
	free(in);
}

int index_intake_start(index_intake **out, fbindex *ix, ledger *src, const char *tip)
{
	index_intake *in = calloc(1, sizeof *in);
	int rc;
	*out = NULL;
	if (!in)
		return error_set(ERR_NOMEM, "out of memory");
	in->ix = ix;
	snprintf(in->tip, sizeof in->tip, "%s", tip);
	/* as sync_range for a first sync: the roster at the head it ends with */
	if ((rc = ledger_roster(ix, src, tip, &in->guess)) || (rc = feed_open(&in->f, in->guess))) {
		intake_free(in);
		return rc;
	}
	if (pthread_create(&in->thread, NULL, intake_main, in) != 0) {
		intake_free(in);
		return error_set(ERR_GENERIC, "%s", _("cannot start the indexing thread"));
	}
	*out = in;
	return 0;
}

int index_intake_file(index_intake *in, const char *commit, time_t ctime, const char *path,
		      const char *data, size_t len, json_t *ev)
{
	return feed_put(in->f, commit, ctime, path, data, len, ev);
}

void index_intake_end(index_intake *in, int rc)
{
	if (in)
		feed_end(in->f, rc);
}

/* Whether the rows indexed from `in` are the index of ledger l: l stands
 * at the walked head, and the index held nothing of it: none, or a bare
 * start, which holds no event, so that the walk from the root writes what
 * sync_locked would (whether or not the start is below the head). */
static bool intake_fits(index_intake *in, ledger *l)
{
	char head[41], done[41];
	if (ledger_head(l, head) || strcmp(head, in->tip) != 0 || index_head(in->ix, done))
		return false;
	return !done[0] || (strcmp(done, head) != 0 && ledger_is_bare_start(l, done, head));
}

void index_intake_finish(index_intake *in, ledger *l)
{
	if (!in)
		return;
	/* what the caller reports (a failed sync) stays its error; what fails
	 * here, index_sync meets again and reports */
	char msg[1024];
	int code = error_code();
	snprintf(msg, sizeof msg, "%s", error_last());
	feed_end(in->f, ERR_GENERIC); /* a walk that never ended is no index */
	pthread_join(in->thread, NULL);
	bool kept = in->rc == 0 && intake_fits(in, l) && meta_set(in->ix, "ledger_head", in->tip) == 0 &&
		    exec(in->ix, "COMMIT") == 0;
	if (in->began && !kept)
		exec(in->ix, "ROLLBACK");
	if (code)
		error_set(code, "%s", msg);
	else
		error_clear();
	intake_free(in);
}

/* One transaction: the rows freed by the reset are reused at once, and
 * readers see the old index until the new one is complete. */
int index_rebuild(fbindex *ix, ledger *l)
{
	char head[41];
	int rc = ledger_head(l, head);
	return rc ? rc : sync_transaction(ix, l, head, true);
}

/* --- queries ------------------------------------------------------------------ */

static json_t *column_json(sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	return text ? json_loads(text, 0, NULL) : NULL;
}

int index_case_get(fbindex *ix, const char *case_id, json_t **state)
{
	sqlite3_stmt *st;
	if (!case_id_valid(case_id))
		return error_set(ERR_INVALID, _("not a case id: %s"), case_id);
	if (prepare(ix, &st, "SELECT state FROM cases WHERE id = ?"))
		return ERR_DB;
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW && (*state = column_json(st, 0)))
		rc = 0;
	else
		rc = error_set(ERR_NOTFOUND, _("no such case: %s"), case_id);
	sqlite3_finalize(st);
	return rc;
}

int index_case_events(fbindex *ix, const char *case_id, json_t **out)
{
	sqlite3_stmt *st;
	if (prepare(ix, &st, case_events_sql))
		return ERR_DB;
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	*out = case_rows(st);
	sqlite3_finalize(st);
	return 0;
}

static const struct { const char *name; const char *where; } status_filters[] = {
	{"all", "1"},
	{"open", "status <> 'closed'"},
	{"ordered", "status = 'ordered'"},
	{"overdue", "status = 'ordered' AND deadline < ?2"},
	{"closed", "status = 'closed'"},
	{"opened", "status = 'opened'"},
	{"inspected", "status = 'inspected'"},
	{"reinspected", "status = 'reinspected'"},
	{"escalated", "status = 'escalated'"},
	{"reopened", "status = 'reopened'"},
};

/* Escape LIKE wildcards so the user's text matches literally. */
static char *like_pattern(const char *s)
{
	size_t n = strlen(s);
	char *p = malloc(2 * n + 3), *o = p;
	if (!p)
		return NULL;
	*o++ = '%';
	for (; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

/* Number of characters (code points) of a UTF-8 string. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* ORDER BY of each index_sort; cases without a deadline last. */
static const char *const sort_sql[] = {
	[INDEX_SORT_NEWEST] = "ORDER BY opened_at DESC, id DESC",
	[INDEX_SORT_DEADLINE] = "ORDER BY coalesce(deadline, '') = '', deadline, opened_at DESC, id DESC",
};

/* Prepare "SELECT <cols> FROM cases WHERE <status filter> AND <search>
 * <order> [LIMIT]" with the search pattern and today bound (sort < 0: no
 * order, no limit, for a count). */
static int prepare_list(fbindex *ix, sqlite3_stmt **st, const char *cols, const char *status,
			const char *search, const char *today, int sort, long limit, long offset,
			char **pat)
{
	const char *where = NULL;
	for (size_t i = 0; i < sizeof status_filters / sizeof *status_filters; i++)
		if (strcmp(status_filters[i].name, status ? status : "all") == 0)
			where = status_filters[i].where;
	if (!where)
		return error_set(ERR_INVALID, _("unknown status \"%s\": use open, ordered, overdue, "
						"closed or all"), status);
	char sql[768], tail[160] = "";
	if (sort >= 0)
		snprintf(tail, sizeof tail, "%s LIMIT %ld OFFSET %ld", sort_sql[sort],
			 limit > 0 ? limit : -1L, offset > 0 ? offset : 0L);
	/* FTS5's trigram index serves LIKE only without ESCAPE and for 3
	 * characters or more (SQLite 3.40 finds nothing for shorter ones through
	 * the index): otherwise the ESCAPE clause makes SQLite match every row
	 * itself, which is always right */
	bool escape = search && (search[strcspn(search, "%_\\")] || utf8_chars(search) < 3);
	snprintf(sql, sizeof sql,
		 "SELECT %s FROM cases WHERE (%s) AND (?1 IS NULL OR rowid IN "
		 "(SELECT rowid FROM cases_fts WHERE text LIKE ?1%s)) %s", cols, where,
		 escape ? " ESCAPE '\\'" : "", tail);
	if (prepare(ix, st, sql))
		return ERR_DB;
	*pat = search && *search ? like_pattern(search) : NULL;
	bind_opt(*st, 1, *pat);
	bind_opt(*st, 2, today);
	return 0;
}

int index_case_list(fbindex *ix, const char *status, const char *search,
		    const char *today, json_t **out)
{
	sqlite3_stmt *st;
	char *pat = NULL;
	int rc = prepare_list(ix, &st, "state", status, search, today, INDEX_SORT_NEWEST, 0, 0, &pat);
	if (rc)
		return rc;
	json_t *arr = json_array();
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *c = column_json(st, 0);
		if (c)
			json_array_append_new(arr, c);
	}
	rc = r == SQLITE_DONE ? 0 : db_fail(ix, "list");
	sqlite3_finalize(st);
	free(pat);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

/* A list row from the list columns (strings borrowed from the statement). */
static void column_row(sqlite3_stmt *st, const char *today, case_row *r)
{
#define COL(i) (sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "")
	*r = (case_row){.id = COL(0), .state = COL(1), .deadline = COL(2), .opened_at = COL(3),
			.updated_at = COL(4), .form = COL(5), .category = COL(6), .grid = COL(7),
			.address = COL(8), .party = COL(9), .officer = COL(10)};
#undef COL
	r->status = case_status_on(r->state, r->deadline, today, &r->days_overdue);
}

static int rows_each(fbindex *ix, const char *status, const char *search, const char *today,
		     index_sort sort, long limit, long offset, index_row_cb cb, void *payload)
{
	sqlite3_stmt *st;
	char *pat = NULL;
	int rc = prepare_list(ix, &st, "id, status, deadline, opened_at, updated_at, form, category,"
			      " grid, address, party, officer", status, search, today, (int)sort, limit,
			      offset, &pat);
	if (rc)
		return rc;
	int r;
	while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
		case_row row;
		column_row(st, today, &row);
		rc = cb(&row, payload);
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = db_fail(ix, "list");
	sqlite3_finalize(st);
	free(pat);
	return rc;
}

int index_case_rows_each(fbindex *ix, const char *status, const char *search, const char *today,
			 index_row_cb cb, void *payload)
{
	return rows_each(ix, status, search, today, INDEX_SORT_NEWEST, 0, 0, cb, payload);
}

/* Rows into an array of their summary objects (case_row_json). */
static int collect(const case_row *row, void *arr)
{
	return json_array_append_new(arr, case_row_json(row)) ? error_set(ERR_NOMEM, "out of memory") : 0;
}

int index_case_count(fbindex *ix, const char *status, const char *search, const char *today,
		     long *out)
{
	sqlite3_stmt *st;
	char *pat = NULL;
	int rc = prepare_list(ix, &st, "count(*)", status, search, today, -1, 0, 0, &pat);
	if (rc)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(st, 0);
	else
		rc = db_fail(ix, "count");
	sqlite3_finalize(st);
	free(pat);
	return rc;
}

int index_case_page(fbindex *ix, const char *status, const char *search, const char *today,
		    index_sort sort, long limit, long offset, json_t **out)
{
	json_t *arr = json_array();
	int rc = rows_each(ix, status, search, today, sort, limit, offset, collect, arr);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

static int string_column_list(fbindex *ix, const char *sql, const char *arg, json_t **out)
{
	sqlite3_stmt *st;
	if (prepare(ix, &st, sql))
		return ERR_DB;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	*out = arr;
	return 0;
}

int index_photo_cases(fbindex *ix, const char *sha256, json_t **out)
{
	return string_column_list(ix, "SELECT DISTINCT case_id FROM photos WHERE sha256 = ? ORDER BY 1",
				  sha256, out);
}

int index_problems(fbindex *ix, json_t **out)
{
	sqlite3_stmt *st;
	if (prepare(ix, &st, "SELECT path, problem FROM problems ORDER BY path"))
		return ERR_DB;
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "path", sqlite3_column_text(st, 0),
						     "problem", sqlite3_column_text(st, 1)));
	sqlite3_finalize(st);
	*out = arr;
	return 0;
}

/* --- counters ------------------------------------------------------------------ */

static int scalar_long(fbindex *ix, const char *sql, const char *a, const char *b, long *out)
{
	sqlite3_stmt *st;
	if (prepare(ix, &st, sql))
		return ERR_DB;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	*out = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

/* Next value of a counter: above both the stored counter and what the
 * ledger already holds (so a rebuilt or lost index never reuses a number). */
static int next_counter(fbindex *ix, const char *name, const char *ledger_sql,
			const char *a, const char *b, long *out)
{
	long stored, seen;
	int rc;
	if ((rc = exec(ix, "BEGIN IMMEDIATE")))
		return rc;
	if ((rc = scalar_long(ix, "SELECT value FROM counters WHERE name = ?", name, NULL, &stored)) ||
	    (rc = scalar_long(ix, ledger_sql, a, b, &seen)))
		goto fail;
	*out = (stored > seen ? stored : seen) + 1;
	sqlite3_stmt *st;
	if ((rc = prepare(ix, &st, "INSERT OR REPLACE INTO counters(name, value) VALUES(?, ?)")))
		goto fail;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, *out);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(ix, "counters");
	sqlite3_finalize(st);
	if (rc)
		goto fail;
	return exec(ix, "COMMIT");
fail:
	exec(ix, "ROLLBACK");
	return rc;
}

int index_next_seq(fbindex *ix, const char *device, long *out)
{
	char name[64];
	snprintf(name, sizeof name, "seq:%s", device);
	return next_counter(ix, name, "SELECT coalesce(max(seq), 0) FROM events WHERE device = ?",
			    device, NULL, out);
}

int index_next_case_number(fbindex *ix, const char *device, const char *day, long *out)
{
	char name[96];
	snprintf(name, sizeof name, "case:%s:%s", device, day);
	return next_counter(ix, name, "SELECT coalesce(max(n), 0) FROM cases WHERE device = ? AND day = ?",
			    device, day, out);
}

/* --- drafts ----------------------------------------------------------------------- */

int index_draft_put(fbindex *ix, const char *case_id, const char *kind, const json_t *draft)
{
	char now[32];
	util_time_rfc3339(util_now(), now);
	char *text = json_dumps(draft, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(10));
	sqlite3_stmt *st;
	int rc = text ? 0 : error_set(ERR_NOMEM, "out of memory");
	if (rc == 0)
		rc = exec(ix, "PRAGMA synchronous=FULL");
	if (rc == 0 && (rc = prepare(ix, &st, "INSERT OR REPLACE INTO drafts(case_id, kind, draft,"
				     " updated_at) VALUES(?,?,?,?)")) == 0) {
		sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(ix, _("saving the draft"));
		sqlite3_finalize(st);
	}
	exec(ix, "PRAGMA synchronous=NORMAL");
	free(text);
	return rc;
}

int index_draft_get(fbindex *ix, const char *case_id, const char *kind, json_t **out)
{
	sqlite3_stmt *st;
	if (prepare(ix, &st, "SELECT draft FROM drafts WHERE case_id = ? AND kind = ?"))
		return ERR_DB;
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	int rc = ERR_NOTFOUND;
	if (sqlite3_step(st) == SQLITE_ROW && (*out = column_json(st, 0)))
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

int index_draft_delete(fbindex *ix, const char *case_id, const char *kind)
{
	sqlite3_stmt *st;
	if (prepare(ix, &st, "DELETE FROM drafts WHERE case_id = ? AND kind = ?"))
		return ERR_DB;
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(ix, "drafts");
	sqlite3_finalize(st);
	return rc;
}

int index_draft_list(fbindex *ix, json_t **out)
{
	sqlite3_stmt *st;
	if (prepare(ix, &st, "SELECT case_id, kind, draft, updated_at FROM drafts ORDER BY updated_at DESC"))
		return ERR_DB;
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *d = column_json(st, 2);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:s}", "case",
						     sqlite3_column_text(st, 0), "kind",
						     sqlite3_column_text(st, 1), "draft",
						     d ? d : json_object(), "updated_at",
						     sqlite3_column_text(st, 3)));
	}
	sqlite3_finalize(st);
	*out = arr;
	return 0;
}
