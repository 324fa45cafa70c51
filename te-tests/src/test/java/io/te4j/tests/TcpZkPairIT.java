package io.te4j.tests;

import org.apache.curator.test.TestingServer;

/** The pair conformance suite over TCP with ZooKeeper metadata (a real in-process ZooKeeper). */
class TcpZkPairIT extends PairConformanceSuite {
  private TestingServer zk;

  @Override
  void startStore() throws Exception {
    zk = new TestingServer(true);
  }

  @Override
  void stopStore() throws Exception {
    zk.close();
  }

  @Override
  String protocol() {
    return "tcp";
  }

  @Override
  String metadata() {
    return "zk://" + zk.getConnectString();
  }
}
