#include "sip/loop.h"

/* Running timers first brings the queue's clock to the loop's, so a timer
 * started from a callback counts from the time the loop last looked. */
static void on_timer(uv_timer_t *t)
{
	struct sip_loop *l = t->data;
	tmrq_run(&l->tq, uv_now(l->uv));
}

static void on_prepare(uv_prepare_t *p)
{
	struct sip_loop *l = p->data;
	l->turns++;
	tmrq_run(&l->tq, uv_now(l->uv));
	int64_t next = tmrq_next(&l->tq);
	if (next < 0) {
		uv_timer_stop(&l->timer);
		return;
	}
	uv_timer_start(&l->timer, on_timer, (uint64_t)next, 0);
	/* A pending SIP timer alone does not keep the loop going: tasks,
	 * endpoints and calls do (sip_loop_hold, open handles). */
}

int sip_loop_init(struct sip_loop *l, uv_loop_t *uv)
{
	l->uv = uv;
	l->turns = 0;
	l->behind_turn = 0;
	tmrq_init(&l->tq, uv_now(uv));
	int err = uv_timer_init(uv, &l->timer);
	if (err)
		return err;
	err = uv_prepare_init(uv, &l->prepare);
	if (err)
		return err;
	l->timer.data = l;
	l->prepare.data = l;
	uv_unref((uv_handle_t *)&l->timer);
	uv_unref((uv_handle_t *)&l->prepare);
	return uv_prepare_start(&l->prepare, on_prepare);
}

void sip_loop_update(struct sip_loop *l)
{
	uv_update_time(l->uv);
	if (uv_now(l->uv) > l->tq.now)
		l->tq.now = uv_now(l->uv);
}

void sip_loop_close(struct sip_loop *l)
{
	tmrq_close(&l->tq);
	uv_close((uv_handle_t *)&l->timer, NULL);
	uv_close((uv_handle_t *)&l->prepare, NULL);
}

void sip_loop_hold(struct sip_loop *l)
{
	if (l->holds++ == 0)
		uv_ref((uv_handle_t *)&l->prepare);
}

void sip_loop_release(struct sip_loop *l)
{
	if (l->holds > 0 && --l->holds == 0)
		uv_unref((uv_handle_t *)&l->prepare);
}

void sip_loop_note_backlog(struct sip_loop *l)
{
	l->behind_turn = l->turns + 1;
}

bool sip_loop_behind(const struct sip_loop *l)
{
	return l->behind_turn != 0 && l->turns + 1 - l->behind_turn <= 1;
}
