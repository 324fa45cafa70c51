package io.te4j.testkit.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.nativelib.NativeMemory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What every transport must do, checked through the engine a user holds: bytes intact in both
 * directions for every size class, batches, refused ranges left untouched, deadlines, a peer that
 * dies, memory unregistered and an engine closed under load, and a COMPLETED write visible to the
 * target. A transport's test runs it in a few lines: extend this class and open a {@link
 * TransportPair}. The target's memory is checked by the target itself ({@link
 * TransportPair#targetCrc}). The last test kills the target.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public abstract class TransportContract {
  /** Codes a refused range may fail with: the initiator's check or the target's refusal. */
  protected static final Set<ErrorCode> REFUSALS = EnumSet.of(ErrorCode.ADDRESS_NOT_REGISTERED,
      ErrorCode.INVALID_ARGUMENT, ErrorCode.TRANSFER_FAILED);
  private static final long MIB = 1 << 20;
  private static final int VISIBLE = 2_400_000;
  private static final long[] SIZE_CLASSES = {1, 7, 64, 4095, 4096, 4097, 65_539, MIB,
      4 * MIB + 1, 16 * MIB + 5};

  protected TransportPair pair;
  protected Engine engine;
  protected long local;
  protected long remote;

  /** Opens the pair the suite runs against; it is closed after the last test. */
  protected abstract TransportPair openPair() throws Exception;

  @BeforeAll
  void openThePair() throws Exception {
    pair = openPair();
    engine = pair.initiator();
    local = pair.local();
    remote = pair.remote();
    assertTrue(pair.localLength() >= 64 * MIB && pair.remoteLength() >= 64 * MIB,
        "the suite needs 64 MiB on both sides");
  }

  @AfterAll
  void closeThePair() throws Exception {
    if (pair != null) {
      pair.close();
    }
  }

  /** Submits through the transport under test, waits, checks it went that way, frees the batch. */
  protected Batch run(Engine e, List<TransferRequest> requests) {
    String transport = pair.transport();
    long before = e.metrics().batchesVia(transport);
    Batch b = e.submit(pair.segment(), requests, transport);
    e.await(b);
    if (!b.isRejected()) {
      e.freeBatch(b.id());
      assertTrue(e.metrics().batchesVia(transport) > before, "went through " + transport);
    }
    return b;
  }

  protected Batch run(TransferRequest... requests) {
    return run(engine, List.of(requests));
  }

  protected static long crc(byte[] b) {
    CRC32 c = new CRC32();
    c.update(b);
    return c.getValue();
  }

  private static byte[] random(Random rnd, int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  private void assertCompleted(Batch b, String what) {
    assertEquals(TransferState.COMPLETED, b.state(), () -> what + ": " + b.errorCode() + " "
        + b.errorMessage());
  }

  // ------------------------------------------------------------------------------ bytes intact

  @Test
  @Order(1)
  void roundTripsOfEverySizeClass() throws Exception {
    Random rnd = new Random(1);
    for (long size : SIZE_CLASSES) {
      int n = (int) size;
      long offset = rnd.nextInt((int) (32 * MIB - n)) + rnd.nextInt(64);
      byte[] data = random(rnd, n);
      engine.write(local + 1, data, 0, n);
      assertCompleted(run(TransferRequest.write(local + 1, remote + offset, n)), "write " + n);
      assertEquals(crc(data), pair.targetCrc(remote + offset, n), "the target sees " + n);
      engine.write(local + 3, new byte[n], 0, n);
      assertCompleted(run(TransferRequest.read(local + 3, remote + offset, n)), "read " + n);
      assertArrayEquals(data, engine.read(local + 3, n), "round trip of " + n + " bytes");
    }
  }

  @Test
  @Order(2)
  void thousandSmallRoundTrips() {
    Random rnd = new Random(42);
    for (int i = 0; i < 1000; i++) {
      byte[] data = new byte[16 + rnd.nextInt(241)];
      for (int j = 0; j < data.length; j++) {
        data[j] = (byte) ('a' + rnd.nextInt(26));
      }
      long at = remote + rnd.nextInt((int) MIB);
      engine.write(local, data, 0, data.length);
      assertCompleted(run(TransferRequest.write(local, at, data.length)), "write " + i);
      engine.write(local, new byte[data.length], 0, data.length);
      assertCompleted(run(TransferRequest.read(local, at, data.length)), "read " + i);
      assertArrayEquals(data, engine.read(local, data.length), "round trip " + i);
    }
  }

  @Test
  @Order(3)
  void batchesOfHundredEntriesSyncAndThroughTheFuture() throws Exception {
    Random rnd = new Random(7);
    for (int round = 0; round < 10; round++) {
      List<TransferRequest> writes = new ArrayList<>();
      List<TransferRequest> reads = new ArrayList<>();
      List<byte[]> data = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        byte[] d = random(rnd, 32 + rnd.nextInt(97));
        data.add(d);
        long l = local + i * 1024L;
        long r = remote + 2 * MIB + i * 1024L;
        engine.write(l, d, 0, d.length);
        writes.add(TransferRequest.write(l, r, d.length));
        reads.add(TransferRequest.read(l, r, d.length));
      }
      Batch w = run(engine, writes);
      assertCompleted(w, "batch write, round " + round);
      for (int i = 0; i < 100; i++) {
        assertEquals(TransferState.COMPLETED, w.state(i), "entry " + i);
        engine.write(local + i * 1024L, new byte[data.get(i).length], 0, data.get(i).length);
      }
      if (round % 2 == 0) {
        assertCompleted(run(engine, reads), "batch read, round " + round);
      } else {
        engine.transfer(pair.segment(), reads).get(60, TimeUnit.SECONDS);
      }
      for (int i = 0; i < 100; i++) {
        assertArrayEquals(data.get(i), engine.read(local + i * 1024L, data.get(i).length),
            "round " + round + " entry " + i);
      }
    }
  }

  /** A batch far larger than any transport's queues completes: its submitter waits for room. */
  @Test
  @Order(3)
  void aBatchLargerThanTheQueuesFlows() throws Exception {
    int entries = 20_000;
    int block = 64;
    long at = remote + 4 * MIB;
    byte[] data = random(new Random(9), entries * block);
    engine.write(local, data, 0, data.length);
    List<TransferRequest> writes = new ArrayList<>(entries);
    for (int i = 0; i < entries; i++) {
      writes.add(TransferRequest.write(local + (long) i * block, at + (long) i * block, block));
    }
    assertCompleted(run(engine, writes), "a batch of " + entries + " writes");
    assertEquals(crc(data), pair.targetCrc(at, data.length), "the target sees every entry");
  }

  // ------------------------------------------------------------------------------ refusals

  /** Ranges the target never published, and the pair's own: refused, nothing touched. */
  @TestFactory
  @Order(4)
  Stream<DynamicTest> rangesTheTargetDidNotPublishAreRefused() {
    long len = pair.remoteLength();
    List<Rejection> cases = new ArrayList<>(List.of(
        new Rejection("straddling the end of the buffer", remote + len - 100, 4096,
            remote + len - 4096),
        new Rejection("past the end of the buffer", remote + len, 4096, remote + len - 4096),
        new Rejection("straddling the start of the buffer", remote - 2048, 4096, remote),
        new Rejection("wrapping around 2^64", -4096L, 8192, remote)));
    cases.addAll(pair.rejections());
    return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> refused(c)));
  }

  private void refused(Rejection c) throws Exception {
    int n = (int) c.length();
    long before = c.checkAt() < 0 ? 0 : pair.targetCrc(c.checkAt(), 4096);
    byte[] pattern = random(new Random(c.name().hashCode()), n);
    engine.write(local, pattern, 0, n);
    Batch w = run(TransferRequest.write(local, c.address(), n));
    assertEquals(TransferState.FAILED, w.state(), c.name());
    assertTrue(REFUSALS.contains(w.errorCode()), c.name() + ": " + w.errorCode());
    Batch r = run(TransferRequest.read(local, c.address(), n));
    assertEquals(TransferState.FAILED, r.state(), c.name());
    assertTrue(REFUSALS.contains(r.errorCode()), c.name() + ": " + r.errorCode());
    assertArrayEquals(pattern, engine.read(local, n), "a refused READ wrote nothing locally");
    if (c.checkAt() >= 0) {
      assertEquals(before, pair.targetCrc(c.checkAt(), 4096), "a refused WRITE wrote nothing");
    }
    byte[] ok = "after a refusal".getBytes();
    engine.write(local, ok, 0, ok.length);
    assertCompleted(run(TransferRequest.write(local, remote + 4 * MIB, ok.length)),
        "the next transfer");
  }

  @Test
  @Order(5)
  void aBatchReportsWhichEntryFailedAndWhy() throws Exception {
    byte[] a = random(new Random(5), 4096);
    byte[] c = random(new Random(6), 4096);
    engine.write(local, a, 0, a.length);
    engine.write(local + 8192, c, 0, c.length);
    Batch b = run(engine, List.of(
        TransferRequest.write(local, remote + 6 * MIB, 4096),
        TransferRequest.write(local + 4096, remote + pair.remoteLength(), 4096),
        TransferRequest.write(local + 8192, remote + 6 * MIB + 4096, 4096)));
    assertEquals(TransferState.FAILED, b.state());
    assertEquals(1, b.firstFailedEntry(), b::toString);
    assertEquals(TransferState.FAILED, b.state(1));
    assertTrue(REFUSALS.contains(b.errorCode(1)), String.valueOf(b.errorCode(1)));
    assertNotNull(b.errorMessage(1));
    assertEquals(TransferState.COMPLETED, b.state(0), () -> "entry 0: " + b.errorMessage(0));
    assertEquals(TransferState.COMPLETED, b.state(2), () -> "entry 2: " + b.errorMessage(2));
    assertEquals(crc(a), pair.targetCrc(remote + 6 * MIB, 4096));
    assertEquals(crc(c), pair.targetCrc(remote + 6 * MIB + 4096, 4096));
  }

  @Test
  @Order(6)
  void localMemoryNotRegisteredFailsThroughTheFuture() throws Exception {
    long stray = NativeMemory.mapAnonymous(4096);
    try {
      for (TransferRequest bad : List.of(TransferRequest.write(stray, remote, 4096),
          TransferRequest.read(stray, remote, 4096),
          TransferRequest.write(local + pair.localLength() - 100, remote, 4096))) {
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class,
            () -> engine.transfer(pair.segment(), List.of(bad)).get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof TransferException, e.getCause()::toString);
        assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED,
            ((TransferException) e.getCause()).errorCode());
      }
    } finally {
      NativeMemory.unmap(stray, 4096);
    }
  }

  @Test
  @Order(7)
  void unreachableOrUnknownPeersFailThroughTheFuture() {
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      for (String peer : List.of("127.0.0.1:9", "no-such-segment")) {
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class, () -> engine.transfer(peer,
                List.of(TransferRequest.write(local, remote, 64))).get(45, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof TransferException, e.getCause()::toString);
      }
    });
  }

  @Test
  @Order(8)
  void probesAndNotificationsReachTheTargetEngine() throws Exception {
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      assertFalse(engine.probe("127.0.0.1:9"), "nobody answers there");
      if (!pair.targetIsEngine()) {
        return; // a file segment has no engine to probe or notify
      }
      assertTrue(engine.probe(pair.segment()));
      byte[] data = "with notify".getBytes();
      engine.write(local, data, 0, data.length);
      assertCompleted(run(TransferRequest.write(local, remote + 8 * MIB, data.length)), "write");
      engine.notify(pair.segment(), new TransferNotify("n1", "hello"));
      assertEquals("n1 hello", pair.nextNotify(Duration.ofSeconds(10)).orElse("nothing"));
    });
  }

  // ------------------------------------------------------------------------------ under load

  /** After each COMPLETED write the target reads its own memory while three threads write. */
  @Test
  @Order(9)
  void completedWritesAreVisibleToTheTarget() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService noise = Executors.newFixedThreadPool(3);
    try {
      List<Future<?>> noisy = new ArrayList<>();
      for (int t = 1; t <= 3; t++) {
        long off = t * 8 * MIB;
        noisy.add(noise.submit(() -> {
          while (!stop.get()) {
            assertCompleted(run(TransferRequest.write(local + off, remote + off, VISIBLE)),
                "noise");
          }
          return null;
        }));
      }
      Random rnd = new Random(1);
      byte[] data = new byte[VISIBLE];
      for (int i = 0; i < 100; i++) {
        rnd.nextBytes(data);
        engine.write(local, data, 0, VISIBLE);
        assertCompleted(run(TransferRequest.write(local, remote, VISIBLE)), "write " + i);
        assertEquals(crc(data), pair.targetCrc(remote, VISIBLE), "the target sees write " + i);
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

  /**
   * A target that stops answering: a transfer ends by its deadline (or completes, for a transport
   * that needs nothing of the target), exactly once, and the engine works once the target is back.
   */
  @Test
  @Order(10)
  void deadlinesEndTransfersThatCannotFinish() throws Exception {
    Duration timeout = Duration.ofSeconds(2);
    try (Engine e = pair.startInitiator(timeout)) {
      long mine = pair.registerLocal(e, 16 * MIB);
      assertCompleted(run(e, List.of(TransferRequest.write(mine, remote, 4096))), "warm-up");
      pair.pauseTarget();
      List<Batch> batches = new ArrayList<>();
      try {
        long start = System.nanoTime();
        for (TransferRequest r : List.of(TransferRequest.write(mine, remote + 16 * MIB, 16 * MIB),
            TransferRequest.read(mine, remote + 16 * MIB, 16 * MIB))) {
          batches.add(e.submit(pair.segment(), List.of(r), pair.transport()));
        }
        for (Batch b : batches) {
          TransferState s = e.await(b);
          if (transfersNeedTheTarget()) {
            assertEquals(TransferState.TIMEOUT, s, () -> b + ": " + b.errorCode(0) + " "
                + b.errorMessage(0));
          } else {
            assertTrue(s == TransferState.COMPLETED || s == TransferState.TIMEOUT, b::toString);
          }
        }
        long took = System.nanoTime() - start;
        assertTrue(took < timeout.toNanos() + TimeUnit.SECONDS.toNanos(5),
            "ended " + took / 1_000_000 + " ms after submission");
      } finally {
        pair.resumeTarget();
      }
      Thread.sleep(200); // a second end, if any, would come now
      for (Batch b : batches) {
        TransferState s = b.state();
        assertTrue(s == TransferState.COMPLETED || s == TransferState.TIMEOUT, b::toString);
        e.freeBatch(b.id());
      }
      assertCompleted(run(e, List.of(TransferRequest.write(mine, remote, 4096))),
          "a transfer once the target is back");
    }
  }

  /** Memory unregistered while transfers use it: each ends, none hangs, nothing crashes. */
  @Test
  @Order(11)
  void unregisterUnderLoad() throws Exception {
    long mine = pair.registerLocal(engine, 8 * MIB);
    try (Load load = new Load(2, t -> {
      long off = t * 4 * MIB;
      TransferRequest r = t == 0
          ? TransferRequest.write(mine + off, remote + 32 * MIB + off, MIB)
          : TransferRequest.read(mine + off, remote + 32 * MIB + off, MIB);
      Batch b = run(engine, List.of(r));
      assertTrue(b.state() == TransferState.COMPLETED
          || b.errorCode() == ErrorCode.ADDRESS_NOT_REGISTERED
          || b.errorCode() == ErrorCode.TRANSFER_FAILED, b::toString);
    })) {
      Thread.sleep(200);
      assertTimeoutPreemptively(Duration.ofSeconds(60), () -> engine.unregister(mine));
      Thread.sleep(100);
      load.stopAndCheckEachEnded();
      Batch after = run(TransferRequest.write(mine, remote, 4096));
      assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, after.errorCode(0), after::toString);
      assertCompleted(run(TransferRequest.write(local, remote, 4096)), "other memory");
    }
  }

  /** An engine closed while transfers run: each ends, close returns, no thread of it is left. */
  @Test
  @Order(12)
  void closeUnderLoad() throws Exception {
    Engine e = pair.startInitiator(Duration.ofSeconds(30));
    String threadPrefix = "te4j-" + e.segmentName() + "-";
    long mine = pair.registerLocal(e, 8 * MIB);
    assertCompleted(run(e, List.of(TransferRequest.write(mine, remote, 4096))), "warm-up");
    try (Load load = new Load(2, t -> {
      long off = t * 4 * MIB;
      Batch b = e.submit(pair.segment(),
          List.of(TransferRequest.write(mine + off, remote + 40 * MIB + off, MIB)),
          pair.transport());
      TransferState s = e.await(b);
      assertTrue(s == TransferState.COMPLETED || s == TransferState.FAILED, b::toString);
    })) {
      Thread.sleep(200);
      assertTimeoutPreemptively(Duration.ofSeconds(30), e::close);
      load.stopAndCheckEachEnded();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      List<String> left;
      while (!(left = threadsNamed(threadPrefix)).isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(List.of(), left, "threads of the closed engine");
    } finally {
      e.close();
    }
  }

  /**
   * Threads that each repeat one transfer, with its own checks, until stopped: the load of the
   * tests above. Closing stops them.
   */
  private static final class Load implements AutoCloseable {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final ExecutorService pool;
    private final List<Future<Integer>> rounds = new ArrayList<>();

    /** Starts {@code threads} threads; thread {@code t} runs {@code oneTransfer.accept(t)}. */
    Load(int threads, IntConsumer oneTransfer) {
      pool = Executors.newFixedThreadPool(threads);
      for (int t = 0; t < threads; t++) {
        int thread = t;
        rounds.add(pool.submit(() -> {
          int ended = 0;
          while (!stop.get()) {
            oneTransfer.accept(thread);
            ended++;
          }
          return ended;
        }));
      }
    }

    /** Stops the threads: within 60 s each has ended at least one transfer, its checks held. */
    void stopAndCheckEachEnded() {
      stop.set(true);
      assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
        for (Future<Integer> f : rounds) {
          assertTrue(f.get() > 0);
        }
      });
    }

    @Override
    public void close() {
      stop.set(true);
      pool.shutdownNow();
    }
  }

  /** Live threads named {@code prefix...}, each with where it is, for the failure message. */
  private static List<String> threadsNamed(String prefix) {
    List<String> names = new ArrayList<>();
    Thread.getAllStackTraces().forEach((t, stack) -> {
      if (t.isAlive() && t.getName().startsWith(prefix)) {
        StringBuilder where = new StringBuilder(t.getName());
        for (int i = 0; i < Math.min(8, stack.length); i++) {
          where.append("\n    at ").append(stack[i]);
        }
        names.add(where.toString());
      }
    });
    return names;
  }

  // ------------------------------------------------------------------------------ the end

  /** The target dies mid-stream: transfers end (no hang, no crash) and later ones fail cleanly. */
  @Test
  @Order(100)
  void targetDiesMidStream() throws Exception {
    try (Load load = new Load(2, t -> {
      long off = t * 16 * MIB;
      Batch b = engine.submit(pair.segment(),
          List.of(TransferRequest.write(local + off, remote + off, MIB)), pair.transport());
      TransferState s = engine.await(b);
      assertTrue(s == TransferState.COMPLETED || s == TransferState.FAILED
          || s == TransferState.TIMEOUT, b::toString);
    })) {
      Thread.sleep(200);
      pair.killTarget();
      afterTargetDied();
      load.stopAndCheckEachEnded();
      assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
        Batch b = engine.submit(pair.segment(), List.of(TransferRequest.write(local, remote, 64)),
            pair.transport());
        TransferState s = engine.await(b);
        if (targetMemoryDiesWithTarget()) {
          assertEquals(TransferState.FAILED, s, b::toString);
        } else {
          assertTrue(s == TransferState.COMPLETED || s == TransferState.FAILED, b::toString);
        }
      });
    }
  }

  /** What must hold once the target died, checked while writers still run; nothing by default. */
  protected void afterTargetDied() throws Exception {}

  /**
   * True when a transfer cannot finish while the target is {@linkplain TransportPair#pauseTarget
   * paused} (the target moves the bytes or acknowledges them, as over TCP): it must then end
   * TIMEOUT. False (the default) when the initiator moves the bytes alone (shared memory).
   */
  protected boolean transfersNeedTheTarget() {
    return false;
  }

  /**
   * True when the target's memory goes with it, so a transfer after its death must fail; false
   * for memory that outlives its owner (a CXL device), where it may still complete.
   */
  protected boolean targetMemoryDiesWithTarget() {
    return true;
  }
}
