package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.TransferEngine;
import io.te4j.core.config.EngineConfig;
import io.te4j.core.transfer.Batch;
import io.te4j.nativelib.NativeMemory;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Safe buffer reuse after a failure: a transfer that timed out while its peer stalled may still be
 * written when the peer wakes up. The engine tells when the buffer is quiescent, its waiting calls
 * return a failure only then, and it refuses to free the batch before.
 */
class QuiescenceIT {
  private static final AtomicInteger NAMES = new AtomicInteger();
  private static final long TIMEOUT_MILLIS = 300;
  private static final int LENGTH = 4096;

  private long memory;

  @BeforeEach
  void map() {
    memory = NativeMemory.mapAnonymous(1 << 20);
  }

  @AfterEach
  void unmap() {
    NativeMemory.unmap(memory, 1 << 20);
  }

  private static EngineConfig.Builder config() {
    return EngineConfig.builder().localHostname("quiet-" + ProcessHandle.current().pid() + "-"
        + NAMES.incrementAndGet()).metadataServer("counting://here").protocol("stall")
        .transferTimeout(Duration.ofMillis(TIMEOUT_MILLIS));
  }

  private static byte[] bytes(long address) {
    byte[] out = new byte[LENGTH];
    NativeMemory.read(address, out, 0, LENGTH);
    return out;
  }

  private static byte[] filled(int value) {
    byte[] b = new byte[LENGTH];
    Arrays.fill(b, (byte) value);
    return b;
  }

  @Test
  void awaitReturnsATimedOutBatchOnlyOnceTheWokenPeerStoppedWriting() throws Exception {
    try (Engine engine = Engine.start(config().build())) {
      engine.register(memory, 1 << 20);
      StallingTransport peer = StallingTransport.of(engine.segmentName());
      Batch b = engine.submit(engine.segmentName(),
          List.of(TransferRequest.read(memory, 0, LENGTH)), "");
      CompletableFuture<TransferState> awaited = CompletableFuture.supplyAsync(() -> engine.await(b));
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (b.state() == TransferState.PENDING && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      assertEquals(TransferState.TIMEOUT, b.state(), "ended at its deadline and grace");
      assertFalse(b.isQuiescent(), "the stalled peer still holds its slice");
      assertFalse(engine.isSettled(b));
      Thread.sleep(100);
      assertFalse(awaited.isDone(), "await does not report the timeout while the peer may write");
      TransferException busy = assertThrows(TransferException.class,
          () -> engine.freeBatch(b.id()));
      assertEquals(ErrorCode.BATCH_BUSY, busy.errorCode());

      peer.wakeUp((byte) 9); // its late answer lands in the buffer
      assertEquals(TransferState.TIMEOUT, awaited.get(5, TimeUnit.SECONDS));
      assertTrue(b.isQuiescent());
      assertTrue(engine.isSettled(b));
      engine.freeBatch(b.id());

      // Reused now: nothing writes it any more.
      NativeMemory.write(memory, filled(0x33), 0, LENGTH);
      peer.wakeUp((byte) 9);
      assertArrayEquals(filled(0x33), bytes(memory));
    }
  }

  @Test
  void aPeerThatNeverAnswersIsWaitedForOneTransferTimeoutMore() throws Exception {
    try (Engine engine = Engine.start(config().build())) {
      engine.register(memory, 1 << 20);
      Batch b = engine.submit(engine.segmentName(),
          List.of(TransferRequest.write(memory, 0, LENGTH)), "");
      long start = System.nanoTime();
      assertEquals(TransferState.TIMEOUT, engine.await(b));
      long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(waitedMillis >= TIMEOUT_MILLIS + 1_000 + TIMEOUT_MILLIS - 50,
          "returned after " + waitedMillis + " ms");
      assertFalse(b.isQuiescent());
      assertTrue(engine.isSettled(b), "the engine stops waiting for a transport that holds on");
      engine.freeBatch(b.id());
      assertEquals(null, engine.batch(b.id()));
    }
  }

  @Test
  void theParityStatusReportsATimeoutOnlyOnceTheBufferIsQuiescent() throws Exception {
    TransferEngine te = new TransferEngine();
    assertEquals(0, te.initialize(config()));
    try {
      te.registerMemory(memory, 1 << 20);
      String self = te.getEngine().segmentName();
      long id = te.transferSubmitWrite(self, memory, 0, LENGTH);
      assertTrue(id > 0);
      Thread.sleep(TIMEOUT_MILLIS + 1_200); // past the deadline and its grace
      assertEquals(TransferEngine.STATUS_RUNNING, te.transferCheckStatus(id),
          "ended TIMEOUT, but the peer may still read the buffer");
      StallingTransport.of(self).wakeUp((byte) 1);
      assertEquals(TransferEngine.STATUS_TIMEOUT, te.transferCheckStatus(id));
      assertEquals(ErrorCode.INVALID_BATCH_ID.code(), te.transferCheckStatus(id));
    } finally {
      te.close();
    }
  }
}
