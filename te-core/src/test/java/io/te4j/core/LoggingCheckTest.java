package io.te4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

/** Without an SLF4J provider an engine says, once, that it logs nothing and how to fix it. */
class LoggingCheckTest {
  @Test
  void noProviderIsSaidOnce() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stream = new PrintStream(err, true, StandardCharsets.UTF_8);
    AtomicBoolean said = new AtomicBoolean();
    assertTrue(LoggingCheck.sayIfSilent(new NOPLoggerFactory(), stream, said));
    assertFalse(LoggingCheck.sayIfSilent(new NOPLoggerFactory(), stream, said));
    String text = err.toString(StandardCharsets.UTF_8);
    assertEquals(1, text.lines().count(), text);
    assertTrue(text.contains("slf4j-simple") && text.contains("docs/logging.md"), text);
  }

  @Test
  void aRealProviderIsLeftAlone() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertFalse(LoggingCheck.sayIfSilent(LoggerFactory.getILoggerFactory(),
        new PrintStream(err, true, StandardCharsets.UTF_8), new AtomicBoolean()));
    assertEquals(0, err.size());
  }
}
