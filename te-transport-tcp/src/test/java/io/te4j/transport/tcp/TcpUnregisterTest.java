package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link TcpTransport#unregistered} returns only when no transport thread touches the region any
 * more: target workers serving a peer's request on it and lanes with slices on it. Real sockets,
 * real threads; "left the copy" is checked on the copying thread's own stack and by bytes that
 * must not land in the region afterwards.
 */
@Timeout(60)
class TcpUnregisterTest {
  private static final long LOCAL = 0x1000_0000L;
  private static final long OTHER = 0x1800_0000L;
  private static final long REMOTE = 0x2000_0000L;
  private static final int SLICE = 4096;

  // ------------------------------------------------------------------ helpers

  /** Polls a condition: not a sleep standing in for synchronization, it checks what it awaits. */
  private static void awaitTrue(BooleanSupplier condition, long millis, String what)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        fail("timed out waiting for " + what);
      }
      Thread.sleep(2);
    }
  }

  /** Calls unregistered() on its own thread; the future holds how long it took, in nanos. */
  /**
   * Calls unregistered() on its own thread; the future holds how long it took, in nanos, and
   * {@code copyingAtReturn} gets {@code copying} sampled the moment it returned (when not null).
   */
  private static CompletableFuture<Long> unregisterAsync(TcpTransport t, TestRegion region,
      BooleanSupplier copying, List<Boolean> copyingAtReturn) {
    return CompletableFuture.supplyAsync(() -> {
      long start = System.nanoTime();
      t.unregistered(region);
      long took = System.nanoTime() - start;
      if (copying != null) {
        copyingAtReturn.add(copying.getAsBoolean()); // sampled the moment unregistered() returned
      }
      return took;
    }, r -> {
      Thread thread = new Thread(r, "test-unregister");
      thread.setDaemon(true);
      thread.start();
    });
  }

  /** True while {@code t} is inside a copy between a socket and registered memory. */
  private static boolean isCopying(Thread t) {
    for (StackTraceElement e : t.getStackTrace()) {
      boolean io = e.getClassName().equals(RegionIo.class.getName())
          || e.getClassName().equals(ReadAhead.class.getName());
      if (io && (e.getMethodName().equals("readIntoRegion")
          || e.getMethodName().equals("writeFromRegion"))) {
        return true;
      }
    }
    return false;
  }

  private static Thread onlyThread(TestContext context, String role) {
    List<Thread> found = new ArrayList<>();
    for (Thread t : context.threads()) {
      if (t.getName().contains(role)) {
        found.add(t);
      }
    }
    assertEquals(1, found.size(), "threads named " + role + ": " + found);
    return found.get(0);
  }

  /** Never zero, so a byte that arrived is told apart from untouched (zeroed) memory. */
  private static byte[] pattern(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ((i + seed) % 251 + 1);
    }
    return b;
  }

  private static boolean allZero(TestRegion region, long address, int length) {
    ByteBuffer b = region.chunk(0).duplicate();
    int from = (int) (address - region.address());
    for (int i = from; i < from + length; i++) {
      if (b.get(i) != 0) {
        return false;
      }
    }
    return true;
  }

  private static void assertUnregisteredFailure(TestSlice s) throws Exception {
    TestSlice.Outcome o = s.await(5_000);
    assertEquals(TransferState.FAILED, o.state(), o.toString());
    assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, o.code(), o.toString());
    assertEquals("local memory unregistered", o.message());
  }

  // ------------------------------------------------------------------ target side

  @Test
  void targetClosesAStalledWriteAtTheTimeoutAndReturnsOnlyAfterTheWorkerLeft() throws Exception {
    int size = 64 << 20;
    int half = size / 2;
    long timeoutMillis = 300;
    TestMemory memory = new TestMemory();
    TestRegion region = memory.add(REMOTE, size, true);
    TestContext context = new TestContext(memory).transferTimeoutMillis(timeoutMillis);
    try (TcpTransport target = TcpTestSupport.started(context);
        RawClient client = new RawClient(target.dataPort())) {
      byte[] first = pattern(half, 1);
      client.send(RawWire.header(size, REMOTE, 0x81), first);
      // The target copied the first half and now waits for the second one.
      awaitTrue(() -> region.get(REMOTE + half - 1, 1)[0] == first[half - 1], 10_000,
          "the first half to land");
      // The connection holds the request, half received, on its I/O thread.
      assertTrue(target.inUse(region), "the target should be mid-request");

      memory.remove(region);
      List<Boolean> copyingAtReturn = new ArrayList<>();
      long took =
          unregisterAsync(target, region, () -> target.inUse(region), copyingAtReturn)
              .get(20, TimeUnit.SECONDS);

      assertEquals(List.of(false), copyingAtReturn, "unregistered() returned mid-copy");
      assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(timeoutMillis),
          "gave up on the copy before the transfer timeout: " + took + " ns");
      // The peer pushes the rest: none of it may reach the region, and no OK status comes back.
      try {
        client.send(pattern(half, 2));
      } catch (IOException expected) {
        // the connection is gone
      }
      assertTrue(client.closedByPeer(), "the aborted WRITE must not be answered");
      assertTrue(allZero(region, REMOTE + half, half), "bytes landed after unregistered()");
      awaitTrue(() -> target.targetConnectionCount() == 0, 5_000, "the worker to end");
    }
  }

  @Test
  void targetWaitsForACopyThatFinishesInTimeAndRefusesTheNextRequest() throws Exception {
    int size = 16 << 20;
    int half = size / 2;
    TestMemory memory = new TestMemory();
    TestRegion region = memory.add(REMOTE, size, true);
    TestContext context = new TestContext(memory); // 30 s transfer timeout
    try (TcpTransport target = TcpTestSupport.started(context);
        RawClient client = new RawClient(target.dataPort())) {
      byte[] data = pattern(size, 3);
      client.send(RawWire.header(size, REMOTE, 0x81));
      client.out.write(data, 0, half);
      client.out.flush();
      awaitTrue(() -> region.get(REMOTE + half - 1, 1)[0] == data[half - 1], 10_000,
          "the first half to land");
      assertTrue(target.inUse(region), "the target should be mid-request");

      memory.remove(region);
      List<Boolean> copyingAtReturn = new ArrayList<>();
      CompletableFuture<Long> unregister =
          unregisterAsync(target, region, () -> target.inUse(region), copyingAtReturn);
      // A negative check: nothing signals "still waiting", so give it a moment to (wrongly) end.
      assertThrows(TimeoutException.class, () -> unregister.get(300, TimeUnit.MILLISECONDS),
          "unregistered() returned while the worker was still copying into the region");

      client.send(java.util.Arrays.copyOfRange(data, half, size));
      assertArrayEquals(RawWire.STATUS_OK, client.read(8));
      unregister.get(10, TimeUnit.SECONDS);
      assertEquals(List.of(false), copyingAtReturn);
      assertArrayEquals(data, region.get(REMOTE, size));

      // The region is gone from the registry: the next request on it is refused, memory untouched.
      client.send(RawWire.header(16, REMOTE, 0x81), new byte[16]);
      assertArrayEquals(RawWire.STATUS_REJECTED, client.read(8));
      assertTrue(client.closedByPeer());
      assertArrayEquals(java.util.Arrays.copyOf(data, 16), region.get(REMOTE, 16));
    }
  }

  @Test
  void unrelatedRegionLeavesTargetCopiesAlone() throws Exception {
    int size = 16 << 20;
    int half = size / 2;
    TestMemory memory = new TestMemory();
    TestRegion region = memory.add(REMOTE, size, true);
    TestRegion adjacent = memory.add(REMOTE + size, 1 << 20, true);
    TestContext context = new TestContext(memory);
    try (TcpTransport target = TcpTestSupport.started(context);
        RawClient client = new RawClient(target.dataPort())) {
      byte[] data = pattern(size, 5);
      client.send(RawWire.header(size, REMOTE, 0x81));
      client.out.write(data, 0, half);
      client.out.flush();
      awaitTrue(() -> region.get(REMOTE + half - 1, 1)[0] == data[half - 1], 10_000,
          "the first half to land");

      memory.remove(adjacent);
      // Returns while the copy into the neighbouring region is still blocked mid-way.
      unregisterAsync(target, adjacent, null, List.of()).get(5, TimeUnit.SECONDS);
      assertTrue(target.inUse(region), "the request on the other region is still held");

      client.send(java.util.Arrays.copyOfRange(data, half, size));
      assertArrayEquals(RawWire.STATUS_OK, client.read(8));
      assertArrayEquals(data, region.get(REMOTE, size));
      client.send(RawWire.header(size, REMOTE, 0x80));
      assertArrayEquals(RawWire.STATUS_OK, client.read(8));
      assertArrayEquals(data, client.read(size));
    }
  }

  /**
   * The race the worker's second lookup closes: the region is unregistered (and unregistered()
   * returns, nobody serving it yet) between the worker's lookup and its copy.
   */
  @Test
  void targetRefusesARequestWhoseRegionIsUnregisteredRightAfterItsLookup() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion region = memory.add(REMOTE, 1 << 20, true);
    AtomicReference<Runnable> afterNextLookup = new AtomicReference<>();
    MemoryRegistry racing = new MemoryRegistry() {
      @Override
      public MemoryRegion find(long address, long length) {
        MemoryRegion found = memory.find(address, length);
        Runnable r = afterNextLookup.getAndSet(null);
        if (r != null) {
          r.run(); // on the worker thread, after its lookup and before it touches memory
        }
        return found;
      }

      @Override
      public List<MemoryRegion> regions() {
        return memory.regions();
      }
    };
    try (TcpTransport target = TcpTestSupport.started(new TestContext(racing));
        RawClient client = new RawClient(target.dataPort())) {
      CompletableFuture<Void> unregistered = new CompletableFuture<>();
      afterNextLookup.set(() -> {
        memory.remove(region);
        target.unregistered(region);
        unregistered.complete(null);
      });
      client.send(RawWire.header(SLICE, REMOTE, 0x81), pattern(SLICE, 13));
      assertArrayEquals(RawWire.STATUS_REJECTED, client.read(8));
      assertTrue(client.closedByPeer());
      unregistered.get(5, TimeUnit.SECONDS);
      assertTrue(allZero(region, REMOTE, SLICE), "the worker wrote into unregistered memory");
    }
  }

  // ------------------------------------------------------------------ initiator side

  @Test
  void initiatorFailsQueuedSlicesAndWaitsForThoseInFlight() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion gone = memory.add(LOCAL, 1 << 20, true);
    TestRegion kept = memory.add(OTHER, 1 << 20, true);
    int inFlightEach = TcpTransport.IN_FLIGHT_DEPTH / 2;
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V2, REMOTE, 1 << 20);
        TcpTransport initiator =
            new TcpTransport(new TestContext(memory).set(TcpTransport.LANES_SETTING, "1"))) {
      raw.put(REMOTE, pattern(1 << 20, 7));
      raw.gate = new CountDownLatch(1); // hold every answer
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 2);
      List<TestSlice> inFlightGone = new ArrayList<>();
      List<TestSlice> inFlightKept = new ArrayList<>();
      for (int i = 0; i < inFlightEach; i++) {
        inFlightGone.add(TestSlice.read(gone, LOCAL + i * SLICE, d, REMOTE + i * SLICE, SLICE,
            30_000));
        inFlightKept.add(TestSlice.read(kept, OTHER + i * SLICE, d, REMOTE + i * SLICE, SLICE,
            30_000));
      }
      for (int i = 0; i < inFlightEach; i++) {
        initiator.submit(inFlightGone.get(i));
        initiator.submit(inFlightKept.get(i));
      }
      awaitTrue(() -> initiator.inFlightCount() == TcpTransport.IN_FLIGHT_DEPTH, 5_000,
          "a full in-flight ring");
      // The ring is full: the sender takes the next slice and waits for room with it in hand,
      // the ones after it stay queued.
      long base = inFlightEach * SLICE;
      TestSlice held = TestSlice.read(gone, LOCAL + base, d, REMOTE + base, SLICE, 30_000);
      initiator.submit(held);
      List<TestSlice> queuedGone = new ArrayList<>();
      List<TestSlice> queuedKept = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        long off = base + i * SLICE;
        TestSlice g = TestSlice.read(gone, LOCAL + off, d, REMOTE + off, SLICE, 30_000);
        TestSlice k = TestSlice.read(kept, OTHER + off, d, REMOTE + off, SLICE, 30_000);
        queuedGone.add(g);
        queuedKept.add(k);
        initiator.submit(g);
        initiator.submit(k);
      }
      awaitTrue(() -> initiator.queuedCount() == 6, 5_000, "the sender to hold one slice");

      memory.remove(gone);
      CompletableFuture<Long> unregister = unregisterAsync(initiator, gone, null, List.of());
      assertUnregisteredFailure(held);
      for (TestSlice s : queuedGone) {
        assertUnregisteredFailure(s);
      }
      // A negative check: nothing signals "still waiting", so give it a moment to (wrongly) end.
      assertThrows(TimeoutException.class, () -> unregister.get(300, TimeUnit.MILLISECONDS),
          "unregistered() returned with slices on the region in flight");
      for (TestSlice s : inFlightGone) {
        assertFalse(s.outcome().isDone(),
            "an in-flight slice was ended: " + s.outcome().getNow(null));
      }
      for (TestSlice s : queuedKept) {
        assertFalse(s.outcome().isDone(), "a slice on another region was ended");
      }

      raw.gate.countDown();
      unregister.get(10, TimeUnit.SECONDS);
      for (TestSlice s : inFlightGone) {
        // unregistered() returned, so each must have ended already, and normally.
        assertTrue(s.outcome().isDone(), "unregistered() returned before an in-flight slice ended");
        assertTrue(s.await(0).ok(), s.await(0).toString());
      }
      List<TestSlice> keptAll = new ArrayList<>(inFlightKept);
      keptAll.addAll(queuedKept);
      for (TestSlice s : keptAll) {
        assertTrue(s.await(10_000).ok(), s.await(0).toString());
      }
      byte[] expected = pattern(1 << 20, 7);
      assertArrayEquals(java.util.Arrays.copyOf(expected, inFlightEach * SLICE),
          gone.get(LOCAL, inFlightEach * SLICE));
      for (TestSlice s : keptAll) {
        int off = (int) (s.localAddress() - OTHER);
        assertArrayEquals(java.util.Arrays.copyOfRange(expected, off, off + SLICE),
            kept.get(s.localAddress(), SLICE));
      }
      assertTrue(allZero(gone, LOCAL + base, 4 * SLICE), "a failed slice was read into");
      for (TestSlice s : inFlightGone) {
        assertEquals(1, s.ends());
      }
      for (TestSlice s : queuedGone) {
        assertEquals(1, s.ends());
      }
    }
  }

  @Test
  void initiatorClosesTheLanePastTheTimeoutAndReturnsAfterTheSlicesEnded() throws Exception {
    long timeoutMillis = 300;
    TestMemory memory = new TestMemory();
    TestRegion gone = memory.add(LOCAL, 1 << 20, true);
    TestRegion kept = memory.add(OTHER, 1 << 20, true);
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V2, REMOTE, 1 << 20);
        TcpTransport initiator = new TcpTransport(new TestContext(memory)
            .set(TcpTransport.LANES_SETTING, "1").transferTimeoutMillis(timeoutMillis))) {
      raw.gate = new CountDownLatch(1); // never answers until the test ends
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 2);
      List<TestSlice> all = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        all.add(TestSlice.read(i % 2 == 0 ? gone : kept, (i % 2 == 0 ? LOCAL : OTHER) + i * SLICE,
            d, REMOTE + i * SLICE, SLICE, 30_000));
      }
      all.forEach(initiator::submit);
      awaitTrue(() -> initiator.inFlightCount() == 8, 5_000, "the slices in flight");

      memory.remove(gone);
      long took = unregisterAsync(initiator, gone, null, List.of()).get(20, TimeUnit.SECONDS);
      assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(timeoutMillis),
          "gave up before the transfer timeout: " + took + " ns");
      for (TestSlice s : all) {
        assertTrue(s.outcome().isDone(), "unregistered() returned before an in-flight slice ended");
        TestSlice.Outcome o = s.await(0);
        // Lane mates on the other region share the closed connection and fail with it.
        assertEquals(TransferState.FAILED, o.state(), o.toString());
        assertEquals(ErrorCode.TRANSFER_FAILED, o.code(), o.toString());
        assertEquals(1, s.ends());
      }
      raw.gate.countDown();
      // The lane reconnects for new work on the region that stayed.
      TestSlice after = TestSlice.read(kept, OTHER, d, REMOTE, SLICE, 10_000);
      initiator.submit(after);
      assertTrue(after.await(10_000).ok(), after.await(0).toString());
    }
  }

  /** A peer that answers one READ with status OK and half its data, then stalls. */
  @Test
  void initiatorStopsAStalledReadIntoTheRegionBeforeReturning() throws Exception {
    int size = 16 << 20;
    int half = size / 2;
    long timeoutMillis = 300;
    TestMemory memory = new TestMemory();
    TestRegion gone = memory.add(LOCAL, size, true);
    TestContext context = new TestContext(memory)
        .set(TcpTransport.LANES_SETTING, "1").transferTimeoutMillis(timeoutMillis);
    byte[] data = pattern(size, 9);
    CountDownLatch resume = new CountDownLatch(1);
    CompletableFuture<Boolean> restRefused = new CompletableFuture<>();
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        TcpTransport initiator = new TcpTransport(context)) {
      Thread peer = new Thread(() -> {
        try (Socket s = server.accept()) {
          InputStream in = s.getInputStream();
          OutputStream out = s.getOutputStream();
          RawWire.readFully(in, 24);
          out.write(RawWire.STATUS_OK);
          out.write(data, 0, half);
          out.flush();
          resume.await();
          try {
            out.write(data, half, half);
            out.flush();
            restRefused.complete(in.read() < 0);
          } catch (IOException e) {
            restRefused.complete(true);
          }
        } catch (IOException | InterruptedException e) {
          restRefused.completeExceptionally(e);
        }
      }, "stalling-peer");
      peer.setDaemon(true);
      peer.start();

      TestSlice read = TestSlice.read(gone, LOCAL, RawWire.descriptor(server.getLocalPort(), 2),
          REMOTE, size, 30_000);
      initiator.submit(read);
      awaitTrue(() -> gone.get(LOCAL + half - 1, 1)[0] == data[half - 1], 10_000,
          "the first half to land");
      Thread receiver = onlyThread(context, "tcp-recv");
      assertTrue(isCopying(receiver), "the receiver should be mid-copy");

      memory.remove(gone);
      List<Boolean> copyingAtReturn = new ArrayList<>();
      long took = unregisterAsync(initiator, gone, () -> isCopying(receiver), copyingAtReturn)
          .get(20, TimeUnit.SECONDS);
      assertEquals(List.of(false), copyingAtReturn, "unregistered() returned mid-copy");
      assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(timeoutMillis));
      assertTrue(read.outcome().isDone(), "unregistered() returned before the slice ended");
      TestSlice.Outcome o = read.await(0);
      assertEquals(TransferState.FAILED, o.state(), o.toString());
      assertEquals(ErrorCode.TRANSFER_FAILED, o.code(), o.toString());

      resume.countDown();
      assertTrue(restRefused.get(10, TimeUnit.SECONDS), "the connection should be closed");
      assertTrue(allZero(gone, LOCAL + half, half), "bytes landed after unregistered()");
      peer.join(5_000);
    }
  }

  @Test
  void sliceOnAnUnregisteredRegionIsNeverSent() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion gone = memory.add(LOCAL, 1 << 20, true);
    TestRegion kept = memory.add(OTHER, 1 << 20, true);
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V2, REMOTE, 1 << 20);
        TcpTransport initiator =
            new TcpTransport(new TestContext(memory).set(TcpTransport.LANES_SETTING, "1"))) {
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 2);
      // Connect the lane first, so the late slice would go straight onto the wire.
      TestSlice first = TestSlice.write(kept, OTHER, d, REMOTE, SLICE, 10_000);
      initiator.submit(first);
      assertTrue(first.await(10_000).ok());
      memory.remove(gone);
      initiator.unregistered(gone);
      // A slice the engine cut before the region went away reaches the lane only now.
      TestSlice late = TestSlice.write(gone, LOCAL, d, REMOTE + SLICE, SLICE, 10_000);
      initiator.submit(late);
      assertUnregisteredFailure(late);
      TestSlice next = TestSlice.write(kept, OTHER, d, REMOTE, SLICE, 10_000);
      initiator.submit(next);
      assertTrue(next.await(10_000).ok(), "the lane should carry on");
      assertEquals(2, raw.headers.size(), "a slice on unregistered memory went on the wire");
    }
  }

  @Test
  void unrelatedRegionLeavesInitiatorTransfersAlone() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 1 << 20, true);
    TestRegion adjacent = memory.add(LOCAL + (1 << 20), 1 << 16, true);
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V2, REMOTE, 1 << 20);
        TcpTransport initiator =
            new TcpTransport(new TestContext(memory).set(TcpTransport.LANES_SETTING, "1"))) {
      raw.put(REMOTE, pattern(1 << 20, 11));
      raw.gate = new CountDownLatch(1);
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 2);
      List<TestSlice> all = new ArrayList<>();
      int n = TcpTransport.IN_FLIGHT_DEPTH + 8; // a full ring, one held by the sender, 7 queued
      for (int i = 0; i < n; i++) {
        all.add(TestSlice.read(local, LOCAL + i * SLICE, d, REMOTE + i * SLICE, SLICE, 30_000));
      }
      all.forEach(initiator::submit);
      awaitTrue(() -> initiator.inFlightCount() == TcpTransport.IN_FLIGHT_DEPTH
          && initiator.queuedCount() == 7, 5_000, "a full ring and a queue");

      memory.remove(adjacent);
      unregisterAsync(initiator, adjacent, null, List.of()).get(5, TimeUnit.SECONDS);
      for (TestSlice s : all) {
        assertFalse(s.outcome().isDone(), "a slice on another region was ended");
      }
      raw.gate.countDown();
      byte[] expected = pattern(1 << 20, 11);
      for (TestSlice s : all) {
        assertTrue(s.await(10_000).ok(), s.await(0).toString());
        assertEquals(1, s.ends());
      }
      assertArrayEquals(java.util.Arrays.copyOf(expected, n * SLICE), local.get(LOCAL, n * SLICE));
    }
  }
}
