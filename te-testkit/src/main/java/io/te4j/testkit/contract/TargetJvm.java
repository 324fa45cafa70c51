package io.te4j.testkit.contract;

import io.te4j.testkit.ChildJvm;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A {@link ContractTarget} in a child JVM: the target half of a {@link TransportPair} whose target
 * is an engine of its own process. A pair delegates its target methods here.
 */
public final class TargetJvm implements AutoCloseable {
  private final ChildJvm jvm;
  private final String segment;
  private final long remote;
  private final long localOnly;
  private final long adjacent;
  private final long pid;
  private final long bytes;
  /** Notifications read while waiting for a CRC answer. */
  private final List<String> notifies = new ArrayList<>();

  private TargetJvm(ChildJvm jvm, long bytes) {
    this.jvm = jvm;
    this.bytes = bytes;
    String[] f = jvm.readyLine().split(" ");
    this.segment = f[1];
    this.remote = Long.parseLong(f[2]);
    this.localOnly = Long.parseLong(f[3]);
    this.adjacent = Long.parseLong(f[4]);
    this.pid = Long.parseLong(f[5]);
  }

  /**
   * Starts a target engine running {@code protocol} with a main buffer of {@code bytes}.
   *
   * @param options {@code metadata=...}, {@code hostname=...}, {@code memory=...} or settings
   *     {@code name=value} (see {@link ContractTarget})
   * @param jvmOptions for the child JVM (system properties, say)
   */
  public static TargetJvm start(String protocol, long bytes, List<String> options,
      List<String> jvmOptions) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>();
    args.add(protocol);
    args.add("bytes=" + bytes);
    args.addAll(options);
    List<String> jvm = new ArrayList<>();
    jvm.add("-Xmx256m"); // room for an engine; several run beside the test JVM
    jvm.addAll(jvmOptions);
    return new TargetJvm(ChildJvm.start(ContractTarget.class, jvm, args, "READY",
        Duration.ofSeconds(60)), bytes);
  }

  public String segment() {
    return segment;
  }

  /** Peer address of the main buffer. */
  public long remote() {
    return remote;
  }

  public long remoteLength() {
    return bytes;
  }

  /** The child JVM (its output, its exit). */
  public ChildJvm jvm() {
    return jvm;
  }

  /** The memory it registered as not remote-accessible, and a range across two buffers. */
  public List<Rejection> rejections() {
    return List.of(
        new Rejection("memory registered as not remote-accessible", localOnly, 4096, localOnly),
        new Rejection("a range across two registered buffers", adjacent + ContractTarget.EXTRA
            - 2048, 4096, adjacent + ContractTarget.EXTRA - 4096));
  }

  /** CRC32 of its own memory at peer address {@code address}. */
  public long crc(long address, int length) throws IOException, InterruptedException {
    jvm.send("CRC " + address + " " + length);
    String line = jvm.nextLine(Duration.ofSeconds(30));
    while (line != null && line.startsWith("NOTIFY ")) {
      notifies.add(line.substring(7));
      line = jvm.nextLine(Duration.ofSeconds(30));
    }
    if (line == null || !line.startsWith("CRC ")) {
      throw new IOException("target did not answer CRC: " + line + "\n" + jvm.stderr());
    }
    return Long.parseLong(line.substring(4));
  }

  /** The next notification the target printed, as {@code name msg}. */
  public Optional<String> nextNotify(Duration timeout) throws InterruptedException {
    if (!notifies.isEmpty()) {
      return Optional.of(notifies.remove(0));
    }
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      String line = jvm.nextLine(Duration.ofNanos(Math.max(1, end - System.nanoTime())));
      if (line == null) {
        return Optional.empty();
      }
      if (line.startsWith("NOTIFY ")) {
        return Optional.of(line.substring(7));
      }
    }
    return Optional.empty();
  }

  /** SIGSTOP. */
  public void pause() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT. */
  public void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String name) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("kill", "-" + name, Long.toString(pid))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (p.waitFor() != 0) {
      throw new IOException("kill -" + name + " " + pid + " failed");
    }
  }

  /** SIGKILL: no close, no clean-up. */
  public void kill() throws InterruptedException {
    jvm.kill();
  }

  @Override
  public void close() {
    if (jvm.process().isAlive()) {
      try {
        resume(); // a stopped child would not see its stdin close
      } catch (IOException | InterruptedException e) {
        // it ended meanwhile
      }
    }
    jvm.close();
  }
}
