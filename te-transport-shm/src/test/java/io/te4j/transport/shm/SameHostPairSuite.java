package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The pair conformance suite for same-host transports: an initiator engine in this JVM, a target
 * engine in a child JVM ({@link PeerMain}), every transfer pinned to the transport under test and
 * checked to have gone through it. The target's memory is checked by the target process itself.
 * The last test kills the target mid-stream.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public abstract class SameHostPairSuite {
  protected static final long BUFFER = 64L << 20;
  private static final int VISIBLE = 2_400_000;

  protected PeerProcess target;
  protected Engine engine;
  protected long local;
  protected long remote;

  /** The transport under test: {@code cxl} or {@code shm}. */
  protected abstract String transport();

  /** Starts the target process and this JVM's engine; sets {@link #local}. */
  protected abstract void startPair() throws Exception;

  /** Releases what {@link #startPair} made beyond the engine and the target. */
  protected void cleanUp() throws Exception {}

  @BeforeAll
  void setUp() throws Exception {
    startPair();
    remote = target.peerAddress;
    assertEquals(remote, engine.segment(target.segment).buffers().get(0).address(),
        "the target's first published buffer");
  }

  @AfterAll
  void tearDown() throws Exception {
    if (engine != null) {
      engine.close();
    }
    if (target != null) {
      target.close();
    }
    cleanUp();
  }

  Batch run(TransferRequest... requests) {
    long before = engine.metrics().batchesVia(transport());
    Batch b = engine.submit(target.segment, List.of(requests), transport());
    engine.await(b);
    engine.freeBatch(b.id());
    assertTrue(engine.metrics().batchesVia(transport()) > before, "went through " + transport());
    assertEquals(0, engine.metrics().batchesVia("tcp"), "no batch went through tcp");
    return b;
  }

  private long targetCrc(long offset, int length) throws Exception {
    target.jvm.send("CRC " + offset + " " + length);
    String line = target.jvm.nextLine(Duration.ofSeconds(30));
    assertNotNull(line, "target answered");
    assertTrue(line.startsWith("CRC "), line);
    return Long.parseLong(line.substring(4));
  }

  private static long crc(byte[] b) {
    CRC32 c = new CRC32();
    c.update(b);
    return c.getValue();
  }

  @Test
  @Order(1)
  void thousandRoundTripsOfRandomStrings() {
    Random rnd = new Random(42);
    for (int i = 0; i < 1000; i++) {
      byte[] data = new byte[16 + rnd.nextInt(241)];
      for (int j = 0; j < data.length; j++) {
        data[j] = (byte) ('a' + rnd.nextInt(26));
      }
      long at = remote + rnd.nextInt(1 << 20);
      engine.write(local, data, 0, data.length);
      assertEquals(TransferState.COMPLETED,
          run(TransferRequest.write(local, at, data.length)).state(), "write " + i);
      engine.write(local, new byte[data.length], 0, data.length);
      assertEquals(TransferState.COMPLETED,
          run(TransferRequest.read(local, at, data.length)).state(), "read " + i);
      assertArrayEquals(data, engine.read(local, data.length), "round trip " + i);
    }
  }

  @Test
  @Order(2)
  void batchesOfHundredEntriesTenRounds() {
    Random rnd = new Random(7);
    for (int round = 0; round < 10; round++) {
      List<TransferRequest> writes = new ArrayList<>();
      List<TransferRequest> reads = new ArrayList<>();
      List<byte[]> data = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        byte[] d = new byte[32 + rnd.nextInt(97)];
        rnd.nextBytes(d);
        data.add(d);
        long l = local + i * 1024L;
        long r = remote + (2L << 20) + i * 1024L;
        engine.write(l, d, 0, d.length);
        writes.add(TransferRequest.write(l, r, d.length));
        reads.add(TransferRequest.read(l, r, d.length));
      }
      assertEquals(TransferState.COMPLETED,
          run(writes.toArray(new TransferRequest[0])).state());
      for (int i = 0; i < 100; i++) {
        engine.write(local + i * 1024L, new byte[data.get(i).length], 0, data.get(i).length);
      }
      assertEquals(TransferState.COMPLETED, run(reads.toArray(new TransferRequest[0])).state());
      for (int i = 0; i < 100; i++) {
        assertArrayEquals(data.get(i), engine.read(local + i * 1024L, data.get(i).length),
            "round " + round + " entry " + i);
      }
    }
  }

  /**
   * 400 writes of 2.4 MB while three threads write elsewhere; after each COMPLETED the target
   * process reads its own memory and must see exactly the bytes written.
   */
  @Test
  @Order(3)
  void completedWritesAreVisibleToTheTargetProcess() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService noise = Executors.newFixedThreadPool(3);
    try {
      List<Future<?>> noisy = new ArrayList<>();
      for (int t = 1; t <= 3; t++) {
        long off = t * (8L << 20);
        noisy.add(noise.submit(() -> {
          while (!stop.get()) {
            Batch b = engine.submit(target.segment,
                List.of(TransferRequest.write(local + off, remote + off, VISIBLE)), transport());
            assertEquals(TransferState.COMPLETED, engine.await(b));
            engine.freeBatch(b.id());
          }
          return null;
        }));
      }
      Random rnd = new Random(1);
      byte[] data = new byte[VISIBLE];
      for (int i = 0; i < 400; i++) {
        rnd.nextBytes(data);
        engine.write(local, data, 0, VISIBLE);
        assertEquals(TransferState.COMPLETED,
            run(TransferRequest.write(local, remote, VISIBLE)).state(), "write " + i);
        assertEquals(crc(data), targetCrc(0, VISIBLE), "target sees write " + i);
      }
      stop.set(true);
      for (Future<?> f : noisy) {
        f.get();
      }
    } finally {
      stop.set(true);
      noise.shutdownNow();
    }
  }

  @Test
  @Order(4)
  void rangesTheTargetDidNotPublishAreRejected() throws Exception {
    long before = targetCrc(BUFFER - 4096, 4096);
    engine.write(local, new byte[8192], 0, 8192);
    // Straddles the end of the published buffer; starts past it; wraps around 2^64.
    for (long at : new long[] {remote + BUFFER - 100, remote + BUFFER, remote - 4096}) {
      Batch b = engine.submit(target.segment, List.of(TransferRequest.write(local, at, 4096)),
          transport());
      assertEquals(TransferState.FAILED, engine.await(b), "at " + at);
      assertTrue(b.errorCode() == ErrorCode.ADDRESS_NOT_REGISTERED
          || b.errorCode() == ErrorCode.INVALID_ARGUMENT, "at " + at + ": " + b.errorCode());
    }
    assertEquals(before, targetCrc(BUFFER - 4096, 4096), "nothing written");
  }

  @Test
  @Order(5)
  void notifyArrivesAfterTheData() throws Exception {
    byte[] data = "with notify".getBytes();
    engine.write(local, data, 0, data.length);
    assertEquals(TransferState.COMPLETED,
        run(TransferRequest.write(local, remote + (8L << 20), data.length)).state());
    engine.notify(target.segment, new TransferNotify("n1", "hello"));
    assertEquals("NOTIFY n1 hello", target.jvm.nextLine(Duration.ofSeconds(10)));
  }

  @Test
  @Order(6)
  void unreachablePeerFailsWithoutHanging() {
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      Batch b = engine.submit("127.0.0.1:9", List.of(TransferRequest.write(local, remote, 64)),
          transport());
      assertTrue(b.isRejected(), b::toString);
      assertTrue(b.errorCode() == ErrorCode.METADATA || b.errorCode() == ErrorCode.SOCKET_FAIL,
          String.valueOf(b.errorCode()));
    });
  }

  /** The target dies mid-stream: transfers end (no hang, no crash) and later ones fail cleanly. */
  @Test
  @Order(100)
  void targetKilledMidStream() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService writers = Executors.newFixedThreadPool(2);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        long off = t * (16L << 20);
        results.add(writers.submit(() -> {
          int ended = 0;
          while (!stop.get()) {
            try {
              Batch b = engine.submit(target.segment,
                  List.of(TransferRequest.write(local + off, remote + off, 1 << 20)), transport());
              TransferState s = engine.await(b);
              assertTrue(s == TransferState.COMPLETED || s == TransferState.FAILED, s.toString());
              ended++;
            } catch (TransferException e) {
              ended++; // the peer's descriptor is gone: an error, not a hang
            }
          }
          return ended;
        }));
      }
      Thread.sleep(200);
      target.jvm.kill();
      afterTargetDied();
      stop.set(true);
      assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
        for (Future<Integer> f : results) {
          assertTrue(f.get() > 0);
        }
      });
    } finally {
      stop.set(true);
      writers.shutdownNow();
    }
  }

  /** What must hold once the target is dead, checked while the writers still run. */
  protected abstract void afterTargetDied() throws Exception;
}
