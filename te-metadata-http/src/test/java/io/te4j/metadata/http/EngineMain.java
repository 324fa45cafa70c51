package io.te4j.metadata.http;

import io.te4j.core.Engine;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * An engine in its own JVM, for the crash test: starts an engine on the HTTP metadata URL given,
 * allocates a buffer (so the descriptor has one), prints {@code READY <segment>} and serves until
 * its standard input closes or it is killed.
 *
 * <p>Arguments: metadata URL, segment name.
 */
public final class EngineMain {
  private EngineMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (Engine engine = Engine.builder().localHostname(args[1]).metadataServer(args[0])
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
