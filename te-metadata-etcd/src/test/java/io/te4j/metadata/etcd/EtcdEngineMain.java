package io.te4j.metadata.etcd;

import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * An engine with etcd metadata in its own JVM, for crash tests: starts, allocates one buffer,
 * prints {@code READY <segment> <bufferAddress>}, and serves until its standard input closes.
 * Settings such as {@code te4j.etcd.leaseTtlSeconds} come as {@code -D} properties.
 *
 * <p>Arguments: metadata server, local hostname.
 */
public final class EtcdEngineMain {
  private EtcdEngineMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (Engine engine = Engine.builder().metadataServer(args[0]).localHostname(args[1])
        .protocol("tcp").start()) {
      ManagedBuffer buffer = engine.allocate(1 << 20);
      out.println("READY " + engine.segmentName() + " " + buffer.address());
      while (System.in.read() >= 0) {
        // serve until the parent closes our stdin or dies
      }
    }
  }
}
