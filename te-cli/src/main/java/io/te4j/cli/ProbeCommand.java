package io.te4j.cli;

import io.te4j.api.TransferException;
import io.te4j.core.Engine;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code te probe PEER}: whether a peer's handshake port answers, and if not, why. */
@Command(name = "probe", mixinStandardHelpOptions = true,
    description = "Checks that a peer answers its handshake; says what failed if it does not "
        + "(refused, unknown host, timeout, not a handshake port, an HTTP server answered).")
final class ProbeCommand implements Callable<Integer> {
  @Parameters(paramLabel = "PEER", description = "The peer: host:port in P2P mode, else its "
      + "name in the metadata store.")
  String peer;

  @Mixin
  EngineOptions engineOptions;

  private final PrintStream out;

  ProbeCommand(PrintStream out) {
    this.out = out;
  }

  @Override
  public Integer call() {
    String name = engineOptions.localServerName == null ? "127.0.0.1"
        : engineOptions.localServerName;
    try (Engine engine = Engine.builder().localHostname(name)
        .metadataServer(engineOptions.metadataServer).protocol("tcp").start()) {
      long t0 = System.nanoTime();
      try {
        engine.probeOrThrow(peer);
      } catch (TransferException e) {
        // One line: what failed (refused, unknown host, timeout, not a handshake port, ...).
        out.println(peer + " unreachable: " + e.getMessage()); // the message names its code
        return 1;
      }
      out.println(peer + " reachable (" + (System.nanoTime() - t0) / 1000 + " us)");
      return 0;
    } // an engine that cannot start (its metadata store is down): one line on stderr, exit 1
  }
}
