/*
 * verify: the trust rules.  A roster (officers, roles, public keys with
 * validity) is folded from the signed roster events in the ledger; an
 * event is valid only if its SSHSIG signature verifies under a key the
 * roster held for that officer at that time, review.* events need a
 * supervisor, roster changes an admin, and a retired key signs nothing
 * after its end.  The first roster event is the trust root: a
 * self-signed admin entry whose key must equal the pinned trust root
 * when one is pinned.
 */
#ifndef FB_VERIFY_H
#define FB_VERIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct verify_roster verify_roster;

/* Roster roles. */
#define ROLE_OFFICER "officer"
#define ROLE_SUPERVISOR "supervisor"
#define ROLE_LEGAL "legal"
#define ROLE_ADMIN "admin"

bool verify_role_valid(const char *role);

/* entries: array of {"event": {...}, "text": raw json, "sig": armored or
 * null}.  trust_root: pinned "ssh-ed25519 ..." or NULL.  Invalid roster
 * events are kept out of the roster and reported by verify_roster_problems. */
int verify_roster_build(verify_roster **out, const json_t *entries, const char *trust_root);
void verify_roster_free(verify_roster *r);
/* Borrowed: [{"event": id, "problem": reason}] */
const json_t *verify_roster_problems(const verify_roster *r);
/* Borrowed: the folded roster: [{officer, name, unit, role, key, from, until?, by, event}] */
const json_t *verify_roster_entries(const verify_roster *r);
/* The first admin key (the trust root), or NULL. */
const char *verify_roster_root(const verify_roster *r);
/* Role of the officer's key valid at time `at`, or NULL. */
const char *verify_roster_role(const verify_roster *r, const char *officer, const char *key,
			       const char *at);

/* Check one event file: returns true when valid; otherwise reason is set. */
bool verify_event(const verify_roster *r, const json_t *ev, const char *text, size_t len,
		  const char *sig, size_t siglen, char *reason, size_t size);

/* allowed_signers text for ssh-keygen -Y verify / git gpg.ssh.allowedSignersFile
 * (caller frees).  officers: NULL for everyone, else an array of ids. */
char *verify_allowed_signers(const verify_roster *r, const json_t *officers);

#endif
