package io.te4j.metadata.zk;

import io.te4j.core.Engine;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * An engine with zk metadata in its own JVM, for the "killed engine" test: starts, allocates one
 * buffer (so its descriptor is complete), prints {@code READY <segment>} and serves until its
 * standard input closes. Arguments: metadata URL, segment name. Settings come as {@code -D}.
 */
public final class ZkTargetMain {
  private ZkTargetMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (Engine engine = Engine.builder().metadataServer(args[0]).localHostname(args[1])
        .protocol("tcp").start()) {
      engine.allocate(1 << 20);
      out.println("READY " + engine.segmentName());
      while (System.in.read() >= 0) {
        // serve until the parent closes our stdin or dies
      }
    }
    System.exit(0);
  }
}
