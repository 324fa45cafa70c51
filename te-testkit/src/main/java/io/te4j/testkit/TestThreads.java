package io.te4j.testkit;

import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** The thread factories of the test contexts: daemon threads, named, optionally recorded. */
final class TestThreads {
  private TestThreads() {}

  /**
   * Daemon threads named {@code <prefix>-<role>-<n>}, each added to {@code record} (when not null)
   * as it is made, so tests can check that none outlives what made it.
   */
  static ThreadFactory factory(String prefix, String role, List<Thread> record) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + role + "-" + n.incrementAndGet());
      t.setDaemon(true);
      if (record != null) {
        record.add(t);
      }
      return t;
    };
  }
}
