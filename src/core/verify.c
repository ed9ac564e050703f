/*
 * verify: roster fold and signature rules.  See verify.h.
 */
#include "verify.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct verify_roster {
	json_t *entries;  /* folded roster */
	json_t *problems; /* roster events refused */
	char *root;
};

static const char *const roles[] = {ROLE_OFFICER, ROLE_SUPERVISOR, ROLE_LEGAL, ROLE_ADMIN};

bool verify_role_valid(const char *role)
{
	for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
		if (role && strcmp(role, roles[i]) == 0)
			return true;
	return false;
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* Is the entry valid at time `at` (RFC 3339 strings compare in order)? */
static bool entry_valid_at(const json_t *e, const char *at)
{
	const char *from = str(e, "from"), *until = str(e, "until");
	return strcmp(from, at) <= 0 && (!*until || strcmp(at, until) < 0);
}

/* Keys must match as "type base64", ignoring any comment after them. */
static bool same_key(const char *a, const char *b)
{
	size_t la = strcspn(a, " "), lb = strcspn(b, " ");
	if (la != lb || strncmp(a, b, la) != 0)
		return false;
	a += la + (a[la] == ' ');
	b += lb + (b[lb] == ' ');
	la = strcspn(a, " \n");
	lb = strcspn(b, " \n");
	return la == lb && strncmp(a, b, la) == 0;
}

static const json_t *find_entry(const verify_roster *r, const char *officer, const char *key,
				const char *at)
{
	size_t i;
	json_t *e;
	json_array_foreach(r->entries, i, e)
		if (strcmp(str(e, "officer"), officer) == 0 && same_key(str(e, "key"), key) &&
		    entry_valid_at(e, at))
			return e;
	return NULL;
}

const char *verify_roster_role(const verify_roster *r, const char *officer, const char *key,
			       const char *at)
{
	const json_t *e = find_entry(r, officer, key, at);
	return e ? str(e, "role") : NULL;
}

static int cmp_entries(const void *a, const void *b)
{
	const json_t *x = json_object_get(*(json_t *const *)a, "event");
	const json_t *y = json_object_get(*(json_t *const *)b, "event");
	int c = strcmp(str(x, "at"), str(y, "at"));
	return c ? c : strcmp(str(x, "id"), str(y, "id"));
}

static void problem(verify_roster *r, const json_t *ev, const char *fmt, const char *arg)
{
	char buf[512];
	snprintf(buf, sizeof buf, fmt, arg);
	json_array_append_new(r->problems, json_pack("{s:s, s:s}", "event", str(ev, "id"), "problem", buf));
}

static void apply_added(verify_roster *r, const json_t *ev)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "officer", str(ev, "member"),
			      "name", str(ev, "name"), "unit", str(ev, "unit"), "role", str(ev, "role"),
			      "key", str(ev, "key"), "from",
			      *str(ev, "valid_from") ? str(ev, "valid_from") : str(ev, "at"), "by",
			      str(ev, "officer"), "event", str(ev, "id"));
	if (*str(ev, "valid_until"))
		json_object_set_new(e, "until", json_string(str(ev, "valid_until")));
	json_array_append_new(r->entries, e);
}

static void apply_retired(verify_roster *r, const json_t *ev)
{
	const char *until = *str(ev, "valid_until") ? str(ev, "valid_until") : str(ev, "at");
	size_t i;
	json_t *e;
	json_array_foreach(r->entries, i, e) {
		if (strcmp(str(e, "officer"), str(ev, "member")) != 0)
			continue;
		if (*str(ev, "key") && !same_key(str(e, "key"), str(ev, "key")))
			continue;
		if (!*str(e, "until") || strcmp(until, str(e, "until")) < 0)
			json_object_set_new(e, "until", json_string(until));
	}
}

/* Check one roster event's signature and authority, then apply it. */
static void fold_roster_event(verify_roster *r, const json_t *item, const char *trust_root)
{
	const json_t *ev = json_object_get(item, "event");
	const char *text = str(item, "text"), *sig = json_string_value(json_object_get(item, "sig"));
	char signer[160];
	const char *type = str(ev, "type");
	bool added = strcmp(type, "roster.added") == 0;
	if (!sig)
		return problem(r, ev, _("roster change %s has no signature"), str(ev, "id"));
	if (sign_verify(SIGN_NS_EVENT, text, strlen(text), sig, strlen(sig), signer, sizeof signer))
		return problem(r, ev, _("roster change signature invalid: %s"), error_last());
	if (added && (!verify_role_valid(str(ev, "role")) || !*str(ev, "member") || !*str(ev, "key")))
		return problem(r, ev, _("roster change %s lacks member, key or a valid role"), str(ev, "id"));
	if (!r->root) {
		/* the trust root: a self-signed admin entry, pinned when known */
		if (!added || strcmp(str(ev, "role"), ROLE_ADMIN) != 0 || !same_key(signer, str(ev, "key")) ||
		    strcmp(str(ev, "member"), str(ev, "officer")) != 0)
			return problem(r, ev, _("the first roster entry must be a self-signed admin (%s)"),
				       str(ev, "id"));
		if (trust_root && *trust_root && !same_key(trust_root, signer))
			return problem(r, ev, _("the roster's first admin key is not the pinned trust root (%s)"),
				       str(ev, "id"));
		r->root = strdup(signer);
	} else {
		const char *role = verify_roster_role(r, str(ev, "officer"), signer, str(ev, "at"));
		if (!role || strcmp(role, ROLE_ADMIN) != 0)
			return problem(r, ev, _("roster change signed by %s, who is not an admin then"),
				       str(ev, "officer"));
	}
	if (added)
		apply_added(r, ev);
	else if (strcmp(type, "roster.retired") == 0)
		apply_retired(r, ev);
	else
		problem(r, ev, _("unknown roster change type %s"), type);
}

int verify_roster_build(verify_roster **out, const json_t *entries, const char *trust_root)
{
	verify_roster *r = calloc(1, sizeof *r);
	size_t n = json_array_size(entries);
	json_t **sorted = calloc(n ? n : 1, sizeof *sorted);
	if (!r || !sorted) {
		free(r);
		free(sorted);
		return error_set(ERR_NOMEM, "out of memory");
	}
	r->entries = json_array();
	r->problems = json_array();
	for (size_t i = 0; i < n; i++)
		sorted[i] = json_array_get(entries, i);
	qsort(sorted, n, sizeof *sorted, cmp_entries);
	for (size_t i = 0; i < n; i++)
		fold_roster_event(r, sorted[i], trust_root);
	free(sorted);
	*out = r;
	return 0;
}

void verify_roster_free(verify_roster *r)
{
	if (!r)
		return;
	json_decref(r->entries);
	json_decref(r->problems);
	free(r->root);
	free(r);
}

const json_t *verify_roster_problems(const verify_roster *r) { return r->problems; }
const json_t *verify_roster_entries(const verify_roster *r) { return r->entries; }
const char *verify_roster_root(const verify_roster *r) { return r->root; }

/* Why no roster entry matches: unknown key, another officer's, retired, not yet valid. */
static void explain_no_entry(const verify_roster *r, const json_t *ev, const char *signer,
			     char *reason, size_t size)
{
	char fp[96] = "";
	sign_fingerprint(signer, fp, sizeof fp);
	size_t i;
	json_t *e;
	json_array_foreach(r->entries, i, e) {
		if (!same_key(str(e, "key"), signer))
			continue;
		if (strcmp(str(e, "officer"), str(ev, "officer")) != 0) {
			snprintf(reason, size, _("signed with %s's key, but the event names %s"),
				 str(e, "officer"), str(ev, "officer"));
			return;
		}
		if (*str(e, "until") && strcmp(str(ev, "at"), str(e, "until")) >= 0) {
			snprintf(reason, size, _("signed after the key was retired (%s)"), str(e, "until"));
			return;
		}
		snprintf(reason, size, _("signed before the key was valid (%s)"), str(e, "from"));
		return;
	}
	snprintf(reason, size, _("signed by a key not in the roster (%s)"), fp);
}

/* Role each event type needs (NULL: any role). */
static const struct { const char *prefix, *role; } required_roles[] = {
	{"review.", ROLE_SUPERVISOR},
	{"roster.", ROLE_ADMIN},
};

bool verify_event(const verify_roster *r, const json_t *ev, const char *text, size_t len,
		  const char *sig, size_t siglen, char *reason, size_t size)
{
	char signer[160];
	if (!sig) {
		snprintf(reason, size, "%s", _("no signature (.sig file missing)"));
		return false;
	}
	if (sign_verify(SIGN_NS_EVENT, text, len, sig, siglen, signer, sizeof signer) != 0) {
		snprintf(reason, size, "%s", error_last());
		return false;
	}
	const char *role = verify_roster_role(r, str(ev, "officer"), signer, str(ev, "at"));
	if (!role) {
		explain_no_entry(r, ev, signer, reason, size);
		return false;
	}
	const char *type = str(ev, "type");
	for (size_t i = 0; i < sizeof required_roles / sizeof *required_roles; i++)
		if (strncmp(type, required_roles[i].prefix, strlen(required_roles[i].prefix)) == 0 &&
		    strcmp(role, required_roles[i].role) != 0) {
			snprintf(reason, size, _("%s needs the %s role; %s is %s"), type,
				 required_roles[i].role, str(ev, "officer"), role);
			return false;
		}
	return true;
}

/* "20261123" from an RFC 3339 time, for allowed_signers validity options. */
static void compact_date(const char *t, char out[16])
{
	snprintf(out, 16, "%.4s%.2s%.2s%.2s%.2s%.2s", t, t + 5, t + 8, t + 11, t + 14, t + 17);
}

static bool wanted(const json_t *officers, const char *id)
{
	if (!officers)
		return true;
	size_t i;
	json_t *v;
	json_array_foreach(officers, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return true;
	return false;
}

char *verify_allowed_signers(const verify_roster *r, const json_t *officers)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	if (!f)
		return NULL;
	size_t i;
	json_t *e;
	json_array_foreach(r->entries, i, e) {
		if (!wanted(officers, str(e, "officer")))
			continue;
		char from[16], until[16];
		compact_date(str(e, "from"), from);
		fprintf(f, "%s namespaces=\"fieldbook,git\",valid-after=\"%sZ\"", str(e, "officer"), from);
		if (*str(e, "until")) {
			compact_date(str(e, "until"), until);
			fprintf(f, ",valid-before=\"%sZ\"", until);
		}
		fprintf(f, " %s %s/%s\n", str(e, "key"), str(e, "role"), str(e, "unit"));
	}
	fclose(f);
	return out;
}
