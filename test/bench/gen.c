/*
 * fbbench: the benchmark generator and in-process probes for `make bench`
 * (test/bench/run).  Built by test/bench/gen and test/bench/run against
 * build/libfbcore.a; not part of `make test`.
 *
 *   fbbench gen --cases N [--photos M] -o DIR [--days D] [--seed S]
 *               [--path action|bulk] [--photo-size WxH] [--durable]
 *       Build a workspace in DIR (DIR/ledger.git, DIR/index.sqlite, ...)
 *       with N cases opened over D days (from 2025-01-01, Asia/Shanghai
 *       time), and their inspections, orders, re-inspections, notes,
 *       escalations and closures, in time order, one commit per event.
 *       --path action (default): every event through the real write path
 *       (action_case_new, action_inspect, action_order, action_note,
 *       action_close, action_escalate, action_record), which updates the
 *       index after each commit.
 *       --path bulk: the same events built with the same core functions
 *       (action_event, event_dump, event_summary, form_failures, ...) and
 *       appended with ledger_append, one commit per event, identical paths,
 *       JSON and messages; the index is built once at the end with
 *       index_sync (the reindex path).  `fbbench gen` with the same
 *       arguments and either path gives the same head tree (the smoke run
 *       checks it).
 *       M photos (JPEG with EXIF + GPS, written with libjpeg/libexif via
 *       test/tools/jpegwrite.h) are written to DIR/photos/ and attached to
 *       cases as photo.attached events carrying the bytes in the ledger.
 *       Unless --durable, fsync is off while generating (libgit2's
 *       GIT_OPT_ENABLE_FSYNC_GITDIR, and fsync/fdatasync/syncfs below, like
 *       eatmydata): it only builds test data.
 *       Writes DIR/cases.txt (every case id) and DIR/gen.json (counts).
 *
 *   fbbench record DIR --n K [--warm W] [--now RFC3339]
 *       Record K notes in-process on existing cases (durable, as the CLI
 *       does) after opening the workspace once and recording W unreported
 *       warm-up notes (a fresh copy's first events create object
 *       directories and read pages in); prints one line per event:
 *       "<microseconds> <ledger path>".  FBBENCH_NOSYNC=1: fsync off, to
 *       separate the CPU cost from the disk's flush latency.
 *   fbbench list DIR --n K [--status S] [--search T] [--open]
 *       Time what the TUI's case list loads: the count of matching cases and
 *       the first window of summaries (index_case_count + index_case_page,
 *       240 rows); with --open also workspace_open and free, what a TUI start
 *       costs.  Prints "<microseconds> <rows>" per run.
 *   fbbench exif DIR --n K
 *       Load every .jpg file in DIR with photo_load_file and build its EXIF summary
 *       (photo_exif_json); prints "<microseconds> <files>" per pass.
 *   fbbench photo OUT.jpg --size WxH --seed N --lat D --lon D --taken "YYYY:MM:DD HH:MM:SS"
 *       Write one phone-like photo: the EXIF of the generated photos (GPS,
 *       time +08:00, make/model) and a picture with per-pixel sensor noise,
 *       so that a 4000x3000 photo has the size of a phone's (~3.5 MB at
 *       quality 90) instead of the few hundred KB of the flat test picture.
 */
#include "core/action.h"
#include "core/attach.h"
#include "core/case.h"
#include "core/error.h"
#include "core/event.h"
#include "core/form.h"
#include "core/index.h"
#include "core/ledger.h"
#include "core/photo.h"
#include "core/sign.h"
#include "core/util.h"
#include "core/workspace.h"

#include "../tools/jpegwrite.h"

#include <dirent.h>
#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* --- fsync off while generating (eatmydata style) ------------------------ */

static int g_nosync;

int fsync(int fd)
{
	return g_nosync ? 0 : (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd)
{
	return g_nosync ? 0 : (int)syscall(SYS_fdatasync, fd);
}

/* the ledger flushes with syncfs() (ledger.c flush_disk): off too */
int syncfs(int fd)
{
	return g_nosync ? 0 : (int)syscall(SYS_syncfs, fd);
}

/* --- small helpers ------------------------------------------------------- */

static void die(const char *what)
{
	fprintf(stderr, "fbbench: %s: %s\n", what, error_last());
	exit(1);
}

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 2685821657736338717ULL;
}

static unsigned pick(unsigned n) { return (unsigned)(rnd() % n); }
static double frand(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void set_now(time_t t)
{
	char buf[32];
	util_time_rfc3339(t, buf);
	setenv("FIELDBOOK_NOW", buf, 1);
}

#define N_(a) (sizeof(a) / sizeof *(a))

/* --- realistic text -------------------------------------------------------- */

static const char *districts[] = {"西湖区", "上城区", "拱墅区", "滨江区", "余杭区", "临平区", "钱塘区"};
static const char *dist_short[] = {"XH", "SC", "GS", "BJ", "YH", "LP", "QT"};
static const char *streets_zh[] = {"北山", "西溪", "灵隐", "翠苑", "文新", "古荡", "湖滨",
				   "清波", "小营", "米市巷", "和睦", "长庆", "西兴", "长河"};
static const char *roads[] = {"文三路", "文二路", "学院路", "教工路", "天目山路", "庆春路", "延安路",
			      "解放路", "凤起路", "莫干山路", "湖墅南路", "江南大道", "滨盛路", "古墩路",
			      "文一西路", "余杭塘路", "建国北路", "中山北路", "体育场路", "环城北路"};
static const char *near[] = {"", "", "", "（近学院路口）", "东侧", "西侧人行道", "地铁站B口旁",
			     "（农贸市场门口）", "底商", "（小区南门）", "公交站台旁"};
static const char *shops[] = {"老王面馆", "华联超市", "兰州拉面", "沙县小吃", "鲜花店", "五金店",
			      "手机维修店", "烟酒店", "奶茶店", "水果店", "便利店", "理发店", "药店",
			      "包子铺", "快递驿站", "洗车店", "眼镜店", "服装店"};
static const char *companies[] = {"杭州市政建设集团有限公司", "浙江建工集团有限责任公司",
				  "中铁十一局集团有限公司", "杭州某装饰工程有限公司",
				  "绿城物业服务集团有限公司"};
static const char *surnames[] = {"张", "王", "李", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
				 "胡", "朱", "高", "林", "何", "郭", "马", "罗"};
static const char *given[] = {"伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰",
			      "涛", "明", "超", "秀英", "建国", "晓东", "海燕", "志强"};
static const char *notes[] = {
	"当事人表示三日内整改完毕", "现场已拍照取证", "店主不在，已电话联系",
	"已口头告知相关规定，当事人表示理解", "已发放《责令限期改正通知书》",
	"群众投诉：占道经营影响通行", "12345 热线转办", "与街道联合执法",
	"当事人拒绝签字，已由两名执法人员见证", "整改中，已拆除部分设施",
	"复查时当事人在场", "已通知物业协助", "夜间巡查发现", "Party asked for an extension",
	"Follow-up scheduled with the street office"};
static const char *item_notes[] = {"固定螺栓锈蚀", "围挡破损约 3 米", "摊位延伸至人行道约 2 米",
				   "未设置警示标志", "夜间照明不足", "堆放杂物占用消防通道",
				   "张贴小广告十余处", "材料未覆盖，扬尘明显", "招牌字体缺损"};
static const char *reasons[] = {"当事人拒不整改", "逾期未整改，转立案处罚", "多次违规"};
static const char *makes[][2] = {{"HUAWEI", "ELS-AN00"}, {"Xiaomi", "2201123C"}, {"OPPO", "PEEM00"},
				 {"vivo", "V2196A"}, {"Apple", "iPhone 13"}};

static void person(char *out, size_t n)
{
	snprintf(out, n, "%s%s", surnames[pick(N_(surnames))], given[pick(N_(given))]);
}

/* --- plans and schedule ----------------------------------------------------- */

enum plan {
	P_OPEN_ONLY,   /* reported, not inspected yet */
	P_PASS_CLOSE,  /* inspected, no violation, closed */
	P_WAIVED,      /* first violation waived (首违不罚) */
	P_RECTIFIED,   /* order, re-inspection passes, closed */
	P_RECT_SLOW,   /* order, re-inspection fails once, then passes, closed */
	P_ORDERED,     /* order open (overdue once past the deadline) */
	P_PENALIZED,   /* order, escalated, closed penalized */
	P_INSPECTED,   /* inspected, nothing decided yet */
	P_CLOSED_EARLY, /* meant to fail, but every answer passed: closed */
};

enum kind { K_OPEN, K_PHOTO, K_INSPECT, K_ORDER, K_REINSPECT_FAIL, K_REINSPECT, K_ESCALATE,
	    K_CLOSE, K_NOTE };

typedef struct {
	char id[48];
	float lat, lon;
	uint32_t failed;      /* bit i: item i of the form failed the inspection */
	uint32_t open_items;  /* bulk: items of the open order */
	unsigned char form, plan;
} gcase;

typedef struct {
	int64_t t;
	int32_t c;
	uint8_t kind, arg;
} gstep;

static int cmp_step(const void *a, const void *b)
{
	const gstep *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->c != y->c)
		return x->c < y->c ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static const char *form_ids[] = {"signboard", "fencing", "lane", "stacking", "posting"};
static form *forms[N_(form_ids)];
static char form_sha[N_(form_ids)][65];

static gcase *cases;
static gstep *steps;
static size_t nsteps, capsteps;

static void add_step(int64_t t, int c, int kind, int arg)
{
	if (nsteps == capsteps) {
		capsteps = capsteps ? 2 * capsteps : 4096;
		steps = realloc(steps, capsteps * sizeof *steps);
		if (!steps) {
			perror("fbbench");
			exit(1);
		}
	}
	steps[nsteps++] = (gstep){t, c, (uint8_t)kind, (uint8_t)arg};
}

/* --- answers ----------------------------------------------------------------- */

/* Give item `it` a value; want_fail: a failing value if the item can fail. */
static void answer_item(const form *f, const form_item *it, json_t *answers, bool want_fail)
{
	const char *id = form_item_id(it);
	json_t *v = NULL;
	switch (form_item_get_type(it)) {
	case FORM_PASSFAIL:
		json_object_set_new(answers, id, json_string(want_fail ? "fail" : "pass"));
		return;
	case FORM_TEXT: {
		char buf[128];
		snprintf(buf, sizeof buf, "%s %u", pick(2) ? "浙A-" : "杭城管许字第", 1000 + pick(9000));
		json_object_set_new(answers, id, json_string(buf));
		return;
	}
	case FORM_PHOTOS:
		return; /* photo counts come from attached photos */
	case FORM_NUMBER: {
		double lo = 0, hi = 10;
		form_item_range(it, &lo, &hi);
		for (int k = 0; k < 12; k++) {
			double x = lo + (hi - lo) * (k < 11 ? frand() : 0.5);
			x = (double)(long)(x * 10) / 10;
			json_object_set_new(answers, id, json_real(x));
			if (form_item_failed(f, it, answers) == want_fail)
				return;
		}
		return;
	}
	case FORM_CHOICE:
	case FORM_MULTI: {
		size_t n = form_item_choice_count(it);
		size_t start = pick((unsigned)(n ? n : 1));
		for (size_t k = 0; k < n; k++) {
			const char *c = form_item_choice_value(it, (start + k) % n);
			v = form_item_get_type(it) == FORM_MULTI ? json_pack("[s]", c) : json_string(c);
			json_object_set_new(answers, id, v);
			if (form_item_failed(f, it, answers) == want_fail)
				return;
		}
		if (want_fail) /* cannot fail: any passing value */
			answer_item(f, it, answers, false);
		return;
	}
	default:
		return;
	}
}

/* Inspection answers for a case; returns the failures bitmask. */
static json_t *inspection_answers(const form *f, bool fail, json_t **notes)
{
	json_t *answers = json_object();
	size_t n = form_item_count(f);
	uint32_t failing = 0;
	json_t *empty = json_object();
	if (fail) {
		/* one or two items fail, passfail ones mostly */
		int want = 1 + (pick(3) == 0);
		for (int tries = 0; tries < 40 && __builtin_popcount(failing) < want; tries++) {
			size_t i = pick((unsigned)n);
			const form_item *it = form_item_at(f, i);
			form_item_type t = form_item_get_type(it);
			/* Not items shown only under a condition (`when`): a re-inspection
			 * of one is refused by the core today (see docs/PERFORMANCE.md). */
			if (!form_item_visible(f, it, empty))
				continue;
			if (t == FORM_PASSFAIL || (t == FORM_CHOICE && pick(3) == 0))
				failing |= 1u << i;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const form_item *it = form_item_at(f, i);
		if (!form_item_visible(f, it, answers))
			continue;
		if (!form_item_required(it) && !(failing & (1u << i)) && pick(10) < 3)
			continue; /* optional items are often skipped */
		answer_item(f, it, answers, (failing >> i) & 1);
	}
	json_decref(empty);
	*notes = json_object();
	json_t *fl = form_failures(f, answers);
	size_t k;
	json_t *v;
	json_array_foreach(fl, k, v)
		if (pick(2))
			json_object_set_new(*notes, json_string_value(v),
					    json_string(item_notes[pick(N_(item_notes))]));
	json_decref(fl);
	return answers;
}

static uint32_t failure_bits(const form *f, const json_t *answers)
{
	json_t *fl = form_failures(f, answers);
	uint32_t bits = 0;
	size_t k;
	json_t *v;
	json_array_foreach(fl, k, v)
		for (size_t i = 0; i < form_item_count(f); i++)
			if (strcmp(form_item_id(form_item_at(f, i)), json_string_value(v)) == 0)
				bits |= 1u << i;
	json_decref(fl);
	return bits;
}

/* Re-inspection answers for the open items; fail_first: the first one fails again. */
static json_t *reinspection_answers(const form *f, uint32_t open, bool fail_first)
{
	json_t *answers = json_object();
	size_t last = 0;
	for (size_t i = 0; i < form_item_count(f); i++)
		if (open & (1u << i))
			last = i;
	/* fail the last open item: failing an earlier one could hide a later
	 * one that depends on it (a `when` condition) */
	for (size_t i = 0; i < form_item_count(f); i++) {
		if (!(open & (1u << i)))
			continue;
		const form_item *it = form_item_at(f, i);
		bool fail = fail_first && i == last;
		answer_item(f, it, answers, fail);
		/* a rectified choice takes its first passing value (e.g. CF11
		 * "compliant", not "n/a", which would hide CF12 that depends on it) */
		for (size_t k = 0; !fail && form_item_get_type(it) == FORM_CHOICE &&
				   k < form_item_choice_count(it); k++) {
			json_object_set_new(answers, form_item_id(it),
					    json_string(form_item_choice_value(it, k)));
			if (!form_item_failed(f, it, answers))
				break;
		}
	}
	return answers;
}

/* --- the generator ---------------------------------------------------------------- */

typedef struct {
	workspace *ws;
	bool bulk;
	const char *dir;
	long seq;            /* bulk: last event seq */
	json_t *day_numbers; /* bulk: next case number per day */
	long events, photos;
	size_t photo_bytes;
	int pw, ph;
	git_odb *odb;            /* bulk: objects go to memory, then one pack per chunk */
	git_odb_backend *mempack;
	git_packbuilder *pb;     /* bulk: the objects each commit added */
	long unflushed;
	long packs;
} gen;

#define BULK_CHUNK 5000 /* events per pack written by the bulk path */
#define MIDX_EVERY 8    /* packs between two multi-pack indexes */

static void git_die(const char *what)
{
	const git_error *e = git_error_last();
	fprintf(stderr, "fbbench: %s: %s\n", what, e && e->message ? e->message : "libgit2 error");
	exit(1);
}

/* bulk: the objects a commit added (itself, the trees on its paths, the
 * files) go into the pack being built.  (git_mempack_dump would walk every
 * commit's whole tree: quadratic in the ledger size.) */
static void bulk_track(gen *g, const char *commit_hex, const ledger_file *files, size_t n)
{
	git_repository *repo = ledger_repository(g->ws->ledger);
	git_oid oid;
	git_commit *c;
	git_tree *root;
	if (!g->pb && git_packbuilder_new(&g->pb, repo) < 0)
		git_die("packbuilder");
	if (git_oid_fromstr(&oid, commit_hex) < 0 || git_commit_lookup(&c, repo, &oid) < 0 ||
	    git_commit_tree(&root, c) < 0 || git_packbuilder_insert(g->pb, &oid, NULL) < 0 ||
	    git_packbuilder_insert(g->pb, git_tree_id(root), NULL) < 0)
		git_die("tracking a commit");
	for (size_t i = 0; i < n; i++) {
		char prefix[512];
		const char *p = files[i].path;
		for (const char *slash = strchr(p, '/');; slash = strchr(slash + 1, '/')) {
			size_t len = slash ? (size_t)(slash - p) : strlen(p);
			snprintf(prefix, sizeof prefix, "%.*s", (int)len, p);
			git_tree_entry *e;
			if (git_tree_entry_bypath(&e, root, prefix) < 0)
				git_die(prefix);
			if (git_packbuilder_insert(g->pb, git_tree_entry_id(e), NULL) < 0)
				git_die("tracking an object");
			git_tree_entry_free(e);
			if (!slash)
				break;
		}
	}
	git_tree_free(root);
	git_commit_free(c);
}

/* bulk: write the objects tracked so far as one pack, then empty the memory backend. */
static void bulk_flush(gen *g)
{
	if (!g->mempack || !g->unflushed)
		return;
	git_buf pack = {0};
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats = {0};
	git_packbuilder_set_threads(g->pb, 2);
	if (git_packbuilder_write_buf(&pack, g->pb) < 0 ||
	    git_odb_write_pack(&wp, g->odb, NULL, NULL) < 0 ||
	    wp->append(wp, pack.ptr, pack.size, &stats) < 0 || wp->commit(wp, &stats) < 0)
		git_die("writing a pack");
	wp->free(wp);
	git_buf_dispose(&pack);
	git_packbuilder_free(g->pb);
	g->pb = NULL;
	/* every object written is first looked up in every pack: a
	 * multi-pack index over them keeps that one search, not one per pack */
	if (++g->packs % MIDX_EVERY == 0 && git_odb_write_multi_pack_index(g->odb) < 0)
		git_die("writing a multi-pack index");
	git_odb_refresh(g->odb);
	git_mempack_reset(g->mempack);
	g->unflushed = 0;
}

static void where_for(gen *g, const gcase *c)
{
	g->ws->where = (workspace_where){true, c->lat + (frand() - 0.5) * 0.0004,
					  c->lon + (frand() - 0.5) * 0.0004, 3 + pick(15), "gps"};
}

#define BENCH_PIN "246810"

static int bench_pin(workspace *ws, const char *prompt, char *buf, size_t size, void *payload)
{
	snprintf(buf, size, "%s", BENCH_PIN);
	return 0;
}

static int sign_commit(const char *buf, size_t len, char **sig, void *payload)
{
	return sign_data(payload, SIGN_NS_GIT, buf, len, sig);
}

/* bulk: what action.c's assign_id + commit_event do (event, its SSHSIG
 * signature, extra files; the commit signed too). */
static void bulk_commit(gen *g, json_t *ev, const ledger_file *extra, size_t nextra)
{
	workspace *ws = g->ws;
	time_t at;
	char id[64], path[256], email[160], tz[8], *message = NULL;
	util_time_parse(event_str(ev, "at"), &at);
	event_id_make(id, at, ws->device, ++g->seq);
	json_object_set_new(ev, "seq", json_integer(g->seq));
	json_object_set_new(ev, "id", json_string(id));
	const char *case_id = event_str(ev, "case");
	if (event_path(case_id, id, path, sizeof path))
		die("event path");
	char *text = event_dump(ev), *summary = event_summary(ev), *sig = NULL, sigpath[264];
	if (sign_data(ws->key, SIGN_NS_EVENT, text, strlen(text), &sig))
		die("sign");
	snprintf(sigpath, sizeof sigpath, "%s.sig", path);
	if (asprintf(&message, "%s\n\nCase: %s\nEvent: %s\nOfficer: %s\n", summary, case_id, id,
		     ws->officer) < 0)
		exit(1);
	ledger_file files[4];
	files[0] = (ledger_file){path, text, strlen(text)};
	files[1] = (ledger_file){sigpath, sig, strlen(sig)};
	for (size_t i = 0; i < nextra; i++)
		files[i + 2] = extra[i];
	util_time_tz(at, tz);
	int tzmin = ((tz[1] - '0') * 10 + (tz[2] - '0')) * 60 + (tz[4] - '0') * 10 + (tz[5] - '0');
	snprintf(email, sizeof email, "%s@%s.fieldbook", ws->officer, ws->unit);
	ledger_author author = {ws->name, email, at, tz[0] == '-' ? -tzmin : tzmin};
	char commit[41];
	ledger_set_signer(ws->ledger, sign_commit, ws->key);
	if (ledger_append(ws->ledger, files, nextra + 2, &author, message, commit))
		die("ledger_append");
	ledger_set_signer(ws->ledger, NULL, NULL);
	bulk_track(g, commit, files, nextra + 2);
	if (++g->unflushed >= BULK_CHUNK)
		bulk_flush(g);
	free(sig);
	free(text);
	free(summary);
	free(message);
}

static void step_open(gen *g, int ci)
{
	gcase *c = &cases[ci];
	const form *f = forms[c->form];
	char address[256], party[128] = "", contact[32] = "", grid[64];
	int d = pick(N_(districts)), s = pick(N_(streets_zh));
	snprintf(address, sizeof address, "杭州市%s%s%u号%s", districts[d], roads[pick(N_(roads))],
		 1 + pick(399), near[pick(N_(near))]);
	snprintf(grid, sizeof grid, "%s-%s-%02u", dist_short[d], streets_zh[s], 1 + pick(30));
	unsigned pk = pick(10);
	if (pk < 6)
		snprintf(party, sizeof party, "%s", shops[pick(N_(shops))]);
	else if (pk < 8)
		snprintf(party, sizeof party, "%s", companies[pick(N_(companies))]);
	else if (pk < 9)
		person(party, sizeof party);
	if (*party && pick(2))
		snprintf(contact, sizeof contact, "1%u%08u", 30 + pick(60), pick(100000000));
	c->lat = (float)(30.20 + frand() * 0.15);
	c->lon = (float)(120.05 + frand() * 0.25);
	where_for(g, c);
	if (!g->bulk) {
		action_case_params p = {.form_id = form_ids[c->form], .address = address,
					.grid = grid, .party = party, .contact = contact};
		char id[96];
		if (action_case_new(g->ws, &p, id))
			die("case new");
		snprintf(c->id, sizeof c->id, "%.47s", id);
		return;
	}
	/* bulk: action_case_new */
	char day[11], compact[9], key[32];
	util_time_local_date(util_now(), day);
	snprintf(compact, sizeof compact, "%.4s%.2s%.2s", day, day + 5, day + 8);
	snprintf(key, sizeof key, "%s", compact);
	json_int_t n = json_integer_value(json_object_get(g->day_numbers, key)) + 1;
	json_object_set_new(g->day_numbers, key, json_integer(n));
	snprintf(c->id, sizeof c->id, "%s-%s-%s-%lld", g->ws->unit, compact, g->ws->device,
		 (long long)n);
	json_t *ev = action_event(g->ws, EV_CASE_OPENED, c->id);
	json_object_set_new(ev, "form", json_pack("{s:s, s:i, s:s}", "id", form_id(f), "version",
						   form_version(f), "sha256", form_sha[c->form]));
	json_object_set_new(ev, "category", json_pack("{s:s, s:s, s:s}", "code", form_category_code(f),
						       "zh", form_category_label(f, "zh"), "en",
						       form_category_label(f, "en")));
	json_t *site = json_pack("{s:s}", "address", address);
	json_object_set_new(site, "grid", json_string(grid));
	json_object_set_new(ev, "site", site);
	if (*party) {
		json_t *pj = json_pack("{s:s}", "name", party);
		if (*contact)
			json_object_set_new(pj, "contact", json_string(contact));
		json_object_set_new(ev, "party", pj);
	}
	json_object_set_new(ev, "unit", json_string(g->ws->unit));
	size_t len;
	const char *text = form_text(f, &len);
	char fpath[256];
	snprintf(fpath, sizeof fpath, "forms/%s/%d.yaml", form_id(f), form_version(f));
	ledger_file ff = {fpath, text, len};
	bulk_commit(g, ev, &ff, 1);
	if (getenv("FBBENCH_DEBUG")) {
		char h[41];
		ledger_head(g->ws->ledger, h);
		fprintf(stderr, "opened %s at %s: head %s\n", c->id, getenv("FIELDBOOK_NOW"), h);
	}
	json_decref(ev);
}

static void step_inspect(gen *g, int ci, bool reinspection, bool fail_first)
{
	gcase *c = &cases[ci];
	const form *f = forms[c->form];
	json_t *answers, *notes = NULL;
	bool fail = c->plan != P_PASS_CLOSE && c->plan != P_INSPECTED;
	if (reinspection)
		answers = reinspection_answers(f, c->open_items, fail_first);
	else
		answers = inspection_answers(f, fail, &notes);
	if (!notes)
		notes = json_object();
	where_for(g, c);
	if (!reinspection)
		c->failed = failure_bits(f, answers);
	if (!g->bulk) {
		if (action_inspect(g->ws, c->id, answers, notes, reinspection, false, NULL))
			die(c->id);
	} else {
		if (!reinspection && form_answers_validate(f, answers, true))
			die(c->id);
		json_t *ev = action_event(g->ws, reinspection ? EV_REINSPECTION : EV_INSPECTION, c->id);
		json_object_set_new(ev, "form", json_pack("{s:s, s:i, s:s}", "id", form_id(f), "version",
							   form_version(f), "sha256", form_sha[c->form]));
		json_object_set(ev, "answers", answers);
		if (json_object_size(notes))
			json_object_set(ev, "notes", notes);
		json_object_set_new(ev, "failures", form_failures(f, answers));
		bulk_commit(g, ev, NULL, 0);
		json_decref(ev);
	}
	if (reinspection)
		c->open_items &= fail_first ? failure_bits(f, answers) : 0;
	json_decref(answers);
	json_decref(notes);
}

static void step_order(gen *g, int ci)
{
	gcase *c = &cases[ci];
	const form *f = forms[c->form];
	where_for(g, c);
	c->open_items = c->failed;
	int defaults = 0;
	for (size_t i = 0; i < form_item_count(f); i++)
		if ((c->failed & (1u << i)) && form_item_fail_days(form_item_at(f, i)) >= 0)
			defaults = 1;
	if (!g->bulk) {
		if (action_order(g->ws, c->id, NULL, defaults ? -1 : 7, NULL))
			die(c->id);
		return;
	}
	json_t *ev = action_event(g->ws, EV_ORDER, c->id), *items = json_array();
	int days = -1;
	for (size_t i = 0; i < form_item_count(f); i++) {
		if (!(c->failed & (1u << i)))
			continue;
		const form_item *it = form_item_at(f, i);
		json_t *o = json_pack("{s:s}", "item", form_item_id(it));
		const char *zh = form_item_legal_basis(it, "zh"), *en = form_item_legal_basis(it, "en");
		if (*zh || *en)
			json_object_set_new(o, "basis", json_pack("{s:s, s:s}", "zh", zh, "en", en));
		int d = form_item_fail_days(it);
		if (d >= 0)
			json_object_set_new(o, "days", json_integer(d));
		if (d >= 0 && (days < 0 || d < days))
			days = d;
		json_array_append_new(items, o);
	}
	json_object_set_new(ev, "items", items);
	if (days < 0)
		days = 7; /* no default: the officer gives one (order --days 7) */
	char today[11], deadline[11];
	util_time_local_date(util_now(), today);
	util_date_add(today, days, deadline);
	json_object_set_new(ev, "days", json_integer(days));
	json_object_set_new(ev, "deadline", json_string(deadline));
	bulk_commit(g, ev, NULL, 0);
	json_decref(ev);
}

static void step_simple(gen *g, int ci, const char *type, const char *key, const char *value)
{
	gcase *c = &cases[ci];
	where_for(g, c);
	if (!g->bulk) {
		int rc = strcmp(type, EV_NOTE) == 0	 ? action_note(g->ws, c->id, value, NULL)
			 : strcmp(type, EV_ESCALATED) == 0 ? action_escalate(g->ws, c->id, value, NULL)
							   : action_close(g->ws, c->id, key, value, NULL);
		if (rc)
			die(c->id);
		return;
	}
	json_t *ev = action_event(g->ws, type, c->id);
	if (strcmp(type, EV_CLOSED) == 0) {
		json_object_set_new(ev, "outcome", json_string(key));
		if (value && *value)
			json_object_set_new(ev, "reason", json_string(value));
	} else if (value && *value)
		json_object_set_new(ev, strcmp(type, EV_NOTE) == 0 ? "text" : "reason",
				    json_string(value));
	bulk_commit(g, ev, NULL, 0);
	json_decref(ev);
}

/* A photo taken at the site now, written to DIR/photos and attached. */
static void step_photo(gen *g, int ci, int k)
{
	gcase *c = &cases[ci];
	const form *f = forms[c->form];
	time_t now = util_now(), local = now + 8 * 3600;
	struct tm tm;
	gmtime_r(&local, &tm);
	char taken[32], name[512];
	strftime(taken, sizeof taken, "%Y:%m:%d %H:%M:%S", &tm);
	int m = pick(N_(makes));
	where_for(g, c);
	struct testjpeg o = {.width = g->pw, .height = g->ph, .seed = (unsigned)(g->photos + 1),
			     .quality = 85, .has_gps = true, .lat = g->ws->where.lat,
			     .lon = g->ws->where.lon, .has_alt = true, .alt = 8 + pick(40),
			     .taken = taken, .offset = "+08:00", .make = makes[m][0],
			     .model = makes[m][1], .orientation = 1};
	unsigned char *jpg;
	size_t len;
	if (testjpeg_encode(&o, &jpg, &len)) {
		fprintf(stderr, "fbbench: cannot encode a JPEG\n");
		exit(1);
	}
	snprintf(name, sizeof name, "%s/photos/p%06ld.jpg", g->dir, g->photos);
	if (util_write_file(name, jpg, len, 0644))
		die(name);
	photo *p;
	if (photo_load_buffer(&p, jpg, len, name))
		die(name);
	/* the item photographed: a failed one when there is one */
	const char *item = NULL;
	for (size_t i = 0; i < form_item_count(f) && !item; i++)
		if (c->failed & (1u << i))
			item = form_item_id(form_item_at(f, i));
	if (!item)
		item = form_item_id(form_item_at(f, (size_t)k % form_item_count(f)));
	if (!g->bulk) {
		/* attach_photos: the real path (checks, event, bytes in the ledger) */
		const char *paths[1] = {name};
		if (attach_photos(g->ws, c->id, paths, 1, item, NULL))
			die(name);
	} else {
		/* bulk: attach.c's photo_event.  The generated photos pass every
		 * check (GPS within ~40 m of the case, taken a minute after it was
		 * opened, unique bytes), so checks is [] as attach_photos writes
		 * it; the smoke run compares both paths' ledgers. */
		char cdir[200], ppath[300];
		json_t *ev = action_event(g->ws, EV_PHOTO, c->id);
		json_object_set_new(ev, "sha256", json_string(photo_sha256(p)));
		json_object_set_new(ev, "size", json_integer((json_int_t)len));
		json_object_set_new(ev, "item", json_string(item));
		json_object_set_new(ev, "exif", photo_exif_json(p));
		json_object_set_new(ev, "checks", json_array());
		case_dir(c->id, cdir, sizeof cdir);
		snprintf(ppath, sizeof ppath, "%s/photos/%s.jpg", cdir, photo_sha256(p));
		ledger_file file = {ppath, jpg, len};
		bulk_commit(g, ev, &file, 1);
		json_decref(ev);
	}
	photo_free(p);
	free(jpg);
	g->photos++;
	g->photo_bytes += len;
}

static void run_step(gen *g, const gstep *s)
{
	gcase *c = &cases[s->c];
	if (c->plan == P_CLOSED_EARLY && s->kind != K_NOTE && s->kind != K_PHOTO)
		return;
	set_now((time_t)s->t);
	switch (s->kind) {
	case K_OPEN: step_open(g, s->c); break;
	case K_PHOTO: step_photo(g, s->c, s->arg); break;
	case K_INSPECT: step_inspect(g, s->c, false, false); break;
	case K_ORDER:
		if (!c->failed) { /* the answers happened to pass: close instead */
			step_simple(g, s->c, EV_CLOSED, "no-violation", "");
			c->plan = P_CLOSED_EARLY;
		} else
			step_order(g, s->c);
		break;
	case K_REINSPECT_FAIL: step_inspect(g, s->c, true, true); break;
	case K_REINSPECT:
		if (c->open_items) /* else the failed re-inspection passed after all */
			step_inspect(g, s->c, true, false);
		break;
	case K_ESCALATE: step_simple(g, s->c, EV_ESCALATED, NULL, reasons[pick(N_(reasons))]); break;
	case K_CLOSE: {
		const char *outcome = c->plan == P_PASS_CLOSE ? "no-violation"
				      : c->plan == P_WAIVED  ? "waived"
				      : c->plan == P_PENALIZED ? "penalized"
							       : "rectified";
		step_simple(g, s->c, EV_CLOSED, outcome,
			    strcmp(outcome, "waived") == 0 ? "首违不罚，已教育告知" : "");
		break;
	}
	case K_NOTE: step_simple(g, s->c, EV_NOTE, NULL, notes[pick(N_(notes))]); break;
	}
	g->events++;
}

/* Plan every case's steps over [start, end). */
static void plan(long ncases, long nphotos, int days, time_t start)
{
	time_t end = start + (time_t)days * 86400;
	cases = calloc((size_t)ncases, sizeof *cases);
	for (long i = 0; i < ncases; i++) {
		gcase *c = &cases[i];
		/* working hours 08:00-18:00 local (UTC+8) */
		int64_t t = start + (int64_t)(i * (double)days / ncases) * 86400 + 3600 * 0 +
			    pick(10 * 3600);
		unsigned r = pick(100);
		c->form = (unsigned char)pick(N_(form_ids));
		c->plan = r < 10 ? P_OPEN_ONLY : r < 35 ? P_PASS_CLOSE : r < 42 ? P_WAIVED
			  : r < 72 ? P_RECTIFIED : r < 80 ? P_RECT_SLOW : r < 88 ? P_ORDERED
			  : r < 92 ? P_PENALIZED : P_INSPECTED;
		add_step(t, (int)i, K_OPEN, 0);
		if (pick(100) < 30)
			add_step(t + 3600 + pick(20 * 86400), (int)i, K_NOTE, 0);
		if (c->plan == P_OPEN_ONLY)
			continue;
		int64_t ti = t + 300 + pick(1800);
		add_step(ti, (int)i, K_INSPECT, 0);
		switch (c->plan) {
		case P_PASS_CLOSE:
		case P_WAIVED: add_step(ti + 120 + pick(600), (int)i, K_CLOSE, 0); break;
		case P_RECTIFIED:
		case P_RECT_SLOW:
		case P_ORDERED:
		case P_PENALIZED: {
			int64_t to = ti + 120 + pick(600);
			add_step(to, (int)i, K_ORDER, 0);
			int64_t tr = to + (1 + pick(10)) * 86400 + pick(6 * 3600);
			if (c->plan == P_ORDERED)
				break;
			if (c->plan == P_PENALIZED) {
				add_step(tr, (int)i, K_ESCALATE, 0);
				add_step(tr + (3 + pick(20)) * 86400, (int)i, K_CLOSE, 0);
				break;
			}
			if (c->plan == P_RECT_SLOW) {
				add_step(tr, (int)i, K_REINSPECT_FAIL, 0);
				tr += (2 + pick(5)) * 86400;
			}
			add_step(tr, (int)i, K_REINSPECT, 0);
			add_step(tr + 300 + pick(3600), (int)i, K_CLOSE, 0);
			break;
		}
		default: break;
		}
	}
	/* photos: taken at random cases during the first visit, before the inspection */
	for (long k = 0; k < nphotos; k++) {
		long i = (long)(rnd() % (uint64_t)ncases);
		/* the open step is the first step of case i: find its time */
		int64_t t0 = start + (int64_t)(i * (double)days / ncases) * 86400;
		(void)t0;
		add_step(-1, (int)i, K_PHOTO, (int)(k % 250));
	}
	/* give photo steps their times from their case's open step */
	int64_t *opened = malloc((size_t)ncases * sizeof *opened);
	for (size_t s = 0; s < nsteps; s++)
		if (steps[s].kind == K_OPEN)
			opened[steps[s].c] = steps[s].t;
	for (size_t s = 0; s < nsteps; s++)
		if (steps[s].kind == K_PHOTO)
			steps[s].t = opened[steps[s].c] + 60 + steps[s].arg;
	free(opened);
	/* drop what lies in the future: those cases stay in an earlier state */
	size_t w = 0;
	for (size_t s = 0; s < nsteps; s++)
		if (steps[s].t < end)
			steps[w++] = steps[s];
	nsteps = w;
	qsort(steps, nsteps, sizeof *steps, cmp_step);
}

static int cmd_gen(int argc, char **argv)
{
	long ncases = 1000, nphotos = 0;
	int days = 365, durable = 0;
	const char *dir = NULL, *path = "action";
	char size[32] = "1280x960";
	uint64_t seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--durable")) {
			durable = 1;
			continue;
		}
		if (!v)
			goto usage;
		i++;
		if (!strcmp(a, "--cases"))
			ncases = atol(v);
		else if (!strcmp(a, "--photos"))
			nphotos = atol(v);
		else if (!strcmp(a, "-o"))
			dir = v;
		else if (!strcmp(a, "--days"))
			days = atoi(v);
		else if (!strcmp(a, "--seed"))
			seed = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--path"))
			path = v;
		else if (!strcmp(a, "--photo-size"))
			snprintf(size, sizeof size, "%s", v);
		else
			goto usage;
	}
	if (!dir || ncases < 1 || days < 1 || (strcmp(path, "action") && strcmp(path, "bulk")))
		goto usage;
	gen g = {.dir = dir, .bulk = !strcmp(path, "bulk")};
	if (sscanf(size, "%dx%d", &g.pw, &g.ph) != 2 || g.pw < 8 || g.ph < 8)
		goto usage;
	rng_state ^= seed * 0x9E3779B97F4A7C15ULL;
	g_nosync = !durable;
	char p[4096];
	snprintf(p, sizeof p, "%s/config", dir);
	if (util_is_file(p)) {
		fprintf(stderr, "fbbench: %s already holds a workspace\n", dir);
		return 1;
	}
	/* The ledger's start commit carries the clock: pin it for identical ledgers. */
	set_now(1735660800); /* 2025-01-01T00:00:00+08:00 */
	if (workspace_init(dir, "3301-0042", "王建国", "HZ01"))
		die("init");
	snprintf(p, sizeof p, "%s/device", dir);
	util_write_file(p, "benchx\n", 7, 0600); /* fixed device id: reproducible ids */
	char pub[256];
	if (workspace_key_create(dir, BENCH_PIN, pub, sizeof pub))
		die("key");
	snprintf(p, sizeof p, "%s/photos", dir);
	util_mkdirs(p, 0755);
	if (workspace_open(&g.ws, dir))
		die("open");
	if (!durable)
		git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
	g.ws->pin_cb = bench_pin;
	if (workspace_unlock(g.ws))
		die("unlock");
	/* The first event: this officer as admin, the ledger's trust root. */
	char rid[64];
	action_roster_params rp = {.member = g.ws->officer, .name = g.ws->name,
				   .unit = g.ws->unit, .role = "admin", .key = pub};
	if (action_roster_add(g.ws, &rp, rid))
		die("roster");
	g.seq = atol(strrchr(rid, '-') + 1);
	for (size_t i = 0; i < N_(form_ids); i++) {
		if (workspace_form_find(g.ws, form_ids[i], &forms[i], NULL))
			die(form_ids[i]);
		size_t len;
		const char *text = form_text(forms[i], &len);
		util_sha256_hex(text, len, form_sha[i]);
	}
	g.day_numbers = json_object();
	if (g.bulk) {
		if (git_repository_odb(&g.odb, ledger_repository(g.ws->ledger)) < 0 ||
		    git_mempack_new(&g.mempack) < 0 ||
		    git_odb_add_backend(g.odb, g.mempack, 1000) < 0)
			git_die("memory backend");
	}
	plan(ncases, nphotos, days, 1735660800);
	double t0 = now_us(), last = t0;
	for (size_t s = 0; s < nsteps; s++) {
		run_step(&g, &steps[s]);
		if ((s + 1) % 20000 == 0) {
			double t = now_us();
			fprintf(stderr, "fbbench: %zu/%zu events, %.0f/s\n", s + 1, nsteps,
				20000 / ((t - last) / 1e6));
			last = t;
		}
	}
	bulk_flush(&g);
	double t_ledger = now_us();
	if (g.bulk && index_sync(g.ws->index, g.ws->ledger))
		die("index");
	double t_end = now_us();
	/* case list and counts */
	snprintf(p, sizeof p, "%s/cases.txt", dir);
	FILE *f = fopen(p, "w");
	for (long i = 0; i < ncases; i++)
		fprintf(f, "%s\n", cases[i].id);
	fclose(f);
	snprintf(p, sizeof p, "%s/gen.json", dir);
	f = fopen(p, "w");
	fprintf(f,
		"{\"cases\": %ld, \"events\": %ld, \"photos\": %ld, \"photo_bytes\": %zu, "
		"\"days\": %d, \"path\": \"%s\", \"seed\": %llu, \"seconds\": %.1f, "
		"\"index_seconds\": %.1f}\n",
		ncases, g.events, g.photos, g.photo_bytes, days, path, (unsigned long long)seed,
		(t_end - t0) / 1e6, (t_end - t_ledger) / 1e6);
	fclose(f);
	fprintf(stderr, "fbbench: %ld cases, %ld events, %ld photos in %.1f s (%s path)\n", ncases,
		g.events, g.photos, (t_end - t0) / 1e6, path);
	json_decref(g.day_numbers);
	for (size_t i = 0; i < N_(form_ids); i++)
		form_free(forms[i]);
	workspace_free(g.ws);
	git_odb_free(g.odb);
	free(cases);
	free(steps);
	return 0;
usage:
	fprintf(stderr, "usage: fbbench gen --cases N [--photos M] -o DIR [--days D] [--seed S]\n"
			"       [--path action|bulk] [--photo-size WxH] [--durable]\n");
	return 2;
}

/* --- probes ------------------------------------------------------------------------ */

static int cmd_record(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *dir = argv[1], *now = "2026-01-05T02:00:00Z";
	int n = 11, warm = 0;
	for (int i = 2; i + 1 < argc; i += 2)
		if (!strcmp(argv[i], "--n"))
			n = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--warm"))
			warm = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--now"))
			now = argv[i + 1];
	char p[4096], line[128];
	snprintf(p, sizeof p, "%s/cases.txt", dir);
	FILE *f = fopen(p, "r");
	if (!f) {
		perror(p);
		return 1;
	}
	char **ids = NULL;
	size_t nids = 0, cap = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (nids == cap)
			ids = realloc(ids, (cap = cap ? 2 * cap : 1024) * sizeof *ids);
		ids[nids++] = strdup(line);
	}
	fclose(f);
	time_t t;
	util_time_parse(now, &t);
	workspace *ws;
	set_now(t);
	g_nosync = getenv("FBBENCH_NOSYNC") != NULL; /* CPU cost only, no disk flushes */
	if (workspace_open(&ws, dir))
		die("open");
	if (g_nosync)
		git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
	ws->pin_cb = bench_pin;
	if (workspace_unlock(ws))
		die("unlock");
	ws->where = (workspace_where){true, 30.2741, 120.1551, 6, "gps"};
	/* the first events of a fresh copy pay one-time costs (object
	 * directories created, pages read in): --warm W records W first, unreported */
	for (int i = -warm; i < n; i++) {
		/* cases spread over the ledger, others for each --now */
		const char *cid = ids[(size_t)((i + warm + t / 3600) * 7919 + 13) % nids];
		char eid[64], path[256];
		set_now(t + (i + warm) * 61);
		double a = now_us();
		if (action_note(ws, cid, "复查前电话回访：当事人称已整改", eid))
			die(cid);
		double b = now_us();
		if (i < 0)
			continue;
		event_path(cid, eid, path, sizeof path);
		printf("%.0f %s\n", b - a, path);
	}
	workspace_free(ws);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *dir = argv[1], *status = "all", *search = NULL;
	int n = 11, open_each = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--open")) {
			open_each = 1;
			continue;
		}
		if (i + 1 >= argc)
			return 2;
		if (!strcmp(argv[i], "--n"))
			n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--status"))
			status = argv[++i];
		else if (!strcmp(argv[i], "--search"))
			search = argv[++i];
		else
			return 2;
	}
	char today[11];
	util_time_local_date(util_now(), today);
	workspace *ws = NULL;
	for (int i = 0; i < n; i++) {
		json_t *out;
		long total;
		double a = now_us();
		if (!ws && workspace_open(&ws, dir))
			die("open");
		if (index_case_count(ws->index, status, search, today, &total) ||
		    index_case_page(ws->index, status, search, today, INDEX_SORT_NEWEST, 240, 0, &out))
			die("list");
		if (open_each) {
			workspace_free(ws);
			ws = NULL;
		}
		double b = now_us();
		printf("%.0f %zu\n", b - a, json_array_size(out));
		json_decref(out);
	}
	workspace_free(ws);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_exif(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int n = 5;
	for (int i = 2; i + 1 < argc; i += 2)
		if (!strcmp(argv[i], "--n"))
			n = atoi(argv[i + 1]);
	DIR *d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 1;
	}
	char **files = NULL;
	size_t nf = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".jpg"))
			continue;
		if (nf == cap)
			files = realloc(files, (cap = cap ? 2 * cap : 1024) * sizeof *files);
		if (asprintf(&files[nf++], "%s/%s", argv[1], de->d_name) < 0)
			return 1;
	}
	closedir(d);
	qsort(files, nf, sizeof *files, cmp_str);
	for (int r = 0; r < n; r++) {
		double a = now_us();
		size_t sum = 0;
		for (size_t i = 0; i < nf; i++) {
			photo *p;
			if (photo_load_file(&p, files[i]))
				die(files[i]);
			json_t *j = photo_exif_json(p);
			char *s = json_dumps(j, JSON_SORT_KEYS);
			sum += strlen(s);
			free(s);
			json_decref(j);
			photo_free(p);
		}
		double b = now_us();
		printf("%.0f %zu %zu\n", b - a, nf, sum);
	}
	return 0;
}

/* --- fbbench photo ------------------------------------------------------- */

/* A gradient with per-pixel noise: compresses like a camera picture. */
static void noisy_row(const struct testjpeg *o, int y, unsigned *s, unsigned char *row)
{
	for (int x = 0; x < o->width; x++)
		for (int c = 0; c < 3; c++) {
			int v = (c == 0 ? x * 255 / o->width : c == 1 ? y * 255 / o->height : 128) +
				(int)(tj_rand(s) % 32) - 16;
			row[3 * x + c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
}

static int cmd_photo(int argc, char **argv)
{
	struct testjpeg o = {.width = 4000, .height = 3000, .seed = 1, .quality = 90, .has_gps = true,
			     .lat = 30.25, .lon = 120.16, .has_alt = true, .alt = 12,
			     .taken = "2025:12:29 10:00:00", .offset = "+08:00", .make = "HUAWEI",
			     .model = "P60", .orientation = 1};
	if (argc < 2)
		return 2;
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--size") && sscanf(v, "%dx%d", &o.width, &o.height) == 2)
			continue;
		else if (!strcmp(a, "--seed"))
			o.seed = (unsigned)atoi(v);
		else if (!strcmp(a, "--lat"))
			o.lat = atof(v);
		else if (!strcmp(a, "--lon"))
			o.lon = atof(v);
		else if (!strcmp(a, "--taken"))
			o.taken = v;
		else
			return 2;
	}
	unsigned char *exif = NULL, *jpg = NULL;
	unsigned exif_len = 0;
	unsigned long len = 0;
	if (o.width < 16 || o.height < 16 || testjpeg_exif(&o, &exif, &exif_len))
		return 2;
	struct jpeg_compress_struct c;
	struct tj_err e;
	c.err = jpeg_std_error(&e.mgr);
	e.mgr.error_exit = tj_error_exit;
	if (setjmp(e.jb))
		die("libjpeg");
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &jpg, &len);
	c.image_width = (JDIMENSION)o.width;
	c.image_height = (JDIMENSION)o.height;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, o.quality, TRUE);
	c.write_JFIF_header = FALSE;
	jpeg_start_compress(&c, TRUE);
	jpeg_write_marker(&c, JPEG_APP0 + 1, exif, exif_len);
	unsigned char *row = malloc((size_t)o.width * 3);
	unsigned s = o.seed * 2654435761u + 1u;
	for (int y = 0; y < o.height; y++) {
		JSAMPROW rp = row;
		noisy_row(&o, y, &s, row);
		jpeg_write_scanlines(&c, &rp, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	if (util_write_file(argv[1], jpg, len, 0644))
		die(argv[1]);
	free(row);
	free(exif);
	free(jpg);
	return 0;
}

int main(int argc, char **argv)
{
	setenv("TZ", "CST-8", 1); /* Asia/Shanghai without tzdata: no DST since 1991 */
	tzset();
	if (!getenv("FIELDBOOK_FORMS")) {
		char exe[4000], forms_dir[4200];
		if (util_exe_dir(exe, sizeof exe) == 0) {
			snprintf(forms_dir, sizeof forms_dir, "%s/../../forms", exe);
			if (util_is_dir(forms_dir))
				setenv("FIELDBOOK_FORMS", forms_dir, 1);
		}
	}
	if (argc >= 2 && !strcmp(argv[1], "gen"))
		return cmd_gen(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "record"))
		return cmd_record(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return cmd_list(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "exif"))
		return cmd_exif(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "photo"))
		return cmd_photo(argc - 1, argv + 1);
	fprintf(stderr, "usage: fbbench gen|record|list|exif|photo ... (see test/bench/gen.c)\n");
	return 2;
}
