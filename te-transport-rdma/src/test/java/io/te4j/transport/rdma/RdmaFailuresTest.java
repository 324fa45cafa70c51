package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.transport.rdma.soft.SoftVerbs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Failures of RDMA.md 4.5 C and D over soft verbs, two engines of this JVM with two devices
 * each: a port going down and back, a fatal QP, a stale remote key, an injected RTR failure, a
 * completion queue and QPs far smaller than the work, and a close with work in flight.
 */
class RdmaFailuresTest {
  private static final int MIB = 1 << 20;
  private static Engine a;
  private static Engine b;
  private static long aMem;
  private static long bMem;

  @BeforeAll
  static void start() {
    Map<String, String> settings = Map.of("te4j.rdma.portActiveDelay", "0.2");
    a = RdmaEngines.start(settings, Duration.ofSeconds(20));
    b = RdmaEngines.start(settings, Duration.ofSeconds(20));
    aMem = a.allocate(64L * MIB).address();
    bMem = b.allocate(64L * MIB).address();
  }

  @AfterAll
  static void stop() {
    a.close();
    b.close();
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long end = System.nanoTime() + 5_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < end, "within 5 s: " + what);
      Thread.sleep(10);
    }
  }

  /** Writes {@code count} slices of {@code size} from engine to b, then reads them back: intact. */
  private static void roundTrip(Engine from, long local, int count, int size, long seed) {
    roundTrip(from, local, bMem, count, size, seed);
  }

  private static void roundTrip(Engine from, long local, long remote, int count, int size,
      long seed) {
    byte[] data = new byte[count * size];
    new Random(seed).nextBytes(data);
    from.write(local, data, 0, data.length);
    List<TransferRequest> writes = new ArrayList<>();
    List<TransferRequest> reads = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      writes.add(TransferRequest.write(local + (long) i * size, remote + (long) i * size, size));
      reads.add(TransferRequest.read(local + data.length + (long) i * size,
          remote + (long) i * size, size));
    }
    Batch w = from.submitAndWait(b.segmentName(), writes, "rdma");
    assertEquals(TransferState.COMPLETED, w.state(), w::errorMessage);
    Batch r = from.submitAndWait(b.segmentName(), reads, "rdma");
    assertEquals(TransferState.COMPLETED, r.state(), r::errorMessage);
    assertArrayEquals(data, from.read(local + data.length, data.length));
  }

  @Test
  void aPortDownMovesWorkToTheOtherNicAndItComesBack() throws Exception {
    roundTrip(a, aMem, 8, 64 << 10, 1);
    Nic down = RdmaEngines.transport(a).nics().get(0);
    Nic other = RdmaEngines.transport(a).nics().get(1);
    SoftVerbs.setPort(down.gid, false);
    try {
      await(() -> !down.active, "PORT_ERR takes the NIC out of service");
      long before = down.posted;
      for (int i = 0; i < 10; i++) {
        roundTrip(a, aMem, 16, 64 << 10, 10 + i);
      }
      assertEquals(before, down.posted, "nothing posted on the NIC whose port is down");
      assertTrue(other.posted > 0);
    } finally {
      SoftVerbs.setPort(down.gid, true);
    }
    await(() -> down.active, "PORT_ACTIVE and the delay put it back");
    long before = down.posted;
    for (int i = 0; i < 10 && down.posted == before; i++) {
      roundTrip(a, aMem, 16, 64 << 10, 30 + i);
    }
    assertTrue(down.posted > before, "the NIC takes work again");
  }

  @Test
  void localFaultsMoveWorkToTheOtherNicAndEnoughOfThemTakeTheNicOut() throws Exception {
    try (Engine c = RdmaEngines.start()) {
      long mem = c.allocate(16L * MIB).address();
      roundTrip(c, mem, 4, 4096, 6);
      Nic faulty = RdmaEngines.transport(c).nics().get(0);
      Nic other = RdmaEngines.transport(c).nics().get(1);
      long otherBefore = other.posted;
      SoftVerbs.failLocally(faulty.gid, 40);
      for (int i = 0; i < 8; i++) {
        roundTrip(c, mem, 32, 4096, 60 + i); // every slice completes, failed ones elsewhere
      }
      await(() -> !faulty.active, "32 local failures in a row take the NIC out of service");
      assertFalse(faulty.active);
      assertTrue(other.posted > otherBefore, "the other NIC carried the work");
    }
  }

  @Test
  void aPeerNicThatFailsIsPausedAndItsRailComesBack() throws Exception {
    Map<String, String> settings = Map.of("MC_RDMA_RAIL_PAUSE_SECONDS", "1");
    try (Engine c = RdmaEngines.start(settings, Duration.ofSeconds(20))) {
      long mem = c.allocate(16L * MIB).address();
      roundTrip(c, mem, 16, 4096, 7);
      Nic bad = RdmaEngines.transport(b).nics().get(1);
      SoftVerbs.setPort(bad.gid, false); // the peer's second NIC stops answering
      try {
        roundTrip(c, mem, 32, 4096, 70); // completes: failed slices go to the other peer NIC
        PeerSegment peer = RdmaEngines.transport(c).peer(c.segment(b.segmentName()));
        assertTrue(peer.paused(1), "the rail to the failing peer NIC is paused");
        assertTrue(!peer.paused(0), "the other rail is not");
        java.util.Map<Integer, Long> before = new java.util.HashMap<>();
        for (Nic nic : RdmaEngines.transport(c).nics()) {
          Endpoint e = nic.endpoints.get(bad.nicPath);
          for (int q : e == null ? new int[0] : e.qpNums) {
            before.put(q, SoftVerbs.executed(nic.gid, q));
          }
        }
        roundTrip(c, mem, 32, 4096, 71);
        for (Nic nic : RdmaEngines.transport(c).nics()) {
          Endpoint e = nic.endpoints.get(bad.nicPath);
          for (int q : e == null ? new int[0] : e.qpNums) {
            assertEquals(before.get(q), SoftVerbs.executed(nic.gid, q),
                "nothing goes toward the paused rail (no new endpoint, no work request)");
          }
        }
      } finally {
        SoftVerbs.setPort(bad.gid, true);
      }
      Thread.sleep(2200); // two pauses in a row at most: 1 s, then 2 s
      long served = SoftVerbs.served(bad.gid);
      for (int i = 0; i < 5 && SoftVerbs.served(bad.gid) == served; i++) {
        roundTrip(c, mem, 32, 4096, 72 + i);
      }
      assertTrue(SoftVerbs.served(bad.gid) > served, "the rail is used again after its pause");
    }
  }

  @Test
  void withEveryNicDownTransfersWaitForOneToComeBack() throws Exception {
    Map<String, String> settings = Map.of("te4j.rdma.portActiveDelay", "0.1");
    try (Engine c = RdmaEngines.start(settings, Duration.ofSeconds(20))) {
      long mem = c.allocate(16L * MIB).address();
      roundTrip(c, mem, 4, 4096, 8);
      List<Nic> nics = RdmaEngines.transport(c).nics();
      nics.forEach(n -> SoftVerbs.setPort(n.gid, false));
      await(() -> nics.stream().noneMatch(n -> n.active), "both NICs out of service");
      Thread.sleep(300); // a batch submitted meanwhile waits; one port comes back later
      new Thread(() -> {
        try {
          Thread.sleep(300);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        SoftVerbs.setPort(nics.get(1).gid, true);
      }).start();
      long before = nics.get(1).posted;
      try {
        roundTrip(c, mem, 16, 4096, 80);
      } finally {
        SoftVerbs.setPort(nics.get(0).gid, true);
      }
      assertTrue(nics.get(1).active, "the NIC whose port came back is in service");
      assertTrue(nics.get(1).posted > before, "and carried the waiting batch");
    }
  }

  @Test
  void aGidChangeIsReadAgainRepublishedAndPeersReconnectToTheNewOne() throws Exception {
    try (Engine c = RdmaEngines.start(Map.of(), Duration.ofSeconds(20));
        Engine d = RdmaEngines.start(Map.of(), Duration.ofSeconds(20))) {
      long cMem = c.allocate(8L * MIB).address();
      long dMem = d.allocate(8L * MIB).address();
      byte[] data = new byte[16 * 65536];
      new Random(9).nextBytes(data);
      c.write(cMem, data, 0, data.length);
      List<TransferRequest> writes = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        writes.add(TransferRequest.write(cMem + i * 65536L, dMem + i * 65536L, 65536));
      }
      assertEquals(TransferState.COMPLETED,
          c.submitAndWait(d.segmentName(), writes, "rdma").state());
      Nic moved = RdmaEngines.transport(d).nics().get(0);
      byte[] newGid = moved.gid.clone();
      newGid[15] ^= (byte) 0x5a;
      long servedBefore = SoftVerbs.served(moved.gid);
      SoftVerbs.changeGid(moved.gid, newGid);
      await(() -> java.util.Arrays.equals(moved.gid, newGid), "GID_CHANGE re-reads the GID");
      // The descriptor is published again with the new GID: what a peer fetches now names it.
      String newGidText = Gids.format(newGid);
      await(() -> newGidText.equals(d.localDescriptor().devices().get(0).gid()),
          "the descriptor republished with the new GID");
      assertEquals(newGidText, c.refreshSegment(d.segmentName()).devices().get(0).gid(),
          "a peer reading the segment sees the new GID");
      assertEquals(RdmaEngines.transport(d).nics().get(1).descriptor(),
          d.localDescriptor().devices().get(1), "the other NIC's entry unchanged");
      for (int round = 0; round < 4; round++) {
        Batch w = c.submitAndWait(d.segmentName(), writes, "rdma");
        assertEquals(TransferState.COMPLETED, w.state(), w::errorMessage);
      }
      assertArrayEquals(data, d.read(dMem, data.length));
      assertTrue(SoftVerbs.served(newGid) > servedBefore,
          "the moved NIC serves again, reached at its new GID");
    }
  }

  @Test
  void aFatalQpRetiresItsEndpointAndTheNextTransferReconnects() throws Exception {
    roundTrip(a, aMem, 16, 64 << 10, 2);
    Endpoint victim = null;
    for (Nic nic : RdmaEngines.transport(a).nics()) {
      for (Endpoint e : nic.endpoints.values()) {
        if (e.canPost()) {
          victim = e;
        }
      }
    }
    assertTrue(victim != null, "a connected endpoint");
    Endpoint e = victim;
    SoftVerbs.failQp(e.nic.gid, e.qpNums[0]);
    await(() -> e.state() == Endpoint.State.RETIRED, "QP_FATAL retires the endpoint");
    for (int i = 0; i < 5; i++) {
      roundTrip(a, aMem, 16, 64 << 10, 40 + i);
    }
    Endpoint now = e.nic.endpoints.get(e.peerNicPath);
    if (now != null) {
      assertNotSame(e, now, "a new endpoint for the path");
    }
  }

  @Test
  void aStaleRemoteKeyFailsWithPeerAccessDeniedAndChangesNothing() {
    long extra = io.te4j.nativelib.NativeMemory.mapAnonymous(MIB);
    b.register(extra, MIB);
    a.refreshSegment(b.segmentName()); // a now holds the rkeys of the extra buffer
    byte[] marker = new byte[4096];
    java.util.Arrays.fill(marker, (byte) 0x5a);
    b.write(bMem, marker, 0, marker.length);
    b.unregister(extra);
    Batch w = a.submitAndWait(b.segmentName(),
        List.of(TransferRequest.write(aMem, extra, 4096)), "rdma");
    assertEquals(TransferState.FAILED, w.state());
    assertEquals(ErrorCode.PEER_ACCESS_DENIED, w.errorCode(0), w::errorMessage);
    assertTrue(w.errorMessage(0).contains("remote access error"), w.errorMessage(0));
    assertArrayEquals(marker, b.read(bMem, 4096), "the target's memory is untouched");
    a.refreshSegment(b.segmentName());
    roundTrip(a, aMem, 4, 4096, 3);
  }

  @Test
  void anInjectedRtrFailureCostsOneAttempt() {
    try (Engine c = RdmaEngines.start()) {
      long mem = c.allocate(8L * MIB).address();
      SoftVerbs.failNextRtr(110); // ETIMEDOUT on the first QP to reach RTR
      roundTrip(c, mem, 4, 64 << 10, 4);
      assertFalse(SoftVerbs.rtrFailurePending(), "the failure was met and got past");
    }
  }

  @Test
  void aTinyCqAndShallowQueuesStillDeliverEverything() throws Exception {
    try (Engine c = RdmaEngines.start(Map.of("MC_MAX_CQE_PER_CTX", "16", "MC_MAX_WR", "4"),
        Duration.ofSeconds(30))) {
      long mem = c.allocate(32L * MIB).address();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<?>> runs = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          long local = mem + t * 8L * MIB;
          int seed = t;
          runs.add(pool.submit(() -> roundTrip(c, local, bMem + seed * 2L * MIB, 64, 16 << 10,
              100 + seed)));
        }
        for (Future<?> f : runs) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
      for (Nic nic : RdmaEngines.transport(c).nics()) {
        assertTrue(nic.cqCapacity == 16, "the CQ is as small as asked: " + nic.cqCapacity);
        assertEquals(0, nic.outstanding.get());
      }
    }
  }

  @Test
  void closingWithWorkInFlightEndsItAndLeaksNothing() throws Exception {
    roundTrip(a, aMem, 1, 4096, 5); // b's objects exist before we count
    int before = SoftVerbs.liveObjects();
    Engine c = RdmaEngines.start();
    long mem = c.allocate(32L * MIB).address();
    List<TransferRequest> big = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      big.add(TransferRequest.write(mem + (long) i * MIB, bMem + (long) i * MIB, MIB));
    }
    Batch w = c.submit(b.segmentName(), big, "rdma");
    long start = System.nanoTime();
    c.close();
    assertTrue(System.nanoTime() - start < 10_000_000_000L, "closed in bounded time");
    assertTrue(w.state() == TransferState.COMPLETED || w.state() == TransferState.FAILED,
        w.state()::toString);
    await(() -> SoftVerbs.liveObjects() <= before + countBEndpointObjects(),
        "c's devices, PDs, MRs, CQs and QPs are gone: " + SoftVerbs.live());
  }

  /** b may keep the endpoints c made (retired when used again or evicted): their QPs. */
  private static int countBEndpointObjects() {
    int n = 0;
    for (Nic nic : RdmaEngines.transport(b).nics()) {
      n += nic.endpoints.size() * RdmaEngines.transport(b).qpCount();
    }
    return n;
  }
}
