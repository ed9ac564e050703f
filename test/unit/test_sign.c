/*
 * Keys, SSHSIG signatures and the roster rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/sign.h"
#include "core/verify.h"

static char dir[64];

static void keypath(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static sign_key *new_key(const char *name, char pub[160])
{
	char p[128];
	sign_key *k;
	keypath(p, sizeof p, name);
	assert_int_equal(sign_key_create(p, "123456", pub, 160), 0);
	assert_int_equal(sign_key_unlock(&k, p, NULL, "123456"), 0);
	return k;
}

static void test_sign_and_verify(void **s)
{
	char pub[160], who[160];
	sign_key *k = new_key("a", pub);
	char *sig;
	const char *msg = "{\"id\": \"x\"}\n";
	assert_int_equal(sign_data(k, SIGN_NS_EVENT, msg, strlen(msg), &sig), 0);
	assert_non_null(strstr(sig, "-----BEGIN SSH SIGNATURE-----\n"));
	assert_int_equal(sign_verify(SIGN_NS_EVENT, msg, strlen(msg), sig, strlen(sig), who, sizeof who), 0);
	assert_string_equal(who, pub);
	/* one byte changed */
	assert_int_equal(sign_verify(SIGN_NS_EVENT, "{\"id\": \"y\"}\n", strlen(msg), sig, strlen(sig), who, sizeof who), ERR_INVALID);
	assert_non_null(strstr(error_last(), "does not match"));
	/* the git namespace is not the event namespace */
	assert_int_equal(sign_verify(SIGN_NS_GIT, msg, strlen(msg), sig, strlen(sig), who, sizeof who), ERR_INVALID);
	assert_non_null(strstr(error_last(), "namespace"));
	/* garbage */
	assert_int_equal(sign_verify(SIGN_NS_EVENT, msg, strlen(msg), "hello", 5, who, sizeof who), ERR_INVALID);
	free(sig);
	sign_key_free(k);
}

static void test_wrong_pin_is_counted_and_rate_limited(void **s)
{
	char p[128], st[128], pub[160];
	sign_key *k = NULL;
	keypath(p, sizeof p, "b");
	keypath(st, sizeof st, "b.state");
	assert_int_equal(sign_key_create(p, "123456", pub, sizeof pub), 0);
	assert_int_equal(sign_key_create(p, "123456", pub, sizeof pub), ERR_EXISTS);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(sign_key_unlock(&k, p, st, "654321"), ERR_INVALID);
		assert_non_null(strstr(error_last(), "wrong PIN"));
	}
	/* three wrong PINs: even the right one must wait now */
	assert_int_equal(sign_key_unlock(&k, p, st, "123456"), ERR_STATE);
	assert_non_null(strstr(error_last(), "try again in"));
	setenv("FIELDBOOK_NOW", "4102444800", 1); /* much later */
	assert_int_equal(sign_key_unlock(&k, p, st, "123456"), 0);
	unsetenv("FIELDBOOK_NOW");
	sign_key_free(k);
	assert_int_equal(sign_key_create(p, "123", pub, sizeof pub), ERR_INVALID); /* short PIN */
}

static void test_key_file_holds_no_secret(void **s)
{
	char p[128], pub[160], buf[4096] = "";
	keypath(p, sizeof p, "c");
	assert_int_equal(sign_key_create(p, "123456", pub, sizeof pub), 0);
	FILE *f = fopen(p, "r");
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "argon2id13"));
	assert_non_null(strstr(buf, "\"box\""));
	assert_null(strstr(buf, "PRIVATE"));
	/* a damaged box is reported as a wrong PIN or damage, never accepted */
	char *box = strstr(buf, "\"box\": \"") + 8;
	box[3] = box[3] == 'A' ? 'B' : 'A';
	f = fopen(p, "w");
	fputs(buf, f);
	fclose(f);
	sign_key *k = NULL;
	assert_int_not_equal(sign_key_unlock(&k, p, NULL, "123456"), 0);
	assert_null(k);
}

/* A roster item as the index hands it to verify_roster_build. */
static json_t *roster_item(sign_key *signer, const char *id, const char *at, const char *type,
			   const char *by, const char *member, const char *role, const char *key)
{
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "at", at, "type", type,
			       "officer", by, "device", "d", "member", member);
	if (role)
		json_object_set_new(ev, "role", json_string(role));
	if (key)
		json_object_set_new(ev, "key", json_string(key));
	char *text = json_dumps(ev, JSON_SORT_KEYS), *sig;
	assert_int_equal(sign_data(signer, SIGN_NS_EVENT, text, strlen(text), &sig), 0);
	json_t *item = json_pack("{s:o, s:s, s:s}", "event", ev, "text", text, "sig", sig);
	free(text);
	free(sig);
	return item;
}

static bool event_ok(verify_roster *r, sign_key *k, const char *officer, const char *type,
		     const char *at, char *reason)
{
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "id", "e", "officer", officer, "type", type, "at", at);
	char *text = json_dumps(ev, 0), *sig;
	sign_data(k, SIGN_NS_EVENT, text, strlen(text), &sig);
	bool ok = verify_event(r, ev, text, strlen(text), sig, strlen(sig), reason, 256);
	free(text);
	free(sig);
	json_decref(ev);
	return ok;
}

static void test_roster_rules(void **s)
{
	char pa[160], ps[160], po[160], reason[256];
	sign_key *admin = new_key("ra", pa), *sup = new_key("rs", ps), *off = new_key("ro", po);
	json_t *items = json_array();
	json_array_append_new(items, roster_item(admin, "1", "2026-01-01T00:00:00.000Z", "roster.added", "A", "A", "admin", pa));
	json_array_append_new(items, roster_item(admin, "2", "2026-01-02T00:00:00.000Z", "roster.added", "A", "S", "supervisor", ps));
	json_array_append_new(items, roster_item(admin, "3", "2026-01-02T00:00:01.000Z", "roster.added", "A", "O", "officer", po));
	json_array_append_new(items, roster_item(sup, "4", "2026-01-03T00:00:00.000Z", "roster.added", "S", "X", "admin", ps));
	json_array_append_new(items, roster_item(admin, "5", "2026-02-01T00:00:00.000Z", "roster.retired", "A", "O", NULL, NULL));
	verify_roster *r;
	assert_int_equal(verify_roster_build(&r, items, pa), 0);
	assert_string_equal(verify_roster_root(r), pa);
	assert_int_equal(json_array_size(verify_roster_entries(r)), 3);
	assert_int_equal(json_array_size(verify_roster_problems(r)), 1); /* the supervisor's roster change */
	assert_true(event_ok(r, off, "O", "inspection.recorded", "2026-01-10T00:00:00.000Z", reason));
	assert_false(event_ok(r, off, "O", "review.approved", "2026-01-10T00:00:00.000Z", reason));
	assert_non_null(strstr(reason, "supervisor"));
	assert_true(event_ok(r, sup, "S", "review.approved", "2026-01-10T00:00:00.000Z", reason));
	assert_false(event_ok(r, off, "O", "note.added", "2026-02-02T00:00:00.000Z", reason));
	assert_non_null(strstr(reason, "retired"));
	assert_false(event_ok(r, off, "O", "note.added", "2025-12-31T00:00:00.000Z", reason));
	assert_non_null(strstr(reason, "before the key was valid"));
	assert_false(event_ok(r, sup, "O", "note.added", "2026-01-10T00:00:00.000Z", reason));
	assert_non_null(strstr(reason, "S's key"));
	char *signers = verify_allowed_signers(r, NULL);
	assert_non_null(strstr(signers, "O namespaces=\"fieldbook,git\",valid-after=\"20260102000001Z\",valid-before=\"20260201000000Z\""));
	free(signers);
	verify_roster_free(r);
	/* another trust root pinned: the whole roster is refused */
	assert_int_equal(verify_roster_build(&r, items, po), 0);
	assert_null(verify_roster_root(r));
	assert_int_equal(json_array_size(verify_roster_entries(r)), 0);
	verify_roster_free(r);
	json_decref(items);
	sign_key_free(admin);
	sign_key_free(sup);
	sign_key_free(off);
}

static int setup(void **s)
{
	snprintf(dir, sizeof dir, "/tmp/fbsign.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **s)
{
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_verify),
		cmocka_unit_test(test_wrong_pin_is_counted_and_rate_limited),
		cmocka_unit_test(test_key_file_holds_no_secret),
		cmocka_unit_test(test_roster_rules),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
