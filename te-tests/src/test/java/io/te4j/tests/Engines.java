package io.te4j.tests;

import io.te4j.core.Engine;
import java.time.Duration;

/** Starts in-JVM engines on loopback with P2P metadata, as the tests want them. */
final class Engines {
  private Engines() {}

  static Engine tcp() {
    return tcp(Duration.ofSeconds(30));
  }

  static Engine tcp(Duration timeout) {
    return Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("tcp").transferTimeout(timeout).start();
  }

  /** Names of live threads the engines started. */
  static java.util.List<String> engineThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
        .map(Thread::getName).filter(n -> n.startsWith("te4j-")).sorted().toList();
  }
}
