package io.te4j.transport.nvmeof;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.TransferSlice;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fallback backend: positional {@link FileChannel} reads and writes through the page cache,
 * on a fixed pool of I/O threads, straight between the files and the regions' chunk buffers.
 *
 * <p>Threads: {@link #submit} queues a task (never blocks); pool threads run tasks and end
 * slices; {@link #close} fails queued tasks, fails running ones at once (their threads stop at the
 * next I/O step) and waits for the threads to leave memory. Deadlines are checked before every
 * I/O step of at most {@value #STEP_BYTES} bytes. A FileChannel is never interrupted: that would
 * close it for every other thread.
 */
final class ChannelBackend implements IoBackend {
  private static final Logger LOG = LoggerFactory.getLogger(ChannelBackend.class);
  static final int STEP_BYTES = 8 << 20;
  private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final MemoryRegistry memory;
  private final int threads;
  private final ThreadPoolExecutor pool;
  private final Set<Task> inFlight = ConcurrentHashMap.newKeySet();
  private final Set<Thread> poolThreads = ConcurrentHashMap.newKeySet();
  private final LongAdder ios = new LongAdder();
  private final String reason;
  private volatile boolean closed;

  ChannelBackend(MemoryRegistry memory, int threads, ThreadFactory factory, String reason) {
    this.memory = memory;
    this.threads = threads;
    this.reason = reason;
    this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = factory.newThread(r);
          poolThreads.add(t);
          return t;
        });
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
    Task t = new Task(slice, files);
    inFlight.add(t);
    // Re-check after publishing: either awaitIdle() sees the task, or we see the region gone.
    if (closed) {
      t.end(ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
      return;
    }
    if (memory.find(t.local, t.length) != t.region) {
      t.end(ErrorCode.ADDRESS_NOT_REGISTERED,
          "local memory 0x" + Long.toHexString(t.local) + "+" + t.length + " was unregistered");
      return;
    }
    try {
      pool.execute(t);
    } catch (RejectedExecutionException e) {
      t.end(ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
    }
  }

  @Override
  public void awaitIdle(MemoryRegion region, long timeoutNanos) {
    long start = System.nanoTime();
    long sleep = 20_000;
    while (busy(region)) {
      if (System.nanoTime() - start > timeoutNanos + CLOSE_WAIT_NANOS) {
        LOG.error("nvmeof: file I/O on unregistered region {} still running", region);
        return;
      }
      LockSupport.parkNanos(sleep);
      sleep = Math.min(sleep * 2, 5_000_000);
    }
  }

  private boolean busy(MemoryRegion region) {
    for (Task t : inFlight) {
      if (t.region == region) {
        return true;
      }
    }
    return false;
  }

  @Override
  public long directIos() {
    return 0;
  }

  @Override
  public long bufferedIos() {
    return ios.sum();
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
      ((Task) r).end(ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
    }
    // Running tasks: their slices fail now; their threads stop at the next step.
    for (Task t : inFlight) {
      t.endEarly(ErrorCode.ENGINE_CLOSED, "nvmeof transport closed");
    }
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

  /** One slice: its fields captured at submit, since the engine reuses slice objects. */
  private final class Task implements Runnable {
    final TransferSlice slice;
    final SegmentFiles files;
    final boolean read;
    final MemoryRegion region;
    final long local;
    final long length;
    final long targetOffset;
    final long deadline;
    /** Set by whoever ends the slice; exactly once. */
    final AtomicBoolean ended = new AtomicBoolean();
    /** Set when the task let go of its memory and files. */
    final AtomicBoolean released = new AtomicBoolean();
    /** The code of the failure {@link #transfer()} reports (pool thread only). */
    ErrorCode failure = ErrorCode.TRANSFER_FAILED;

    Task(TransferSlice slice, SegmentFiles files) {
      this.slice = slice;
      this.files = files;
      this.read = slice.opcode() == TransferOpcode.READ;
      this.region = slice.localRegion();
      this.local = slice.localAddress();
      this.length = slice.length();
      this.targetOffset = slice.targetOffset();
      this.deadline = slice.deadlineNanos();
    }

    @Override
    public void run() {
      try {
        if (ended.get()) {
          return;
        }
        String error = transfer();
        if (error == null) {
          if (ended.compareAndSet(false, true)) {
            releaseOnce();
            slice.complete();
          }
        } else if (ended.compareAndSet(false, true)) {
          releaseOnce();
          slice.fail(failure == ErrorCode.TRANSFER_TIMEOUT ? TransferState.TIMEOUT
              : TransferState.FAILED, failure, error);
        }
      } catch (RuntimeException e) {
        LOG.error("nvmeof: file I/O task failed", e);
        if (ended.compareAndSet(false, true)) {
          slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, e.toString());
        }
      } finally {
        releaseOnce();
      }
    }

    /** Moves the bytes; null on success, else the failure message (and {@link #failure}). */
    private String transfer() {
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
          if (closed) {
            failure = ErrorCode.ENGINE_CLOSED;
            return "nvmeof transport closed";
          }
          if (System.nanoTime() - deadline > 0) {
            failure = ErrorCode.TRANSFER_TIMEOUT;
            return "nvmeof I/O did not finish before the transfer deadline";
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

    /** Ends a task that never ran (or cannot run), releasing it at once. */
    void end(ErrorCode code, String message) {
      if (ended.compareAndSet(false, true)) {
        releaseOnce();
        slice.fail(TransferState.FAILED, code, message);
      }
    }

    /** Ends a running task's slice now; its thread releases memory and files when it stops. */
    void endEarly(ErrorCode code, String message) {
      if (ended.compareAndSet(false, true)) {
        slice.fail(TransferState.FAILED, code, message);
      }
    }

    private void releaseOnce() {
      if (released.compareAndSet(false, true)) {
        inFlight.remove(this);
        files.release();
      }
    }
  }
}
