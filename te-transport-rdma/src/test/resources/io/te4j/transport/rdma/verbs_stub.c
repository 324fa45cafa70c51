/*
 * The "ops-table stub": a fake ibv_context whose ops.post_send and ops.poll_cq are this file's
 * functions, with a QP and a CQ on it, so that libte4jrdma's real data path (the chain it links,
 * the jump through the ops table, bad_wr made an index, completions polled into an ibv_wc array)
 * runs in CI without a device. Test only; built by OpsTableStubTest against the installed header.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <infiniband/verbs.h>

#define LOG_MAX 4096

static struct ibv_context ctx;
static struct ibv_qp qp;
static struct ibv_cq cq;
static struct ibv_send_wr logged[LOG_MAX];
static struct ibv_sge logged_sge[LOG_MAX];
static int logged_count;
static int accept_limit = LOG_MAX; /* posts beyond this many WRs fail with ENOMEM */
static struct ibv_wc queued[LOG_MAX];
static int queued_head, queued_tail;

static int stub_post_send(struct ibv_qp *q, struct ibv_send_wr *wr, struct ibv_send_wr **bad) {
  if (q != &qp) {
    *bad = wr;
    return EINVAL;
  }
  for (; wr != NULL; wr = wr->next) {
    if (logged_count >= accept_limit || wr->num_sge != 1) {
      *bad = wr;
      return ENOMEM;
    }
    logged[logged_count] = *wr;
    logged_sge[logged_count] = wr->sg_list[0];
    logged_count++;
  }
  return 0;
}

static int stub_poll_cq(struct ibv_cq *c, int n, struct ibv_wc *wc) {
  if (c != &cq) {
    return -1;
  }
  int k = 0;
  while (k < n && queued_head < queued_tail) {
    wc[k++] = queued[queued_head++];
  }
  return k;
}

/* Resets the stub; returns the QP handle. */
long stub_reset(int limit) {
  memset(&ctx, 0, sizeof ctx);
  memset(&qp, 0, sizeof qp);
  memset(&cq, 0, sizeof cq);
  ctx.ops.post_send = stub_post_send;
  ctx.ops.poll_cq = stub_poll_cq;
  qp.context = &ctx;
  qp.qp_num = 0x1234;
  cq.context = &ctx;
  cq.cqe = 64;
  logged_count = 0;
  accept_limit = limit;
  queued_head = queued_tail = 0;
  return (long)&qp;
}

long stub_cq(void) { return (long)&cq; }

int stub_logged_count(void) { return logged_count; }

/* Field f of logged WR i: 0 wr_id, 1 opcode, 2 send_flags, 3 remote_addr, 4 rkey, 5 sge addr,
   6 sge length, 7 sge lkey, 8 num_sge. */
long stub_logged(int i, int f) {
  struct ibv_send_wr *w = &logged[i];
  switch (f) {
    case 0: return (long)w->wr_id;
    case 1: return w->opcode;
    case 2: return w->send_flags;
    case 3: return (long)w->wr.rdma.remote_addr;
    case 4: return w->wr.rdma.rkey;
    case 5: return (long)logged_sge[i].addr;
    case 6: return logged_sge[i].length;
    case 7: return logged_sge[i].lkey;
    case 8: return w->num_sge;
    default: return -1;
  }
}

void stub_queue_wc(long wr_id, int status, int opcode, int byte_len) {
  struct ibv_wc *w = &queued[queued_tail++];
  memset(w, 0, sizeof *w);
  w->wr_id = (uint64_t)wr_id;
  w->status = (enum ibv_wc_status)status;
  w->opcode = (enum ibv_wc_opcode)opcode;
  w->byte_len = (uint32_t)byte_len;
  w->qp_num = qp.qp_num;
}

/*
 * Null NIC: CQs and QPs of their own, where every posted work request completes at once with
 * success (the analogue of the reference's USE_FAKE_POST_SEND), so that a benchmark measures
 * te4j's own cost per slice through engine, transport and libte4jrdma. One posting and one polling
 * thread per CQ: the completion ring is single-producer, single-consumer.
 */
#include <stdatomic.h>

struct null_cq {
  struct ibv_cq cq; /* first: libte4jrdma sees a struct ibv_cq */
  struct ibv_context ctx;
  uint32_t mask;
  _Atomic uint64_t head; /* next to poll */
  _Atomic uint64_t tail; /* next to fill */
  struct ibv_wc *ring;
};

struct null_qp {
  struct ibv_qp qp;
  struct ibv_context ctx;
  struct null_cq *cq;
};

static _Atomic uint32_t null_qpn = 0x100000;

static int null_post_send(struct ibv_qp *q, struct ibv_send_wr *wr, struct ibv_send_wr **bad) {
  struct null_qp *n = (struct null_qp *)q;
  struct null_cq *c = n->cq;
  uint64_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
  for (; wr != NULL; wr = wr->next) {
    if (tail - atomic_load_explicit(&c->head, memory_order_acquire) > c->mask) {
      *bad = wr;
      return ENOMEM;
    }
    struct ibv_wc *w = &c->ring[tail & c->mask];
    w->wr_id = wr->wr_id;
    w->status = IBV_WC_SUCCESS;
    w->opcode = wr->opcode == IBV_WR_RDMA_READ ? IBV_WC_RDMA_READ : IBV_WC_RDMA_WRITE;
    w->byte_len = wr->sg_list[0].length;
    w->qp_num = q->qp_num;
    tail++;
  }
  atomic_store_explicit(&c->tail, tail, memory_order_release);
  return 0;
}

static int null_poll_cq(struct ibv_cq *cq, int n, struct ibv_wc *wc) {
  struct null_cq *c = (struct null_cq *)cq;
  uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
  uint64_t tail = atomic_load_explicit(&c->tail, memory_order_acquire);
  int k = 0;
  while (k < n && head < tail) {
    wc[k++] = c->ring[head & c->mask];
    head++;
  }
  atomic_store_explicit(&c->head, head, memory_order_release);
  return k;
}

/* A null-NIC CQ of at least `entries` (a power of two), or 0. */
long null_cq_create(int entries) {
  uint32_t cap = 16;
  while (cap < (uint32_t)entries) {
    cap <<= 1;
  }
  struct null_cq *c = calloc(1, sizeof *c);
  c->ring = calloc(cap, sizeof(struct ibv_wc));
  c->mask = cap - 1;
  c->ctx.ops.poll_cq = null_poll_cq;
  c->ctx.ops.post_send = null_post_send;
  c->cq.context = &c->ctx;
  c->cq.cqe = (int)cap;
  return (long)c;
}

void null_cq_destroy(long cq) {
  struct null_cq *c = (struct null_cq *)cq;
  free(c->ring);
  free(c);
}

/* A null-NIC QP completing on `cq`. */
long null_qp_create(long cq) {
  struct null_qp *n = calloc(1, sizeof *n);
  n->cq = (struct null_cq *)cq;
  n->ctx.ops.post_send = null_post_send;
  n->ctx.ops.poll_cq = null_poll_cq;
  n->qp.context = &n->ctx;
  n->qp.qp_num = atomic_fetch_add(&null_qpn, 1) & 0xffffff;
  return (long)n;
}

void null_qp_destroy(long qp) { free((struct null_qp *)qp); }

/*
 * The C baseline of RdmaNullNicBenchmark.postAndPoll, same shape: fill `batch` RDMA WRITE work
 * requests, post them as one chain through the ops table, poll the completions 64 at a time;
 * `rounds` times. Single-threaded (static arrays). Returns the completions polled.
 */
#define C_BATCH_MAX 256
static struct ibv_send_wr c_wrs[C_BATCH_MAX];
static struct ibv_sge c_sges[C_BATCH_MAX];

long null_c_post_and_poll(long qp, long cq, int batch, int rounds) {
  struct ibv_qp *q = (struct ibv_qp *)qp;
  struct ibv_cq *c = (struct ibv_cq *)cq;
  struct ibv_wc wc[64];
  long done = 0;
  if (batch > C_BATCH_MAX) {
    return -1;
  }
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < batch; i++) {
      struct ibv_send_wr *w = &c_wrs[i];
      w->wr_id = (uint64_t)i;
      w->sg_list = &c_sges[i];
      w->num_sge = 1;
      w->opcode = IBV_WR_RDMA_WRITE;
      w->send_flags = IBV_SEND_SIGNALED;
      w->wr.rdma.remote_addr = 0x20000u + (uint64_t)i * 65536u;
      w->wr.rdma.rkey = 2;
      w->next = i + 1 < batch ? &c_wrs[i + 1] : NULL;
      c_sges[i].addr = 0x10000u + (uint64_t)i * 65536u;
      c_sges[i].length = 65536;
      c_sges[i].lkey = 1;
    }
    struct ibv_send_wr *bad = NULL;
    if (q->context->ops.post_send(q, c_wrs, &bad) != 0) {
      return -1;
    }
    int got = 0;
    while (got < batch) {
      got += c->context->ops.poll_cq(c, 64, wc);
    }
    done += got;
  }
  return done;
}
