package io.te4j.tests;

import io.te4j.testkit.contract.ChildTargetPair;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;
import org.apache.curator.test.TestingServer;

/** The transport contract over TCP with ZooKeeper metadata (a real in-process ZooKeeper). */
class TcpZkContractIT extends TransportContract {
  @Override
  protected boolean transfersNeedTheTarget() {
    return true;
  }

  @Override
  protected TransportPair openPair() throws Exception {
    TestingServer zk = new TestingServer(true);
    return ChildTargetPair.builder("tcp").metadata("zk://" + zk.getConnectString())
        .closeAfter(zk).open();
  }
}
