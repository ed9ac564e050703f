/*
 * agent: keeps an unlocked officer key in memory for a while, so that the
 * PIN is asked once per session (`fieldbook unlock`), like ssh-agent.
 * It listens on <workspace>/agent.sock (the workspace directory is 0700,
 * the socket 0600), signs on request, and exits after `idle` seconds
 * without a request or on `fieldbook lock`.  The key never touches disk.
 *
 * Protocol, one request per connection:
 *   "PUB\n"                          -> "OK <n>\n" + public key
 *   "SIGN <ns> <n>\n" + n bytes      -> "OK <n>\n" + armored signature
 *   "QUIT\n"                         -> "OK 0\n", then the agent exits
 *   errors                           -> "ERR <message>\n"
 */
#ifndef FB_AGENT_H
#define FB_AGENT_H

#include <stddef.h>

#include "sign.h"

/* Serve until idle for idle_s seconds or told to quit.  Takes the key. */
int agent_serve(sign_key *key, const char *sock_path, int idle_s);
/* Ask a running agent; ERR_NOTFOUND when none answers. */
int agent_public(const char *sock_path, char *pub, size_t size);
int agent_sign(const char *sock_path, const char *ns, const void *data, size_t len, char **sig);
int agent_quit(const char *sock_path);

#endif
