package io.te4j.tests;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** One handshake frame sent by hand (WIRE.md section 3), as a reference peer would. */
final class RawHandshake {
  private RawHandshake() {}

  /**
   * Sends a typed frame to {@code 127.0.0.1:port} and returns the reply body without its newline,
   * or "" when the server closed without replying.
   */
  static String call(int port, int type, String body) throws IOException {
    byte[] json = (body + "\n").getBytes(StandardCharsets.UTF_8);
    ByteBuffer frame = ByteBuffer.allocate(9 + json.length).order(ByteOrder.LITTLE_ENDIAN);
    frame.putLong(1 + json.length).put((byte) type).put(json);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(frame.array());
      InputStream in = s.getInputStream();
      byte[] reply = in.readAllBytes();
      if (reply.length == 0) {
        return "";
      }
      return new String(reply, 9, reply.length - 9, StandardCharsets.UTF_8).strip();
    }
  }
}
