/*
 * libte4jnvmeof: the small native half of te4j's NVMe-oF file transport.
 *
 * One io_uring per transport, driven by one Java thread (the transport's ring thread): it alone
 * submits, cancels and reaps, so the ring can be set up with IORING_SETUP_COOP_TASKRUN (no
 * inter-processor interrupt per completion). Other threads hand work to that thread in Java and
 * wake it through an eventfd the ring keeps a read pending on (te4j_nvmeof_wake); that is the one
 * function here any thread may call. A mutex still guards the submission queue, as a belt.
 *
 * Built against liburing when its header is present (TE_USE_LIBURING=1, liburing linked
 * statically so the library needs only libc), else against the raw io_uring system calls with
 * the kernel's <linux/io_uring.h>. Both paths expose exactly the same functions below.
 *
 * Every function returns a non-negative value on success and -errno on failure; nothing here
 * prints or aborts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef TE_USE_LIBURING
#define TE_USE_LIBURING 0
#endif

#if TE_USE_LIBURING
#include <liburing.h>
#else
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#endif

/* Bumped whenever a signature below changes; the Java side refuses a library of another ABI. */
#define TE_ABI_VERSION 5

#define TE_OP_READ 0
#define TE_OP_WRITE 1

/* ------------------------------------------------------------------------------------------ */
/* The ring: liburing or raw system calls behind the same few static functions.                */

#if TE_USE_LIBURING

typedef struct io_uring te_uring;

static int r_init(te_uring *r, unsigned entries, unsigned cq_entries, unsigned flags) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_CQSIZE | flags;
  p.cq_entries = cq_entries;
  int rc = io_uring_queue_init_params(entries, r, &p);
  if (rc < 0) {
    return rc;
  }
  /* The waiter below relies on timed waits that never touch the submission queue. */
  if (!(p.features & IORING_FEAT_EXT_ARG)) {
    io_uring_queue_exit(r);
    return -EOPNOTSUPP;
  }
  return 0;
}

static void r_exit(te_uring *r) { io_uring_queue_exit(r); }

static struct io_uring_sqe *r_get_sqe(te_uring *r) { return io_uring_get_sqe(r); }

static int r_submit(te_uring *r) { return io_uring_submit(r); }

static unsigned r_sq_ready(te_uring *r) { return io_uring_sq_ready(r); }

static int r_wait(te_uring *r, long long timeout_ns) {
  struct io_uring_cqe *cqe;
  struct __kernel_timespec ts;
  ts.tv_sec = timeout_ns / 1000000000LL;
  ts.tv_nsec = timeout_ns % 1000000000LL;
  return io_uring_wait_cqe_timeout(r, &cqe, &ts);
}

static unsigned r_peek(te_uring *r, struct io_uring_cqe **cqes, unsigned max) {
  return io_uring_peek_batch_cqe(r, cqes, max);
}

static void r_advance(te_uring *r, unsigned n) { io_uring_cq_advance(r, n); }

static int r_probe_ops(te_uring *r, const int *ops, int count) {
  struct io_uring_probe *p = io_uring_get_probe_ring(r);
  if (p == NULL) {
    return -ENOSYS;
  }
  int ok = 1;
  for (int i = 0; i < count; i++) {
    ok &= io_uring_opcode_supported(p, ops[i]) ? 1 : 0;
  }
  io_uring_free_probe(p);
  return ok ? 0 : -EOPNOTSUPP;
}

#else /* raw system calls */

typedef struct {
  int fd;
  unsigned features;
  unsigned sq_entries;
  unsigned *sq_head;
  unsigned *sq_tail;
  unsigned *sq_mask;
  unsigned *sq_flags;
  unsigned *sq_array;
  unsigned sqe_head; /* first SQE handed out but not yet published to the kernel */
  unsigned sqe_tail; /* next SQE to hand out */
  struct io_uring_sqe *sqes;
  unsigned *cq_head;
  unsigned *cq_tail;
  unsigned *cq_mask;
  struct io_uring_cqe *cqes;
  void *sq_ptr;
  size_t sq_size;
  void *cq_ptr;
  size_t cq_size;
  size_t sqes_size;
} te_uring;

static int sys_setup(unsigned entries, struct io_uring_params *p) {
  int fd = (int)syscall(__NR_io_uring_setup, entries, p);
  return fd < 0 ? -errno : fd;
}

static int sys_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags, void *arg,
                     size_t argsz) {
  int rc = (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, argsz);
  return rc < 0 ? -errno : rc;
}

static int r_init(te_uring *r, unsigned entries, unsigned cq_entries, unsigned flags) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  memset(r, 0, sizeof *r);
  p.flags = IORING_SETUP_CQSIZE | flags;
  p.cq_entries = cq_entries;
  int fd = sys_setup(entries, &p);
  if (fd < 0) {
    return fd;
  }
  if (!(p.features & IORING_FEAT_EXT_ARG)) {
    close(fd);
    return -EOPNOTSUPP;
  }
  r->fd = fd;
  r->features = p.features;
  r->sq_entries = p.sq_entries;
  r->sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  r->cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (p.features & IORING_FEAT_SINGLE_MMAP) {
    if (r->cq_size > r->sq_size) {
      r->sq_size = r->cq_size;
    }
    r->cq_size = r->sq_size;
  }
  r->sq_ptr = mmap(NULL, r->sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                   IORING_OFF_SQ_RING);
  if (r->sq_ptr == MAP_FAILED) {
    int e = -errno;
    close(fd);
    return e;
  }
  if (p.features & IORING_FEAT_SINGLE_MMAP) {
    r->cq_ptr = r->sq_ptr;
  } else {
    r->cq_ptr = mmap(NULL, r->cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                     IORING_OFF_CQ_RING);
    if (r->cq_ptr == MAP_FAILED) {
      int e = -errno;
      munmap(r->sq_ptr, r->sq_size);
      close(fd);
      return e;
    }
  }
  r->sqes_size = p.sq_entries * sizeof(struct io_uring_sqe);
  r->sqes = mmap(NULL, r->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                 IORING_OFF_SQES);
  if (r->sqes == MAP_FAILED) {
    int e = -errno;
    if (r->cq_ptr != r->sq_ptr) {
      munmap(r->cq_ptr, r->cq_size);
    }
    munmap(r->sq_ptr, r->sq_size);
    close(fd);
    return e;
  }
  char *sq = r->sq_ptr;
  r->sq_head = (unsigned *)(sq + p.sq_off.head);
  r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
  r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  r->sq_flags = (unsigned *)(sq + p.sq_off.flags);
  r->sq_array = (unsigned *)(sq + p.sq_off.array);
  char *cq = r->cq_ptr;
  r->cq_head = (unsigned *)(cq + p.cq_off.head);
  r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
  r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
  return 0;
}

static void r_exit(te_uring *r) {
  munmap(r->sqes, r->sqes_size);
  if (r->cq_ptr != r->sq_ptr) {
    munmap(r->cq_ptr, r->cq_size);
  }
  munmap(r->sq_ptr, r->sq_size);
  close(r->fd);
}

static struct io_uring_sqe *r_get_sqe(te_uring *r) {
  unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
  if (r->sqe_tail - head >= r->sq_entries) {
    return NULL;
  }
  struct io_uring_sqe *sqe = &r->sqes[r->sqe_tail & *r->sq_mask];
  r->sqe_tail++;
  memset(sqe, 0, sizeof *sqe);
  return sqe;
}

static unsigned r_sq_ready(te_uring *r) {
  return *r->sq_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) + (r->sqe_tail - r->sqe_head);
}

static int r_submit(te_uring *r) {
  unsigned tail = *r->sq_tail;
  unsigned mask = *r->sq_mask;
  while (r->sqe_head != r->sqe_tail) {
    r->sq_array[tail & mask] = r->sqe_head & mask;
    tail++;
    r->sqe_head++;
  }
  /* The kernel reads the entries only after it sees the new tail. */
  __atomic_store_n(r->sq_tail, tail, __ATOMIC_RELEASE);
  unsigned pending = tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
  unsigned flags = 0;
  if (__atomic_load_n(r->sq_flags, __ATOMIC_RELAXED) & IORING_SQ_CQ_OVERFLOW) {
    flags |= IORING_ENTER_GETEVENTS;
  }
  if (pending == 0 && flags == 0) {
    return 0;
  }
  return sys_enter(r->fd, pending, 0, flags, NULL, 0);
}

static int r_wait(te_uring *r, long long timeout_ns) {
  if (__atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE) != *r->cq_head) {
    return 0;
  }
  struct __kernel_timespec ts;
  ts.tv_sec = timeout_ns / 1000000000LL;
  ts.tv_nsec = timeout_ns % 1000000000LL;
  struct io_uring_getevents_arg arg;
  memset(&arg, 0, sizeof arg);
  arg.sigmask = 0;
  arg.sigmask_sz = _NSIG / 8;
  arg.ts = (uint64_t)(uintptr_t)&ts;
  int rc = sys_enter(r->fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
  return rc < 0 ? rc : 0;
}

static unsigned r_peek(te_uring *r, struct io_uring_cqe **cqes, unsigned max) {
  unsigned head = *r->cq_head;
  unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
  if (head == tail && (__atomic_load_n(r->sq_flags, __ATOMIC_RELAXED) & IORING_SQ_CQ_OVERFLOW)) {
    /* Completions parked in the kernel's overflow list: have them flushed to the ring. */
    sys_enter(r->fd, 0, 0, IORING_ENTER_GETEVENTS, NULL, 0);
    tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
  }
  unsigned n = tail - head;
  if (n > max) {
    n = max;
  }
  unsigned mask = *r->cq_mask;
  for (unsigned i = 0; i < n; i++) {
    cqes[i] = &r->cqes[(head + i) & mask];
  }
  return n;
}

static void r_advance(te_uring *r, unsigned n) {
  /* The slots may be reused by the kernel only after we have read them. */
  __atomic_store_n(r->cq_head, *r->cq_head + n, __ATOMIC_RELEASE);
}

static int r_probe_ops(te_uring *r, const int *ops, int count) {
  size_t size = sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op);
  struct io_uring_probe *p = calloc(1, size);
  if (p == NULL) {
    return -ENOMEM;
  }
  int rc = (int)syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_PROBE, p, 256);
  if (rc < 0) {
    rc = -errno;
    free(p);
    return rc;
  }
  int ok = 1;
  for (int i = 0; i < count; i++) {
    ok &= (ops[i] <= p->last_op && (p->ops[ops[i]].flags & IO_URING_OP_SUPPORTED)) ? 1 : 0;
  }
  free(p);
  return ok ? 0 : -EOPNOTSUPP;
}

#endif

/* ------------------------------------------------------------------------------------------ */
/* The handle Java holds.                                                                      */

/* user_data of the eventfd read that wakes the ring thread (Java ignores bit 63 entries). */
#define TE_WAKE_TAG ((uint64_t)1 << 63 | 1)

typedef struct {
  te_uring ring;
  pthread_mutex_t sq_lock;
  /* IORING_SETUP_* flags the ring was created with beyond CQSIZE. */
  unsigned flags;
  /* Written by any thread to wake the ring thread; a read of it is kept pending in the ring. */
  int efd;
  int efd_armed;
  uint64_t efd_value;
  /* Up to this many CQEs are copied out per reap call. */
  struct io_uring_cqe *batch[512];
} te_ring;

static te_ring *ring_of(int64_t handle) { return (te_ring *)(intptr_t)handle; }

int32_t te4j_nvmeof_abi_version(void) { return TE_ABI_VERSION; }

/* 1 when built on liburing, 0 on raw system calls (reported in logs). */
int32_t te4j_nvmeof_uses_liburing(void) { return TE_USE_LIBURING; }

/* Writes the message of errno value {@code errnum} into buf (NUL-terminated). */
int32_t te4j_nvmeof_strerror(int32_t errnum, char *buf, int32_t len) {
  if (buf == NULL || len <= 0) {
    return -EINVAL;
  }
  const char *msg = strerrordesc_np(errnum);
  if (msg == NULL) {
    msg = "Unknown error";
  }
  strncpy(buf, msg, (size_t)len - 1);
  buf[len - 1] = '\0';
  return 0;
}

/*
 * Checks that io_uring works here: a ring can be set up, the kernel knows READ, WRITE, NOP and
 * ASYNC_CANCEL, supports timed waits (EXT_ARG), and completes a NOP.
 */
int32_t te4j_nvmeof_probe(void) {
  te_uring r;
  int rc = r_init(&r, 4, 8, 0);
  if (rc < 0) {
    return rc;
  }
  const int ops[] = {IORING_OP_READ, IORING_OP_WRITE, IORING_OP_NOP, IORING_OP_ASYNC_CANCEL};
  rc = r_probe_ops(&r, ops, 4);
  if (rc == 0) {
    struct io_uring_sqe *sqe = r_get_sqe(&r);
    sqe->opcode = IORING_OP_NOP;
    sqe->user_data = 42;
    rc = r_submit(&r);
    if (rc >= 0) {
      rc = r_wait(&r, 1000000000LL);
    }
    if (rc >= 0) {
      struct io_uring_cqe *cqe[1];
      if (r_peek(&r, cqe, 1) == 1 && cqe[0]->user_data == 42) {
        r_advance(&r, 1);
        rc = 0;
      } else {
        rc = -EIO;
      }
    }
  }
  r_exit(&r);
  return rc < 0 ? rc : 0;
}

/*
 * A ring of {@code entries} submission and {@code cq_entries} completion slots, with its wake-up
 * eventfd: a handle > 0. IORING_SETUP_COOP_TASKRUN (5.19) is asked for and dropped when the
 * kernel refuses it.
 */
int64_t te4j_nvmeof_ring_create(int32_t entries, int32_t cq_entries) {
  if (entries <= 0 || cq_entries < entries) {
    return -EINVAL;
  }
  te_ring *t = calloc(1, sizeof *t);
  if (t == NULL) {
    return -ENOMEM;
  }
  t->efd = eventfd(0, EFD_CLOEXEC);
  if (t->efd < 0) {
    int e = -errno;
    free(t);
    return e;
  }
  t->flags = IORING_SETUP_COOP_TASKRUN;
  int rc = r_init(&t->ring, (unsigned)entries, (unsigned)cq_entries, t->flags);
  if (rc == -EINVAL) {
    t->flags = 0;
    rc = r_init(&t->ring, (unsigned)entries, (unsigned)cq_entries, t->flags);
  }
  if (rc < 0) {
    close(t->efd);
    free(t);
    return rc;
  }
  pthread_mutex_init(&t->sq_lock, NULL);
  return (int64_t)(intptr_t)t;
}

/* The IORING_SETUP_* flags the ring runs with (beyond CQSIZE), for logs. */
int32_t te4j_nvmeof_ring_flags(int64_t handle) { return (int32_t)ring_of(handle)->flags; }

/* Tears the ring down. The caller has stopped every thread using it. */
int32_t te4j_nvmeof_ring_destroy(int64_t handle) {
  te_ring *t = ring_of(handle);
  if (t == NULL) {
    return -EINVAL;
  }
  r_exit(&t->ring);
  close(t->efd);
  pthread_mutex_destroy(&t->sq_lock);
  free(t);
  return 0;
}

/*
 * Pushes the prepared entry to the kernel. A transient failure of io_uring_enter leaves the
 * entry queued; te4j_nvmeof_reap flushes it later, so it still runs exactly once. Called with
 * sq_lock held.
 */
static int push_locked(te_ring *t) {
  for (int attempt = 0; attempt < 64; attempt++) {
    int rc = r_submit(&t->ring);
    if (rc >= 0 || (rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)) {
      return 0;
    }
    sched_yield();
  }
  return 0;
}

/* An SQE, flushing the queue once when it is full; NULL when still full. sq_lock is held. */
static struct io_uring_sqe *sqe_locked(te_ring *t) {
  struct io_uring_sqe *sqe = r_get_sqe(&t->ring);
  if (sqe == NULL) {
    r_submit(&t->ring);
    sqe = r_get_sqe(&t->ring);
  }
  return sqe;
}

/*
 * Queues one read (op 0) or write (op 1) of {@code len} bytes between memory at {@code addr}
 * and {@code fd} at {@code offset}, tagged {@code user_data}, and submits it at once (measured:
 * deferring the system call to batch several entries delays the device and costs throughput).
 * Returns 0 when the entry is queued (its completion will come), -EBUSY when the submission
 * queue is full (nothing was queued).
 */
static int32_t queue_rw(int64_t handle, int64_t user_data, int32_t op, int32_t fd, int64_t addr,
                        int32_t len, int64_t offset, int push) {
  te_ring *t = ring_of(handle);
  if (len < 0 || offset < 0 || (op != TE_OP_READ && op != TE_OP_WRITE)) {
    return -EINVAL;
  }
  pthread_mutex_lock(&t->sq_lock);
  struct io_uring_sqe *sqe = sqe_locked(t);
  if (sqe == NULL) {
    pthread_mutex_unlock(&t->sq_lock);
    return -EBUSY;
  }
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = op == TE_OP_READ ? IORING_OP_READ : IORING_OP_WRITE;
  sqe->fd = fd;
  sqe->addr = (uint64_t)addr;
  sqe->len = (uint32_t)len;
  sqe->off = (uint64_t)offset;
  sqe->user_data = (uint64_t)user_data;
  int rc = push ? push_locked(t) : 0;
  pthread_mutex_unlock(&t->sq_lock);
  return rc;
}

int32_t te4j_nvmeof_submit(int64_t handle, int64_t user_data, int32_t op, int32_t fd, int64_t addr,
                           int32_t len, int64_t offset) {
  return queue_rw(handle, user_data, op, fd, addr, len, offset, 1);
}

/*
 * As te4j_nvmeof_submit, but without the system call: the entry waits in the submission queue
 * until the next te4j_nvmeof_reap pushes it with the others queued meanwhile.
 */
int32_t te4j_nvmeof_queue(int64_t handle, int64_t user_data, int32_t op, int32_t fd, int64_t addr,
                          int32_t len, int64_t offset) {
  return queue_rw(handle, user_data, op, fd, addr, len, offset, 0);
}

/* Asks the kernel to cancel the request tagged {@code target}; the cancel's own CQE carries tag. */
int32_t te4j_nvmeof_cancel(int64_t handle, int64_t target, int64_t tag) {
  te_ring *t = ring_of(handle);
  pthread_mutex_lock(&t->sq_lock);
  struct io_uring_sqe *sqe = sqe_locked(t);
  if (sqe == NULL) {
    pthread_mutex_unlock(&t->sq_lock);
    return -EBUSY;
  }
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->addr = (uint64_t)target;
  sqe->user_data = (uint64_t)tag;
  int rc = push_locked(t);
  pthread_mutex_unlock(&t->sq_lock);
  return rc;
}

/*
 * Wakes the ring thread out of te4j_nvmeof_reap (or makes its next wait return at once). Any
 * thread may call this; it touches the eventfd only, never the ring.
 */
int32_t te4j_nvmeof_wake(int64_t handle) {
  uint64_t one = 1;
  return write(ring_of(handle)->efd, &one, sizeof one) == sizeof one ? 0 : -errno;
}

/* Keeps a read of the eventfd pending, so a wake-up completes it. sq_lock is held. */
static void arm_wake_locked(te_ring *t) {
  if (t->efd_armed) {
    return;
  }
  struct io_uring_sqe *sqe = sqe_locked(t);
  if (sqe == NULL) {
    return;
  }
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_READ;
  sqe->fd = t->efd;
  sqe->addr = (uint64_t)(uintptr_t)&t->efd_value;
  sqe->len = sizeof t->efd_value;
  sqe->off = (uint64_t)-1; /* an eventfd has no offsets: the file position */
  sqe->user_data = TE_WAKE_TAG;
  t->efd_armed = 1;
}

/*
 * Waits up to {@code timeout_ns} for at least one completion, then copies up to {@code max}
 * completions into {@code out} as pairs of int64 (user_data, res) and consumes them.
 * Returns how many pairs were written (0 on timeout or wake-up). Only the ring thread calls this.
 */
int32_t te4j_nvmeof_reap(int64_t handle, int64_t out, int32_t max, int64_t timeout_ns) {
  te_ring *t = ring_of(handle);
  if (max <= 0) {
    return -EINVAL;
  }
  if (max > (int32_t)(sizeof t->batch / sizeof t->batch[0])) {
    max = (int32_t)(sizeof t->batch / sizeof t->batch[0]);
  }
  if (r_sq_ready(&t->ring) > 0) {
    /* Entries queued by te4j_nvmeof_queue or left by a transient submit failure. */
    pthread_mutex_lock(&t->sq_lock);
    push_locked(t);
    pthread_mutex_unlock(&t->sq_lock);
  }
  unsigned n = r_peek(&t->ring, t->batch, (unsigned)max);
  if (n == 0 && timeout_ns > 0) {
    /* About to sleep: make sure a wake-up can end it, and push anything still queued. */
    pthread_mutex_lock(&t->sq_lock);
    arm_wake_locked(t);
    if (r_sq_ready(&t->ring) > 0) {
      push_locked(t);
    }
    pthread_mutex_unlock(&t->sq_lock);
    int rc = r_wait(&t->ring, timeout_ns);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      return rc;
    }
    n = r_peek(&t->ring, t->batch, (unsigned)max);
  }
  int64_t *pairs = (int64_t *)(intptr_t)out;
  for (unsigned i = 0; i < n; i++) {
    if (t->batch[i]->user_data == TE_WAKE_TAG) {
      t->efd_armed = 0; /* consumed (or failed): armed again before the next sleep */
    }
    pairs[2 * i] = (int64_t)t->batch[i]->user_data;
    pairs[2 * i + 1] = (int64_t)t->batch[i]->res;
  }
  r_advance(&t->ring, n);
  return (int32_t)n;
}

/* ------------------------------------------------------------------------------------------ */
/* Files.                                                                                      */

/*
 * Opens {@code path}: read-write when possible, else read-only (bit 0 of the result's info),
 * with O_DIRECT when {@code direct} is set. Returns the fd, or -errno.
 */
int32_t te4j_nvmeof_open(const char *path, int32_t direct, int32_t read_only) {
  int flags = O_CLOEXEC | (direct ? O_DIRECT : 0);
  int fd = -1;
  if (!read_only) {
    fd = open(path, flags | O_RDWR);
    if (fd >= 0) {
      return fd;
    }
    if (errno != EACCES && errno != EROFS && errno != EPERM) {
      return -errno;
    }
  }
  fd = open(path, flags | O_RDONLY);
  return fd < 0 ? -errno : fd;
}

int32_t te4j_nvmeof_close(int32_t fd) { return close(fd) < 0 ? -errno : 0; }

/* 1 when fd is open for writing, 0 when read-only, -errno on failure. */
int32_t te4j_nvmeof_writable(int32_t fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) {
    return -errno;
  }
  return (fl & O_ACCMODE) == O_RDONLY ? 0 : 1;
}

/*
 * What te4j needs to know about an open file, written to info[0..4]: size in bytes, 1 for a
 * block device (else 0), the O_DIRECT memory alignment, the O_DIRECT offset/length alignment
 * (0 when the kernel does not say), and the preferred I/O block size.
 */
int32_t te4j_nvmeof_file_info(int32_t fd, int64_t *info) {
  struct statx st;
  memset(&st, 0, sizeof st);
  unsigned mask = STATX_TYPE | STATX_SIZE;
#ifdef STATX_DIOALIGN
  mask |= STATX_DIOALIGN;
#endif
  if (statx(fd, "", AT_EMPTY_PATH, mask, &st) < 0) {
    return -errno;
  }
  int is_block = S_ISBLK(st.stx_mode) ? 1 : 0;
  int64_t size = (int64_t)st.stx_size;
  int64_t mem_align = 0;
  int64_t off_align = 0;
#ifdef STATX_DIOALIGN
  if (st.stx_mask & STATX_DIOALIGN) {
    mem_align = st.stx_dio_mem_align;
    off_align = st.stx_dio_offset_align;
  }
#endif
  if (is_block) {
    uint64_t bytes = 0;
    if (ioctl(fd, BLKGETSIZE64, &bytes) == 0) {
      size = (int64_t)bytes;
    }
    int logical = 0;
    if (off_align == 0 && ioctl(fd, BLKSSZGET, &logical) == 0 && logical > 0) {
      off_align = logical;
      mem_align = logical;
    }
  }
  info[0] = size;
  info[1] = is_block;
  info[2] = mem_align;
  info[3] = off_align;
  info[4] = st.stx_blksize;
  return 0;
}
