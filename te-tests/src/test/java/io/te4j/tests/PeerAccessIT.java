package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.PeerAccess;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
import io.te4j.nativelib.NativeMemory;
import io.te4j.transport.tcp.TcpDescriptorFields;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Buffers registered read-only or write-only for peers: the descriptor says so (and only for
 * them: a read-write buffer is published as the reference publishes it), te4j initiators refuse
 * the other access before sending, over tcp and shm, and the TCP target refuses it from an
 * initiator that does not check, touching nothing.
 */
class PeerAccessIT {
  private static final long MIB = 1L << 20;
  private static final int LEN = 4096;

  private static byte[] bytes(long address, int length) {
    byte[] out = new byte[length];
    NativeMemory.read(address, out, 0, length);
    return out;
  }

  private static byte[] filled(int length, int value) {
    byte[] b = new byte[length];
    Arrays.fill(b, (byte) value);
    return b;
  }

  @Test
  void eachBufferAllowsPeersOnlyItsAccessOverTcpAndShm() {
    long ro = NativeMemory.mapAnonymous(MIB);
    long wo = NativeMemory.mapAnonymous(MIB);
    long rw = NativeMemory.mapAnonymous(MIB);
    try (Engine target = Engines.tcpAndShm(); Engine initiator = Engines.tcpAndShm();
        ManagedBuffer local = initiator.allocate(MIB)) {
      NativeMemory.fill(ro, MIB, (byte) 0x52);
      NativeMemory.fill(wo, MIB, (byte) 0x57);
      target.register(ro, MIB, "cpu:0", PeerAccess.READ_ONLY);
      target.register(wo, MIB, "cpu:0", PeerAccess.WRITE_ONLY);
      target.register(rw, MIB, "cpu:0", PeerAccess.READ_WRITE);
      SegmentDescriptor d = initiator.refreshSegment(target.segmentName());
      assertEquals("read", d.bufferContaining(ro, 1).attributes().get(PeerAccess.ATTRIBUTE));
      assertEquals("write", d.bufferContaining(wo, 1).attributes().get(PeerAccess.ATTRIBUTE));
      assertFalse(d.bufferContaining(rw, 1).attributes().containsKey(PeerAccess.ATTRIBUTE),
          "a read-write buffer is published as the reference publishes it");

      for (String transport : new String[] {"tcp", "shm"}) {
        NativeMemory.fill(local.address(), MIB, (byte) 0x11);
        Batch b = initiator.submitAndWait(target.segmentName(), List.of(
            TransferRequest.write(local.address(), ro, LEN),
            TransferRequest.read(local.address() + LEN, wo, LEN),
            TransferRequest.read(local.address() + 2 * LEN, ro + LEN, LEN),
            TransferRequest.write(local.address() + 3 * LEN, wo + LEN, LEN)), transport);
        assertEquals(TransferState.FAILED, b.state(), transport);
        assertEquals(ErrorCode.PEER_ACCESS_DENIED, b.errorCode(0), b.errorMessage(0));
        assertEquals(ErrorCode.PEER_ACCESS_DENIED, b.errorCode(1), b.errorMessage(1));
        assertTrue(b.errorMessage(0).contains("READ_ONLY"), b.errorMessage(0));
        assertEquals(TransferState.COMPLETED, b.state(2), transport + " reads the read-only one");
        assertEquals(TransferState.COMPLETED, b.state(3), transport + " writes the write-only one");
        assertArrayEquals(filled(LEN, 0x52), bytes(ro, LEN), transport + ": written anyway");
        assertArrayEquals(filled(LEN, 0x11), bytes(local.address() + LEN, LEN),
            transport + ": the write-only buffer was read");
        assertArrayEquals(filled(LEN, 0x52), bytes(local.address() + 2 * LEN, LEN));
        assertArrayEquals(filled(LEN, 0x11), bytes(wo + LEN, LEN));
        NativeMemory.fill(wo + LEN, LEN, (byte) 0x57);
      }
    } finally {
      for (long m : new long[] {ro, wo, rw}) {
        NativeMemory.unmap(m, MIB);
      }
    }
  }

  @Test
  void theTcpTargetRefusesAnInitiatorThatIgnoresTheMode() throws Exception {
    long ro = NativeMemory.mapAnonymous(MIB);
    try (Engine target = Engines.tcp()) {
      NativeMemory.fill(ro, MIB, (byte) 0x52);
      target.register(ro, MIB, "cpu:0", PeerAccess.READ_ONLY);
      int port = TcpDescriptorFields.dataPort(target.localDescriptor());
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        OutputStream out = s.getOutputStream();
        out.write(header(LEN, ro, 0x81)); // a v2 WRITE
        out.write(filled(LEN, 0x66));
        out.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        long status = Long.reverseBytes(in.readLong());
        assertEquals(1, (int) status, "status 1: rejected");
        assertEquals(-1, in.read(), "and the connection closed");
      }
      assertArrayEquals(filled(LEN, 0x52), bytes(ro, LEN), "nothing written");
    } finally {
      NativeMemory.unmap(ro, MIB);
    }
  }

  private static byte[] header(long size, long address, int opcode) {
    ByteBuffer h = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    h.putLong(size).putLong(address).put((byte) opcode);
    return h.array();
  }
}
