package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferState;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Our initiator against targets written by hand from WIRE.md (plain java.net sockets). */
@Timeout(60)
class RawPeerInteropTest {
  private static final long LOCAL = 0x1000_0000L;
  private static final long BASE = 0x5555_0000_0000L;
  private static final int SIZE = 4 << 20;

  private final Random rnd = new Random(7);
  private TestRegion local;
  private TcpTransport initiator;

  @BeforeEach
  void setUp() {
    TestMemory memory = new TestMemory();
    local = memory.add(LOCAL, 8 << 20, true);
    // One lane: a v1 WRITE completes when its bytes are in the socket, so only the order of one
    // connection makes a following READ see them.
    initiator = new TcpTransport(new TestContext(memory).set(TcpTransport.LANES_SETTING, "1"));
  }

  @AfterEach
  void tearDown() {
    initiator.close();
  }

  private TestSlice.Outcome run(TestSlice s) throws Exception {
    initiator.submit(s);
    TestSlice.Outcome o = s.await(20_000);
    assertEquals(1, s.ends());
    return o;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4096, 1 << 20})
  void v2Target(int n) throws Exception {
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V2, BASE, SIZE)) {
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 2);
      byte[] data = TcpTestSupport.random(rnd, n);
      local.put(LOCAL, data);
      assertTrue(run(TestSlice.write(local, LOCAL, d, BASE + 5, n, 20_000)).ok());
      // v2: COMPLETED means the bytes are in target memory already.
      assertArrayEquals(data, raw.get(BASE + 5, n));
      byte[] other = TcpTestSupport.random(rnd, n);
      raw.put(BASE + 2 * n + 9, other);
      long at = BASE + 2 * n + 9;
      assertTrue(run(TestSlice.read(local, LOCAL + (4 << 20), d, at, n, 20_000)).ok());
      assertArrayEquals(other, local.get(LOCAL + (4 << 20), n));
      assertEquals(0x81, raw.headers.get(0)[16] & 0xFF);
      assertEquals(0x80, raw.headers.get(1)[16] & 0xFF);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4096, 1 << 20})
  void v1Target(int n) throws Exception {
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V1, BASE, SIZE)) {
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 1);
      byte[] data = TcpTestSupport.random(rnd, n);
      local.put(LOCAL, data);
      assertTrue(run(TestSlice.write(local, LOCAL, d, BASE + 3, n, 20_000)).ok());
      // Same connection, served in order: the READ returns what the WRITE put there.
      assertTrue(run(TestSlice.read(local, LOCAL + (4 << 20), d, BASE + 3, n, 20_000)).ok());
      assertArrayEquals(data, local.get(LOCAL + (4 << 20), n));
      assertArrayEquals(data, raw.get(BASE + 3, n));
      assertEquals(0x01, raw.headers.get(0)[16] & 0xFF);
      assertEquals(0x00, raw.headers.get(1)[16] & 0xFF);
    }
  }

  /** The reference's MC_TCP_PROTO=1: version 1 even toward a target that publishes 2. */
  @Test
  void mcTcpProtoOneSpeaksVersionOneToAVersionTwoTarget() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion mine = memory.add(LOCAL, 8 << 20, true);
    TcpTransport v1 = new TcpTransport(new TestContext(memory)
        .set(TcpTransport.LANES_SETTING, "1").set("MC_TCP_PROTO", "1"));
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V1, BASE, SIZE)) {
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 2);
      byte[] data = TcpTestSupport.random(rnd, 4096);
      mine.put(LOCAL, data);
      TestSlice write = TestSlice.write(mine, LOCAL, d, BASE + 3, 4096, 20_000);
      v1.submit(write);
      assertTrue(write.await(20_000).ok());
      TestSlice read = TestSlice.read(mine, LOCAL + (4 << 20), d, BASE + 3, 4096, 20_000);
      v1.submit(read);
      assertTrue(read.await(20_000).ok());
      assertArrayEquals(data, mine.get(LOCAL + (4 << 20), 4096));
      assertEquals(0x01, raw.headers.get(0)[16] & 0xFF, "v1 WRITE, no 0x80 bit");
      assertEquals(0x00, raw.headers.get(1)[16] & 0xFF, "v1 READ");
    } finally {
      v1.close();
    }
  }

  @Test
  void v1PipelinedMix() throws Exception {
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V1, BASE, SIZE)) {
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 1);
      byte[] data = TcpTestSupport.random(rnd, 64 * 1024);
      raw.put(BASE, data);
      List<TestSlice> slices = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        slices.add(TestSlice.read(local, LOCAL + i * 1024L, d, BASE + i * 1024L, 1024, 20_000));
      }
      slices.forEach(initiator::submit);
      for (TestSlice s : slices) {
        assertTrue(s.await(20_000).ok());
      }
      assertArrayEquals(data, local.get(LOCAL, data.length));
    }
  }

  @Test
  void v2RejectionFailsThatSliceAndTheLaneRecovers() throws Exception {
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V2, BASE, SIZE)) {
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 2);
      long outside = BASE + SIZE - 2; // 2 bytes in, 2 bytes out
      TestSlice.Outcome o = run(TestSlice.write(local, LOCAL, d, outside, 4, 20_000));
      assertEquals(TransferState.FAILED, o.state());
      assertEquals(ErrorCode.TRANSFER_FAILED, o.code());
      assertTrue(o.message().contains("127.0.0.1:" + raw.port()), o.message());
      assertTrue(o.message().contains(Long.toHexString(outside)), o.message());
      assertTrue(o.message().contains(" 4 bytes"), o.message());
      local.put(LOCAL, new byte[] {1, 2, 3, 4});
      assertTrue(run(TestSlice.write(local, LOCAL, d, BASE, 4, 20_000)).ok());
      assertArrayEquals(new byte[] {1, 2, 3, 4}, raw.get(BASE, 4));
    }
  }

  @Test
  void v2BadMagicIsAProtocolErrorAndTheLaneRecovers() throws Exception {
    try (RawTarget raw = new RawTarget(RawTarget.Mode.BAD_MAGIC, BASE, SIZE)) {
      SegmentDescriptor d = RawWire.descriptor(raw.port(), 2);
      TestSlice.Outcome o = run(TestSlice.write(local, LOCAL, d, BASE, 16, 20_000));
      assertEquals(TransferState.FAILED, o.state());
      assertEquals(ErrorCode.TRANSFER_FAILED, o.code());
      assertTrue(o.message().contains("magic"), o.message());
      raw.mode = RawTarget.Mode.V2;
      assertTrue(run(TestSlice.write(local, LOCAL, d, BASE, 16, 20_000)).ok());
    }
  }

  @Test
  void v1TargetThatDiesFailsTheRead() throws Exception {
    RawTarget raw = new RawTarget(RawTarget.Mode.V1, BASE, SIZE);
    SegmentDescriptor d = RawWire.descriptor(raw.port(), 1);
    assertTrue(run(TestSlice.read(local, LOCAL, d, BASE, 16, 20_000)).ok());
    raw.mode = RawTarget.Mode.SILENT;
    TestSlice pending = TestSlice.read(local, LOCAL, d, BASE, 16, 20_000);
    initiator.submit(pending);
    raw.close();
    TestSlice.Outcome o = pending.await(10_000);
    assertEquals(TransferState.FAILED, o.state(), o.toString());
    assertEquals(ErrorCode.TRANSFER_FAILED, o.code(), o.toString());
  }
}
