package io.te4j.transport.shm;

import io.te4j.testkit.ChildJvm;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link PeerMain} (or another main) in a {@link ChildJvm}, with the words of its {@code READY
 * <segment> <address peers use> <local address>} line parsed.
 */
public final class PeerProcess implements AutoCloseable {
  /** The peer's JVM: its later lines, its stdin, kill. */
  public final ChildJvm jvm;
  public final String segment;
  public final long peerAddress;
  public final long localAddress;

  private PeerProcess(ChildJvm jvm) {
    this.jvm = jvm;
    // FallbackMain prints other words after READY: what is not an address stays 0.
    String[] f = jvm.readyLine().split(" ");
    this.segment = f.length > 1 ? f[1] : null;
    this.peerAddress = f.length > 2 && f[2].matches("\\d+") ? Long.parseLong(f[2]) : 0;
    this.localAddress = f.length > 3 && f[3].matches("\\d+") ? Long.parseLong(f[3]) : 0;
  }

  /** Starts a {@link PeerMain} with {@code args} on the test class path. */
  public static PeerProcess start(List<String> jvmArgs, String... args)
      throws IOException, InterruptedException {
    return launch(ChildJvm.classPath(), jvmArgs, PeerMain.class, args);
  }

  /** Starts {@code mainClass} and waits (60 s at most) for its first line, which must be READY. */
  public static PeerProcess launch(String classPath, List<String> jvmArgs, Class<?> mainClass,
      String... args) throws IOException, InterruptedException {
    List<String> options = new ArrayList<>();
    options.add("-Xmx256m"); // room for an engine; several peers run beside the test JVM
    options.addAll(jvmArgs);
    return new PeerProcess(ChildJvm.start(classPath, mainClass, options, List.of(args), "READY",
        Duration.ofSeconds(60)));
  }

  /** Closes the peer's stdin (it exits by itself), then kills it if it lingers. */
  @Override
  public void close() {
    jvm.close();
  }
}
