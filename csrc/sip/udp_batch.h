/* Datagrams sent on a UDP transport during one turn of the loop, handed to
 * the kernel together with one sendmmsg(2) before the loop can block.
 *
 * A loaded endpoint reads dozens of requests per turn and answers each
 * one; sent one by one, every answer is a system call and, when the peer
 * sleeps, a wake-up of the peer. Sent together they are one of each.
 * Nothing waits longer than the rest of the turn: the batch goes out in
 * the loop's check phase (after the I/O callbacks), and a timer due at
 * once keeps the loop from blocking in its poll while a batch waits (what
 * timers and prepare callbacks send).
 *
 * UDP promises no delivery, and a send error would only ever have been an
 * error of this one datagram: what the kernel refuses when the batch goes
 * is dropped (counted), and the transaction's timers deal with it as with
 * a loss. A full socket buffer queues the rest with uv_udp_send. */
#ifndef LUASIP_UDP_BATCH_H
#define LUASIP_UDP_BATCH_H

#include <stddef.h>
#include <uv.h>

#include "sip/addr.h"

struct udp_batch;

/* A batch for the bound socket u (which it does not own). */
int udp_batch_new(struct udp_batch **bp, uv_loop_t *uv, uv_udp_t *u);
/* Copies the datagram into the batch; 0, or -ENOMEM. */
int udp_batch_add(struct udp_batch *b, const union sa *dst, const char *buf, size_t len);
/* Sends what is waiting now. */
void udp_batch_flush(struct udp_batch *b);
/* Flushes, then closes; the memory goes when libuv is done. */
void udp_batch_close(struct udp_batch *b);
/* Datagrams the kernel refused (not counting a full buffer's, which wait). */
unsigned long udp_batch_dropped(const struct udp_batch *b);

#endif
