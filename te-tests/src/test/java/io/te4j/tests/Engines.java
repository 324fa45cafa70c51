package io.te4j.tests;

import io.te4j.core.Engine;
import java.time.Duration;

/** Starts in-JVM engines on loopback with P2P metadata, as the tests want them. */
final class Engines {
  private Engines() {}

  static Engine tcp() {
    return tcp(Duration.ofSeconds(30));
  }

  /**
   * An engine whose bytes go over TCP: shm, which would take same-host peers, is switched off with
   * its kill switch on the builder.
   */
  static Engine tcp(Duration timeout) {
    return Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("tcp").transferTimeout(timeout)
        .setting("te4j.transport.shm.disabled", "true").start();
  }

  /**
   * An engine running tcp, with shm beside it for peers on this host (switched on in the builder,
   * over the system property that switches it off for these suites).
   */
  static Engine tcpAndShm() {
    return Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("tcp").transferTimeout(Duration.ofSeconds(30))
        .setting("te4j.transport.shm.disabled", "false").start();
  }

  /** Names of live threads the engines started. */
  static java.util.List<String> engineThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
        .map(Thread::getName).filter(n -> n.startsWith("te4j-")).sorted().toList();
  }
}
