package io.te4j.transport.nvmeof;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.inflight.InFlightTable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The io_uring backend: one ring, a fixed table of request slots (one per slice in flight), and
 * one ring thread that alone submits to, cancels on and reaps from the ring.
 *
 * <p><b>Threads.</b> Application threads call {@link #submit}: take a free slot (lock-free stack),
 * fill it, hand its index to the ring thread (lock-free stack, taken whole) and, only when that
 * thread sleeps, wake it with one eventfd write. The ring thread queues the slices' I/Os, reaps
 * completions in batches, queues the next I/O of a slice that spans files or came back short,
 * completes or fails slices, enforces deadlines every {@value #TICK_MILLIS} ms, and on close fails
 * and cancels everything in flight; a slice submitted from a completion callback (on the ring
 * thread) is queued directly. Slices handed over together reach the kernel in one system call;
 * the next I/O of a running slice, or one queued from a callback, is pushed at once (measured
 * faster on real devices than waiting for the round to end; {@link
 * NvmeofTransport#DEFER_SUBMIT_SETTING} batches those too). Since only the ring thread submits,
 * the ring runs with
 * IORING_SETUP_COOP_TASKRUN where the kernel has it (5.19): completions are posted when the ring
 * thread enters the kernel anyway, without an interrupt per completion, and application threads
 * are never interrupted for I/O they handed over. The submit path allocates nothing once a memory
 * region's chunk addresses are cached.
 *
 * <p><b>Slots.</b> The slices in flight are held in an {@link InFlightTable}: a slot is ACTIVE
 * (its slice is ours to finish) or ZOMBIE (its slice was already failed by a deadline or close,
 * but an I/O may still be in the kernel: the slot, its memory and its files stay held until that
 * I/O's completion arrives). Each I/O's user_data carries the slot's ticket incarnation, so a
 * completion or a cancel can never act on the slot's next use; exactly one party ends each slice.
 *
 * <p><b>O_DIRECT.</b> An I/O goes through the file's O_DIRECT descriptor only when its memory
 * address is a multiple of the file's memory alignment and its file offset and length multiples
 * of its offset alignment ({@code statx} DIOALIGN, the block device's logical block size, else
 * the file system block size) and of the page size; otherwise through the page cache. Whole
 * pages, because slices in flight together may share a page: a buffered write of some of its
 * bytes beside a direct write of 512-byte blocks of it would leave a dirty cached page holding the
 * blocks' old bytes, written back over the new ones later. Should the kernel still refuse
 * with EINVAL, the I/O is retried buffered and O_DIRECT is switched off for that file, logged.
 */
final class UringBackend implements IoBackend {
  private static final Logger LOG = LoggerFactory.getLogger(UringBackend.class);

  static final long TICK_MILLIS = 10;
  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
  private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
  private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);
  /** The page size of linux-x86_64: direct I/O covers whole pages (see LocalFile.directAlign). */
  static final long PAGE_BYTES = 4096;
  /** Largest single read or write handed to the kernel. */
  private static final int MAX_IO = 1 << 30;
  private static final int REAP_MAX = 256;
  /** user_data bits of cancel and wake entries; I/O user_data uses bits 0-61 only. */
  private static final long TAG_CANCEL = 1L << 62;
  private static final long TAG_WAKE = 1L << 63;

  /** Bits of a ticket's incarnation that user_data carries (bits 32-59). */
  private static final int INCARNATION_BITS = 28;

  private final MemoryRegistry memory;
  private final boolean directIo;
  private final int depth;
  private final long ring;
  /** The slices in flight; a slot's I/O state is in {@link #reqs} at the same index. */
  private final InFlightTable table;
  private final Req[] reqs;
  private final ByteBuffer cqes;
  private final long cqesAddress;
  private final ConcurrentHashMap<MemoryRegion, long[]> chunkBases = new ConcurrentHashMap<>();
  private final LongAdder directIos = new LongAdder();
  private final LongAdder bufferedIos = new LongAdder();
  private final Thread ringThread;
  /** Slots handed to the ring thread: a stack through {@link #handoffNext}, -1 when empty. */
  private final AtomicInteger handoffHead = new AtomicInteger(-1);
  private final int[] handoffNext;
  /** True while the ring thread is about to wait or waits in the kernel (then wake it). */
  private final java.util.concurrent.atomic.AtomicBoolean sleeping =
      new java.util.concurrent.atomic.AtomicBoolean();
  /** Threads inside {@link #wake}; the ring is torn down only when none is. */
  private final AtomicInteger wakers = new AtomicInteger();
  /** A region whose I/O the ring thread should cancel (set by awaitIdle() on another thread). */
  private volatile MemoryRegion cancelRegion;
  private volatile boolean destroyed;
  /** True when I/Os only join the submission queue and the next reap pushes them together. */
  private final boolean deferSubmit;
  private volatile boolean closed;
  private volatile boolean ringThreadExited;
  /** Set when close() ran on the ring thread, which then destroys the ring on exit. */
  private volatile boolean destroyOnExit;
  private final InFlightTable.TicketVisitor abortOnClose = t -> abortAndCancel(t,
      TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
  private final InFlightTable.TicketVisitor abortExpired = t -> abortAndCancel(t,
      TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT,
      "nvmeof I/O did not finish before the transfer deadline");

  /**
   * Sets up the ring and starts the ring thread.
   *
   * @param depth slices in flight at most; more wait (see {@link IoBackend#claimOrRefuse})
   * @param deferSubmit push I/Os in one system call per reap instead of one each
   * @throws SliceFailure TRANSPORT_UNAVAILABLE when the ring cannot be created
   */
  UringBackend(MemoryRegistry memory, int depth, boolean directIo, boolean deferSubmit,
      ThreadFactory threads) {
    this.memory = memory;
    this.directIo = directIo;
    this.deferSubmit = deferSubmit;
    this.depth = depth;
    int sq = Math.min(depth, 256);
    // Room for every slot's I/O plus a cancel per slot and wake-ups: the CQ never overflows.
    long r = UringNative.te4j_nvmeof_ring_create(sq, 2 * depth + 64);
    if (r < 0) {
      throw new SliceFailure(ErrorCode.TRANSPORT_UNAVAILABLE, "cannot create an io_uring of "
          + depth + " entries: " + UringNative.strerror((int) -r) + " (errno " + -r + ")");
    }
    this.ring = r;
    this.table = new InFlightTable(depth);
    this.reqs = new Req[depth];
    for (int i = 0; i < depth; i++) {
      reqs[i] = new Req(i);
    }
    this.handoffNext = new int[depth];
    this.cqes = ByteBuffer.allocateDirect(REAP_MAX * 16).order(ByteOrder.nativeOrder());
    this.cqesAddress = Pointer.nativeValue(Native.getDirectBufferPointer(cqes));
    this.ringThread = threads.newThread(this::ringLoop);
    ringThread.setDaemon(true);
    ringThread.start();
  }

  @Override
  public String describe() {
    boolean coop = (UringNative.te4j_nvmeof_ring_flags(ring) & UringNative.SETUP_COOP_TASKRUN)
        != 0;
    return "io_uring (" + (NvmeofIoUring.usesLiburing() ? "liburing" : "raw system calls")
        + (coop ? ", COOP_TASKRUN" : "") + "), " + depth + " slices in flight, O_DIRECT "
        + (directIo ? "when aligned" : "off") + (deferSubmit ? ", batched submission" : "");
  }

  // ------------------------------------------------------------------------------ files

  @Override
  public void open(LocalFile f) {
    int fd = UringNative.te4j_nvmeof_open(f.path, 0, 0);
    if (fd < 0) {
      throw openFailure(f, -fd);
    }
    f.fd = fd;
    f.writable = UringNative.te4j_nvmeof_writable(fd) == 1;
    long[] info = new long[5];
    int rc = UringNative.te4j_nvmeof_file_info(fd, info);
    if (rc < 0) {
      close(f);
      throw new SliceFailure(ErrorCode.TRANSFER_FAILED, "cannot stat " + f.label() + ": "
          + UringNative.strerror(-rc));
    }
    f.blockDevice = info[1] == 1;
    long blockSize = info[4] > 0 ? info[4] : 4096;
    f.memAlign = info[2] > 0 ? info[2] : blockSize;
    f.offAlign = info[3] > 0 ? info[3] : blockSize;
    f.directAlign = f.offAlign / gcd(f.offAlign, PAGE_BYTES) * PAGE_BYTES; // their lcm
    if (directIo) {
      int dfd = UringNative.te4j_nvmeof_open(f.path, 1, f.writable ? 0 : 1);
      if (dfd >= 0) {
        f.directFd = dfd;
      } else {
        LOG.debug("nvmeof: {} cannot be opened with O_DIRECT ({}); page cache only", f.label(),
            UringNative.strerror(-dfd));
      }
    }
  }

  static SliceFailure openFailure(LocalFile f, int errno) {
    ErrorCode code = errno == UringNative.ENOENT ? ErrorCode.DEVICE_NOT_FOUND
        : ErrorCode.TRANSFER_FAILED;
    return new SliceFailure(code, "cannot open " + f.label() + ": " + UringNative.strerror(errno)
        + " (errno " + errno + ")");
  }

  @Override
  public void close(LocalFile f) {
    if (f.fd >= 0) {
      UringNative.te4j_nvmeof_close(f.fd);
      f.fd = -1;
    }
    if (f.directFd >= 0) {
      UringNative.te4j_nvmeof_close(f.directFd);
      f.directFd = -1;
    }
  }

  // ------------------------------------------------------------------------------ submit

  @Override
  public void submit(TransferSlice slice, SegmentFiles files) {
    long t = IoBackend.claimOrRefuse(table, slice, files);
    if (t == InFlightTable.NONE) {
      return;
    }
    int slot = InFlightTable.slot(t);
    Req r = reqs[slot];
    r.ticket = t;
    r.op = table.isRead(t) ? UringNative.OP_READ : UringNative.OP_WRITE;
    r.done = 0;
    r.files = files;
    if (closed) {
      abandon(r, ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
      return;
    }
    // Re-check after the claim published the range: either awaitIdle() sees this slot, or we see
    // the region gone.
    MemoryRegion region = table.region(t);
    long local = table.localAddress(t);
    long length = table.length(t);
    if (memory.find(local, length) != region) {
      abandon(r, ErrorCode.ADDRESS_NOT_REGISTERED,
          "local memory 0x" + Long.toHexString(local) + "+" + length + " was unregistered");
      return;
    }
    // After the re-check, so a region being unregistered never gets its chunk addresses cached
    // again once awaitIdle() dropped them.
    r.addr = nativeAddress(region, local, length);
    if (r.addr == 0) {
      abandon(r, ErrorCode.INVALID_ARGUMENT,
          "local range 0x" + Long.toHexString(local) + "+" + length + " crosses a chunk");
      return;
    }
    if (Thread.currentThread() == ringThread) {
      issue(r, !deferSubmit); // from a completion callback: the ring thread itself
      return;
    }
    for (;;) {
      int head = handoffHead.get();
      handoffNext[slot] = head;
      if (handoffHead.compareAndSet(head, slot)) {
        break;
      }
    }
    if (sleeping.get() && sleeping.compareAndSet(true, false)) {
      wake();
    }
  }

  /** Writes the ring's eventfd, unless the ring is gone. Any thread. */
  private void wake() {
    wakers.incrementAndGet();
    try {
      if (!destroyed) {
        UringNative.te4j_nvmeof_wake(ring);
      }
    } finally {
      wakers.decrementAndGet();
    }
  }

  /** Ring thread: queues the I/O of every slot handed over, in the order they came. */
  private void drainHandoff(int[] scratch) {
    int h = handoffHead.getAndSet(-1);
    int n = 0;
    while (h != -1) {
      scratch[n++] = h;
      h = handoffNext[h];
    }
    for (int i = n - 1; i >= 0; i--) {
      Req r = reqs[scratch[i]];
      if (!table.isActive(r.ticket)) {
        release(r); // failed by a deadline or close while waiting here: no I/O was queued
      } else if (closed) {
        abandon(r, ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
      } else {
        // Slots handed over together go to the kernel together: the reap that follows pushes
        // them in one system call.
        issue(r, false);
      }
    }
  }

  /**
   * The native address of {@code [local, local + length)}: the region's chunk buffer address plus
   * the offset; 0 when the range leaves its chunk (the engine never cuts slices so).
   */
  private long nativeAddress(MemoryRegion region, long local, long length) {
    long[] bases = chunkBases.get(region);
    if (bases == null) {
      bases = new long[region.chunkCount()];
      for (int i = 0; i < bases.length; i++) {
        bases[i] = Pointer.nativeValue(Native.getDirectBufferPointer(region.chunk(i)));
      }
      chunkBases.put(region, bases);
    }
    long offset = local - region.address();
    int index = (int) (offset >>> MemoryRegion.CHUNK_SHIFT);
    long inChunk = offset & (MemoryRegion.CHUNK_SIZE - 1);
    if (offset < 0 || index >= bases.length
        || inChunk + length > region.chunk(index).capacity()) {
      return 0;
    }
    return bases[index] + inChunk;
  }

  /**
   * Queues the slot's next I/O: from segment offset {@code targetOffset + done}, up to the end of
   * the slice or of the file holding that offset, whichever comes first. Ring thread only.
   *
   * @param push submit now (one system call), else leave it queued for the next reap
   */
  private void issue(Req r, boolean push) {
    long t = r.ticket;
    long pos = table.targetOffset(t) + r.done;
    LocalFile f = r.files.fileAt(pos);
    long fileOffset = pos - f.start;
    int len = (int) Math.min(Math.min(table.length(t) - r.done, f.length - fileOffset), MAX_IO);
    long addr = r.addr + r.done;
    if (r.op == UringNative.OP_WRITE && !f.writable) {
      abandon(r, ErrorCode.TRANSFER_FAILED,
          "cannot write " + f.label() + ": it can only be opened read-only here");
      return;
    }
    boolean direct = f.directFd >= 0 && !f.directOff && aligned(addr, f.memAlign)
        && aligned(fileOffset, f.directAlign) && aligned(len, f.directAlign);
    r.file = f;
    r.fileOffset = fileOffset;
    r.ioLen = len;
    r.direct = direct;
    r.issued = t; // the I/O in the kernel is this ticket's
    int fd = direct ? f.directFd : f.fd;
    int rc = push
        ? UringNative.te4j_nvmeof_submit(ring, userData(t), r.op, fd, addr, len, fileOffset)
        : UringNative.te4j_nvmeof_queue(ring, userData(t), r.op, fd, addr, len, fileOffset);
    if (rc < 0) {
      r.issued = InFlightTable.NONE;
      abandon(r, ErrorCode.TRANSFER_FAILED, "cannot queue an I/O on " + f.label() + ": "
          + UringNative.strerror(-rc));
      return;
    }
    // The slot may already be finished and reused: only local values from here on.
    (direct ? directIos : bufferedIos).increment();
  }

  private static long gcd(long a, long b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /** True when {@code value} is a multiple of {@code alignment} (a power of two, or not). */
  private static boolean aligned(long value, long alignment) {
    return (alignment & (alignment - 1)) == 0 ? (value & (alignment - 1)) == 0
        : value % alignment == 0;
  }

  /** No I/O of {@code r} is in the kernel: end its slice unless someone did, free the slot. */
  private void abandon(Req r, ErrorCode code, String message) {
    long t = letGo(r);
    table.fail(t, TransferState.FAILED, code, message);
  }

  /** Frees the slot of a slice someone else already ended (no I/O of it is in the kernel). */
  private void release(Req r) {
    table.release(letGo(r));
  }

  /**
   * Clears the slot's I/O state and drops its files, before the table frees the slot (another
   * thread may claim it at once).
   *
   * @return the slot's ticket
   */
  private long letGo(Req r) {
    long t = r.ticket;
    SegmentFiles files = r.files;
    r.files = null;
    r.file = null;
    r.issued = InFlightTable.NONE;
    if (files != null) {
      files.release();
    }
    return t;
  }

  // ------------------------------------------------------------------------------ completions

  private void ringLoop() {
    long lastScan = System.nanoTime();
    long closeDeadline = 0;
    boolean swept = false;
    long[] userData = new long[REAP_MAX];
    int[] results = new int[REAP_MAX];
    int[] scratch = new int[depth];
    try {
      while (true) {
        drainHandoff(scratch);
        MemoryRegion cancel = cancelRegion;
        if (cancel != null) {
          cancelRegion = null;
          cancelAll(cancel);
        }
        long wait = swept || table.occupied() > 0 ? TICK_NANOS : IDLE_WAIT_NANOS;
        // Announce the sleep, then look once more: a slot handed over meanwhile either sees the
        // flag and wakes us, or is seen here.
        sleeping.set(true);
        if (handoffHead.get() != -1 || cancelRegion != null || (closed && !swept)) {
          wait = 0;
        }
        reapAndHandle(wait, userData, results);
        sleeping.set(false);
        long now = System.nanoTime();
        if (closed && !swept) {
          table.forEachActive(abortOnClose);
          swept = true;
          closeDeadline = now + CLOSE_WAIT_NANOS;
        }
        if (now - lastScan >= TICK_NANOS) {
          table.forEachExpired(now, abortExpired);
          lastScan = now;
        }
        if (swept && (table.occupied() == 0 || now - closeDeadline > 0)) {
          return;
        }
      }
    } catch (Throwable t) {
      LOG.error("nvmeof ring thread failed; slices in flight will time out", t);
    } finally {
      ringThreadExited = true;
      if (destroyOnExit && table.occupied() == 0) {
        destroyRing();
      }
    }
  }

  /**
   * Waits up to {@code waitNanos} for completions and handles them. The batch is copied out of
   * the shared buffer first: a handler may end a slice whose callback unregisters memory, which
   * reaps again from inside (see {@link #awaitIdle}).
   */
  private void reapAndHandle(long waitNanos, long[] userData, int[] results) {
    int n = UringNative.te4j_nvmeof_reap(ring, cqesAddress, REAP_MAX, waitNanos);
    if (n < 0) {
      LOG.error("nvmeof: waiting for io_uring completions failed: {}", UringNative.strerror(-n));
      LockSupport.parkNanos(TICK_NANOS);
      return;
    }
    for (int i = 0; i < n; i++) {
      userData[i] = cqes.getLong(i << 4);
      results[i] = (int) cqes.getLong((i << 4) + 8);
    }
    for (int i = 0; i < n; i++) {
      long ud = userData[i];
      int slot = (int) ud;
      if ((ud & (TAG_CANCEL | TAG_WAKE)) == 0 && slot >= 0 && slot < reqs.length) {
        onCompletion(reqs[slot], (int) (ud >>> 32), results[i]);
      }
    }
  }

  private void onCompletion(Req r, int incarnation, int res) {
    long t = r.issued; // the ring thread's own record of which ticket's I/O is in the kernel
    if (t == InFlightTable.NONE
        || InFlightTable.incarnation(t, INCARNATION_BITS) != incarnation) {
      LOG.error("nvmeof: stray completion for slot {} (tag {}); ignored", r.slot, incarnation);
      return;
    }
    if (!table.isActive(t)) {
      release(r); // failed by a deadline or close meanwhile; its I/O is back, the memory free
      return;
    }
    LocalFile f = r.file;
    if (res < 0) {
      int errno = -res;
      if (errno == UringNative.EINVAL && r.direct) {
        if (!f.directOff) {
          f.directOff = true;
          LOG.warn("nvmeof: O_DIRECT {} of {} bytes at offset {} of {} failed with EINVAL despite"
              + " {}/{} alignment; using the page cache for this file", opName(r), r.ioLen,
              r.fileOffset, f.label(), f.memAlign, f.offAlign);
        }
        issue(r, !deferSubmit);
        return;
      }
      if (errno == UringNative.EAGAIN || errno == UringNative.EINTR) {
        issue(r, !deferSubmit);
        return;
      }
      finish(r, ErrorCode.TRANSFER_FAILED, ioError(r, errno));
      return;
    }
    if (res == 0 || res > r.ioLen) {
      finish(r, ErrorCode.TRANSFER_FAILED, res == 0 ? endOfFile(r) : opName(r) + " of "
          + r.ioLen + " bytes on " + f.label() + " reported " + res + " bytes");
      return;
    }
    r.done += res;
    if (r.done < table.length(t)) {
      issue(r, !deferSubmit); // the next file, or the rest of a short transfer
      return;
    }
    finish(r, null, null);
  }

  /** Ends an ACTIVE slot's slice: completed when {@code code} is null. */
  private void finish(Req r, ErrorCode code, String message) {
    long t = letGo(r);
    try {
      if (code == null) {
        table.complete(t);
      } else {
        table.fail(t, TransferState.FAILED, code, message);
      }
    } catch (RuntimeException e) {
      LOG.error("nvmeof: ending a slice threw", e);
    }
  }

  /** Ring thread: a deadline or a close failed the slice; the kernel is asked to drop its I/O. */
  private void abortAndCancel(long t, TransferState state, ErrorCode code, String message) {
    boolean ended;
    try {
      ended = table.abort(t, state, code, message);
    } catch (RuntimeException e) {
      LOG.error("nvmeof: failing a slice threw", e);
      ended = true;
    }
    if (ended) {
      cancel(t);
    }
  }

  private void cancel(long t) {
    UringNative.te4j_nvmeof_cancel(ring, userData(t), TAG_CANCEL | InFlightTable.slot(t));
  }

  /**
   * The user_data of a ticket's I/O: its incarnation in bits 32-59, its slot in bits 0-31. A
   * cancel aimed at one use can never hit the slot's next one; bits 62-63 tag cancels and
   * wake-ups.
   */
  private static long userData(long ticket) {
    return ((long) InFlightTable.incarnation(ticket, INCARNATION_BITS) << 32)
        | InFlightTable.slot(ticket);
  }

  private static String opName(Req r) {
    return r.op == UringNative.OP_READ ? "read" : "write";
  }

  private static String ioError(Req r, int errno) {
    String s = opName(r) + " of " + r.ioLen + " bytes at offset " + r.fileOffset + " of "
        + r.file.label() + " failed: " + UringNative.strerror(errno) + " (errno " + errno + ")";
    if (errno == UringNative.EBADF && r.op == UringNative.OP_WRITE) {
      s += "; the file is open read-only";
    }
    return s;
  }

  static String endOfFile(Req r) {
    LocalFile f = r.file;
    if (r.op == UringNative.OP_WRITE) {
      return "write of " + r.ioLen + " bytes at offset " + r.fileOffset + " of " + f.label()
          + " wrote nothing";
    }
    return shortFileMessage(f, r.fileOffset);
  }

  /** The message for a read that met end of file inside the declared length. */
  static String shortFileMessage(LocalFile f, long fileOffset) {
    String size;
    try {
      size = f.blockDevice ? "a smaller device" : Files.size(Path.of(f.path)) + " bytes";
    } catch (java.io.IOException | RuntimeException e) {
      size = "unknown size";
    }
    return "read past end of file: " + f.label() + " is shorter than the segment declares ("
        + f.length + " bytes); it ends before offset " + fileOffset + " (now " + size + ")";
  }

  // ------------------------------------------------------------------------------ lifecycle

  /**
   * {@inheritDoc}
   *
   * <p>Called on the ring thread (memory unregistered from a completion callback), it reaps
   * and handles completions itself while it waits, since nobody else would.
   */
  @Override
  public void awaitIdle(MemoryRegion region, long timeoutNanos) {
    long start = System.nanoTime();
    boolean cancelled = false;
    long sleep = 20_000;
    boolean onRingThread = Thread.currentThread() == ringThread;
    long[] userData = onRingThread ? new long[REAP_MAX] : null;
    int[] results = onRingThread ? new int[REAP_MAX] : null;
    while (table.holds(region)) {
      long waited = System.nanoTime() - start;
      if (!cancelled && waited > timeoutNanos) {
        if (onRingThread) {
          cancelAll(region);
        } else {
          cancelRegion = region; // only the ring thread touches the ring
          wake();
        }
        cancelled = true;
      }
      if (waited > timeoutNanos + CLOSE_WAIT_NANOS) {
        LOG.error("nvmeof: I/O on unregistered region {} still in the kernel after {} ms",
            region, TimeUnit.NANOSECONDS.toMillis(waited));
        break;
      }
      if (onRingThread) {
        reapAndHandle(TICK_NANOS, userData, results);
      } else {
        LockSupport.parkNanos(sleep);
        sleep = Math.min(sleep * 2, 5_000_000);
      }
    }
    chunkBases.remove(region);
  }

  /** Ring thread: asks the kernel to cancel every I/O on {@code region}. */
  private void cancelAll(MemoryRegion region) {
    table.forEachHolding(region.address(), region.length(), this::cancel);
  }

  @Override
  public long directIos() {
    return directIos.sum();
  }

  @Override
  public long bufferedIos() {
    return bufferedIos.sum();
  }

  /** Slots in use now (tests). */
  int occupied() {
    return table.occupied();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    wake();
    if (Thread.currentThread() == ringThread) {
      // Closed from a completion callback: the loop sweeps and exits once this returns, and
      // tears the ring down itself.
      destroyOnExit = true;
      return;
    }
    try {
      ringThread.join(TimeUnit.NANOSECONDS.toMillis(CLOSE_WAIT_NANOS) + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (ringThreadExited && table.occupied() == 0) {
      destroyRing();
    } else {
      // Tearing the ring down under live I/O could let the kernel write into memory the engine
      // frees next; leaking one ring is the lesser harm.
      LOG.error("nvmeof: {} I/Os still in the kernel at close; the io_uring is left open",
          table.occupied());
    }
  }

  /** Tears the ring down once no thread is inside {@link #wake}. */
  private void destroyRing() {
    destroyed = true;
    while (wakers.get() != 0) {
      Thread.onSpinWait();
    }
    UringNative.te4j_nvmeof_ring_destroy(ring);
  }

  // ------------------------------------------------------------------------------ slots

  /** The I/O state of one slot: what the table does not hold. */
  static final class Req {
    final int slot;
    /** The slot's ticket (written by the submitting thread before the hand-over). */
    long ticket;
    /** The ticket whose I/O is in the kernel, else NONE (ring thread only). */
    long issued = InFlightTable.NONE;
    int op;
    long addr;
    long done;
    SegmentFiles files;
    LocalFile file;
    long fileOffset;
    int ioLen;
    boolean direct;

    Req(int slot) {
      this.slot = slot;
    }
  }
}
