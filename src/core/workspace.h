/*
 * workspace: one officer's data directory (mode 0700):
 *   ledger.git/    bare git repository, the source of truth
 *   index.sqlite   derived index, drafts, device counters (0600)
 *   config         JSON: officer, name, unit, settings (0600)
 *   device         this installation's short stable id (0600)
 *   forms/         optional local (city) forms overriding the shipped ones
 * Home: --home DIR, else $FIELDBOOK_HOME, else $XDG_DATA_HOME/fieldbook,
 * else ~/.local/share/fieldbook.
 */
#ifndef FB_WORKSPACE_H
#define FB_WORKSPACE_H

#include <jansson.h>
#include <stdbool.h>

#include "form.h"
#include "index.h"
#include "ledger.h"

typedef struct {
	bool has;
	double lat, lon, acc_m; /* acc_m < 0: unknown */
	char src[8];            /* gps | photo | manual */
} workspace_where;

struct sign_key;
struct workspace;
/* Asks the user for the PIN (CLI: $FIELDBOOK_PIN or the terminal; TUI: a
 * prompt).  Returns 0 with the PIN in buf, or an error code. */
typedef int (*workspace_pin_cb)(struct workspace *ws, const char *prompt, char *buf,
				size_t size, void *payload);

typedef struct workspace {
	char *home;
	const char *officer, *name, *unit, *device; /* borrowed from config */
	json_t *config;
	ledger *ledger;
	fbindex *index;
	workspace_where where; /* current position for new events */
	struct sign_key *key;  /* unlocked officer key, NULL while locked */
	workspace_pin_cb pin_cb;
	void *pin_payload;
	bool use_agent;        /* a key agent of this workspace signs for us */
	bool index_built;      /* the open indexed the whole ledger (no index before) */
} workspace;

/* Resolve the home directory (caller frees). */
int workspace_home(const char *opt, char **out);
int workspace_init(const char *home, const char *officer, const char *name,
		   const char *unit);
/* Open and bring the index up to date with the ledger. */
int workspace_open(workspace **out, const char *home);
/* For commands that only read the index (list): when the index is known to
 * hold the ledger's head (its stamp of the branch's ref files still
 * matches), the ledger is not opened and ws->ledger stays NULL, which spares
 * libgit2's start-up (it parses the system's CA certificates); otherwise the
 * same as workspace_open. */
int workspace_open_query(workspace **out, const char *home);
void workspace_free(workspace *ws);

/* Paths inside the workspace (static buffer per call site not needed: out). */
void workspace_path(const workspace *ws, const char *name, char *out, size_t size);
/* Create the officer's key, encrypted with pin; pubkey gets the public key. */
int workspace_key_create(const char *home, const char *pin, char *pubkey, size_t size);
/* Make sure the key is unlocked, asking for the PIN through pin_cb. */
int workspace_unlock(workspace *ws);
void workspace_lock(workspace *ws);
/* Sign with the unlocked key or the workspace's key agent (unlocking first). */
int workspace_sign(workspace *ws, const char *ns, const void *data, size_t len, char **sig);
/* The public key of this workspace's officer. */
int workspace_public_key(const workspace *ws, char *pubkey, size_t size);
/* Save ws->config (atomic, 0600). */
int workspace_config_save(workspace *ws);

/* Find a shipped or local form by id (newest file wins is not a thing:
 * one file per id; local forms/ overrides shipped ones). */
int workspace_form_find(workspace *ws, const char *id, form **out, char **path);
/* Every available form: array of {id, version, title_zh, title_en, path, error?}. */
int workspace_form_list(workspace *ws, json_t **out);
/* Load the exact form version a case used, from the ledger. */
int workspace_form_of_case(workspace *ws, const json_t *state, form **out);

#endif
