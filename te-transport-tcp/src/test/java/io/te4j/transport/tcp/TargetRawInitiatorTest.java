package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Our target against an initiator written by hand from WIRE.md (plain java.net sockets). */
@Timeout(60)
class TargetRawInitiatorTest {
  private static final long BASE = 0x2000_0000L;
  private static final int SIZE = 4 << 20;

  private final Random rnd = new Random(11);
  private TestRegion region;
  private TcpTransport target;

  @BeforeEach
  void setUp() throws Exception {
    TestMemory memory = new TestMemory();
    region = memory.add(BASE, SIZE, true);
    target = TcpTestSupport.started(new TestContext(memory));
  }

  @AfterEach
  void tearDown() {
    target.close();
  }

  @Test
  void v2WriteAndRead() throws Exception {
    byte[] data = TcpTestSupport.random(rnd, 1 << 20);
    try (RawClient c = new RawClient(target.dataPort())) {
      c.send(RawWire.header(data.length, BASE + 100, 0x81), data);
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertArrayEquals(data, region.get(BASE + 100, data.length));
      c.send(RawWire.header(data.length, BASE + 100, 0x80));
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertArrayEquals(data, c.read(data.length));
    }
  }

  @Test
  void v1WriteAndReadWithoutStatusFrames() throws Exception {
    byte[] data = TcpTestSupport.random(rnd, 70_000);
    try (RawClient c = new RawClient(target.dataPort())) {
      c.send(RawWire.header(data.length, BASE + 7, 0x01), data);
      // No status for the WRITE: the next bytes we get must be the READ's data itself.
      c.send(RawWire.header(data.length, BASE + 7, 0x00));
      assertArrayEquals(data, c.read(data.length));
      // v1: any opcode other than WRITE is a READ.
      c.send(RawWire.header(16, BASE + 7, 0x05));
      byte[] first16 = new byte[16];
      System.arraycopy(data, 0, first16, 0, 16);
      assertArrayEquals(first16, c.read(16));
    }
    assertArrayEquals(data, region.get(BASE + 7, data.length));
  }

  @Test
  void pipelinedRequestsAreServedInOrder() throws Exception {
    byte[] a = TcpTestSupport.random(rnd, 5000);
    byte[] b = TcpTestSupport.random(rnd, 3000);
    ByteArrayOutputStream burst = new ByteArrayOutputStream();
    burst.write(RawWire.header(a.length, BASE, 0x81));
    burst.write(a);
    burst.write(RawWire.header(b.length, BASE + 10_000, 0x81));
    burst.write(b);
    burst.write(RawWire.header(a.length, BASE, 0x80));
    burst.write(RawWire.header(0, 0xDEAD_0000L, 0x80)); // zero size: OK, nothing touched
    burst.write(RawWire.header(b.length, BASE + 10_000, 0x80));
    try (RawClient c = new RawClient(target.dataPort())) {
      c.send(burst.toByteArray());
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertArrayEquals(a, c.read(a.length));
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
      assertArrayEquals(b, c.read(b.length));
    }
  }

  @Test
  void v2UnknownOpcodeIsRejectedAndClosed() throws Exception {
    byte[] before = region.snapshot();
    try (RawClient c = new RawClient(target.dataPort())) {
      c.send(RawWire.header(16, BASE, 0x82), new byte[16]);
      assertArrayEquals(RawWire.STATUS_REJECTED, c.read(8));
      assertTrue(c.closedByPeer());
    }
    assertArrayEquals(before, region.snapshot());
  }

  @Test
  void paddingIsIgnored() throws Exception {
    byte[] h = RawWire.header(4, BASE + 64, 0x81);
    for (int i = 17; i < 24; i++) {
      h[i] = (byte) 0xA5;
    }
    try (RawClient c = new RawClient(target.dataPort())) {
      c.send(h, new byte[] {9, 8, 7, 6});
      assertArrayEquals(RawWire.STATUS_OK, c.read(8));
    }
    assertArrayEquals(new byte[] {9, 8, 7, 6}, region.get(BASE + 64, 4));
  }
}
