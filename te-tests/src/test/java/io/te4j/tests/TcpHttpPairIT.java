package io.te4j.tests;

import io.te4j.metadata.http.HttpMetadataServer;
import java.time.Duration;

/** The pair conformance suite over TCP with the HTTP metadata service of the reference. */
class TcpHttpPairIT extends PairConformanceSuite {
  private HttpMetadataServer server;

  @Override
  void startStore() {
    server = HttpMetadataServer.start("127.0.0.1", 0, "/metadata", Duration.ZERO);
  }

  @Override
  void stopStore() {
    server.close();
  }

  @Override
  String protocol() {
    return "tcp";
  }

  @Override
  String metadata() {
    return "http://127.0.0.1:" + server.port() + "/metadata";
  }
}
