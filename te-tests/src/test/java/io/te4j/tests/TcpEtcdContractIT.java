package io.te4j.tests;

import io.te4j.metadata.etcd.EtcdTestServer;
import io.te4j.testkit.contract.ChildTargetPair;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;

/** The transport contract over TCP with etcd metadata (Debian's etcd, started by the test). */
class TcpEtcdContractIT extends TransportContract {
  @Override
  protected boolean transfersNeedTheTarget() {
    return true;
  }

  @Override
  protected TransportPair openPair() throws Exception {
    EtcdTestServer etcd = EtcdTestServer.start();
    return ChildTargetPair.builder("tcp").metadata(etcd.metadataServer()).closeAfter(etcd::close)
        .open();
  }
}
