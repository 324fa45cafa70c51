package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.SegmentDescriptor;
import org.junit.jupiter.api.Test;

/** Same-host detection of the shm transport: host identity, not addresses. */
class ShmTransportTest {
  private final ShmTransport shm = new ShmTransport(null);

  @Test
  void reachesOnlySegmentsPublishedOnThisBootedHost() {
    SegmentDescriptor.Builder mine = SegmentDescriptor.builder("127.0.0.1:1", "shm");
    shm.start(mine);
    SegmentDescriptor local = mine.build();
    assertEquals(HostIdentity.get(), local.attributes().get(ShmTransport.HOST_ID));
    assertTrue(shm.canReach(local));

    SegmentDescriptor otherHost = local.toBuilder()
        .attribute(ShmTransport.HOST_ID, "another-machine/" + HostIdentity.get()).build();
    assertFalse(shm.canReach(otherHost), "same IP string, other host");
    SegmentDescriptor tcpOnly = SegmentDescriptor.builder("127.0.0.1:2", "tcp").build();
    assertFalse(shm.canReach(tcpOnly), "a descriptor without host identity");
  }

  @Test
  void processStartTimeTellsRecycledPidsApart() {
    int self = (int) ProcessHandle.current().pid();
    assertNotNull(ShmTransport.startTime(self));
    assertNull(ShmTransport.startTime(Integer.MAX_VALUE), "no such process");
  }

  @Test
  void providerProbeFindsCrossMemoryAttach() {
    ShmTransportProvider p = new ShmTransportProvider();
    assertTrue(p.availability().isAvailable(), () -> String.valueOf(p.availability().unavailabilityCause()));
  }
}
