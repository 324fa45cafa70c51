package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A target process killed with SIGKILL in the middle of a stream of transfers: every pending
 * transfer ends FAILED or TIMEOUT within the deadline, no engine thread stays blocked, and a new
 * target is reachable afterwards from the same engine.
 */
class FaultIT {
  private static final Duration DEADLINE = Duration.ofSeconds(5);

  @Test
  void killedTargetFailsPendingTransfersWithinTheDeadline() throws Exception {
    TargetProcess target = TargetProcess.start("tcp", "P2PHANDSHAKE", 64L << 20);
    Engine initiator = Engines.tcp(DEADLINE);
    String mine = "te4j-" + initiator.segmentName() + "-";
    try (ManagedBuffer src = initiator.allocate(64L << 20)) {
      List<Batch> pending = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        pending.add(initiator.submit(target.segment, List.of(
            TransferRequest.write(src.address(), target.bufferAddress, 8L << 20)), ""));
      }
      target.jvm.kill();
      long killedAt = System.nanoTime();
      int completed = 0;
      int failed = 0;
      for (Batch b : pending) {
        TransferState s = initiator.await(b);
        assertTrue(s == TransferState.COMPLETED || s == TransferState.FAILED
            || s == TransferState.TIMEOUT, "state " + s);
        if (s == TransferState.COMPLETED) {
          completed++;
        } else {
          failed++;
        }
      }
      long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
      assertTrue(waitedMs <= DEADLINE.toMillis() + 1500, "pending transfers took " + waitedMs + " ms");
      assertTrue(failed > 0, "the kill came before all 40 x 8 MiB were written (" + completed
          + " completed)");

      // The dead peer is reported, and the engine still reaches a new target.
      assertTrue(!initiator.probe(target.segment));
      try (TargetProcess second = TargetProcess.start("tcp", "P2PHANDSHAKE", 64L << 20)) {
        assertTrue(initiator.probe(second.segment));
        assertEquals(TransferState.COMPLETED, initiator.await(initiator.submit(second.segment,
            List.of(TransferRequest.write(src.address(), second.bufferAddress, 1 << 20)), "")));
      }
    } finally {
      initiator.close();
      target.close();
    }
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!threadsOf(mine).isEmpty() && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertEquals(List.of(), threadsOf(mine), "engine threads left after close");
  }

  private static List<String> threadsOf(String prefix) {
    return Engines.engineThreads().stream().filter(n -> n.startsWith(prefix)).toList();
  }
}
