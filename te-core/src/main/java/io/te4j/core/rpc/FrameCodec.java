package io.te4j.core.rpc;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The frames of the reference's handshake port (WIRE.md section 3): an 8-byte little-endian length
 * (counting the type byte and the body), one type byte (0 to 3), then a JSON body ending in a
 * newline. A legacy frame has no type byte: when the byte after the length is greater than 3 it
 * already belongs to the body, the length counts the body alone, and the frame is a type-0 request
 * whose reply is untyped as well.
 *
 * <p>A header is checked before anything else is read: a zero or oversize length is refused, and an
 * HTTP request line or a TLS record that landed on the port is named as such. Stateless and
 * thread-safe.
 */
public final class FrameCodec {
  /** Bytes of the length field. */
  public static final int HEADER_BYTES = 8;

  /** The purpose the cluster secret's exchange binds on the handshake port (see PeerAuth). */
  static final String AUTH_PURPOSE = "rpc";

  /** The reference's default {@code MC_HANDSHAKE_MAX_LENGTH}: 1 MiB. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 1 << 20;

  /** The highest frame type; a first byte above it starts a legacy untyped body. */
  public static final int MAX_TYPE = 3;

  private static final String[] HTTP_METHODS = {
    "GET ", "POST", "PUT ", "HEAD", "DELE", "OPTI", "PATC", "CONN", "TRAC", "PRI "
  };

  private FrameCodec() {}

  /**
   * A received frame.
   *
   * @param type 0 to 3; a legacy frame reads as type 0
   * @param legacy true when the frame had no type byte (its reply must not have one either)
   * @param body the body as sent, trailing newline included
   */
  public record Frame(int type, boolean legacy, String body) {}

  /** A header or frame that is not a handshake frame; the connection should be dropped. */
  public static final class MalformedFrameException extends IOException {
    private static final long serialVersionUID = 1L;

    public MalformedFrameException(String message) {
      super(message);
    }
  }

  /**
   * A typed frame: length, {@code type}, {@code body} with a newline appended unless it ends in
   * one.
   */
  public static byte[] encode(int type, String body) {
    if (type < 0 || type > MAX_TYPE) {
      throw new IllegalArgumentException("frame type must be 0.." + MAX_TYPE + ": " + type);
    }
    return frame(type, body);
  }

  /** A legacy untyped frame (the reply to a legacy request): length, then the body and newline. */
  public static byte[] encodeUntyped(String body) {
    return frame(-1, body);
  }

  private static byte[] frame(int type, String body) {
    byte[] text = body.getBytes(StandardCharsets.UTF_8);
    boolean addNewline = text.length == 0 || text[text.length - 1] != '\n';
    int typeBytes = type < 0 ? 0 : 1;
    int length = typeBytes + text.length + (addNewline ? 1 : 0);
    byte[] out = new byte[HEADER_BYTES + length];
    putLongLe(out, 0, length);
    int pos = HEADER_BYTES;
    if (type >= 0) {
      out[pos++] = (byte) type;
    }
    System.arraycopy(text, 0, out, pos, text.length);
    if (addNewline) {
      out[out.length - 1] = '\n';
    }
    return out;
  }

  /** The length field of a header, an unsigned value in a long's bits. */
  public static long frameLength(byte[] header) {
    long v = 0;
    for (int i = HEADER_BYTES - 1; i >= 0; i--) {
      v = (v << 8) | (header[i] & 0xFF);
    }
    return v;
  }

  /**
   * Why this header cannot start a frame, or null when it can. A length in {@code [1,
   * maxFrameBytes]} is always accepted, whatever its bytes look like; otherwise the reason names a
   * TLS record ({@code 16 03}), an HTTP request line, a zero length or an oversize length.
   */
  public static String rejectReason(byte[] header, int maxFrameBytes) {
    long length = frameLength(header);
    if (length != 0 && Long.compareUnsigned(length, maxFrameBytes) <= 0) {
      return null;
    }
    if (header[0] == 0x16 && header[1] == 0x03) {
      return "a TLS record (client hello?) arrived on the plain-text handshake port";
    }
    String ascii = new String(header, 0, 4, StandardCharsets.ISO_8859_1);
    for (String method : HTTP_METHODS) {
      if (ascii.equals(method)) {
        return "an HTTP request (\"" + printable(header) + "...\") arrived on the handshake port";
      }
    }
    if (ascii.equals("HTTP")) { // a reply's status line: we asked an HTTP server
      return "an HTTP server answered (\"" + printable(header) + "...\"): not a handshake port";
    }
    if (length == 0) {
      return "zero frame length";
    }
    return "frame length "
        + Long.toUnsignedString(length)
        + " exceeds the maximum of "
        + maxFrameBytes
        + " bytes (MC_HANDSHAKE_MAX_LENGTH)";
  }

  /**
   * Reads one frame from {@code socket}, each read bounded by what is left until {@code
   * deadlineNanos} (a {@link System#nanoTime()} value). Nothing past the 8-byte header is read when
   * the header is refused.
   *
   * @throws MalformedFrameException when the header is refused
   * @throws SocketTimeoutException when the deadline passes first
   * @throws EOFException when the peer closes mid-frame
   */
  public static Frame read(Socket socket, int maxFrameBytes, long deadlineNanos)
      throws IOException {
    InputStream in = socket.getInputStream();
    byte[] header = new byte[HEADER_BYTES];
    readFully(socket, in, header, 0, HEADER_BYTES, deadlineNanos);
    String reason = rejectReason(header, maxFrameBytes);
    if (reason != null) {
      throw new MalformedFrameException(reason);
    }
    int length = (int) frameLength(header);
    byte[] payload = new byte[length];
    readFully(socket, in, payload, 0, length, deadlineNanos);
    return decode(payload);
  }

  /**
   * The frame whose accepted header announced {@code payload.length} bytes (at least one): a type
   * byte and the body, or a legacy body when the first byte is above {@link #MAX_TYPE}.
   */
  public static Frame decode(byte[] payload) {
    int first = payload[0] & 0xFF;
    if (first > MAX_TYPE) {
      return new Frame(0, true, new String(payload, StandardCharsets.UTF_8));
    }
    return new Frame(first, false,
        new String(payload, 1, payload.length - 1, StandardCharsets.UTF_8));
  }

  private static void readFully(
      Socket socket, InputStream in, byte[] buf, int off, int len, long deadlineNanos)
      throws IOException {
    int done = 0;
    while (done < len) {
      long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
      if (leftMillis <= 0) {
        throw new SocketTimeoutException("deadline passed after " + done + " of " + len + " bytes");
      }
      // SO_TIMEOUT bounds each read; re-arming it per read makes the whole frame honour one
      // deadline, so a peer trickling one byte at a time cannot hold the connection longer.
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, leftMillis));
      int n = in.read(buf, off + done, len - done);
      if (n < 0) {
        throw new EOFException(
            "peer closed the connection after " + done + " of " + len + " bytes");
      }
      done += n;
    }
  }

  private static void putLongLe(byte[] out, int at, long v) {
    for (int i = 0; i < 8; i++) {
      out[at + i] = (byte) (v >>> (8 * i));
    }
  }

  private static String printable(byte[] bytes) {
    StringBuilder sb = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      char c = (char) (b & 0xFF);
      sb.append(c >= 0x20 && c < 0x7F ? c : '.');
    }
    return sb.toString();
  }
}
