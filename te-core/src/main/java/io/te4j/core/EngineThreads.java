package io.te4j.core;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Daemon threads named {@code te4j-<engine>-<role>-<n>}, so a thread dump says who owns what. */
final class EngineThreads {
  private EngineThreads() {}

  static ThreadFactory factory(String engineName, String role) {
    AtomicInteger n = new AtomicInteger();
    String prefix = "te4j-" + engineName + "-" + role + "-";
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
