package io.te4j.cli;

import picocli.CommandLine.Option;

/** The options every command that starts an engine takes, under the same names. */
final class EngineOptions {
  static final String P2P = "P2PHANDSHAKE";

  @Option(names = "--metadata-server", paramLabel = "URL", defaultValue = P2P,
      description = "Where engines find each other: P2PHANDSHAKE (no server; peers are named "
          + "host:port), etcd://HOST:PORT, zk://HOST:PORT or http://HOST:PORT/metadata.")
  String metadataServer;

  @Option(names = "--local-server-name", paramLabel = "HOST[:PORT]",
      description = "This engine's name, which peers use to reach it (default: a name no "
          + "other engine of this host holds; bench and probe use 127.0.0.1 and a port).")
  String localServerName;

  boolean p2p() {
    return metadataServer.equals(P2P);
  }
}
