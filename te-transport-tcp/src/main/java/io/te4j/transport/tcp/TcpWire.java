package io.te4j.transport.tcp;

import io.te4j.api.TransferOpcode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The TCP data protocol of WIRE.md section 4, byte for byte: a 24-byte request header ({@code u64
 * size}, {@code u64 addr}, {@code u8 opcode}, 7 zero bytes, all little-endian) and the v2 status
 * frame (one little-endian {@code u64}: magic {@code "MCTV"} in the high 32 bits, code in the low).
 *
 * <p>Stateless; the encoders write into caller-owned buffers so hot paths allocate nothing.
 */
public final class TcpWire {
  /** Length of a request header. */
  public static final int HEADER_BYTES = 24;
  /** Length of a v2 status frame. */
  public static final int STATUS_BYTES = 8;
  /** Opcode of a READ (target streams bytes back). */
  public static final int OP_READ = 0;
  /** Opcode of a WRITE (payload follows the header). */
  public static final int OP_WRITE = 1;
  /** Opcode bit asking for protocol v2 (status frames). */
  public static final int V2_FLAG = 0x80;
  /** High 32 bits of every status frame ({@code "MCTV"}). */
  public static final int STATUS_MAGIC = 0x4D435456;
  /** Status code: done. */
  public static final int STATUS_OK = 0;
  /** Status code: rejected; the target closes the connection after sending it. */
  public static final int STATUS_REJECTED = 1;

  private static final int OPCODE_OFFSET = 16;

  private TcpWire() {}

  /** A direct, little-endian buffer the size of a header. */
  public static ByteBuffer newHeaderBuffer() {
    return ByteBuffer.allocateDirect(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A direct, little-endian buffer the size of a status frame. */
  public static ByteBuffer newStatusBuffer() {
    return ByteBuffer.allocateDirect(STATUS_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The opcode byte for {@code opcode} spoken at protocol {@code version} (1 or 2). */
  public static int opcodeByte(TransferOpcode opcode, int version) {
    int op = opcode == TransferOpcode.WRITE ? OP_WRITE : OP_READ;
    return version >= 2 ? op | V2_FLAG : op;
  }

  /**
   * Writes a header into {@code dst} at index 0 (padding zeroed), sets position 0 and limit {@link
   * #HEADER_BYTES}.
   *
   * @param dst at least {@link #HEADER_BYTES} long; its byte order is set to little-endian
   */
  public static void encodeHeader(ByteBuffer dst, long size, long address, int opcodeByte) {
    dst.order(ByteOrder.LITTLE_ENDIAN);
    dst.clear();
    dst.putLong(0, size);
    dst.putLong(8, address);
    dst.put(OPCODE_OFFSET, (byte) opcodeByte);
    // Padding: 7 zero bytes, rewritten every time because the buffer is reused.
    dst.putInt(17, 0);
    dst.putShort(21, (short) 0);
    dst.put(23, (byte) 0);
    dst.limit(HEADER_BYTES);
  }

  /** Appends a header at the position of {@code dst} (a little-endian buffer) and advances it. */
  public static void appendHeader(ByteBuffer dst, long size, long address, int opcodeByte) {
    dst.putLong(size);
    dst.putLong(address);
    dst.put((byte) opcodeByte);
    dst.putInt(0);
    dst.putShort((short) 0);
    dst.put((byte) 0);
  }

  /** The {@code size} field of a header held at index 0 of {@code src} (little-endian). */
  public static long headerSize(ByteBuffer src) {
    return src.getLong(0);
  }

  /** The {@code addr} field of a header held at index 0 of {@code src} (little-endian). */
  public static long headerAddress(ByteBuffer src) {
    return src.getLong(8);
  }

  /** The opcode byte (0 to 255) of a header held at index 0 of {@code src}. */
  public static int headerOpcode(ByteBuffer src) {
    return src.get(OPCODE_OFFSET) & 0xFF;
  }

  /** The status frame value for {@code code}. */
  public static long statusFrame(int code) {
    return ((long) STATUS_MAGIC << 32) | (code & 0xFFFF_FFFFL);
  }

  /**
   * Writes the status frame for {@code code} into {@code dst} at index 0, sets position 0 and limit
   * {@link #STATUS_BYTES}.
   */
  public static void encodeStatus(ByteBuffer dst, int code) {
    dst.order(ByteOrder.LITTLE_ENDIAN);
    dst.clear();
    dst.putLong(0, statusFrame(code));
    dst.limit(STATUS_BYTES);
  }

  /** True when a received status frame carries the magic. */
  public static boolean hasStatusMagic(long frame) {
    return (int) (frame >>> 32) == STATUS_MAGIC;
  }

  /** The code of a received status frame. */
  public static int statusCode(long frame) {
    return (int) frame;
  }
}
