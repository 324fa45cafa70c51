package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.nativelib.NativeMemory;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Transports hear when a peer's descriptor changed or the peer went away ({@code
 * Transport.forget}), so they drop connections, mappings and files cached for it, and only then:
 * looking up an unchanged descriptor again tells them nothing.
 */
class PeerChangesIT {
  private static final long MIB = 1L << 20;
  private static final AtomicInteger NAMES = new AtomicInteger();

  private final long memory = NativeMemory.mapAnonymous(4 * MIB);
  private Engine initiator;
  private Engine target;

  private static Engine start(String role) {
    return Engine.builder().localHostname(role + "-" + ProcessHandle.current().pid() + "-"
        + NAMES.incrementAndGet()).metadataServer("counting://here").protocol("rec-a").start();
  }

  @AfterEach
  void stop() {
    if (target != null) {
      target.close();
    }
    initiator.close();
    NativeMemory.unmap(memory, 4 * MIB);
  }

  @Test
  void aRepublishedOrVanishedPeerIsForgottenByEveryTransport() {
    initiator = start("init");
    target = start("target");
    initiator.register(memory, MIB);
    target.register(memory + MIB, MIB);
    String peer = target.segmentName();
    RecordingTransport transport = RecordingTransport.of(initiator.segmentName(), "rec-a");
    assertEquals(TransferState.COMPLETED, initiator.submitAndWait(peer,
        List.of(TransferRequest.write(memory, memory + MIB, 64)), "rec-a").state());

    initiator.refreshSegment(peer);
    assertEquals(0, forgets(transport, peer), "same descriptor: nothing to forget");

    target.register(memory + 2 * MIB, MIB); // republished with one more buffer
    initiator.refreshSegment(peer);
    assertEquals(1, forgets(transport, peer), "changed descriptor");

    target.close(); // removes its keys
    target = null;
    TransferException gone =
        assertThrows(TransferException.class, () -> initiator.refreshSegment(peer));
    assertEquals(ErrorCode.METADATA, gone.errorCode());
    assertEquals(2, forgets(transport, peer), "vanished peer");
  }

  @Test
  void aSegmentThisEngineRemovesIsForgotten() {
    initiator = start("init");
    String files = "files/" + NAMES.incrementAndGet();
    initiator.publishSegment(SegmentDescriptor.builder(files, "rec-a").build());
    RecordingTransport transport = RecordingTransport.of(initiator.segmentName(), "rec-a");
    initiator.segment(files);
    initiator.removeSegment(files);
    assertEquals(1, forgets(transport, files));
    initiator.removeSegment(files);
    assertEquals(1, forgets(transport, files), "told once");
  }

  private static long forgets(RecordingTransport t, String segment) {
    return t.log.stream().filter(("forget " + segment)::equals).count();
  }
}
