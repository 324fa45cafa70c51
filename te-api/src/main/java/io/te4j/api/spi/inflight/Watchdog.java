package io.te4j.api.spi.inflight;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A transport's deadline thread: runs one check (typically {@link
 * InFlightTable#abortExpired} or a scan with {@link InFlightTable#forEachExpired}) every period
 * until closed. A check that throws is reported and the thread goes on: a deadline must never stop
 * being enforced because one check failed.
 */
public final class Watchdog implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Watchdog.class.getName());

  private final Thread thread;
  private final long periodNanos;
  private final Runnable check;
  private volatile boolean closed;

  /**
   * A watchdog not yet started.
   *
   * @param threads makes its (daemon) thread
   * @param periodMillis pause between checks; a deadline is enforced at most this late
   * @param check what runs every period
   */
  public Watchdog(ThreadFactory threads, long periodMillis, Runnable check) {
    if (periodMillis <= 0) {
      throw new IllegalArgumentException("period must be positive: " + periodMillis);
    }
    this.periodNanos = TimeUnit.MILLISECONDS.toNanos(periodMillis);
    this.check = check;
    this.thread = threads.newThread(this::loop);
    thread.setDaemon(true);
  }

  /** Starts the thread. */
  public Watchdog start() {
    thread.start();
    return this;
  }

  private void loop() {
    while (!closed) {
      try {
        check.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "watchdog check of " + thread.getName() + " failed", e);
      }
      long end = System.nanoTime() + periodNanos;
      long left;
      while (!closed && (left = end - System.nanoTime()) > 0) {
        LockSupport.parkNanos(this, left);
      }
    }
  }

  /** Stops the thread and waits for it, at most until {@code deadlineNanos}. */
  public void close(long deadlineNanos) {
    closed = true;
    LockSupport.unpark(thread);
    if (Thread.currentThread() == thread || !thread.isAlive()) {
      return;
    }
    long left = deadlineNanos - System.nanoTime();
    try {
      if (left > 0) {
        thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the thread, waiting for it up to a second. */
  @Override
  public void close() {
    close(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
  }
}
