package io.te4j.tests;

import io.te4j.testkit.ChildJvm;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link TargetMain} in a {@link ChildJvm}, with the segment and buffer address of its {@code
 * READY <segment> <bufferAddress>} line parsed.
 */
final class TargetProcess implements AutoCloseable {
  private static final AtomicInteger NEXT_NAME = new AtomicInteger();

  /** The target's JVM: its later lines, its stdin, kill. */
  final ChildJvm jvm;
  final String segment;
  final long bufferAddress;

  private TargetProcess(ChildJvm jvm) {
    this.jvm = jvm;
    String[] parts = jvm.readyLine().split(" ");
    this.segment = parts[1];
    this.bufferAddress = Long.parseLong(parts[2]);
  }

  /** Starts a target and waits (at most 60 s) until it prints READY. */
  static TargetProcess start(String protocol, String metadata, long bufferBytes,
      String... extraJvmArgs) throws IOException, InterruptedException {
    return start(protocol, metadata, bufferBytes, uniqueHostname(metadata), extraJvmArgs);
  }

  /**
   * A local hostname for a new engine: {@code 127.0.0.1} in P2P mode (the segment name gets the
   * RPC port), else {@code 127.0.0.1:<unique>}, since with a store the hostname is the segment
   * name.
   */
  static String uniqueHostname(String metadata) {
    if (metadata.equalsIgnoreCase("P2PHANDSHAKE")) {
      return "127.0.0.1";
    }
    long port = 20_000 + NEXT_NAME.incrementAndGet() * 100 + ProcessHandle.current().pid() % 100;
    return "127.0.0.1:" + port;
  }

  /** Starts a target named {@code hostname} and waits (at most 60 s) until it prints READY. */
  static TargetProcess start(String protocol, String metadata, long bufferBytes, String hostname,
      String... extraJvmArgs) throws IOException, InterruptedException {
    List<String> options = new ArrayList<>();
    options.add("-Xmx256m"); // room for an engine beside the test JVM and its servers
    options.addAll(List.of(extraJvmArgs));
    return new TargetProcess(ChildJvm.start(TargetMain.class, options,
        List.of(protocol, metadata, Long.toString(bufferBytes), hostname), "READY",
        Duration.ofSeconds(60)));
  }

  /** Closes the target's stdin (it exits by itself), then kills it if it lingers. */
  @Override
  public void close() {
    jvm.close();
  }
}
