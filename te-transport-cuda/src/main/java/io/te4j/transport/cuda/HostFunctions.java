package io.te4j.transport.cuda;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each host function launched on a stream runs, by token: the runtime's thread calls {@link
 * #run} with the token it was given. Nothing here calls CUDA or takes a lock a CUDA-calling thread
 * could hold (CUDA.md 1.6, 3.3); nothing thrown escapes into the runtime.
 */
final class HostFunctions {
  private static final Logger LOG = LoggerFactory.getLogger(HostFunctions.class);
  private static final Map<Long, Runnable> PENDING = new ConcurrentHashMap<>();
  private static final AtomicLong NEXT = new AtomicLong(1);

  private HostFunctions() {}

  /** A token for {@code work}, to launch. */
  static long add(Runnable work) {
    long token = NEXT.getAndIncrement();
    PENDING.put(token, work);
    return token;
  }

  /** Drops a token whose launch failed or whose caller gave up. */
  static void remove(long token) {
    PENDING.remove(token);
  }

  /** Launched and not run yet. */
  static int pending() {
    return PENDING.size();
  }

  /** Called by the runtime's thread. */
  static void run(long token) {
    try {
      Runnable work = PENDING.remove(token);
      if (work != null) {
        work.run();
      }
    } catch (Throwable t) {
      LOG.error("a CUDA host function failed", t);
    }
  }
}
