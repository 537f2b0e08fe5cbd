/* The From value of a request as the user gives it (ua:call's from, the
 * endpoint's uri): a URI, or a name-addr (RFC 3261 §25.1) with a display
 * name. It goes into the From header as it is, followed by our tag, so it
 * must be one value and nothing more: no line break, no second header, no
 * parameter or tag of its own after the '>'. */
#include "sip/name_addr.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-.!%*_+`'~", c));
}

/* A URI: a scheme, then no character that would end or break the value. */
static int check_uri(const char *u, size_t n, const char **why)
{
	size_t scheme = 0;
	while (scheme < n && ((u[scheme] >= 'a' && u[scheme] <= 'z') ||
			      (u[scheme] >= 'A' && u[scheme] <= 'Z')))
		scheme++;
	if (scheme == 0 || scheme >= n || u[scheme] != ':') {
		*why = "the URI has no scheme (sip:...)";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (strchr(" \t\r\n<>\"", u[i]) || !u[i]) {
			*why = "the URI has a space, a line break, '<', '>' or '\"'";
			return -EINVAL;
		}
	return 0;
}

/* The display name: a quoted string, or tokens separated by spaces. */
static int check_display(const char *d, size_t n, const char **why)
{
	if (n && d[0] == '"') {
		if (n < 2 || d[n - 1] != '"') {
			*why = "the display name's quotes are not closed before '<'";
			return -EINVAL;
		}
		for (size_t i = 1; i < n - 1; i++) {
			char c = d[i];
			if (c == '\\' && ++i < n - 1)
				c = d[i];  /* quoted-pair: any character but these */
			else if (c == '\\')
				c = '\0';
			else if (c == '"')
				c = '\0';
			if (!c || c == '\r' || c == '\n') {
				*why = "the display name has a line break, a '\"' not escaped or "
				       "a lone '\\'";
				return -EINVAL;
			}
		}
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_token_char(d[i]) && d[i] != ' ' && d[i] != '\t') {
			*why = "the display name has a character that needs quotes (\"...\")";
			return -EINVAL;
		}
	return 0;
}

int sip_name_addr_check(const char *v, const char **why)
{
	const char *lt = strchr(v, '<');
	if (!lt)
		return check_uri(v, strlen(v), why);
	const char *gt = strchr(lt, '>');
	if (!gt) {
		*why = "'<' without '>'";
		return -EINVAL;
	}
	if (gt[1]) {
		*why = "nothing may follow '>' (our tag goes there)";
		return -EINVAL;
	}
	size_t n = (size_t)(lt - v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	const char *d = v;
	while (n && (*d == ' ' || *d == '\t')) {
		d++;
		n--;
	}
	int err = check_display(d, n, why);
	return err ? err : check_uri(lt + 1, (size_t)(gt - lt - 1), why);
}

size_t sip_name_addr_uri(const char *v, const char **uri)
{
	const char *lt = strchr(v, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	if (!gt) {
		*uri = v;
		return strlen(v);
	}
	*uri = lt + 1;
	return (size_t)(gt - lt - 1);
}
