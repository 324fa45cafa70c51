package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The 24-byte header and the v2 status frame, byte for byte as WIRE.md section 4 spells them. */
@Timeout(30)
class WireFormatTest {
  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private static byte[] hex(String s) {
    String[] parts = s.trim().split("\\s+");
    byte[] out = new byte[parts.length];
    for (int i = 0; i < parts.length; i++) {
      out[i] = (byte) Integer.parseInt(parts[i], 16);
    }
    return out;
  }

  @Test
  void headerIsSizeAddrOpcodeAndSevenZeroBytesLittleEndian() {
    ByteBuffer b = ByteBuffer.allocateDirect(TcpWire.HEADER_BYTES);
    // A reused buffer full of junk: the padding must still go out as zeros.
    for (int i = 0; i < b.capacity(); i++) {
      b.put(i, (byte) 0xEE);
    }
    TcpWire.encodeHeader(b, 0x0102030405060708L, 0x1122334455667788L, 0x81);
    assertEquals(0, b.position());
    assertEquals(24, b.limit());
    assertArrayEquals(
        hex("08 07 06 05 04 03 02 01  88 77 66 55 44 33 22 11  81  00 00 00 00 00 00 00"),
        bytes(b));
  }

  @Test
  void headerCarriesUnsignedValuesUnchanged() {
    ByteBuffer b = TcpWire.newHeaderBuffer();
    TcpWire.encodeHeader(b, -1L, 0xFFFF_FFFF_FFFF_0000L, 0x00);
    assertArrayEquals(
        hex("ff ff ff ff ff ff ff ff  00 00 ff ff ff ff ff ff  00  00 00 00 00 00 00 00"),
        bytes(b));
    assertEquals(-1L, TcpWire.headerSize(b));
    assertEquals(0xFFFF_FFFF_FFFF_0000L, TcpWire.headerAddress(b));
    assertEquals(0, TcpWire.headerOpcode(b));
  }

  @Test
  void opcodeBytes() {
    assertEquals(0x00, TcpWire.opcodeByte(TransferOpcode.READ, 1));
    assertEquals(0x01, TcpWire.opcodeByte(TransferOpcode.WRITE, 1));
    assertEquals(0x80, TcpWire.opcodeByte(TransferOpcode.READ, 2));
    assertEquals(0x81, TcpWire.opcodeByte(TransferOpcode.WRITE, 2));
  }

  @Test
  void statusFrameIsMagicHighCodeLowLittleEndian() {
    ByteBuffer b = TcpWire.newStatusBuffer();
    TcpWire.encodeStatus(b, TcpWire.STATUS_OK);
    assertArrayEquals(hex("00 00 00 00 56 54 43 4d"), bytes(b));
    TcpWire.encodeStatus(b, TcpWire.STATUS_REJECTED);
    assertArrayEquals(hex("01 00 00 00 56 54 43 4d"), bytes(b));
    assertEquals(0x4D43_5456_0000_0001L, TcpWire.statusFrame(1));
    assertTrue(TcpWire.hasStatusMagic(0x4D43_5456_0000_0000L));
    assertFalse(TcpWire.hasStatusMagic(0x4D43_5457_0000_0000L));
    assertEquals(1, TcpWire.statusCode(0x4D43_5456_0000_0001L));
  }

  /** What our initiator puts on a socket, captured by a raw peer, against hand-written bytes. */
  @Test
  void initiatorSendsTheSpecifiedBytes() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(0x1000_0000L, 4096, true);
    try (RawTarget raw = new RawTarget(RawTarget.Mode.V2, 0x7000_0000L, 4096);
        TcpTransport initiator = new TcpTransport(new TestContext(memory))) {
      local.put(0x1000_0000L, new byte[] {10, 20, 30, 40, 50});
      SegmentDescriptor v2 = RawWire.descriptor(raw.port(), 2);
      TestSlice w = TestSlice.write(local, 0x1000_0000L, v2, 0x7000_0010L, 5, 10_000);
      initiator.submit(w);
      assertTrue(w.await(10_000).ok());
      TestSlice r = TestSlice.read(local, 0x1000_0100L, v2, 0x7000_0010L, 5, 10_000);
      initiator.submit(r);
      assertTrue(r.await(10_000).ok());
      assertArrayEquals(new byte[] {10, 20, 30, 40, 50}, raw.get(0x7000_0010L, 5));
      assertArrayEquals(new byte[] {10, 20, 30, 40, 50}, local.get(0x1000_0100L, 5));
      assertEquals(2, raw.headers.size());
      assertArrayEquals(
          hex("05 00 00 00 00 00 00 00  10 00 00 70 00 00 00 00  81  00 00 00 00 00 00 00"),
          raw.headers.get(0));
      assertArrayEquals(
          hex("05 00 00 00 00 00 00 00  10 00 00 70 00 00 00 00  80  00 00 00 00 00 00 00"),
          raw.headers.get(1));
    }
  }

  /** What our target answers, read by a raw initiator. */
  @Test
  void targetAnswersTheSpecifiedBytes() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion region = memory.add(0x2000_0000L, 64, true);
    try (TcpTransport target = TcpTestSupport.started(new TestContext(memory));
        RawClient client = new RawClient(target.dataPort())) {
      client.send(RawWire.header(3, 0x2000_0004L, 0x81), new byte[] {7, 8, 9});
      assertArrayEquals(hex("00 00 00 00 56 54 43 4d"), client.read(8));
      client.send(RawWire.header(3, 0x2000_0004L, 0x80));
      assertArrayEquals(hex("00 00 00 00 56 54 43 4d  07 08 09"), client.read(11));
      assertArrayEquals(new byte[] {7, 8, 9}, region.get(0x2000_0004L, 3));
      byte[] before = region.snapshot();
      client.send(RawWire.header(3, 0x2000_003EL, 0x81), new byte[] {1, 2, 3}); // 1 byte over
      assertArrayEquals(hex("01 00 00 00 56 54 43 4d"), client.read(8));
      assertTrue(client.closedByPeer());
      assertArrayEquals(before, region.snapshot());
    }
  }
}
