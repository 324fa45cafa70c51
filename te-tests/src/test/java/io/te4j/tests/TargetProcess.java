package io.te4j.tests;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link TargetMain} in a child JVM: started, read for its segment, killed. */
final class TargetProcess implements AutoCloseable {
  final Process process;
  final String segment;
  final long bufferAddress;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

  private TargetProcess(Process process, String segment, long bufferAddress) {
    this.process = process;
    this.segment = segment;
    this.bufferAddress = bufferAddress;
  }

  /** Starts a target and waits (at most 60 s) until it prints READY. */
  static TargetProcess start(String protocol, String metadata, long bufferBytes,
      String... extraJvmArgs) throws IOException, InterruptedException {
    return start(protocol, metadata, bufferBytes, uniqueHostname(metadata), extraJvmArgs);
  }

  /**
   * A local hostname for a new engine: {@code 127.0.0.1} in P2P mode (the segment name gets the
   * RPC port), else {@code 127.0.0.1:<unique>}, since with a store the hostname is the segment name.
   */
  static String uniqueHostname(String metadata) {
    if (metadata.equalsIgnoreCase("P2PHANDSHAKE")) {
      return "127.0.0.1";
    }
    return "127.0.0.1:" + (20_000 + NEXT_NAME.incrementAndGet() * 100 + ProcessHandle.current().pid() % 100);
  }

  private static final java.util.concurrent.atomic.AtomicInteger NEXT_NAME =
      new java.util.concurrent.atomic.AtomicInteger();

  static TargetProcess start(String protocol, String metadata, long bufferBytes, String hostname,
      String... extraJvmArgs) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.addAll(List.of(extraJvmArgs));
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add(TargetMain.class.getName());
    cmd.add(protocol);
    cmd.add(metadata);
    cmd.add(Long.toString(bufferBytes));
    cmd.add(hostname);
    File log = File.createTempFile("te4j-target-", ".log");
    Process p = new ProcessBuilder(cmd).redirectError(log).start();
    BlockingQueue<String> queue = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          queue.add(line);
        }
      } catch (IOException e) {
        // process gone
      }
    }, "target-stdout");
    reader.setDaemon(true);
    reader.start();
    String first = queue.poll(60, TimeUnit.SECONDS);
    if (first == null || !first.startsWith("READY ")) {
      p.destroyForcibly();
      throw new IllegalStateException("target did not start: " + first + "; see " + log);
    }
    String[] parts = first.split(" ");
    TargetProcess t = new TargetProcess(p, parts[1], Long.parseLong(parts[2]));
    t.lines.addAll(queue);
    queue.clear();
    Thread pump = new Thread(() -> {
      try {
        while (true) {
          t.lines.add(queue.take());
        }
      } catch (InterruptedException e) {
        // done
      }
    }, "target-lines");
    pump.setDaemon(true);
    pump.start();
    return t;
  }

  /** The next line the target printed after READY, or null after {@code seconds}. */
  String nextLine(long seconds) throws InterruptedException {
    return lines.poll(seconds, TimeUnit.SECONDS);
  }

  /** SIGKILL, as a crash would. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** Closes the target's stdin (it exits by itself), then kills it if it lingers. */
  @Override
  public void close() {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // already gone
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static String classPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }
}
