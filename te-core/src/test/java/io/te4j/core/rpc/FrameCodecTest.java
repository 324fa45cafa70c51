package io.te4j.core.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
  static byte[] bytes(String ascii) {
    return ascii.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static byte[] lengthLe(long length) {
    byte[] h = new byte[8];
    for (int i = 0; i < 8; i++) {
      h[i] = (byte) (length >>> (8 * i));
    }
    return h;
  }

  @Test
  void encodesTheProbeReplyOfTheReference() {
    byte[] expected =
        concat(new byte[] {0x16, 0, 0, 0, 0, 0, 0, 0, 0x03}, bytes("{\"status\":\"success\"}\n"));
    assertArrayEquals(expected, FrameCodec.encode(3, "{\"status\":\"success\"}"));
    // A body that already ends in a newline gets no second one.
    assertArrayEquals(expected, FrameCodec.encode(3, "{\"status\":\"success\"}\n"));
  }

  @Test
  void encodesTheLegacyReplyWithoutATypeByte() {
    byte[] frame = FrameCodec.encodeUntyped(RpcTestSupport.CONNECTION_REPLY);
    assertEquals(0x6e, FrameCodec.frameLength(frame));
    assertEquals('{', frame[8]);
    assertEquals('\n', frame[frame.length - 1]);
    assertEquals(8 + 0x6e, frame.length);
  }

  @Test
  void refusesOnlyInvalidLengthsAndNamesWhatArrived() {
    int max = FrameCodec.DEFAULT_MAX_FRAME_BYTES;
    assertNull(FrameCodec.rejectReason(lengthLe(1), max));
    assertNull(FrameCodec.rejectReason(lengthLe(max), max));
    assertTrue(FrameCodec.rejectReason(lengthLe(0), max).contains("zero"));
    assertTrue(FrameCodec.rejectReason(lengthLe(max + 1L), max).contains("exceeds"));
    assertTrue(FrameCodec.rejectReason(lengthLe(-1L), max).contains("18446744073709551615"));
    String http = FrameCodec.rejectReason(bytes("GET / HTTP/1.1"), max);
    assertTrue(http.contains("HTTP") && http.contains("GET / HT"), http);
    assertTrue(FrameCodec.rejectReason(bytes("POST /metadata"), max).contains("HTTP"));
    assertTrue(FrameCodec.rejectReason(bytes("HEAD / HTTP/1.0"), max).contains("HTTP"));
    byte[] clientHello = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01};
    assertTrue(FrameCodec.rejectReason(clientHello, max).contains("TLS"));
  }

  @Test
  void aValidLengthIsNeverMistakenForTls() {
    // 0x0316 = 790 bytes: a perfectly good frame whose first two bytes are 16 03.
    byte[] header = lengthLe(0x0316);
    assertEquals(0x16, header[0]);
    assertEquals(0x03, header[1]);
    assertNull(FrameCodec.rejectReason(header, FrameCodec.DEFAULT_MAX_FRAME_BYTES));
  }

  @Test
  void rejectsUnknownTypesWhenEncoding() {
    assertThrows(IllegalArgumentException.class, () -> FrameCodec.encode(4, "{}"));
    assertThrows(IllegalArgumentException.class, () -> FrameCodec.encode(-1, "{}"));
  }

  @Test
  void encodesUtf8BodiesByByteLength() {
    byte[] frame = FrameCodec.encode(2, "{\"name\":\"\u00e9\"}");
    // 1 type byte + 13 bytes of body (é is two bytes) + newline
    assertEquals(1 + 13 + 1, FrameCodec.frameLength(frame));
    assertNotNull(frame);
  }
}
