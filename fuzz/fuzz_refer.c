/* libFuzzer target: the parsers of a transfer (RFC 3515, RFC 3891, RFC 3420).
 *
 * A peer writes every one of these, so each must take any octets:
 *   - a Refer-To or Referred-By value: a name-addr (name_addr.c) whose URI
 *     may carry headers, "?Replaces=...&Subject=..." (uri_headers.c);
 *   - a Replaces value (replaces.c), in its own header or unescaped from
 *     a Refer-To's URI;
 *   - a NOTIFY's message/sipfrag body, its status line (sub.c).
 *
 * Each input goes to them three ways: as one header value, as a whole
 * message whose Refer-To, Referred-By and Replaces headers (any of them,
 * long or compact form) and body are read as the endpoint reads them, and
 * as a sipfrag body of exactly its length (no NUL after it, so a read past
 * the end is an AddressSanitizer report). Besides not crashing, the
 * results must hold what the parsers promise: a parsed Replaces prints and
 * parses back to the same dialog, URI header lines are whole lines of
 * allowed headers, a sipfrag status is three digits and its reason fits
 * one line. A broken promise aborts with what it was.
 *
 * fuzz/run.sh builds it with clang -fsanitize=fuzzer,address,undefined
 * together with the core (csrc/util, csrc/sip) and runs it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

#include "sip/msg.h"
#include "sip/name_addr.h"
#include "sip/replaces.h"
#include "sip/sub.h"
#include "sip/uri_headers.h"
#include "util/mem.h"

#define MAX_LEN 8192

static void check(bool ok, const char *what, const char *input)
{
	if (!ok) {
		fprintf(stderr, "fuzz_refer: %s\ninput: \"%s\"\n", what, input ? input : "");
		abort();
	}
}

static bool has_any(const char *s, const char *chars)
{
	return s[strcspn(s, chars)] != '\0';
}

/* A Replaces value: what it gives back must be a dialog that prints and
 * parses to itself, as a transferee's INVITE would carry it on. */
static void replaces(const char *v)
{
	struct sip_replaces r;
	if (sip_replaces_parse(v, &r) != 0)
		return;
	check(r.call_id[0] && !has_any(r.call_id, " \t\r\n;"), "a Call-ID empty or with a space", v);
	check(r.to_tag[0] && !has_any(r.to_tag, " \t\r\n;=,\""), "a to-tag that is no token", v);
	check(r.from_tag[0] && !has_any(r.from_tag, " \t\r\n;=,\""), "a from-tag that is no token",
	      v);
	char again[sizeof(r.call_id) + sizeof(r.to_tag) + sizeof(r.from_tag) + 64];
	snprintf(again, sizeof(again), "%s;to-tag=%s;from-tag=%s%s", r.call_id, r.to_tag,
		 r.from_tag, r.early_only ? ";early-only" : "");
	struct sip_replaces r2;
	check(sip_replaces_parse(again, &r2) == 0, "a parsed Replaces does not parse printed", v);
	check(strcmp(r.call_id, r2.call_id) == 0 && strcmp(r.to_tag, r2.to_tag) == 0 &&
		      strcmp(r.from_tag, r2.from_tag) == 0 && r.early_only == r2.early_only,
	      "a parsed Replaces printed parses to another dialog", v);
}

/* The header lines a URI gave: "Name: value\r\n" each, no line break
 * inside; a Replaces among them goes on to its parser. */
static void header_lines(const char *lines, const char *uri)
{
	const char *p = lines;
	while (*p) {
		const char *end = strstr(p, "\r\n");
		check(end != NULL, "URI header lines not ended by CRLF", uri);
		const char *colon = memchr(p, ':', (size_t)(end - p));
		check(colon && colon > p && colon[1] == ' ', "a URI header line without \"Name: \"",
		      uri);
		size_t name_len = (size_t)(colon - p);
		check(!memchr(p, '\r', (size_t)(end - p)) && !memchr(p, '\n', (size_t)(end - p)),
		      "a URI header line with a line break inside", uri);
		for (size_t i = 0; i < name_len; i++)
			check(p[i] > ' ' && p[i] < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", p[i]),
			      "a URI header name that is no token", uri);
		static const char *const never[] = { "From", "To", "Call-ID", "CSeq", "Via",
						     "Route", "Record-Route", "Contact",
						     "Content-Length", "Max-Forwards", NULL };
		for (int i = 0; never[i]; i++)
			check(!(strlen(never[i]) == name_len &&
				strncasecmp(p, never[i], name_len) == 0),
			      "a header that must not come from a URI came from one", uri);
		if (name_len == 8 && strncasecmp(p, "Replaces", 8) == 0) {
			char *v = mem_strndup(colon + 2, (size_t)(end - colon - 2));
			if (v)
				replaces(v);
			mem_deref(v);
		}
		p = end + 2;
	}
}

/* A URI that may carry headers. */
static void uri_with_headers(const char *uri)
{
	struct sip_uri_headers h;
	char why[128];
	int err = sip_uri_headers_split(uri, &h, why, sizeof(why));
	if (err) {
		check(!h.uri && !h.lines && !h.body, "a refused URI left its parts allocated", uri);
		check(err != -ENOMEM ? why[0] != '\0' : true, "a refused URI without a why", uri);
		return;
	}
	check(h.uri && strncmp(uri, h.uri, strlen(h.uri)) == 0,
	      "the URI without its headers is no prefix of the URI", uri);
	check(h.body || h.body_len == 0, "a body length without a body", uri);
	if (h.lines)
		header_lines(h.lines, uri);
	sip_uri_headers_free(&h);
}

/* A Refer-To or Referred-By value: a name-addr or an addr-spec. */
static void name_addr(const char *v)
{
	const char *why = NULL, *uri;
	if (sip_name_addr_check(v, &why) != 0)
		check(why != NULL, "a refused name-addr without a why", v);
	/* a peer's value may have parameters after '>' (Referred-By's cid):
	 * the URI is read whether or not it passes as a From value would */
	size_t n = sip_name_addr_uri(v, &uri);
	check(uri >= v && uri + n <= v + strlen(v), "the URI of a name-addr outside it", v);
	char *u = mem_strndup(uri, n);
	if (u)
		uri_with_headers(u);
	mem_deref(u);
}

/* A sipfrag body of len octets, not NUL-terminated. */
static void sipfrag(const char *body, size_t len)
{
	static const size_t sizes[] = { 64, 1, 0 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char reason[64];
		memset(reason, 'x', sizeof(reason));
		int status = -1;
		if (!sip_sipfrag_status(body, len, &status, reason, sizes[i]))
			continue;
		check(status >= 100 && status <= 999, "a sipfrag status out of 100..999", NULL);
		if (sizes[i] == 0) {
			check(reason[0] == 'x', "a sipfrag reason written into no room", NULL);
			continue;
		}
		size_t rl = strnlen(reason, sizes[i]);
		check(rl < sizes[i], "a sipfrag reason not ended within its room", NULL);
		check(!memchr(reason, '\r', rl) && !memchr(reason, '\n', rl),
		      "a sipfrag reason with a line break", NULL);
	}
}

/* One value as the parsers of its header would see it. */
static void value(const char *v)
{
	name_addr(v);
	uri_with_headers(v);
	replaces(v);
}

static void headers(const struct sip_msg *m, enum sip_hdr_id id)
{
	struct sip_hdr h;
	for (unsigned i = 0; i < 4 && sip_msg_hdr_id(m, id, i, &h); i++) {
		char *v = mem_alloc(h.value_len + 1, NULL);
		if (!v)
			return;
		sip_hdr_unfold(&h, v);
		value(v);
		mem_deref(v);
	}
}

static void message(const uint8_t *data, size_t size)
{
	struct sip_msg *m = sip_msg_decode((const char *)data, size, false);
	if (!m)
		return;
	headers(m, SIP_HDR_REFER_TO);
	headers(m, SIP_HDR_REFERRED_BY);
	struct sip_hdr h;
	for (unsigned i = 0; i < 4 && sip_msg_hdr(m, "Replaces", i, &h); i++) {
		char *v = mem_alloc(h.value_len + 1, NULL);
		if (!v)
			break;
		sip_hdr_unfold(&h, v);
		replaces(v);
		mem_deref(v);
	}
	if (m->body_len) {
		/* exactly the body's octets, as a NOTIFY's would be read */
		char *body = malloc(m->body_len);
		if (body) {
			memcpy(body, m->body, m->body_len);
			sipfrag(body, m->body_len);
			free(body);
		}
	}
	mem_deref(m);
}

/* libosip2 logs every parse error it meets. */
static void osip_quiet(const char *file, int line, osip_trace_level_t level, const char *fmt,
		       va_list ap)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	parser_init();
	osip_trace_initialize_func(OSIP_FATAL, osip_quiet);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_LEN)
		return -1;
	/* the whole input as one value, up to its first NUL */
	char *v = malloc(size + 1);
	if (!v)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';
	value(v);
	free(v);

	/* the whole input as a sipfrag body, with nothing after it */
	char *body = malloc(size ? size : 1);
	if (body) {
		memcpy(body, data, size);
		sipfrag(body, size);
		free(body);
	}

	message(data, size);
	return 0;
}
