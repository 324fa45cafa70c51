package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.observe.BatchOutcome;
import io.te4j.core.observe.Subscription;
import io.te4j.core.observe.TransferObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/**
 * What an engine tells its observers and JDK Flight Recorder: each batch with its transport, peer,
 * opcode, size, latency and state; failed requests by error code; lookups of peers.
 */
class ObserversIT {
  private static final long MIB = 1L << 20;

  /** Records what it hears. */
  private static final class Heard implements TransferObserver {
    final List<BatchOutcome> batches = new CopyOnWriteArrayList<>();
    final List<String> lookups = new CopyOnWriteArrayList<>();

    @Override
    public void batchEnded(BatchOutcome outcome) {
      batches.add(outcome);
    }

    @Override
    public void peerLookedUp(String peer, long nanos, ErrorCode error) {
      lookups.add(peer + " " + (error == null ? "ok" : error.name()) + " " + (nanos > 0));
    }
  }

  private static void await(List<?> list, int size) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (list.size() < size && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(size, list.size(), list::toString);
  }

  @Test
  void observersHearBatchesFailuresAndLookups() throws Exception {
    Heard heard = new Heard();
    try (Engine target = Engines.tcp(); Engine initiator = Engines.tcp();
        ManagedBuffer dst = target.allocate(MIB); ManagedBuffer src = initiator.allocate(MIB);
        Subscription observing = initiator.addObserver(heard)) {
      String peer = target.segmentName();
      assertEquals(TransferState.COMPLETED, initiator.submitAndWait(peer, List.of(
          TransferRequest.write(src.address(), dst.address(), 4096),
          TransferRequest.write(src.address() + 4096, dst.address() + 4096, 4096)), "").state());
      assertEquals(TransferState.FAILED, initiator.submitAndWait(peer, List.of(
          TransferRequest.read(src.address(), dst.address(), 4096),
          TransferRequest.read(src.address(), 4096, 4096)), "").state());
      await(heard.batches, 2);
      BatchOutcome ok = heard.batches.get(0);
      assertEquals(peer, ok.peer());
      assertEquals("tcp", ok.transport());
      assertEquals("write", ok.opcode());
      assertEquals(2, ok.entries());
      assertEquals(8192, ok.bytes());
      assertEquals(TransferState.COMPLETED, ok.state());
      assertTrue(ok.nanos() > 0);
      assertEquals(Map.of(), ok.failedEntries());
      BatchOutcome failed = heard.batches.get(1);
      assertEquals("read", failed.opcode());
      assertEquals(TransferState.FAILED, failed.state());
      assertEquals(1, failed.failedEntries().size(), failed.toString());
      assertEquals(1, failed.failedEntries().values().iterator().next(), "one request failed");
      // The first batch looked the peer up; the failed one made the engine look again (has the
      // peer republished?); the rest came from the cache.
      assertEquals(List.of(peer + " ok true", peer + " ok true"), heard.lookups);
      target.close();
      try {
        initiator.refreshSegment(peer);
      } catch (io.te4j.api.TransferException expected) {
        // the peer is gone
      }
      await(heard.lookups, 3);
      assertTrue(heard.lookups.get(2).startsWith(peer + " "), heard.lookups.toString());
      assertTrue(!heard.lookups.get(2).contains(" ok "), "a failed lookup: " + heard.lookups);
      observing.close();
      initiator.submitAndWait(peer, List.of(TransferRequest.write(src.address(), dst.address(),
          64)), "");
      Thread.sleep(100);
      assertEquals(2, heard.batches.size(), "a removed observer hears nothing");
    }
  }

  @Test
  void flightRecorderGetsBatchFailureAndLookupEvents() throws Exception {
    Path file = Files.createTempFile("te4j-", ".jfr");
    String peer;
    try (Recording recording = new Recording()) {
      recording.enable("io.te4j.Batch");
      recording.enable("io.te4j.TransferFailure");
      recording.enable("io.te4j.PeerLookup");
      recording.start();
      try (Engine target = Engines.tcp(); Engine initiator = Engines.tcp();
          ManagedBuffer dst = target.allocate(MIB); ManagedBuffer src = initiator.allocate(MIB)) {
        peer = target.segmentName();
        initiator.submitAndWait(peer, List.of(TransferRequest.write(src.address(), dst.address(),
            4096)), "");
        initiator.submitAndWait(peer, List.of(TransferRequest.write(src.address(), 4096,
            4096)), ""); // no memory of the target's lies there
        Thread.sleep(100); // the events are committed by the thread that ended each batch
      }
      recording.stop();
      recording.dump(file);
    }
    try {
      List<RecordedEvent> events = RecordingFile.readAllEvents(file);
      List<RecordedEvent> batches = events.stream()
          .filter(e -> e.getEventType().getName().equals("io.te4j.Batch")).toList();
      assertEquals(2, batches.size(), events::toString);
      RecordedEvent ok = batches.stream().filter(e -> e.getString("state").equals("COMPLETED"))
          .findFirst().orElseThrow();
      assertEquals("tcp", ok.getString("transport"));
      assertEquals(peer, ok.getString("peer"));
      assertEquals("write", ok.getString("opcode"));
      assertEquals(4096, ok.getLong("bytes"));
      assertTrue(ok.getDuration("latency").toNanos() > 0);
      assertTrue(batches.stream().anyMatch(e -> e.getString("state").equals("FAILED")),
          batches::toString);
      RecordedEvent failure = events.stream()
          .filter(e -> e.getEventType().getName().equals("io.te4j.TransferFailure")).findFirst()
          .orElse(null);
      assertNotNull(failure, events::toString);
      assertEquals(1, failure.getInt("failedEntries"));
      assertTrue(!failure.getString("errorCode").isEmpty());
      RecordedEvent lookup = events.stream()
          .filter(e -> e.getEventType().getName().equals("io.te4j.PeerLookup")).findFirst()
          .orElse(null);
      assertNotNull(lookup, events::toString);
      assertEquals(peer, lookup.getString("peer"));
      assertEquals("", lookup.getString("errorCode"));
      assertNull(events.stream().filter(e -> e.getEventType().getName().startsWith("io.te4j"))
          .filter(e -> e.getStackTrace() != null).findFirst().orElse(null), "no stack traces");
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
