package io.te4j.tests;

import io.te4j.metadata.etcd.EtcdTestServer;

/** The pair conformance suite over TCP with etcd metadata (Debian's etcd, started by the test). */
class TcpEtcdPairIT extends PairConformanceSuite {
  private EtcdTestServer etcd;

  @Override
  void startStore() {
    etcd = EtcdTestServer.start();
  }

  @Override
  void stopStore() {
    etcd.close();
  }

  @Override
  String protocol() {
    return "tcp";
  }

  @Override
  String metadata() {
    return etcd.metadataServer();
  }
}
