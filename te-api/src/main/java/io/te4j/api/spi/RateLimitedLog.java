package io.te4j.api.spi;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Log lines a peer can provoke at wire speed (refused frames, rejected requests, broken
 * connections): at most {@code burst} lines a second go to the sink; the rest are counted, and a
 * second after the first one dropped a summary line says how many were. A flood so costs a few
 * lines a second, never a full disk. Thread-safe.
 *
 * <p>The sink is any logger method taking a format and arguments, such as SLF4J's {@code
 * Logger::warn}: this class formats nothing itself.
 */
public final class RateLimitedLog {
  private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Where lines go: a format with {@code {}} placeholders and its arguments. */
  @FunctionalInterface
  public interface Sink {
    void log(String format, Object... args);
  }

  private final Sink sink;
  private final int burst;
  private long windowStart = System.nanoTime();
  private int inWindow;
  private long suppressed;
  private boolean summaryDue;

  /**
   * @param sink where lines and summaries go
   * @param burst lines a second let through
   */
  public RateLimitedLog(Sink sink, int burst) {
    if (burst < 1) {
      throw new IllegalArgumentException("burst must be positive: " + burst);
    }
    this.sink = sink;
    this.burst = burst;
  }

  /** Logs the line unless this second's budget is spent. */
  public void log(String format, Object... args) {
    synchronized (this) {
      long now = System.nanoTime();
      if (now - windowStart >= WINDOW_NANOS) {
        windowStart = now;
        inWindow = 0;
      }
      if (inWindow >= burst) {
        suppressed++;
        if (!summaryDue) {
          summaryDue = true;
          Summaries.EXECUTOR.schedule(this::summarize, 1, TimeUnit.SECONDS);
        }
        return;
      }
      inWindow++;
    }
    sink.log(format, args);
  }

  /** Lines dropped since the last summary (for tests and diagnostics). */
  public synchronized long suppressed() {
    return suppressed;
  }

  private void summarize() {
    long dropped;
    synchronized (this) {
      dropped = suppressed;
      suppressed = 0;
      summaryDue = false;
    }
    if (dropped > 0) {
      sink.log("({} similar lines suppressed in the last second)", dropped);
    }
  }

  /**
   * One daemon thread for every log's summaries, started on the first suppressed line and gone
   * after a quiet minute.
   */
  private static final class Summaries {
    static final ScheduledThreadPoolExecutor EXECUTOR = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "log-summaries");
      t.setDaemon(true);
      return t;
    });

    static {
      EXECUTOR.setRemoveOnCancelPolicy(true);
      EXECUTOR.setKeepAliveTime(1, TimeUnit.MINUTES);
      EXECUTOR.allowCoreThreadTimeOut(true);
    }
  }
}
