package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The null NIC the benchmarks measure with ({@link NullNicVerbs}): engines, transport and
 * libte4jrdma's real post and poll, every work request completing at once.
 */
class NullNicTest {
  @Test
  void batchesCompleteThroughTheRealPostAndPoll() {
    Map<String, String> nullNic = Map.of("te4j.rdma.verbs", NullNicVerbs.class.getName());
    try (Engine target = RdmaEngines.start(nullNic, Duration.ofSeconds(10));
        Engine initiator = RdmaEngines.start(nullNic, Duration.ofSeconds(10))) {
      long remote = target.allocate(8L << 20).address();
      long local = initiator.allocate(8L << 20).address();
      List<TransferRequest> requests = new ArrayList<>();
      for (int i = 0; i < 128; i++) {
        requests.add(TransferRequest.write(local + i * 65536L, remote + i * 65536L, 65536));
      }
      for (int round = 0; round < 10; round++) {
        Batch b = initiator.submitAndWait(target.segmentName(), requests, "rdma");
        assertEquals(TransferState.COMPLETED, b.state(), b::errorMessage);
      }
      Nic nic = RdmaEngines.transport(initiator).nics().get(0);
      assertEquals(1280, nic.posted, "every slice was posted once on the one null NIC");
      assertEquals(0, nic.outstanding.get());
    }
  }
}
