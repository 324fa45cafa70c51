/*
 * libte4jrdma: the verbs calls te4j's RDMA transport makes, for JNA direct mapping (NativeVerbs).
 *
 * libibverbs is found at run time (dlopen "libibverbs.so.1"), so this library loads on any Linux
 * machine and te_rdma_init says why RDMA cannot run where libibverbs or a device is missing.
 * Compiled against the installed <infiniband/verbs.h>, so every layout is the header's.
 *
 * The data path is batched: te_rdma_post_send links an array of ibv_send_wr (and their SGEs) the
 * Java side wrote in native memory and posts the chain in one call through the context's ops table
 * (ibv_post_send is static inline, not exported); te_rdma_poll_cq polls up to n completions into
 * an array of ibv_wc. Neither needs libibverbs itself, which is what lets a test drive them with a
 * fake context ("ops-table stub").
 *
 * Errors: calls returning a handle return 0 and leave the errno in te_rdma_last_errno() (thread
 * local); calls returning int return 0 or a positive errno, as the verbs do.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <infiniband/verbs.h>

#define EXPORT __attribute__((visibility("default")))

static __thread int last_errno;

static struct {
  struct ibv_device **(*get_device_list)(int *);
  void (*free_device_list)(struct ibv_device **);
  const char *(*get_device_name)(struct ibv_device *);
  struct ibv_context *(*open_device)(struct ibv_device *);
  int (*close_device)(struct ibv_context *);
  int (*query_device)(struct ibv_context *, struct ibv_device_attr *);
  int (*query_port)(struct ibv_context *, uint8_t, struct ibv_port_attr *);
  int (*query_gid)(struct ibv_context *, uint8_t, int, union ibv_gid *);
  struct ibv_pd *(*alloc_pd)(struct ibv_context *);
  int (*dealloc_pd)(struct ibv_pd *);
  struct ibv_mr *(*reg_mr)(struct ibv_pd *, void *, size_t, int);
  int (*dereg_mr)(struct ibv_mr *);
  struct ibv_cq *(*create_cq)(struct ibv_context *, int, void *, struct ibv_comp_channel *, int);
  int (*destroy_cq)(struct ibv_cq *);
  struct ibv_qp *(*create_qp)(struct ibv_pd *, struct ibv_qp_init_attr *);
  int (*modify_qp)(struct ibv_qp *, struct ibv_qp_attr *, int);
  int (*destroy_qp)(struct ibv_qp *);
  int (*get_async_event)(struct ibv_context *, struct ibv_async_event *);
  void (*ack_async_event)(struct ibv_async_event *);
  int (*fork_init)(void);
} v;

static int loaded;
/* ibv_reg_mr masks optional access flags (relaxed ordering) only from IBVERBS_1.8 on. */
static int has_reg_mr_iova2;
static char load_error[512];

/* Binds one symbol; returns 0 or records what is missing. */
static int bind(void *lib, void **slot, const char *name) {
  *slot = dlsym(lib, name);
  if (*slot == NULL) {
    snprintf(load_error, sizeof load_error, "libibverbs.so.1 lacks %s", name);
    return -1;
  }
  return 0;
}

/*
 * Loads libibverbs and lists its devices once. Returns the number of devices (0 or more), or -1
 * with the reason in err: libibverbs missing, a symbol missing, or ibv_get_device_list failing
 * (ENOSYS on a kernel without InfiniBand).
 */
EXPORT int te_rdma_init(char *err, int len) {
  if (!loaded) {
    void *lib = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (lib == NULL) {
      snprintf(load_error, sizeof load_error, "libibverbs.so.1 not found (%s): install rdma-core "
               "(Debian: apt-get install libibverbs1)", dlerror());
    } else if (bind(lib, (void **)&v.get_device_list, "ibv_get_device_list") == 0
        && bind(lib, (void **)&v.free_device_list, "ibv_free_device_list") == 0
        && bind(lib, (void **)&v.get_device_name, "ibv_get_device_name") == 0
        && bind(lib, (void **)&v.open_device, "ibv_open_device") == 0
        && bind(lib, (void **)&v.close_device, "ibv_close_device") == 0
        && bind(lib, (void **)&v.query_device, "ibv_query_device") == 0
        && bind(lib, (void **)&v.query_port, "ibv_query_port") == 0
        && bind(lib, (void **)&v.query_gid, "ibv_query_gid") == 0
        && bind(lib, (void **)&v.alloc_pd, "ibv_alloc_pd") == 0
        && bind(lib, (void **)&v.dealloc_pd, "ibv_dealloc_pd") == 0
        && bind(lib, (void **)&v.reg_mr, "ibv_reg_mr") == 0
        && bind(lib, (void **)&v.dereg_mr, "ibv_dereg_mr") == 0
        && bind(lib, (void **)&v.create_cq, "ibv_create_cq") == 0
        && bind(lib, (void **)&v.destroy_cq, "ibv_destroy_cq") == 0
        && bind(lib, (void **)&v.create_qp, "ibv_create_qp") == 0
        && bind(lib, (void **)&v.modify_qp, "ibv_modify_qp") == 0
        && bind(lib, (void **)&v.destroy_qp, "ibv_destroy_qp") == 0
        && bind(lib, (void **)&v.get_async_event, "ibv_get_async_event") == 0
        && bind(lib, (void **)&v.ack_async_event, "ibv_ack_async_event") == 0
        && bind(lib, (void **)&v.fork_init, "ibv_fork_init") == 0) {
      v.fork_init();
      has_reg_mr_iova2 = dlsym(lib, "ibv_reg_mr_iova2") != NULL;
      loaded = 1;
    }
  }
  if (!loaded) {
    snprintf(err, len, "%s", load_error);
    return -1;
  }
  int n = 0;
  errno = 0;
  struct ibv_device **list = v.get_device_list(&n);
  if (list == NULL) {
    int e = errno;
    snprintf(err, len, "ibv_get_device_list failed: %s (errno %d)%s", strerror(e), e,
             e == ENOSYS ? ": the kernel has no InfiniBand/RDMA support" : "");
    return -1;
  }
  v.free_device_list(list);
  return n;
}

/* The name of device i into buf; 0, or ENODEV when there is no such device. */
EXPORT int te_rdma_device_name(int i, char *buf, int len) {
  int n = 0;
  struct ibv_device **list = v.get_device_list(&n);
  if (list == NULL) {
    return errno;
  }
  int rc = ENODEV;
  if (i >= 0 && i < n) {
    snprintf(buf, len, "%s", v.get_device_name(list[i]));
    rc = 0;
  }
  v.free_device_list(list);
  return rc;
}

EXPORT int te_rdma_last_errno(void) { return last_errno; }

static long fail_handle(void) {
  last_errno = errno != 0 ? errno : EIO;
  return 0;
}

EXPORT long te_rdma_open(const char *name) {
  int n = 0;
  struct ibv_device **list = v.get_device_list(&n);
  if (list == NULL) {
    return fail_handle();
  }
  struct ibv_context *ctx = NULL;
  errno = ENODEV;
  for (int i = 0; i < n; i++) {
    if (strcmp(v.get_device_name(list[i]), name) == 0) {
      errno = 0;
      ctx = v.open_device(list[i]);
      break;
    }
  }
  v.free_device_list(list);
  if (ctx == NULL) {
    return fail_handle();
  }
  /* te_rdma_next_async_event must never block: the monitor polls every context in turn. */
  int flags = fcntl(ctx->async_fd, F_GETFL);
  if (flags >= 0) {
    fcntl(ctx->async_fd, F_SETFL, flags | O_NONBLOCK);
  }
  return (long)ctx;
}

EXPORT int te_rdma_close(long ctx) { return v.close_device((struct ibv_context *)ctx); }

/* Fills out (sizeof(struct ibv_device_attr) bytes). */
EXPORT int te_rdma_query_device(long ctx, long out) {
  return v.query_device((struct ibv_context *)ctx, (struct ibv_device_attr *)out);
}

/* Fills out, which must hold TE_PORT_ATTR_BYTES (64): newer headers append fields. */
EXPORT int te_rdma_query_port(long ctx, int port, long out) {
  return v.query_port((struct ibv_context *)ctx, (uint8_t)port, (struct ibv_port_attr *)out);
}

EXPORT int te_rdma_query_gid(long ctx, int port, int index, long out16) {
  return v.query_gid((struct ibv_context *)ctx, (uint8_t)port, index, (union ibv_gid *)out16);
}

EXPORT long te_rdma_alloc_pd(long ctx) {
  errno = 0;
  struct ibv_pd *pd = v.alloc_pd((struct ibv_context *)ctx);
  return pd != NULL ? (long)pd : fail_handle();
}

EXPORT int te_rdma_dealloc_pd(long pd) { return v.dealloc_pd((struct ibv_pd *)pd); }

EXPORT long te_rdma_reg_mr(long pd, long addr, long len, int access) {
  if (!has_reg_mr_iova2) {
    access &= ~IBV_ACCESS_RELAXED_ORDERING; /* an older libibverbs would refuse it */
  }
  errno = 0;
  struct ibv_mr *mr = v.reg_mr((struct ibv_pd *)pd, (void *)addr, (size_t)len, access);
  return mr != NULL ? (long)mr : fail_handle();
}

/* rkey in the high 32 bits, lkey in the low 32 bits. */
EXPORT long te_rdma_mr_keys(long mr) {
  struct ibv_mr *m = (struct ibv_mr *)mr;
  return ((long)m->rkey << 32) | (long)m->lkey;
}

EXPORT int te_rdma_dereg_mr(long mr) { return v.dereg_mr((struct ibv_mr *)mr); }

EXPORT long te_rdma_create_cq(long ctx, int cqe) {
  errno = 0;
  struct ibv_cq *cq = v.create_cq((struct ibv_context *)ctx, cqe, NULL, NULL, 0);
  return cq != NULL ? (long)cq : fail_handle();
}

/* The CQ's real capacity, which may exceed what was asked for. */
EXPORT int te_rdma_cq_capacity(long cq) { return ((struct ibv_cq *)cq)->cqe; }

EXPORT int te_rdma_destroy_cq(long cq) { return v.destroy_cq((struct ibv_cq *)cq); }

/* An RC QP on one CQ for both queues, no SRQ, sq_sig_all 0 (each WR says whether it signals). */
EXPORT long te_rdma_create_qp(long pd, long cq, int max_wr, int max_sge, int max_inline) {
  struct ibv_qp_init_attr a;
  memset(&a, 0, sizeof a);
  a.send_cq = (struct ibv_cq *)cq;
  a.recv_cq = (struct ibv_cq *)cq;
  a.qp_type = IBV_QPT_RC;
  a.cap.max_send_wr = (uint32_t)max_wr;
  a.cap.max_recv_wr = (uint32_t)max_wr;
  a.cap.max_send_sge = (uint32_t)max_sge;
  a.cap.max_recv_sge = (uint32_t)max_sge;
  a.cap.max_inline_data = (uint32_t)max_inline;
  errno = 0;
  struct ibv_qp *qp = v.create_qp((struct ibv_pd *)pd, &a);
  return qp != NULL ? (long)qp : fail_handle();
}

EXPORT int te_rdma_qp_num(long qp) { return (int)((struct ibv_qp *)qp)->qp_num; }

/* attr: a struct ibv_qp_attr the Java side encoded (QpAttributes). Returns 0 or an errno. */
EXPORT int te_rdma_modify_qp(long qp, long attr, int mask) {
  return v.modify_qp((struct ibv_qp *)qp, (struct ibv_qp_attr *)attr, mask);
}

EXPORT int te_rdma_destroy_qp(long qp) { return v.destroy_qp((struct ibv_qp *)qp); }

/*
 * Posts wrs[0, count) as one chain: WR i gets sg_list = &sges[i] and next = &wrs[i + 1] (the Java
 * side filled every other field). Returns count when all were posted; otherwise
 * -(errno << 16 | index of the first WR not posted), the verbs' bad_wr made an index.
 */
EXPORT int te_rdma_post_send(long qp, long wrs, long sges, int count) {
  struct ibv_send_wr *w = (struct ibv_send_wr *)wrs;
  struct ibv_sge *s = (struct ibv_sge *)sges;
  for (int i = 0; i < count; i++) {
    w[i].sg_list = &s[i];
    w[i].next = i + 1 < count ? &w[i + 1] : NULL;
  }
  struct ibv_send_wr *bad = NULL;
  struct ibv_qp *q = (struct ibv_qp *)qp;
  int rc = q->context->ops.post_send(q, w, &bad);
  if (rc == 0) {
    return count;
  }
  int at = bad != NULL ? (int)(bad - w) : 0;
  return -((rc << 16) | (at & 0xffff));
}

/* Polls up to n completions into wcs (an array of struct ibv_wc); the count, or a negative value. */
EXPORT int te_rdma_poll_cq(long cq, int n, long wcs) {
  struct ibv_cq *c = (struct ibv_cq *)cq;
  return c->context->ops.poll_cq(c, n, (struct ibv_wc *)wcs);
}

/*
 * Reads one async event without blocking (te_rdma_open made async_fd non-blocking):
 * returns the event type, or -1 with none pending; *element gets the QP number for QP events, the
 * port number for port events. The event is acked here: nothing of it is kept.
 */
EXPORT int te_rdma_next_async_event(long ctx, long element_out) {
  struct ibv_async_event e;
  if (v.get_async_event((struct ibv_context *)ctx, &e) != 0) {
    return -1;
  }
  long element = 0;
  switch (e.event_type) {
    case IBV_EVENT_QP_FATAL:
    case IBV_EVENT_QP_REQ_ERR:
    case IBV_EVENT_QP_ACCESS_ERR:
    case IBV_EVENT_COMM_EST:
    case IBV_EVENT_SQ_DRAINED:
    case IBV_EVENT_PATH_MIG:
    case IBV_EVENT_PATH_MIG_ERR:
    case IBV_EVENT_QP_LAST_WQE_REACHED:
      element = e.element.qp->qp_num;
      break;
    case IBV_EVENT_PORT_ACTIVE:
    case IBV_EVENT_PORT_ERR:
    case IBV_EVENT_LID_CHANGE:
    case IBV_EVENT_PKEY_CHANGE:
    case IBV_EVENT_SM_CHANGE:
    case IBV_EVENT_CLIENT_REREGISTER:
    case IBV_EVENT_GID_CHANGE:
      element = e.element.port_num;
      break;
    default:
      break;
  }
  int type = (int)e.event_type;
  v.ack_async_event(&e);
  *(long *)element_out = element;
  return type;
}

