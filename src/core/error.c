/*
 * error: one thread-local message buffer, like git_error_last().
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_msg[4096];
static _Thread_local int last_code;

int error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof last_msg, fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

int error_prefix(int code, const char *fmt, ...)
{
	char head[1024], old[sizeof last_msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	memcpy(old, last_msg, sizeof old);
	size_t n = strlen(head);
	memcpy(last_msg, head, n + 1);
	if (old[0] && n + 2 < sizeof last_msg) {
		memcpy(last_msg + n, ": ", 3);
		size_t room = sizeof last_msg - n - 3;
		size_t m = strnlen(old, room);
		memcpy(last_msg + n + 2, old, m);
		last_msg[n + 2 + m] = '\0';
	}
	last_code = code;
	return code;
}

const char *error_last(void) { return last_msg; }
int error_code(void) { return last_code; }
void error_clear(void) { last_msg[0] = '\0'; last_code = 0; }
