package io.te4j.transport.cxl;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link PeerMain} (or another main) in a child JVM: started, talked to, killed. */
final class PeerProcess implements AutoCloseable {
  final Process process;
  final String segment;
  final long peerAddress;
  final long localAddress;
  final File log;
  /** The READY line as printed. */
  final String ready;
  private final BlockingQueue<String> lines;

  private PeerProcess(Process process, File log, BlockingQueue<String> lines, String ready) {
    this.process = process;
    this.log = log;
    this.lines = lines;
    this.ready = ready;
    String[] f = ready.split(" ");
    this.segment = f.length > 1 ? f[1] : null;
    this.peerAddress = f.length > 2 && f[2].matches("\\d+") ? Long.parseLong(f[2]) : 0;
    this.localAddress = f.length > 3 && f[3].matches("\\d+") ? Long.parseLong(f[3]) : 0;
  }

  static PeerProcess start(List<String> jvmArgs, String... args)
      throws IOException, InterruptedException {
    return launch(classPath(), jvmArgs, PeerMain.class.getName(), args);
  }

  /** Starts {@code mainClass} and waits (60 s at most) for its first line, which must be READY. */
  static PeerProcess launch(String classPath, List<String> jvmArgs, String mainClass,
      String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(classPath);
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    File log = File.createTempFile("te4j-cxl-peer-", ".log");
    log.deleteOnExit();
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
    }, "peer-stdout");
    reader.setDaemon(true);
    reader.start();
    String first = queue.poll(60, TimeUnit.SECONDS);
    if (first == null || !first.startsWith("READY")) {
      p.destroyForcibly();
      throw new IllegalStateException("peer did not start: " + first + "; see " + log);
    }
    return new PeerProcess(p, log, queue, first);
  }

  /** Sends one line to the child's stdin. */
  void send(String line) throws IOException {
    OutputStream o = process.getOutputStream();
    o.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    o.flush();
  }

  /** The next line printed, or null after {@code seconds}. */
  String nextLine(long seconds) throws InterruptedException {
    return lines.poll(seconds, TimeUnit.SECONDS);
  }

  /** SIGKILL, as a crash would. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

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

  static String classPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }
}
