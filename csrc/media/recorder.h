/* A recorder: what the far end sends, decoded, written to a WAV file
 * (8 kHz, 16-bit mono) through libsndfile, until a maximum length or a
 * stretch of silence. It is a sink port (port.h): the frames put into it
 * are written until the recording is over, which its end handler hears
 * once (from inside the clock's tick: the handler only takes note). */
#ifndef LUASIP_RECORDER_H
#define LUASIP_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/port.h"

struct recorder;

/* Opens path for writing: -errno with a message naming the file in err.
 * max_s 0: no limit; silence_s 0: silence does not end it. */
int recorder_open(struct recorder **rp, const char *path, double max_s, double silence_s,
		  char *err, size_t errlen);
/* Takes 8 kHz samples (they reach the file half a second at a time); true
 * when the recording is over: max, silence, or a write that failed. */
bool recorder_write(struct recorder *r, const int16_t *pcm, size_t n);
/* Writes what is held and closes the file; secs: the seconds recorded.
 * 0, or the -errno of the first write that failed (the file stops there)
 * with a message naming the file in err. */
int recorder_close(struct recorder *r, double *secs, char *err, size_t errlen);
double recorder_seconds(const struct recorder *r);
/* The recorder as a sink; end_h is called once when the recording is
 * over, and nothing more is written after it. */
struct port *recorder_port(struct recorder *r, void (*end_h)(void *arg), void *arg);

#endif
