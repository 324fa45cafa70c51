package io.te4j.tests;

import io.te4j.metadata.http.HttpMetadataServer;
import io.te4j.testkit.contract.ChildTargetPair;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;
import java.time.Duration;

/** The transport contract over TCP with the HTTP metadata service of the reference. */
class TcpHttpContractIT extends TransportContract {
  @Override
  protected boolean transfersNeedTheTarget() {
    return true;
  }

  @Override
  protected TransportPair openPair() throws Exception {
    HttpMetadataServer server =
        HttpMetadataServer.start("127.0.0.1", 0, "/metadata", Duration.ZERO);
    return ChildTargetPair.builder("tcp")
        .metadata("http://127.0.0.1:" + server.port() + "/metadata").closeAfter(server::close)
        .open();
  }
}
