package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferNotify;
import io.te4j.api.TransferOpcode;
import io.te4j.core.TransferEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The reference's black-box pair test, ported: an initiator in this JVM against a target engine in
 * a separate JVM process, through the parity face only (its return codes, batch ids and status
 * calls). What every transport must do is {@link io.te4j.testkit.contract.TransportContract}'s;
 * this checks the parity face on top of it, over TCP with P2P metadata.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ParityPairIT {
  private static final long BUFFER = 64L << 20;
  private TargetProcess target;
  private TransferEngine engine;
  private long local;
  private long remote;

  private static String protocol() {
    return "tcp";
  }

  private static String metadata() {
    return "P2PHANDSHAKE";
  }

  @BeforeAll
  void startPair() throws Exception {
    target = TargetProcess.start(protocol(), metadata(), BUFFER);
    engine = new TransferEngine();
    assertEquals(0, engine.initialize(TargetProcess.uniqueHostname(metadata()), metadata(),
        protocol(), ""));
    local = engine.allocateManagedBuffer(BUFFER);
    assertNotEquals(0, local);
    remote = engine.getFirstBufferAddress(target.segment);
    assertEquals(target.bufferAddress, remote, "first buffer address of the target");
  }

  @AfterAll
  void stopPair() throws Exception {
    if (engine != null) {
      engine.close();
    }
    if (target != null) {
      target.close();
    }
  }

  @Test
  void batchSyncHundredEntriesTenRounds() {
    Random rnd = new Random(7);
    for (int round = 0; round < 10; round++) {
      Batch b = Batch.random(rnd, local, remote + (2L << 20));
      b.fill(engine, rnd);
      assertEquals(0, engine.batchTransferSyncWrite(target.segment, b.locals, b.remotes, b.lengths));
      b.clear(engine);
      assertEquals(0, engine.batchTransferSyncRead(target.segment, b.locals, b.remotes, b.lengths));
      b.verify(engine, "round " + round);
    }
  }

  @Test
  void batchAsyncWithStatusTenRounds() {
    Random rnd = new Random(11);
    for (int round = 0; round < 10; round++) {
      Batch b = Batch.random(rnd, local, remote + (4L << 20));
      b.fill(engine, rnd);
      long w = engine.batchTransferAsyncWrite(target.segment, b.locals, b.remotes, b.lengths);
      assertTrue(w > 0, "batch id");
      assertEquals(0, engine.getBatchTransferStatus(List.of(w)));
      b.clear(engine);
      long r = engine.batchTransferAsyncRead(target.segment, b.locals, b.remotes, b.lengths);
      assertTrue(r > 0, "batch id");
      assertEquals(0, engine.getBatchTransferStatus(List.of(r)));
      b.verify(engine, "round " + round);
    }
  }

  @Test
  void submitAndCheckStatus() {
    byte[] data = "submitted write".getBytes();
    engine.writeBytesToBuffer(local, data, data.length);
    long id = engine.transferSubmitWrite(target.segment, local, remote + (6L << 20), data.length);
    assertTrue(id > 0);
    int status;
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while ((status = engine.transferCheckStatus(id)) == 0 && System.nanoTime() < until) {
      Thread.onSpinWait();
    }
    assertEquals(1, status);
    assertEquals(io.te4j.api.ErrorCode.INVALID_BATCH_ID.code(), engine.transferCheckStatus(id),
        "a finished id is freed");
    assertEquals(io.te4j.api.ErrorCode.INVALID_BATCH_ID.code(), engine.transferCheckStatus(987654321));
  }

  @Test
  void unreachablePeerFailsWithoutHanging() {
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      long id = engine.batchTransferAsyncWrite("unreachable_peer:9", List.of(local), List.of(remote),
          List.of(64L));
      assertTrue(id <= 0, "batch id for an unreachable peer: " + id);
      long sid = engine.transferSubmitWrite("unreachable_peer:9", local, remote, 64);
      if (sid > 0) {
        int s;
        while ((s = engine.transferCheckStatus(sid)) == 0) {
          Thread.sleep(1);
        }
        assertEquals(-1, s);
      } else {
        assertTrue(sid < 0);
      }
    });
  }

  @Test
  void probes() {
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      assertEquals(0, engine.sendProbe(target.segment));
      assertNotEquals(0, engine.sendProbe("unreachable_peer:9"));
    });
  }

  @Test
  void notifyArrivesAfterTheData() throws Exception {
    byte[] data = "with notify".getBytes();
    engine.writeBytesToBuffer(local, data, data.length);
    assertEquals(0, engine.transferSync(target.segment, local, remote + (8L << 20), data.length,
        TransferOpcode.WRITE, new TransferNotify("n1", "hello")));
    String line = target.jvm.nextLine(Duration.ofSeconds(10));
    assertEquals("NOTIFY n1 hello", line);
  }

  @Test
  void mismatchedListsAreAnError() {
    assertTrue(engine.batchTransferSyncWrite(target.segment, List.of(local, local), List.of(remote),
        List.of(8L, 8L)) < 0);
  }

  /** 100 entries at a 1 KiB stride, 32 to 128 bytes each. */
  private static final class Batch {
    final List<Long> locals = new ArrayList<>();
    final List<Long> remotes = new ArrayList<>();
    final List<Long> lengths = new ArrayList<>();
    final List<byte[]> data = new ArrayList<>();

    static Batch random(Random rnd, long local, long remote) {
      Batch b = new Batch();
      for (int i = 0; i < 100; i++) {
        b.locals.add(local + i * 1024L);
        b.remotes.add(remote + i * 1024L);
        b.lengths.add(32L + rnd.nextInt(97));
      }
      return b;
    }

    void fill(TransferEngine e, Random rnd) {
      data.clear();
      for (int i = 0; i < locals.size(); i++) {
        byte[] d = new byte[lengths.get(i).intValue()];
        rnd.nextBytes(d);
        data.add(d);
        assertEquals(0, e.writeBytesToBuffer(locals.get(i), d, d.length));
      }
    }

    void clear(TransferEngine e) {
      for (int i = 0; i < locals.size(); i++) {
        assertEquals(0, e.writeBytesToBuffer(locals.get(i), new byte[data.get(i).length],
            data.get(i).length));
      }
    }

    void verify(TransferEngine e, String what) {
      for (int i = 0; i < locals.size(); i++) {
        assertArrayEquals(data.get(i), e.readBytesFromBuffer(locals.get(i), data.get(i).length),
            what + " entry " + i);
      }
    }
  }
}
