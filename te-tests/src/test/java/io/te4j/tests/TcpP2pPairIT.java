package io.te4j.tests;

/** The pair conformance suite over TCP with P2P handshake metadata. */
class TcpP2pPairIT extends PairConformanceSuite {
  @Override
  String protocol() {
    return "tcp";
  }

  @Override
  String metadata() {
    return "P2PHANDSHAKE";
  }
}
