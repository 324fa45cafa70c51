package io.te4j.tests;

import io.te4j.testkit.contract.ChildTargetPair;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;

/** The transport contract over TCP, P2P handshake metadata. */
class TcpContractIT extends TransportContract {
  @Override
  protected TransportPair openPair() throws Exception {
    return ChildTargetPair.builder("tcp").open();
  }

  @Override
  protected boolean transfersNeedTheTarget() {
    return true;
  }
}
