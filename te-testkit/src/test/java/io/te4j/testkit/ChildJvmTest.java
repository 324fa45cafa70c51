package io.te4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A real child JVM: started on the test class path or another, talked to, closed or killed, and
 * its failure to start reported.
 */
class ChildJvmTest {
  private static final Duration START = Duration.ofSeconds(60);
  private static final Duration LINE = Duration.ofSeconds(30);

  /** Prints its property and argument, then answers commands until its standard input closes. */
  public static final class Echo {
    private Echo() {}

    /** Entry point of the child. */
    public static void main(String[] args) throws Exception {
      if (args[0].equals("fail")) {
        System.err.println("cannot start: " + System.getProperty("why"));
        System.exit(3);
      }
      System.out.println("READY " + args[0] + " " + System.getProperty("why"));
      System.out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in,
          StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        String[] cmd = line.split(" ", 2);
        switch (cmd[0]) {
          case "prop" -> System.out.println(System.getProperty(cmd[1]));
          case "err" -> System.err.println(cmd[1]);
          case "flood" -> {
            // More than a pipe holds: the child ends only if the parent drains its output.
            for (int i = 0; i < Integer.parseInt(cmd[1]); i++) {
              System.out.println("line " + i + " of a flood that nobody asked to read");
            }
            System.exit(0);
          }
          default -> System.out.println("ECHO " + line);
        }
        System.out.flush();
        System.err.flush();
      }
      // Standard input closed: the parent wants us gone, as a serving engine would take it.
    }
  }

  private static ChildJvm echo(String arg) throws IOException, InterruptedException {
    return ChildJvm.start(Echo.class, List.of("-Xmx32m", "-Dwhy=test"), List.of(arg), "READY",
        START);
  }

  @Test
  void aKilledChildEndsBySigkill() throws Exception {
    try (ChildJvm child = echo("one")) {
      assertEquals("READY one test", child.readyLine());
      assertTrue(child.process().isAlive());
      assertTrue(child.kill());
      assertEquals(128 + 9, child.process().exitValue(), "SIGKILL, not a clean exit");
    }
  }

  @Test
  void linesSentAreAnsweredInOrderAndJvmOptionsReachTheChild() throws Exception {
    try (ChildJvm child = echo("one")) {
      child.send("a");
      child.send("b b");
      child.send("prop why");
      assertEquals("ECHO a", child.nextLine(LINE));
      assertEquals("ECHO b b", child.nextLine(LINE));
      assertEquals("test", child.nextLine(LINE));
    }
  }

  @Test
  void closingItsInputEndsAServingChildCleanlyAndEndsItsOutput() throws Exception {
    ChildJvm child = echo("one");
    child.close();
    assertFalse(child.process().isAlive());
    assertEquals(0, child.process().exitValue(), "left on its own, not killed");
    // At the end of output nextLine answers at once, however long it was told to wait.
    assertTimeoutPreemptively(LINE, () -> {
      assertNull(child.nextLine(Duration.ofDays(1)));
      assertNull(child.nextLine(Duration.ofDays(1)));
    });
    assertThrows(IOException.class, () -> child.send("too late"));
    child.close(); // twice is harmless
  }

  @Test
  void theChildsStandardErrorIsInItsLog() throws Exception {
    try (ChildJvm child = echo("one")) {
      child.send("err something went wrong");
      child.send("sync");
      assertEquals("ECHO sync", child.nextLine(LINE)); // the child flushed its stderr before this
      assertTrue(child.stderr().contains("something went wrong"), child.stderr());
      assertEquals(child.stderr(), Files.readString(child.log()));
    }
  }

  @Test
  void aChildThatPrintsMoreThanAPipeHoldsIsNotBlockedByAnIdleParent() throws Exception {
    try (ChildJvm child = echo("one")) {
      child.send("flood 20000"); // about 1 MB, far more than the 64 KiB a pipe buffers
      assertTrue(child.process().waitFor(60, TimeUnit.SECONDS), "child blocked on its output");
      assertEquals(0, child.process().exitValue());
      assertEquals("line 19999 of a flood that nobody asked to read",
          lastLine(child), "every line queued");
    }
  }

  private static String lastLine(ChildJvm child) throws InterruptedException {
    String last = null;
    for (String line; (line = child.nextLine(LINE)) != null; ) {
      last = line;
    }
    return last;
  }

  @Test
  void aChildRunsOnTheClassPathItIsGiven() throws Exception {
    String echoDir = Path.of(Echo.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .toString();
    // Echo needs nothing but its own classes, so its folder alone is a class path it runs on.
    try (ChildJvm child = ChildJvm.start(echoDir, Echo.class, List.of(), List.of("one"), "READY",
        START)) {
      child.send("prop java.class.path");
      assertEquals(echoDir, child.nextLine(LINE));
    }
    String withoutEcho = Arrays.stream(ChildJvm.classPath().split(File.pathSeparator))
        .filter(e -> !e.equals(echoDir))
        .collect(Collectors.joining(File.pathSeparator));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ChildJvm.start(withoutEcho, Echo.class, List.of(), List.of("one"), "READY", START));
    assertTrue(e.getMessage().contains(Echo.class.getName()), e.getMessage());
  }

  @Test
  void aChildThatNeverGetsReadyIsReportedWithItsStandardError() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ChildJvm.start(Echo.class, List.of("-Xmx32m", "-Dwhy=no disk"), List.of("fail"),
            "READY", START));
    assertTrue(e.getMessage().contains("cannot start: no disk"), e.getMessage());
    assertTrue(e.getMessage().contains("(exit 3)"), e.getMessage());
    assertEquals(-1, e.getMessage().indexOf("READY"), e.getMessage());
  }

  @Test
  void aFirstLineThatOnlyBeginsLikeTheReadyLineIsNotReady() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ChildJvm.start(Echo.class, List.of("-Xmx32m"), List.of("one"), "READY on", START));
    assertTrue(e.getMessage().contains("'READY one null'"), e.getMessage());
  }
}
