package io.te4j.transport.tcp;

import org.slf4j.Logger;

/**
 * Warnings that a misbehaving peer can trigger at wire speed (rejected requests, broken
 * connections): at most {@code burst} messages per second, then a count of what was dropped.
 * Thread-safe.
 */
final class RateLimitedLog {
  private static final long WINDOW_NANOS = 1_000_000_000L;

  private final Logger log;
  private final int burst;
  private long windowStart = System.nanoTime();
  private int inWindow;
  private long suppressed;

  RateLimitedLog(Logger log, int burst) {
    this.log = log;
    this.burst = burst;
  }

  /** Logs at WARN unless the budget of this second is spent. */
  void warn(String format, Object... args) {
    long dropped;
    synchronized (this) {
      long now = System.nanoTime();
      if (now - windowStart >= WINDOW_NANOS) {
        windowStart = now;
        inWindow = 0;
      }
      if (inWindow >= burst) {
        suppressed++;
        return;
      }
      inWindow++;
      dropped = suppressed;
      suppressed = 0;
    }
    if (dropped > 0) {
      log.warn("({} similar warnings suppressed)", dropped);
    }
    log.warn(format, args);
  }
}
