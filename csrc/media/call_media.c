/* The media of a call: the stream, its player, recorder and DTMF detector,
 * and what they tell the call's owner. */
#include "media/call_media.h"
#include "media/bridge.h"
#include "media/recorder.h"
#include "media/rtp_sock.h"
#include "sip/sdp.h"
#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the clock's tick found (a digit heard in-band, a recording at its
 * end) is told from the timer queue, where the owner's handler may close
 * this media or another call's; so is a telephone-event, for one order of
 * digits whichever way they came. */
static void on_tell(void *arg);

static void tell_later(struct call_media *m)
{
	if (!tmr_running(&m->tell_tmr))
		tmr_start(m->tq, &m->tell_tmr, 0, on_tell, m);
}

static void queue_digit(struct call_media *m, char digit)
{
	if (m->ndigits < sizeof(m->digits))
		m->digits[m->ndigits++] = digit;
	tell_later(m);
}

static void on_event_digit(void *arg, char digit)
{
	queue_digit(arg, digit);
}

static void on_inband_digit(char digit, void *arg)
{
	queue_digit(arg, digit);
}

static void on_record_end(void *arg)
{
	struct call_media *m = arg;
	m->rec_over = true;
	tell_later(m);
}

/* The stream's source: the player itself while nothing is mixed with
 * it (a tick of the thousands of calls that only play costs no extra
 * call), else tx, which mixes. */
static void route_tx(struct call_media *m)
{
	rtp_stream_attach(&m->stream, m->feed || m->both_rx ? &m->tx : &m->player.port, &m->rx);
}

void call_media_feed(struct call_media *m, struct port *feed)
{
	m->feed = feed;
	route_tx(m);
}

/* A bridge hears of every change that may move its directions between
 * relaying and mixing. */
static void changed(struct call_media *m)
{
	if (m->bridge)
		media_bridge_update(m->bridge);
}

/* Recording both directions: one frame a tick, what the far end said
 * (rx, or silence) plus what it heard (tx, or silence). */
static void record_both(struct call_media *m, struct frame *tx)
{
	struct frame f;
	frame_init(&f, PORT_PCM);
	f.has_pcm = true;
	if (m->both_have)
		memcpy(f.pcm, m->both_rx, sizeof(f.pcm));
	else
		memset(f.pcm, 0, sizeof(f.pcm));
	m->both_have = false;
	if (tx)
		frame_add(&f, tx);
	port_put(m->rec_port, &f);
}

/* The stream's sink: what the far end sent goes to the recorder, to a
 * bridge's other leg and, for a peer that sends no telephone-events, to
 * the in-band detector (a peer that sends events does not need its tones
 * heard). They share the frame's one decoding. */
static void rx_put(struct port *port, struct frame *f)
{
	struct call_media *m = container_of(port, struct call_media, rx);
	if (m->stream.te_pt < 0) {
		/* allocated here, not with the call: most calls never need it */
		if (!m->det && (m->det = malloc(sizeof(*m->det))) != NULL)
			dtmf_sink_init(m->det, on_inband_digit, m);
		if (m->det)
			port_put(&m->det->port, f);
	}
	if (m->tap)
		port_put(m->tap, f);
	if (m->rec && m->both_rx) {
		/* a frame the send phase did not take (we sent none: held, a
		 * digit of ours) goes alone */
		if (m->both_have)
			record_both(m, NULL);
		memcpy(m->both_rx, frame_pcm(f), sizeof(f->pcm));
		m->both_have = true;
		if (!m->stream.send)
			record_both(m, NULL);
	} else if (m->rec) {
		port_put(m->rec_port, f);
	}
}

/* The stream's source: the player alone (its frames in the stream's law,
 * copied), or in a bridge's mixed mode the player over what the bridge
 * gives; a recording of both directions takes the result. */
static bool tx_get(struct port *port, struct frame *f)
{
	struct call_media *m = container_of(port, struct call_media, tx);
	bool got = port_get(&m->player.port, f);
	if (m->feed) {
		struct frame other;
		frame_init(&other, got ? PORT_PCM : f->want);
		if (port_get(m->feed, &other)) {
			if (got)
				frame_add(f, &other);
			else
				*f = other;
			got = true;
		}
	}
	if (m->rec && m->both_rx)
		record_both(m, got ? f : NULL);
	return got;
}

/* Closes the recording; tell: the owner hears its seconds (and the error
 * of a write that failed). */
static void drop_recorder(struct call_media *m)
{
	m->rec = NULL;
	m->rec_over = false;
	free(m->both_rx);
	m->both_rx = NULL;
	m->both_have = false;
	route_tx(m);
	changed(m);
}

static void finish_recording(struct call_media *m, bool tell)
{
	double secs;
	char err[512] = "";
	int e = recorder_close(m->rec, &secs, err, sizeof(err));
	drop_recorder(m);
	if (tell && m->h->recorded)
		m->h->recorded(m->arg, secs, e, e ? err : NULL);
}

static void on_tell(void *arg)
{
	struct call_media *m = arg;
	/* each handler may close the media: the reference keeps the memory
	 * until the loop below has looked at closed */
	mem_ref(m);
	while (!m->closed && m->ndigits) {
		char d = m->digits[0];
		memmove(m->digits, m->digits + 1, --m->ndigits);
		if (m->h->digit)
			m->h->digit(m->arg, d);
	}
	if (!m->closed && m->rec_over && m->rec)
		finish_recording(m, true);
	mem_deref(m);
}

static void on_played(void *arg)
{
	struct call_media *m = arg;
	mem_ref(m);
	changed(m);
	if (!m->closed && m->h->played)
		m->h->played(m->arg);
	mem_deref(m);
}

static const struct rtp_stream_handlers stream_handlers = {
	.digit = on_event_digit,
};

/* Off the clock, off the socket, nothing playing or pending. */
static void shut(struct call_media *m, bool spare, bool tell)
{
	m->closed = true;
	if (m->bridge)
		media_bridge_part(m->bridge);
	rtp_stream_close(&m->stream);
	player_stop(&m->player);
	tmr_cancel(&m->tell_tmr);
	m->ndigits = 0;
	free(m->det);
	m->det = NULL;
	/* the pair serves the endpoint's next call */
	if (m->sock) {
		if (spare)
			rtp_sock_release(m->sock);
		else
			rtp_sock_close(m->sock);
		m->sock = NULL;
	}
	if (m->rec)
		finish_recording(m, tell);
}

static void destroy(void *arg)
{
	struct call_media *m = arg;
	if (!m->closed)
		shut(m, false, false);
}

int call_media_alloc(struct call_media **mp, struct mclock *clock, struct tmrq *tq,
		     struct rtp_sock *sock, const struct call_media_handlers *h, void *arg)
{
	struct call_media *m = mem_alloc(sizeof(*m), destroy);
	if (!m)
		return -ENOMEM;
	m->sock = sock;
	m->tq = tq;
	m->h = h;
	m->arg = arg;
	tmr_init(&m->tell_tmr);
	rtp_stream_init(&m->stream, clock, sock, &stream_handlers, m);
	player_init(&m->player, tq, on_played, m);
	m->rx.put = rx_put;
	m->tx.get = tx_get;
	route_tx(m);
	*mp = m;
	return 0;
}

void call_media_set(struct call_media *m, const struct sdp_result *r, struct media_flow f)
{
	m->peer_holds = f.on && r->hold_by_peer;
	if (!f.on)
		rtp_stream_stop(&m->stream);
	else
		rtp_stream_set(&m->stream, &r->remote, r->pt, r->rtp_pt, r->te_pt, f.send, f.recv);
	changed(m);
}

void call_media_play(struct call_media *m, struct media_clip *clip, bool loop)
{
	player_start(&m->player, clip, loop);
	changed(m);
}

bool call_media_stop_play(struct call_media *m)
{
	bool was = player_stop(&m->player);
	changed(m);
	return was;
}

int call_media_record(struct call_media *m, const char *path, double max_s, double silence_s,
		      bool both, char *err, size_t errlen)
{
	if (m->rec)
		return -EBUSY;
	int16_t *both_rx = NULL;
	if (both && !(both_rx = malloc(PORT_FRAME * sizeof(*both_rx)))) {
		snprintf(err, errlen, "no memory to record %s", path);
		return -ENOMEM;
	}
	int e = recorder_open(&m->rec, path, max_s, silence_s, err, errlen);
	if (e) {
		free(both_rx);
		return e;
	}
	m->rec_port = recorder_port(m->rec, on_record_end, m);
	m->rec_over = false;
	m->both_rx = both_rx;
	m->both_have = false;
	route_tx(m);
	changed(m);
	return 0;
}

bool call_media_recording(const struct call_media *m)
{
	return m->rec != NULL;
}

int call_media_stop_record(struct call_media *m, double *secs, char *err, size_t errlen)
{
	int e = recorder_close(m->rec, secs, err, errlen);
	drop_recorder(m);
	return e;
}

int call_media_dtmf(struct call_media *m, const char *digits)
{
	if (!m->stream.send)
		return -ENOTCONN;
	return rtp_stream_dtmf(&m->stream, digits);
}

void call_media_stats(const struct call_media *m, struct rtp_stats *st)
{
	rtp_stream_stats(&m->stream, st);
}

void call_media_close(struct call_media *m, bool spare, bool tell)
{
	if (m->closed)
		return;
	shut(m, spare, tell);
	mem_deref(m);
}
