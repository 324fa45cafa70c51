package io.te4j.core;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

/**
 * Says once per JVM, on stderr, that the engine's log goes nowhere: without an SLF4J provider on
 * the class path SLF4J drops every line, including the warnings that explain a failed transfer.
 */
final class LoggingCheck {
  static final String NO_PROVIDER = "te4j: no SLF4J provider on the class path, so the engine "
      + "logs nothing (not even its warnings); add one, e.g. org.slf4j:slf4j-simple or "
      + "ch.qos.logback:logback-classic (docs/logging.md)";
  private static final AtomicBoolean SAID = new AtomicBoolean();

  private LoggingCheck() {}

  /** At an engine's start: the notice, the first time it applies. */
  static void atStart() {
    sayIfSilent(LoggerFactory.getILoggerFactory(), System.err, SAID);
  }

  /** Prints {@link #NO_PROVIDER} when {@code factory} drops everything and nobody said so yet. */
  static boolean sayIfSilent(ILoggerFactory factory, PrintStream err, AtomicBoolean said) {
    if (factory instanceof NOPLoggerFactory && said.compareAndSet(false, true)) {
      err.println(NO_PROVIDER);
      return true;
    }
    return false;
  }
}
