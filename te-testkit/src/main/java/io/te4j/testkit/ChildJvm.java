package io.te4j.testkit;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A main class run in a child JVM on this JVM's class path, for tests that kill an engine's
 * process (SIGKILL: no close, no clean-up) and watch what the others see. The child's standard
 * error goes to a temporary log, quoted when it fails to start.
 */
public final class ChildJvm {
  private ChildJvm() {}

  /** The test class path: Surefire's and Failsafe's when they set it, else this JVM's. */
  public static String classPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }

  /**
   * Starts {@code mainClass} with {@code args} in a new JVM (serial GC, native access granted,
   * {@code jvmOptions} such as {@code -Xmx256m} or {@code -Dkey=value} added), and returns once
   * the first line it prints is {@code ready}, alone or followed by a space and more words. Its
   * standard input stays open: a child that serves until its input closes lives until it is
   * destroyed or this JVM exits.
   *
   * @throws IllegalStateException when no such line comes within {@code timeout}; the child is
   *     destroyed and the message holds its standard error
   */
  public static Process start(Class<?> mainClass, List<String> jvmOptions, List<String> args,
      String ready, Duration timeout) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-XX:+UseSerialGC");
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add(mainClass.getName());
    cmd.addAll(args);
    File log = File.createTempFile("te4j-child-" + mainClass.getSimpleName() + "-", ".log");
    log.deleteOnExit();
    Process p = new ProcessBuilder(cmd).redirectError(log).start();
    String line = firstLine(p, timeout);
    if (line == null || !(line.equals(ready) || line.startsWith(ready + " "))) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      throw new IllegalStateException(mainClass.getSimpleName() + " did not start: first line "
          + (line == null ? "none" : "'" + line + "'") + " within " + timeout + "; its stderr:\n"
          + Files.readString(log.toPath(), StandardCharsets.UTF_8));
    }
    return p;
  }

  /** The child's first line of output, or null at end of stream or after {@code timeout}. */
  private static String firstLine(Process p, Duration timeout) throws InterruptedException {
    CompletableFuture<String> first = new CompletableFuture<>();
    // A thread of its own: readLine blocks, and the common pool may have a single thread.
    Thread reader = new Thread(() -> {
      try {
        first.complete(new BufferedReader(new InputStreamReader(p.getInputStream(),
            StandardCharsets.UTF_8)).readLine());
      } catch (IOException e) {
        first.complete(null);
      }
    }, "child-jvm-stdout");
    reader.setDaemon(true);
    reader.start();
    try {
      return first.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return null;
    }
  }
}
