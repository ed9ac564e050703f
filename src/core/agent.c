/*
 * agent: see agent.h.
 */
#include "agent.h"
#include "error.h"
#include "i18n.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_REQUEST (64u << 20)

static int sock_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path)
		return error_set(ERR_INVALID, _("socket path too long: %s"), path);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		char c;
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

static void reply(int fd, const char *data, size_t len)
{
	char head[32];
	snprintf(head, sizeof head, "OK %zu\n", len);
	if (write_all(fd, head, strlen(head)) == 0)
		write_all(fd, data, len);
}

static void reply_err(int fd, const char *msg)
{
	char line[600];
	snprintf(line, sizeof line, "ERR %.500s\n", msg);
	write_all(fd, line, strlen(line));
}

/* One request; returns 1 when told to quit. */
static int handle(int fd, const sign_key *key)
{
	char line[128], ns[32];
	size_t n;
	if (read_line(fd, line, sizeof line) != 0)
		return 0;
	if (strcmp(line, "PUB") == 0) {
		reply(fd, sign_key_public(key), strlen(sign_key_public(key)));
		return 0;
	}
	if (strcmp(line, "QUIT") == 0) {
		reply(fd, "", 0);
		return 1;
	}
	if (sscanf(line, "SIGN %31s %zu", ns, &n) != 2 || n > MAX_REQUEST) {
		reply_err(fd, "bad request");
		return 0;
	}
	char *data = malloc(n ? n : 1), *sig = NULL;
	if (!data || read_all(fd, data, n) != 0)
		reply_err(fd, "short request");
	else if (sign_data(key, ns, data, n, &sig) != 0)
		reply_err(fd, error_last());
	else
		reply(fd, sig, strlen(sig));
	free(data);
	free(sig);
	return 0;
}

int agent_serve(sign_key *key, const char *sock_path, int idle_s)
{
	struct sockaddr_un sa;
	int rc = sock_addr(sock_path, &sa);
	if (rc) {
		sign_key_free(key);
		return rc;
	}
	unlink(sock_path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(077);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s, 8) != 0) {
		umask(old);
		rc = error_set(ERR_IO, _("cannot listen on %s: %s"), sock_path, strerror(errno));
		if (s >= 0)
			close(s);
		sign_key_free(key);
		return rc;
	}
	umask(old);
	chmod(sock_path, 0600);
	for (bool quit = false; !quit;) {
		struct pollfd p = {s, POLLIN, 0};
		int r = poll(&p, 1, idle_s * 1000);
		if (r == 0)
			break; /* idle too long: lock */
		if (r < 0 && errno == EINTR)
			continue;
		int c = r > 0 ? accept4(s, NULL, NULL, SOCK_CLOEXEC) : -1;
		if (c < 0)
			break;
		quit = handle(c, key) == 1;
		close(c);
	}
	close(s);
	unlink(sock_path);
	sign_key_free(key);
	return 0;
}

/* Send a request and read the "OK n" answer body (caller frees). */
static int request(const char *sock_path, const char *head, const void *body, size_t blen,
		   char **out)
{
	struct sockaddr_un sa;
	int rc = sock_addr(sock_path, &sa);
	if (rc)
		return rc;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (s >= 0)
			close(s);
		return ERR_NOTFOUND; /* no agent: not an error worth a message */
	}
	char line[600];
	size_t n = 0;
	rc = 0;
	if (write_all(s, head, strlen(head)) != 0 || (blen && write_all(s, body, blen) != 0) ||
	    read_line(s, line, sizeof line) != 0)
		rc = error_set(ERR_IO, _("the key agent did not answer (%s)"), sock_path);
	else if (strncmp(line, "ERR ", 4) == 0)
		rc = error_set(ERR_GENERIC, _("key agent: %s"), line + 4);
	else if (sscanf(line, "OK %zu", &n) != 1 || n > MAX_REQUEST || !(*out = malloc(n + 1)) ||
		 read_all(s, *out, n) != 0)
		rc = error_set(ERR_IO, _("the key agent answered badly (%s)"), sock_path);
	else
		(*out)[n] = '\0';
	close(s);
	return rc;
}

int agent_public(const char *sock_path, char *pub, size_t size)
{
	char *out = NULL;
	int rc = request(sock_path, "PUB\n", NULL, 0, &out);
	if (rc == 0)
		snprintf(pub, size, "%s", out);
	free(out);
	return rc;
}

int agent_sign(const char *sock_path, const char *ns, const void *data, size_t len, char **sig)
{
	char head[96];
	snprintf(head, sizeof head, "SIGN %s %zu\n", ns, len);
	return request(sock_path, head, data, len, sig);
}

int agent_quit(const char *sock_path)
{
	char *out = NULL;
	int rc = request(sock_path, "QUIT\n", NULL, 0, &out);
	free(out);
	return rc;
}
