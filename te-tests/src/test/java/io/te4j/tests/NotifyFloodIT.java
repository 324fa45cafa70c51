package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Received notifications are held only up to their bounds: a peer flooding 300 notifications of
 * 512 KiB (150 MB) gets most refused, the receiver holds at most its byte bound, a real peer keeps
 * transferring meanwhile, and once drained the receiver takes notifications again.
 */
class NotifyFloodIT {
  private static final int BOUND_BYTES = 4 << 20;

  @Test
  @Timeout(120)
  void aNotifyFloodIsRefusedBeyondTheBoundsWhileTransfersGoOn() throws Exception {
    try (Engine target = Engine.builder().localHostname("127.0.0.1")
            .metadataServer("P2PHANDSHAKE").protocol("tcp").transferTimeout(Duration.ofSeconds(30))
            .setting("te4j.transport.shm.disabled", "true")
            .setting("te4j.notify.maxQueuedBytes", Integer.toString(BOUND_BYTES)).start();
        Engine flooder = Engines.tcp();
        Engine peer = Engines.tcp();
        ManagedBuffer dst = target.allocate(1 << 20);
        ManagedBuffer src = peer.allocate(1 << 20)) {
      String big = "x".repeat(512 << 10);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      AtomicInteger taken = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      try {
        Future<?>[] floods = new Future<?>[3];
        for (int t = 0; t < floods.length; t++) {
          floods[t] = pool.submit(() -> {
            for (int i = 0; i < 100; i++) {
              try {
                flooder.notify(target.segmentName(), new TransferNotify("flood", big));
                taken.incrementAndGet();
              } catch (TransferException e) {
                assertEquals(ErrorCode.REJECT_HANDSHAKE, e.errorCode(), e.getMessage());
                refused.incrementAndGet();
              }
            }
            return null;
          });
        }
        // A real peer's transfers go on while the flood runs.
        byte[] data = new byte[1 << 20];
        Random rnd = new Random(3);
        for (int i = 0; i < 20; i++) {
          rnd.nextBytes(data);
          peer.write(src.address(), data, 0, data.length);
          TransferState s = peer.await(peer.submit(target.segmentName(),
              List.of(TransferRequest.write(src.address(), dst.address(), data.length)), ""));
          assertEquals(TransferState.COMPLETED, s, "transfer " + i);
          assertArrayEquals(data, target.read(dst.address(), data.length), "transfer " + i);
        }
        for (Future<?> f : floods) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(300, taken.get() + refused.get());
      // Each held notification is charged two bytes per char: at most 4 of 1 MiB fit 4 MiB.
      assertTrue(taken.get() <= 4, "taken " + taken);
      assertEquals(refused.get(), target.refusedNotifies());
      List<TransferNotify> held = target.drainNotifies();
      assertEquals(taken.get(), held.size());
      // Drained: room again.
      flooder.notify(target.segmentName(), new TransferNotify("after", "drained"));
      assertEquals(List.of(new TransferNotify("after", "drained")), target.drainNotifies());
    }
  }
}
