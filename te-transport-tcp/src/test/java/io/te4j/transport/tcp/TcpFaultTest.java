package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferState;
import io.te4j.api.spi.Backpressure;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Dead, silent, restarted and unreachable peers; deadlines; close; no thread left behind. */
@Timeout(60)
class TcpFaultTest {
  private static final long LOCAL = 0x1000_0000L;
  private static final long REMOTE = 0x2000_0000L;
  private static final Set<ErrorCode> BROKEN_CODES =
      EnumSet.of(ErrorCode.TRANSFER_FAILED, ErrorCode.SOCKET_FAIL, ErrorCode.TRANSFER_TIMEOUT);

  /** Polls a condition: not a sleep standing in for synchronization, it checks what it awaits. */
  private static void awaitTrue(BooleanSupplier condition, long millis, String what)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        fail("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  private static void assertNoThreadsLeft(TestContext context) throws InterruptedException {
    List<Thread> alive = context.aliveThreads(1000);
    assertTrue(alive.isEmpty(), "threads still running after close(): " + alive);
  }

  @Test
  void targetClosedDuringAStream() throws Exception {
    TestMemory targetMemory = new TestMemory();
    targetMemory.add(REMOTE, 4 << 20, true);
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 4 << 20, true);
    TestContext targetContext = new TestContext(targetMemory);
    TcpTransport target = TcpTestSupport.started(targetContext);
    SegmentDescriptor d = TcpTestSupport.descriptorOf(target);
    long timeoutMillis = 5_000;
    try (TcpTransport initiator = new TcpTransport(new TestContext(memory))) {
      List<TestSlice> before = Collections.synchronizedList(new ArrayList<>());
      List<TestSlice> after = Collections.synchronizedList(new ArrayList<>());
      Semaphore window = new Semaphore(16);
      CountDownLatch someDone = new CountDownLatch(20);
      AtomicBoolean closed = new AtomicBoolean();
      Thread producer = new Thread(() -> {
        try {
          for (int i = 0; after.size() < 50; i++) {
            window.acquire();
            int slot = i % 16;
            TestSlice s = TestSlice.write(local, LOCAL + slot * (256 << 10), d,
                REMOTE + slot * (256 << 10), 256 << 10, timeoutMillis);
            s.outcome().whenComplete((o, e) -> {
              window.release();
              if (o.ok()) {
                someDone.countDown();
              }
            });
            (closed.get() ? after : before).add(s);
            initiator.submit(s);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      producer.start();
      assertTrue(someDone.await(20, TimeUnit.SECONDS), "the stream never got going");
      target.close();
      closed.set(true);
      producer.join(20_000);
      assertFalse(producer.isAlive());
      List<TestSlice> all = new ArrayList<>(before);
      all.addAll(after);
      for (TestSlice s : all) {
        TestSlice.Outcome o = s.await(timeoutMillis + 2_000); // every slice ends by its deadline
        assertEquals(1, s.ends());
        if (!o.ok()) {
          assertTrue(o.state() == TransferState.FAILED || o.state() == TransferState.TIMEOUT,
              o.toString());
          assertTrue(BROKEN_CODES.contains(o.code()), o.toString());
        }
      }
      for (TestSlice s : after) {
        assertFalse(s.await(0).ok(), "a write to a closed target cannot complete");
      }
    }
    assertNoThreadsLeft(targetContext);
  }

  @Test
  void refusedConnectFailsFastAndOtherPeersKeepWorking() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      deadPort = s.getLocalPort();
    }
    TestMemory targetMemory = new TestMemory();
    TestRegion remote = targetMemory.add(REMOTE, 1 << 20, true);
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 1 << 20, true);
    try (TcpTransport target = TcpTestSupport.started(new TestContext(targetMemory));
        TcpTransport initiator = new TcpTransport(new TestContext(memory))) {
      SegmentDescriptor dead = RawWire.descriptor(deadPort, 2);
      SegmentDescriptor live = TcpTestSupport.descriptorOf(target);
      List<TestSlice> toDead = new ArrayList<>();
      List<TestSlice> toLive = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        toDead.add(TestSlice.write(local, LOCAL, dead, REMOTE, 1024, 30_000));
        toLive.add(TestSlice.write(local, LOCAL + i * 1024L, live, REMOTE + i * 1024L, 1024,
            30_000));
      }
      local.put(LOCAL, TcpTestSupport.random(new java.util.Random(1), 20 * 1024));
      for (int i = 0; i < 20; i++) {
        initiator.submit(toDead.get(i));
        initiator.submit(toLive.get(i));
      }
      for (TestSlice s : toDead) {
        TestSlice.Outcome o = s.await(2_000); // far inside the 30 s deadline
        assertEquals(TransferState.FAILED, o.state(), o.toString());
        assertEquals(ErrorCode.SOCKET_FAIL, o.code(), o.toString());
        assertTrue(o.message().contains(Integer.toString(deadPort)), o.message());
      }
      for (TestSlice s : toLive) {
        assertTrue(s.await(10_000).ok());
      }
      assertEquals(java.util.Arrays.toString(local.get(LOCAL, 20 * 1024)),
          java.util.Arrays.toString(remote.get(REMOTE, 20 * 1024)));
    }
  }

  @Test
  void unknownHostIsDnsFail() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 4096, true);
    try (TcpTransport initiator = new TcpTransport(new TestContext(memory))) {
      SegmentDescriptor d = SegmentDescriptor.builder("no-such-host.invalid:15001", "tcp")
          .attribute("tcp_data_port", 15002).attribute("tcp_proto_version", 2).build();
      TestSlice s = TestSlice.write(local, LOCAL, d, REMOTE, 16, 30_000);
      initiator.submit(s);
      TestSlice.Outcome o = s.await(25_000);
      assertEquals(TransferState.FAILED, o.state(), o.toString());
      assertEquals(ErrorCode.DNS_FAIL, o.code(), o.toString());
    }
  }

  @Test
  void restartedTargetIsReachedAgain() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 4096, true);
    local.put(LOCAL, new byte[] {1, 2, 3, 4});
    TestMemory firstMemory = new TestMemory();
    firstMemory.add(REMOTE, 4096, true);
    TestContext firstContext = new TestContext(firstMemory);
    TcpTransport first = TcpTestSupport.started(firstContext);
    int port = first.dataPort();
    SegmentDescriptor d = TcpTestSupport.descriptorOf(first);
    try (TcpTransport initiator = new TcpTransport(new TestContext(memory))) {
      TestSlice s1 = TestSlice.write(local, LOCAL, d, REMOTE, 4, 10_000);
      initiator.submit(s1);
      assertTrue(s1.await(10_000).ok());
      first.close();
      assertNoThreadsLeft(firstContext);
      // v2 lanes read even when idle, so they notice the peer left without sending anything.
      awaitTrue(() -> initiator.connectedLaneCount() == 0, 5_000, "lanes to notice the close");

      TestMemory secondMemory = new TestMemory();
      TestRegion second = secondMemory.add(REMOTE, 4096, true);
      try (TcpTransport restarted =
          TcpTestSupport.started(new TestContext(secondMemory).ports(port, port))) {
        assertEquals(port, restarted.dataPort());
        TestSlice s2 = TestSlice.write(local, LOCAL, d, REMOTE, 4, 10_000);
        initiator.submit(s2);
        TestSlice.Outcome o = s2.await(10_000);
        assertTrue(o.ok(), o.toString());
        assertEquals("[1, 2, 3, 4]", java.util.Arrays.toString(second.get(REMOTE, 4)));
      }
    }
  }

  @Test
  void silentTargetTimesOutAndCloseLeavesNoThreads() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 1 << 20, true);
    TestContext context = new TestContext(memory);
    try (RawTarget silent = new RawTarget(RawTarget.Mode.SILENT, REMOTE, 1 << 20)) {
      SegmentDescriptor d = RawWire.descriptor(silent.port(), 2);
      TcpTransport initiator = TcpTestSupport.started(context);
      long deadline = 300;
      TestSlice w = TestSlice.write(local, LOCAL, d, REMOTE, 4096, deadline);
      TestSlice r = TestSlice.read(local, LOCAL, d, REMOTE, 4096, deadline);
      long start = System.nanoTime();
      initiator.submit(w);
      initiator.submit(r);
      for (TestSlice s : List.of(w, r)) {
        TestSlice.Outcome o = s.await(deadline + 1_500);
        assertEquals(TransferState.TIMEOUT, o.state(), o.toString());
        assertEquals(ErrorCode.TRANSFER_TIMEOUT, o.code(), o.toString());
        assertTrue(System.nanoTime() >= start + TimeUnit.MILLISECONDS.toNanos(deadline),
            "timed out before its deadline");
        assertEquals(1, s.ends());
      }
      // Slices still waiting when the transport closes fail at once with ENGINE_CLOSED.
      List<TestSlice> pending = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        pending.add(TestSlice.read(local, LOCAL, d, REMOTE, 4096, 30_000));
      }
      pending.forEach(initiator::submit);
      awaitTrue(() -> silent.headers.size() >= 3, 5_000, "requests to reach the peer");
      initiator.close();
      for (TestSlice s : pending) {
        TestSlice.Outcome o = s.await(2_000);
        assertEquals(TransferState.FAILED, o.state(), o.toString());
        assertEquals(ErrorCode.ENGINE_CLOSED, o.code(), o.toString());
      }
      assertNoThreadsLeft(context);
      initiator.close(); // idempotent
      TestSlice late = TestSlice.read(local, LOCAL, d, REMOTE, 16, 30_000);
      initiator.submit(late);
      assertEquals(ErrorCode.ENGINE_CLOSED, late.await(0).code());
    }
  }

  @Test
  void aPeerThatStallsMidAnswerAndWakesNeverWritesAfterItsSliceEnded() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 1 << 20, true);
    int length = 256 << 10; // beyond the socket buffers: the receiver waits mid-read
    try (RawTarget stalling = new RawTarget(RawTarget.Mode.STALL_MID_READ, REMOTE, 1 << 20);
        TcpTransport initiator = TcpTestSupport.started(new TestContext(memory))) {
      byte[] answer = new byte[length];
      java.util.Arrays.fill(answer, (byte) 0x5A);
      stalling.put(REMOTE, answer);
      SegmentDescriptor d = RawWire.descriptor(stalling.port(), 2);
      TestSlice r = TestSlice.read(local, LOCAL, d, REMOTE, length, 300);
      initiator.submit(r);
      TestSlice.Outcome o = r.await(3_000);
      assertEquals(TransferState.TIMEOUT, o.state(), o.toString());

      // The slice came back: its memory is the caller's again, and it reuses it.
      byte[] reused = new byte[length];
      java.util.Arrays.fill(reused, (byte) 0x11);
      local.put(LOCAL, reused);
      stalling.wake.countDown();
      assertTrue(stalling.answered.await(5, TimeUnit.SECONDS), "the peer woke up and answered");
      Thread.sleep(100); // where a late answer would land if the transport still read it
      assertArrayEquals(reused, local.get(LOCAL, length), "the late answer touched the buffer");
      assertEquals(1, r.ends());
    }
  }

  @Test
  void inFlightTimeoutFailsItsLaneMates() throws Exception {
    TestSlice.Outcome o = laneMateOfATimeout(300, 30_000); // not its deadline: its lane closed
    assertEquals(TransferState.FAILED, o.state(), o.toString());
    assertEquals(ErrorCode.TRANSFER_FAILED, o.code(), o.toString());
  }

  /**
   * Two slices on one lane to a silent peer whose deadlines are 35 ms apart (a stalled target's
   * batches): the first times out and its connection closes; the second, whose deadline falls
   * before the watchdog's next look, ends TIMEOUT too, not FAILED.
   */
  @Test
  void aLaneMateDueWithinTheWatchdogsNextLookTimesOutToo() throws Exception {
    TestSlice.Outcome o = laneMateOfATimeout(300, 335);
    assertEquals(TransferState.TIMEOUT, o.state(), o.toString());
    assertEquals(ErrorCode.TRANSFER_TIMEOUT, o.code(), o.toString());
  }

  /**
   * Reads from a silent peer on one lane, one timing out after {@code firstMillis}, then one
   * after {@code secondMillis}: the second's outcome, once the first timed out.
   */
  private static TestSlice.Outcome laneMateOfATimeout(long firstMillis, long secondMillis)
      throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 1 << 20, true);
    try (RawTarget silent = new RawTarget(RawTarget.Mode.SILENT, REMOTE, 1 << 20);
        TcpTransport initiator =
            new TcpTransport(new TestContext(memory).set(TcpTransport.LANES_SETTING, "1"))) {
      SegmentDescriptor d = RawWire.descriptor(silent.port(), 2);
      TestSlice first = TestSlice.read(local, LOCAL, d, REMOTE, 64, firstMillis);
      TestSlice second = TestSlice.read(local, LOCAL, d, REMOTE, 64, secondMillis);
      initiator.submit(first);
      initiator.submit(second);
      assertEquals(TransferState.TIMEOUT, first.await(2_000).state());
      return second.await(2_000);
    }
  }

  /** An initiator with one lane whose queue holds four slices. */
  private static TcpTransport oneLaneQueuingFour(TestMemory memory) {
    return new TcpTransport(new TestContext(memory)
        .set(TcpTransport.LANES_SETTING, "1")
        .set(TcpTransport.QUEUE_DEPTH_SETTING, "4"));
  }

  private static void assertEachFailedOnce(List<TestSlice> slices) throws Exception {
    for (TestSlice s : slices) {
      assertFalse(s.await(2_000).ok());
      assertEquals(1, s.ends());
    }
  }

  @Test
  void aSubmitterWaitsForRoomUntilTheDeadlineThenTimesOut() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 1 << 20, true);
    try (RawTarget silent = new RawTarget(RawTarget.Mode.SILENT, REMOTE, 1 << 20);
        TcpTransport initiator = oneLaneQueuingFour(memory)) {
      SegmentDescriptor d = RawWire.descriptor(silent.port(), 2);
      List<TestSlice> held = new ArrayList<>();
      // 64 in flight + 1 with the sender + 4 queued: all the lane can hold of a silent peer.
      for (int i = 0; i < TcpTransport.IN_FLIGHT_DEPTH + 1 + 4; i++) {
        TestSlice s = TestSlice.read(local, LOCAL, d, REMOTE, 16, 30_000);
        held.add(s);
        initiator.submit(s);
      }
      awaitTrue(() -> initiator.queuedCount() == 4, 5_000, "the lane to fill");
      TestSlice late = TestSlice.read(local, LOCAL, d, REMOTE, 16, 300);
      initiator.submit(late); // waits for room, which never comes, until its deadline
      assertTrue(late.outcome().isDone(), "submit returned before the slice ended");
      TestSlice.Outcome o = late.await(0);
      assertEquals(TransferState.TIMEOUT, o.state(), o.toString());
      assertEquals(ErrorCode.TRANSFER_TIMEOUT, o.code(), o.toString());
      initiator.close();
      assertEachFailedOnce(held);
    }
  }

  @Test
  void aFullQueueRefusesOnATransportThreadInsteadOfWaiting() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 1 << 20, true);
    try (RawTarget silent = new RawTarget(RawTarget.Mode.SILENT, REMOTE, 1 << 20);
        TcpTransport initiator = oneLaneQueuingFour(memory)) {
      SegmentDescriptor d = RawWire.descriptor(silent.port(), 2);
      List<TestSlice> all = new ArrayList<>();
      AtomicInteger refused = new AtomicInteger();
      // A completion callback runs on a transport thread: submitting from it must never wait.
      Thread callback = Backpressure.transportThreads(Thread::new).newThread(() -> {
        for (int i = 0; i < 100; i++) {
          TestSlice s = TestSlice.read(local, LOCAL, d, REMOTE, 16, 30_000);
          all.add(s);
          initiator.submit(s);
          try {
            if (s.outcome().isDone() && s.await(0).code() == ErrorCode.TOO_MANY_REQUESTS) {
              refused.incrementAndGet(); // refused synchronously, inside submit
            }
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        }
      });
      callback.start();
      callback.join(10_000);
      assertFalse(callback.isAlive(), "a transport thread waited for room");
      // 64 in flight + 1 with the sender + 4 queued can be held; the rest is refused.
      assertTrue(refused.get() >= 100 - (TcpTransport.IN_FLIGHT_DEPTH + 1 + 4),
          "refused " + refused);
      initiator.close();
      assertEachFailedOnce(all);
    }
  }

  @Test
  void slicesBeyondTheQueuesFlowAsRoomFreesUp() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 1 << 20, true);
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V2, REMOTE, 1 << 20);
        TcpTransport initiator = oneLaneQueuingFour(memory)) {
      byte[] pattern = new byte[1 << 16];
      new java.util.Random(7).nextBytes(pattern);
      raw.put(REMOTE, pattern);
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 2);
      List<TestSlice> all = new ArrayList<>();
      for (int i = 0; i < 4096; i++) { // 4096 x 16 bytes: 60 times what the lane holds at once
        TestSlice s = TestSlice.read(local, LOCAL + 16L * i, d, REMOTE + 16L * i, 16, 30_000);
        all.add(s);
        initiator.submit(s);
      }
      for (TestSlice s : all) {
        TestSlice.Outcome o = s.await(10_000);
        assertTrue(o.ok(), o.toString());
      }
      assertArrayEquals(pattern, local.get(LOCAL, pattern.length));
    }
  }

  @Test
  void forgetRetiresLanesWithoutFailingTheirWork() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 1 << 20, true);
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V2, REMOTE, 1 << 20);
        TcpTransport initiator = new TcpTransport(new TestContext(memory))) {
      raw.put(REMOTE, new byte[] {5, 6, 7, 8});
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 2);
      raw.gate = new CountDownLatch(1); // hold every answer
      TestSlice held = TestSlice.read(local, LOCAL, d, REMOTE, 4, 30_000);
      initiator.submit(held);
      awaitTrue(() -> raw.headers.size() == 1, 5_000, "the request to reach the peer");
      assertEquals(2, initiator.liveLaneCount());

      initiator.forget(d.name());
      TestSlice next = TestSlice.read(local, LOCAL + 64, d, REMOTE, 4, 30_000);
      initiator.submit(next);
      // The next slice went out on a fresh connection, while the old one still holds `held`.
      awaitTrue(() -> raw.headers.size() == 2, 5_000, "the second request");
      assertEquals(2, raw.accepted());
      assertFalse(held.outcome().isDone(), "forget() must not fail work in flight");

      raw.gate.countDown();
      assertTrue(held.await(10_000).ok());
      assertTrue(next.await(10_000).ok());
      assertEquals(1, held.ends());
      assertEquals("[5, 6, 7, 8]", java.util.Arrays.toString(local.get(LOCAL + 64, 4)));
      // The retired lanes close once idle; the new peer's two lanes remain.
      awaitTrue(() -> initiator.liveLaneCount() == 2, 5_000, "retired lanes to close");
      awaitTrue(() -> raw.connections() == 1, 5_000, "the old connection to close");
    }
  }
}
