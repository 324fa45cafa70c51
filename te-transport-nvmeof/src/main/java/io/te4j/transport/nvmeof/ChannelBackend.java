package io.te4j.transport.nvmeof;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.inflight.InFlightTable;
import io.te4j.api.spi.inflight.Watchdog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fallback backend: positional {@link FileChannel} reads and writes through the page cache,
 * on a fixed pool of I/O threads, straight between the files and the regions' chunk buffers.
 *
 * <p>Threads: {@link #submit} claims a slot of the in-flight table and queues that slot's task
 * (never blocks, allocates nothing); pool threads run tasks and end slices; a {@link Watchdog}
 * fails slices past their deadline at once; {@link #close} fails queued tasks, fails running ones
 * at once and waits for the threads to leave memory. A thread whose slice was ended by someone
 * else stops at its next I/O step of at most {@value #STEP_BYTES} bytes: a FileChannel is never
 * interrupted, since that would close it for every other thread.
 */
final class ChannelBackend implements IoBackend {
  private static final Logger LOG = LoggerFactory.getLogger(ChannelBackend.class);
  static final int STEP_BYTES = 8 << 20;
  private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final long WATCHDOG_PERIOD_MILLIS = 10;
  private static final String DEADLINE_PASSED =
      "nvmeof I/O did not finish before the transfer deadline";

  private final MemoryRegistry memory;
  private final int threads;
  private final int depth;
  private final ThreadPoolExecutor pool;
  /** The slices in flight, each with its {@link SegmentFiles} attached. */
  private final InFlightTable table;
  /** Per slot: the task that runs it and the ticket it runs (written before it is queued). */
  private final Runnable[] tasks;
  private final long[] tickets;
  private final Watchdog watchdog;
  private final Set<Thread> poolThreads = ConcurrentHashMap.newKeySet();
  private final LongAdder ios = new LongAdder();
  private final String reason;
  private volatile boolean closed;

  /**
   * @param depth slices in flight at most; more wait (see {@link IoBackend#claimOrRefuse})
   * @param threads I/O threads
   */
  ChannelBackend(MemoryRegistry memory, int depth, int threads, ThreadFactory factory,
      String reason) {
    this.memory = memory;
    this.threads = threads;
    this.depth = depth;
    this.reason = reason;
    this.table = new InFlightTable(depth);
    this.tasks = new Runnable[depth];
    this.tickets = new long[depth];
    for (int i = 0; i < depth; i++) {
      int slot = i;
      tasks[i] = () -> run(slot);
    }
    // Never more tasks than slots, so the queue never refuses one.
    this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(depth), r -> {
          Thread t = factory.newThread(r);
          poolThreads.add(t);
          return t;
        });
    this.watchdog = new Watchdog(factory, WATCHDOG_PERIOD_MILLIS,
        () -> table.abortExpired(System.nanoTime(), DEADLINE_PASSED)).start();
  }

  @Override
  public String describe() {
    return "FileChannel, " + threads + " threads, page cache (" + reason + ")";
  }

  @Override
  public void open(LocalFile f) {
    Path p = Path.of(f.path);
    try {
      f.channel = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
      f.writable = true;
    } catch (AccessDeniedException | java.nio.file.ReadOnlyFileSystemException e) {
      try {
        f.channel = FileChannel.open(p, StandardOpenOption.READ);
        f.writable = false;
      } catch (IOException e2) {
        throw failure(f, e2);
      }
    } catch (IOException e) {
      if (e instanceof FileSystemException && String.valueOf(e.getMessage()).contains("Read-only")) {
        try {
          f.channel = FileChannel.open(p, StandardOpenOption.READ);
          f.writable = false;
          return;
        } catch (IOException e2) {
          throw failure(f, e2);
        }
      }
      throw failure(f, e);
    }
  }

  private static SliceFailure failure(LocalFile f, IOException e) {
    ErrorCode code = e instanceof NoSuchFileException ? ErrorCode.DEVICE_NOT_FOUND
        : ErrorCode.TRANSFER_FAILED;
    return new SliceFailure(code, "cannot open " + f.label() + ": " + e);
  }

  @Override
  public void close(LocalFile f) {
    FileChannel c = f.channel;
    f.channel = null;
    if (c != null) {
      try {
        c.close();
      } catch (IOException e) {
        LOG.debug("closing {}: {}", f.label(), e.toString());
      }
    }
  }

  @Override
  public void submit(TransferSlice slice, SegmentFiles files) {
    long t = IoBackend.claimOrRefuse(table, slice, files);
    if (t == InFlightTable.NONE) {
      return;
    }
    table.attach(t, files);
    // Re-check after publishing: either awaitIdle() sees the slot, or we see the region gone.
    if (closed) {
      end(t, ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
      return;
    }
    long local = table.localAddress(t);
    long length = table.length(t);
    if (memory.find(local, length) != table.region(t)) {
      end(t, ErrorCode.ADDRESS_NOT_REGISTERED,
          "local memory 0x" + Long.toHexString(local) + "+" + length + " was unregistered");
      return;
    }
    int slot = InFlightTable.slot(t);
    tickets[slot] = t;
    try {
      pool.execute(tasks[slot]);
    } catch (RejectedExecutionException e) {
      end(t, ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
    }
  }

  /** Ends a slice that holds no I/O thread: its files let go, the slice failed, the slot freed. */
  private void end(long t, ErrorCode code, String message) {
    ((SegmentFiles) table.attachment(t)).release();
    table.fail(t, TransferState.FAILED, code, message);
  }

  /** A pool thread runs the slice in {@code slot}; an aborted one stops at its next step. */
  private void run(int slot) {
    long t = tickets[slot];
    SegmentFiles files = (SegmentFiles) table.attachment(t);
    ErrorCode[] failure = {ErrorCode.TRANSFER_FAILED};
    String error;
    try {
      error = transfer(t, files, failure);
    } catch (RuntimeException e) {
      LOG.error("nvmeof: file I/O task failed", e);
      error = e.toString();
    }
    files.release();
    if (error == null) {
      table.complete(t);
    } else {
      TransferState state = failure[0] == ErrorCode.TRANSFER_TIMEOUT ? TransferState.TIMEOUT
          : TransferState.FAILED;
      table.fail(t, state, failure[0], error); // only releases when aborted
    }
  }

  /** Moves the bytes; null on success, else the failure message (and its code in failure[0]). */
  private String transfer(long t, SegmentFiles files, ErrorCode[] failure) {
    boolean read = table.isRead(t);
    MemoryRegion region = table.region(t);
    long local = table.localAddress(t);
    long length = table.length(t);
    long targetOffset = table.targetOffset(t);
    long deadline = table.deadlineNanos(t);
    long regionOffset = local - region.address();
    int index = (int) (regionOffset >>> MemoryRegion.CHUNK_SHIFT);
    int inChunk = (int) (regionOffset & (MemoryRegion.CHUNK_SIZE - 1));
    ByteBuffer buf = region.chunk(index).duplicate();
    if ((long) inChunk + length > buf.capacity()) {
      return "local range crosses a chunk";
    }
    long done = 0;
    try {
      while (done < length) {
        if (!table.isActive(t)) {
          return "aborted"; // a deadline, a close or an unregistration ended it already
        }
        if (System.nanoTime() - deadline > 0) {
          failure[0] = ErrorCode.TRANSFER_TIMEOUT;
          return DEADLINE_PASSED;
        }
        long pos = targetOffset + done;
        LocalFile f = files.fileAt(pos);
        long fileOffset = pos - f.start;
        int n = (int) Math.min(Math.min(length - done, f.length - fileOffset), STEP_BYTES);
        if (!read && !f.writable) {
          return "cannot write " + f.label() + ": it can only be opened read-only here";
        }
        buf.limit(inChunk + (int) done + n).position(inChunk + (int) done);
        ios.increment();
        while (buf.hasRemaining()) {
          long at = fileOffset + (buf.position() - inChunk - done);
          int k = read ? f.channel.read(buf, at) : f.channel.write(buf, at);
          if (k <= 0) {
            if (read) {
              return UringBackend.shortFileMessage(f, at);
            }
            return "write at offset " + at + " of " + f.label() + " wrote nothing";
          }
        }
        done += n;
      }
      return null;
    } catch (IOException | NonWritableChannelException e) {
      return (read ? "read" : "write") + " at segment offset " + (targetOffset + done)
          + " failed: " + e;
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Past the timeout the slices on the region are failed, so their threads stop at the next
   * step of at most {@value #STEP_BYTES} bytes; a step already in the kernel is waited for.
   */
  @Override
  public void awaitIdle(MemoryRegion region, long timeoutNanos) {
    long start = System.nanoTime();
    if (table.awaitRelease(region.address(), region.length(), start + timeoutNanos)) {
      return;
    }
    table.forEachHolding(region.address(), region.length(), t -> table.abort(t,
        TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "local memory 0x"
            + Long.toHexString(region.address()) + " was unregistered while a file I/O on it ran"));
    if (!table.awaitRelease(region.address(), region.length(),
        System.nanoTime() + CLOSE_WAIT_NANOS)) {
      LOG.error("nvmeof: file I/O on unregistered region {} still running", region);
    }
  }

  @Override
  public long directIos() {
    return 0;
  }

  @Override
  public long bufferedIos() {
    return ios.sum();
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
    List<Runnable> queued = new ArrayList<>();
    pool.getQueue().drainTo(queued);
    pool.shutdown();
    for (Runnable r : queued) {
      for (int slot = 0; slot < depth; slot++) {
        if (tasks[slot] == r) {
          end(tickets[slot], ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
        }
      }
    }
    // Running slices fail now; their threads let go of memory and files at the next step.
    table.forEachActive(t -> table.abort(t, TransferState.FAILED, ErrorCode.ENGINE_CLOSED,
        "nvmeof transport closed"));
    watchdog.close();
    if (poolThreads.contains(Thread.currentThread())) {
      // Closed from a completion callback on a pool thread: it cannot wait for itself.
      return;
    }
    try {
      if (!pool.awaitTermination(CLOSE_WAIT_NANOS, TimeUnit.NANOSECONDS)) {
        LOG.error("nvmeof: file I/O threads still running after close");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
