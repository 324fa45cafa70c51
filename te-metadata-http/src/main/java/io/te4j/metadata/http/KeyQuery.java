package io.te4j.metadata.http;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * The {@code ?key=<key>} query of the HTTP metadata protocol, both ways. Keys are escaped as the
 * reference's C++ client does it ({@code curl_easy_escape}: every byte of the UTF-8 form except
 * {@code A-Z a-z 0-9 - . _ ~} becomes {@code %XX}), so any server decodes them the same way, and
 * queries are decoded as the reference's Python server (aiohttp) does: form decoding, {@code +}
 * is a space, the first {@code key} wins.
 */
final class KeyQuery {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private KeyQuery() {}

  /** {@code key} percent-encoded for a query value; nothing but unreserved characters kept. */
  static String escape(String key) {
    byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(utf8.length + 16);
    for (byte b : utf8) {
      int c = b & 0xFF;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~') {
        sb.append((char) c);
      } else {
        sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
    }
    return sb.toString();
  }

  /**
   * The decoded value of the first parameter {@code name} in a raw (still encoded) query string.
   *
   * @return the value, empty for {@code name=} or a bare {@code name}, null when absent
   * @throws IllegalArgumentException when the query holds a malformed {@code %} escape
   */
  static String firstParameter(String rawQuery, String name) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return null;
    }
    int start = 0;
    while (start <= rawQuery.length()) {
      int end = rawQuery.indexOf('&', start);
      if (end < 0) {
        end = rawQuery.length();
      }
      String pair = rawQuery.substring(start, end);
      int eq = pair.indexOf('=');
      String rawName = eq < 0 ? pair : pair.substring(0, eq);
      if (!pair.isEmpty() && URLDecoder.decode(rawName, StandardCharsets.UTF_8).equals(name)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
      start = end + 1;
    }
    return null;
  }
}
