package io.te4j.tests;

import io.te4j.api.TransferNotify;
import io.te4j.core.TransferEngine;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A target engine in its own JVM, for the black-box pair tests: it starts an engine, allocates one
 * managed buffer, prints {@code READY <segment> <bufferAddress>} and serves until its standard input
 * closes (so a test that dies takes its targets with it). Notifications it receives are printed as
 * {@code NOTIFY <name> <msg>}.
 *
 * <p>Arguments: protocol, metadata server, buffer bytes, local hostname (default 127.0.0.1; with
 * a metadata store the segment name is that hostname, so it must be unique).
 */
public final class TargetMain {
  private TargetMain() {}

  public static void main(String[] args) throws Exception {
    String protocol = args.length > 0 ? args[0] : "tcp";
    String metadata = args.length > 1 ? args[1] : "P2PHANDSHAKE";
    long bytes = args.length > 2 ? Long.parseLong(args[2]) : 64L << 20;
    String hostname = args.length > 3 ? args[3] : "127.0.0.1";
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    TransferEngine engine = new TransferEngine();
    int rc = engine.initialize(hostname, metadata, protocol, "");
    if (rc != 0) {
      out.println("FAILED " + rc);
      System.exit(2);
    }
    long buffer = engine.allocateManagedBuffer(bytes);
    if (buffer == 0) {
      out.println("FAILED allocate");
      System.exit(3);
    }
    String segment = engine.getEngine().segmentName();
    out.println("READY " + segment + " " + buffer);
    Thread notifier = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        for (TransferNotify n : engine.getNotifies()) {
          out.println("NOTIFY " + n.name() + " " + n.msg());
        }
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    notifier.setDaemon(true);
    notifier.start();
    while (System.in.read() >= 0) {
      // serve until the parent closes our stdin or dies
    }
    engine.close();
    System.exit(0);
  }
}
