package io.te4j.transport.rdma;

import io.te4j.testkit.contract.ChildTargetPair;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;

/**
 * The transport contract over {@code rdma}: two engines in two JVMs, each with the verbs of {@code
 * te4j.rdma.verbs} (two soft devices each in CI; the machine's NICs with {@code -Prdma-hw}).
 */
class RdmaContractIT extends TransportContract {
  @Override
  protected TransportPair openPair() throws Exception {
    return ChildTargetPair.builder("rdma").protocol("rdma")
        .targetJvmOption("-Dte4j.rdma.verbs=" + System.getProperty("te4j.rdma.verbs"))
        .targetJvmOption("-Dsoftverbs.dir=" + System.getProperty("softverbs.dir"))
        .open();
  }
}
