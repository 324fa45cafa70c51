package io.te4j.transport.tcp;

import io.te4j.api.SegmentDescriptor;
import java.io.IOException;
import java.io.InputStream;

/**
 * WIRE.md section 4 written out by hand for the raw-socket peers, independent of {@link TcpWire}:
 * little-endian fields built with shifts.
 */
final class RawWire {
  static final byte[] STATUS_OK = {0, 0, 0, 0, 0x56, 0x54, 0x43, 0x4D};
  static final byte[] STATUS_REJECTED = {1, 0, 0, 0, 0x56, 0x54, 0x43, 0x4D};

  private RawWire() {}

  static void putLe(byte[] dst, int offset, long value) {
    for (int i = 0; i < 8; i++) {
      dst[offset + i] = (byte) (value >>> (8 * i));
    }
  }

  static long getLe(byte[] src, int offset) {
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (src[offset + i] & 0xFF);
    }
    return v;
  }

  /** size (u64 LE), addr (u64 LE), opcode (u8), 7 zero bytes. */
  static byte[] header(long size, long address, int opcode) {
    byte[] h = new byte[24];
    putLe(h, 0, size);
    putLe(h, 8, address);
    h[16] = (byte) opcode;
    return h;
  }

  static byte[] readFully(InputStream in, int n) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length != n) {
      throw new java.io.EOFException("wanted " + n + " bytes, got " + b.length);
    }
    return b;
  }

  /** A descriptor of a peer on 127.0.0.1 with that data port and protocol version. */
  static SegmentDescriptor descriptor(int dataPort, int version) {
    return SegmentDescriptor.builder("127.0.0.1:" + (20000 + dataPort % 10000), "tcp")
        .attribute("tcp_data_port", dataPort)
        .attribute("tcp_proto_version", version)
        .build();
  }
}
