package io.te4j.core;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Closing what the engine holds: one failure is logged and the rest still closes. */
final class Closing {
  private static final Logger LOG = LoggerFactory.getLogger(Closing.class);

  private Closing() {}

  /** Something to close that may throw. */
  interface Action {
    void run() throws Exception;
  }

  /** Runs {@code a}, logging what it throws instead of passing it on. */
  static void quietly(Action a) {
    try {
      a.run();
    } catch (Exception e) {
      LOG.warn("while closing: {}", e.toString());
    }
  }
}
