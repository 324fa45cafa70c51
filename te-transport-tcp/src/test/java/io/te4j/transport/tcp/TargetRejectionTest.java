package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.PeerAccess;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferState;
import io.te4j.testkit.DeviceRegion;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The target's gate: a range must lie wholly inside one registered, remote-accessible region
 * (unsigned, overflow-safe). Rejected requests never touch memory, and the initiator carries on.
 */
@Timeout(60)
class TargetRejectionTest {
  private static final long A = 0x2000_0000L; // remote-accessible
  private static final long B = A + 0x1_0000L; // adjacent to A, remote-accessible
  private static final long C = 0x3000_0000L; // local only
  private static final long TOP = 0xFFFF_FFFF_FFFF_0000L; // ends exactly at 2^64
  private static final long D = 0x4000_0000L; // device memory: no host view
  private static final long RO = 0x5100_0000L; // peers may only read it
  private static final long WO = 0x5200_0000L; // peers may only write it
  private static final int LEN = 0x1_0000;

  private final Random rnd = new Random(3);
  private final List<TestRegion> regions = new ArrayList<>();
  private TcpTransport target;

  @BeforeEach
  void setUp() throws Exception {
    TestMemory memory = new TestMemory();
    regions.add(memory.add(A, LEN, true));
    regions.add(memory.add(B, LEN, true));
    regions.add(memory.add(C, LEN, false));
    regions.add(memory.add(TOP, LEN, true));
    regions.add(memory.add(RO, LEN, PeerAccess.READ_ONLY));
    regions.add(memory.add(WO, LEN, PeerAccess.WRITE_ONLY));
    memory.add(new DeviceRegion(D, LEN, "fakegpu:0", true));
    for (TestRegion r : regions) {
      r.put(r.address(), TcpTestSupport.random(rnd, LEN));
    }
    target = TcpTestSupport.started(new TestContext(memory));
  }

  @AfterEach
  void tearDown() {
    target.close();
  }

  private List<byte[]> snapshot() {
    List<byte[]> s = new ArrayList<>();
    for (TestRegion r : regions) {
      s.add(r.snapshot());
    }
    return s;
  }

  private void assertUntouched(List<byte[]> before) {
    for (int i = 0; i < regions.size(); i++) {
      assertArrayEquals(before.get(i), regions.get(i).snapshot(), "region " + i);
    }
  }

  static Stream<Arguments> badRanges() {
    return Stream.of(
        Arguments.of("outside any region", 0x5000_0000L, 16L),
        Arguments.of("just past the end of A and B", B + LEN - 8, 16L),
        Arguments.of("spanning adjacent regions A and B", B - 8, 16L),
        Arguments.of("region that is not remote-accessible", C, 16L),
        Arguments.of("device memory, which has no host view", D, 16L),
        Arguments.of("start inside A, end wraps to inside A", A + 16, -8L),
        Arguments.of("start inside TOP, end wraps past 2^64", TOP + 0x100, 0x1_0000L),
        Arguments.of("start just below A", A - 1, 2L));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRanges")
  void v2RejectsWithStatusOneAndTouchesNothing(String what, long addr, long size)
      throws Exception {
    for (int opcode : new int[] {0x81, 0x80}) {
      List<byte[]> before = snapshot();
      try (RawClient c = new RawClient(target.dataPort())) {
        // A WRITE's payload follows (bounded here for the huge wrapped sizes): it must be dropped.
        byte[] payload = opcode == 0x81 ? TcpTestSupport.random(rnd, 64) : new byte[0];
        c.send(RawWire.header(size, addr, opcode), payload);
        assertArrayEquals(RawWire.STATUS_REJECTED, c.read(8), what);
        assertTrue(c.closedByPeer(), what);
      }
      assertUntouched(before);
      // The same initiator goes on with a valid transfer on a new connection.
      try (RawClient c = new RawClient(target.dataPort())) {
        byte[] data = TcpTestSupport.random(rnd, 32);
        c.send(RawWire.header(32, A + 64, 0x81), data);
        assertArrayEquals(RawWire.STATUS_OK, c.read(8));
        assertArrayEquals(data, regions.get(0).get(A + 64, 32));
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRanges")
  void v1ClosesWithoutAnswer(String what, long addr, long size) throws Exception {
    List<byte[]> before = snapshot();
    try (RawClient c = new RawClient(target.dataPort())) {
      c.send(RawWire.header(size, addr, 0x01), TcpTestSupport.random(rnd, 64));
      assertTrue(c.closedByPeer(), what);
    }
    assertUntouched(before);
  }

  @Test
  void eachRegionServesOnlyTheAccessItAllowsPeers() throws Exception {
    // Refused, v2 and v1: a WRITE into the read-only region, a READ of the write-only one.
    for (long[] refused : new long[][] {{RO, 0x81}, {RO, 0x01}, {WO, 0x80}, {WO, 0x00}}) {
      List<byte[]> before = snapshot();
      try (RawClient c = new RawClient(target.dataPort())) {
        boolean write = (refused[1] & 0x7F) == 1;
        c.send(RawWire.header(32, refused[0] + 64, (int) refused[1]),
            write ? TcpTestSupport.random(rnd, 32) : new byte[0]);
        String what = Long.toHexString(refused[1]) + " at " + Long.toHexString(refused[0]);
        if ((refused[1] & 0x80) != 0) {
          assertArrayEquals(RawWire.STATUS_REJECTED, c.read(8), what);
        }
        assertTrue(c.closedByPeer(), what);
      }
      assertUntouched(before);
    }
    // Served: a READ of the read-only region, a WRITE into the write-only one.
    try (RawClient c = new RawClient(target.dataPort())) {
      c.send(RawWire.header(32, RO + 64, 0x80));
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertArrayEquals(regions.get(4).get(RO + 64, 32), c.read(32));
      byte[] data = TcpTestSupport.random(rnd, 32);
      c.send(RawWire.header(32, WO + 64, 0x81), data);
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertArrayEquals(data, regions.get(5).get(WO + 64, 32));
    }
  }

  @Test
  void zeroSizeIsOkAndTouchesNothing() throws Exception {
    List<byte[]> before = snapshot();
    try (RawClient c = new RawClient(target.dataPort())) {
      c.send(RawWire.header(0, 0x5000_0000L, 0x81)); // no region there: zero size is still OK
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      c.send(RawWire.header(0, C, 0x80));
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertUntouched(before);
      byte[] data = TcpTestSupport.random(rnd, 8);
      c.send(RawWire.header(8, TOP + LEN - 8, 0x81), data); // the very last 8 bytes below 2^64
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertArrayEquals(data, regions.get(3).get(TOP + LEN - 8, 8));
    }
  }

  // ---- the same through our initiator

  private TcpTransport initiator(TestMemory memory, int lanes) {
    return new TcpTransport(
        new TestContext(memory).set(TcpTransport.LANES_SETTING, Integer.toString(lanes)));
  }

  @Test
  void initiatorSeesRejectionAndGoesOn() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(0x1000_0000L, 1 << 20, true);
    SegmentDescriptor d = TcpTestSupport.descriptorOf(target);
    try (TcpTransport i = initiator(memory, 1)) {
      List<byte[]> before = snapshot();
      TestSlice bad = TestSlice.write(local, 0x1000_0000L, d, B - 8, 16, 20_000);
      i.submit(bad);
      TestSlice.Outcome o = bad.await(10_000);
      assertEquals(TransferState.FAILED, o.state());
      assertEquals(ErrorCode.TRANSFER_FAILED, o.code());
      assertTrue(o.message().contains("127.0.0.1:" + target.dataPort()), o.message());
      assertTrue(o.message().contains("0x" + Long.toHexString(B - 8)), o.message());
      assertTrue(o.message().contains("16 bytes"), o.message());
      assertUntouched(before);
      byte[] data = TcpTestSupport.random(rnd, 100);
      local.put(0x1000_0000L, data);
      TestSlice good = TestSlice.write(local, 0x1000_0000L, d, A, 100, 20_000);
      i.submit(good);
      assertTrue(good.await(10_000).ok());
      assertArrayEquals(data, regions.get(0).get(A, 100));
    }
  }

  /** Valid slices pipelined behind a rejected one on the same connection are sent again. */
  @Test
  void slicesBehindARejectionAreResubmitted() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(0x1000_0000L, 1 << 20, true);
    byte[] data = TcpTestSupport.random(rnd, 40 * 1024);
    local.put(0x1000_0000L, data);
    SegmentDescriptor d = TcpTestSupport.descriptorOf(target);
    try (TcpTransport i = initiator(memory, 1)) {
      for (int round = 0; round < 5; round++) {
        List<TestSlice> good = new ArrayList<>();
        List<TestSlice> all = new ArrayList<>();
        for (int k = 0; k < 40; k++) {
          TestSlice s;
          if (k == 10) {
            s = TestSlice.write(local, 0x1000_0000L, d, C, 1024, 20_000); // not remote-accessible
          } else {
            s = TestSlice.write(local, 0x1000_0000L + k * 1024L, d, A + k * 1024L, 1024, 20_000);
            good.add(s);
          }
          all.add(s);
        }
        all.forEach(i::submit);
        assertEquals(TransferState.FAILED, all.get(10).await(10_000).state());
        for (TestSlice s : good) {
          TestSlice.Outcome o = s.await(10_000);
          assertTrue(o.ok(), o.toString());
          assertEquals(1, s.ends());
          int off = (int) (s.targetOffset() - A);
          byte[] expected = java.util.Arrays.copyOfRange(data, off, off + 1024);
          assertArrayEquals(expected, regions.get(0).get(s.targetOffset(), 1024));
        }
      }
    }
  }

  @Test
  void hugeRejectedWriteFailsQuickly() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(0x1000_0000L, 32 << 20, true);
    SegmentDescriptor d = TcpTestSupport.descriptorOf(target);
    try (TcpTransport i = initiator(memory, 1)) {
      List<byte[]> before = snapshot();
      TestSlice bad = TestSlice.write(local, 0x1000_0000L, d, A, 32 << 20, 30_000);
      i.submit(bad);
      TestSlice.Outcome o = bad.await(3_000); // throws TimeoutException if it takes longer
      assertEquals(TransferState.FAILED, o.state(), o.toString());
      assertEquals(ErrorCode.TRANSFER_FAILED, o.code(), o.toString());
      assertUntouched(before);
      TestSlice good = TestSlice.write(local, 0x1000_0000L, d, A, 4096, 20_000);
      i.submit(good);
      assertTrue(good.await(10_000).ok());
    }
  }
}
