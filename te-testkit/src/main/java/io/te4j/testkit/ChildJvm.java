package io.te4j.testkit;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A main class run in a child JVM, for tests that talk to another engine's process over its
 * standard input and output, or kill it (SIGKILL: no close, no clean-up) and watch what the others
 * see. The child's first line of output says it is ready; every later line is queued for {@link
 * #nextLine}; its standard error goes to a temporary {@link #log()}, quoted when it fails to start.
 *
 * <p>One test thread drives an instance; a daemon thread of its own reads the child's output, so
 * the child never blocks on a full pipe however much it prints.
 */
public final class ChildJvm implements AutoCloseable {
  /** How long {@link #kill()} and {@link #close()} wait for the child to end at each step. */
  private static final long EXIT_WAIT_SECONDS = 10;

  /** Queued after the last line: compared by identity, so no printed line can be taken for it. */
  private static final String END_OF_OUTPUT = new String("end of output");

  private final Process process;
  private final Path log;
  private final String readyLine;
  private final BlockingQueue<String> lines;

  private ChildJvm(Process process, Path log, String readyLine, BlockingQueue<String> lines) {
    this.process = process;
    this.log = log;
    this.readyLine = readyLine;
    this.lines = lines;
  }

  /** The test class path: Surefire's and Failsafe's when they set it, else this JVM's. */
  public static String classPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }

  /**
   * Starts {@code mainClass} on the {@linkplain #classPath() test class path}; see {@link
   * #start(String, Class, List, List, String, Duration)}.
   */
  public static ChildJvm start(Class<?> mainClass, List<String> jvmOptions, List<String> args,
      String ready, Duration timeout) throws IOException, InterruptedException {
    return start(classPath(), mainClass, jvmOptions, args, ready, timeout);
  }

  /**
   * Starts {@code mainClass} with {@code args} in a new JVM on {@code classPath} (serial GC, native
   * access granted, {@code jvmOptions} such as {@code -Xmx256m} or {@code -Dkey=value} added), and
   * returns once the first line it prints is {@code ready}, alone or followed by a space and more
   * words. Its standard input stays open until {@link #close()}: a child that serves until its
   * input closes lives until then, or until it is killed or this JVM exits.
   *
   * @param classPath the child's class path, e.g. {@link #classPath()} less an entry the test wants
   *     the child to run without
   * @throws IllegalStateException when no such line comes within {@code timeout}; the child is
   *     killed and the message holds its standard error
   */
  public static ChildJvm start(String classPath, Class<?> mainClass, List<String> jvmOptions,
      List<String> args, String ready, Duration timeout) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-XX:+UseSerialGC"); // two cores: a child's parallel GC threads would starve the test
    cmd.add("--enable-native-access=ALL-UNNAMED"); // engines map memory and load libraries
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(classPath);
    cmd.add(mainClass.getName());
    cmd.addAll(args);
    File log = File.createTempFile("te4j-child-" + mainClass.getSimpleName() + "-", ".log");
    log.deleteOnExit();
    Process p = new ProcessBuilder(cmd).redirectError(log).start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    // A thread of its own: readLine blocks, and the common pool may have a single thread.
    Thread reader = new Thread(() -> readAll(p, lines), "child-jvm-" + mainClass.getSimpleName());
    reader.setDaemon(true);
    reader.start();
    String first = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (first == null || first == END_OF_OUTPUT
        || !(first.equals(ready) || first.startsWith(ready + " "))) {
      p.destroyForcibly();
      p.waitFor(EXIT_WAIT_SECONDS, TimeUnit.SECONDS);
      String said = first == null ? "none within " + timeout
          : first == END_OF_OUTPUT ? "none (exit " + (p.isAlive() ? "?" : p.exitValue()) + ")"
          : "'" + first + "'";
      throw new IllegalStateException(mainClass.getSimpleName() + " did not start: first line "
          + said + "; its stderr:\n" + Files.readString(log.toPath(), StandardCharsets.UTF_8));
    }
    return new ChildJvm(p, log.toPath(), first, lines);
  }

  /** Queues each line the child prints, then {@link #END_OF_OUTPUT} when its output closes. */
  private static void readAll(Process p, BlockingQueue<String> lines) {
    try (BufferedReader r = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        lines.add(line);
      }
    } catch (IOException e) {
      // The pipe broke: the child is gone, which END_OF_OUTPUT tells the reader as well.
    } finally {
      lines.add(END_OF_OUTPUT);
    }
  }

  /** The child's process, e.g. to wait for its exit code. */
  public Process process() {
    return process;
  }

  /** The child's first line, the one that said it is ready (it is not queued for nextLine). */
  public String readyLine() {
    return readyLine;
  }

  /** The file the child's standard error goes to; deleted when this JVM exits. */
  public Path log() {
    return log;
  }

  /** The child's standard error so far, e.g. for an assertion message. */
  public String stderr() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The next line the child printed after its ready line, or null when none comes within {@code
   * timeout}, or at once when the child closed its output and every line was taken.
   */
  public String nextLine(Duration timeout) throws InterruptedException {
    String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (line == END_OF_OUTPUT) {
      lines.add(END_OF_OUTPUT); // the end stays the end for every later call
      return null;
    }
    return line;
  }

  /**
   * Writes {@code line} and a newline to the child's standard input and flushes it.
   *
   * @throws IOException when the child is gone or its input was closed
   */
  public void send(String line) throws IOException {
    OutputStream in = process.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  /**
   * SIGKILL, as a crash would: the child gets no chance to close or clean up.
   *
   * @return whether the child ended within 10 s
   */
  public boolean kill() throws InterruptedException {
    process.destroyForcibly();
    return process.waitFor(EXIT_WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Closes the child's standard input, which a serving child takes as its cue to shut down, waits
   * 10 s for it to end and kills it if it lingers. Does nothing more for a child that ended.
   */
  @Override
  public void close() {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // Already closed or the child is gone: either way it has had its cue.
    }
    try {
      if (!process.waitFor(EXIT_WAIT_SECONDS, TimeUnit.SECONDS)) {
        kill();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly(); // never leave a child behind, even when told to hurry
      Thread.currentThread().interrupt();
    }
  }
}
