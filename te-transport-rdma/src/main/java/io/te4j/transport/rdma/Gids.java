package io.te4j.transport.rdma;

/** GIDs as the reference writes them in descriptors and handshakes: 16 lowercase hex bytes joined by ':'. */
final class Gids {
  private Gids() {}

  static String format(byte[] gid) {
    StringBuilder b = new StringBuilder(47);
    for (int i = 0; i < 16; i++) {
      if (i > 0) {
        b.append(':');
      }
      b.append(Character.forDigit((gid[i] >> 4) & 0xf, 16)).append(Character.forDigit(gid[i] & 0xf, 16));
    }
    return b.toString();
  }

  /**
   * Parses strictly, as the reference does: exactly 16 ':'-separated hex bytes, nothing after.
   *
   * @throws IllegalArgumentException otherwise
   */
  static byte[] parse(String text) {
    String[] parts = text.split(":", -1);
    if (parts.length != 16) {
      throw new IllegalArgumentException("malformed GID (want 16 ':'-separated hex bytes): " + text);
    }
    byte[] gid = new byte[16];
    for (int i = 0; i < 16; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 2 || Character.digit(p.charAt(0), 16) < 0
          || (p.length() == 2 && Character.digit(p.charAt(1), 16) < 0)) {
        throw new IllegalArgumentException("malformed GID byte '" + p + "' in " + text);
      }
      gid[i] = (byte) Integer.parseInt(p, 16);
    }
    return gid;
  }

  static boolean isZero(byte[] gid) {
    for (byte b : gid) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }
}
