package io.te4j.metadata.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyQueryTest {
  @Test
  void escapesLikeCurlEasyEscape() {
    // curl_easy_escape keeps only ALPHA DIGIT - . _ ~
    assertEquals("mooncake%2Fram%2F10.0.0.1%3A15234",
        KeyQuery.escape("mooncake/ram/10.0.0.1:15234"));
    assertEquals("a%20b%2Bc%26d%3De~f_g-h.i", KeyQuery.escape("a b+c&d=e~f_g-h.i"));
    assertEquals("%C3%A9%E2%82%AC", KeyQuery.escape("\u00e9\u20ac"));
  }

  @Test
  void decodesTheFirstKeyAsFormDataLikeAiohttp() {
    assertEquals("a b", KeyQuery.firstParameter("key=a+b", "key"));
    assertEquals("a/b:c", KeyQuery.firstParameter("x=1&key=a/b:c&key=second", "key"));
    assertEquals("a/b:c", KeyQuery.firstParameter("key=a%2Fb%3Ac", "key"));
    assertEquals("", KeyQuery.firstParameter("key=", "key"));
    assertEquals("", KeyQuery.firstParameter("key", "key"));
    assertEquals("v", KeyQuery.firstParameter("&&k%65y=v", "key"));
    assertNull(KeyQuery.firstParameter("keys=1&akey=2", "key"));
    assertNull(KeyQuery.firstParameter(null, "key"));
    assertNull(KeyQuery.firstParameter("", "key"));
    assertThrows(IllegalArgumentException.class, () -> KeyQuery.firstParameter("key=%G1", "key"));
    assertThrows(IllegalArgumentException.class, () -> KeyQuery.firstParameter("key=%4", "key"));
  }

  @Test
  void escapeThenDecodeIsIdentityForRandomKeys() {
    Random random = new Random(20251121L);
    String alphabet = "ab/:.-_~ +&=%?#\u00e9\u4e2d\t";
    for (int round = 0; round < 2000; round++) {
      StringBuilder sb = new StringBuilder();
      int n = random.nextInt(24);
      for (int i = 0; i < n; i++) {
        sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      if (random.nextInt(10) == 0) {
        sb.appendCodePoint(0x1F600); // outside the BMP: a surrogate pair
      }
      String key = sb.toString();
      assertEquals(key, KeyQuery.firstParameter("key=" + KeyQuery.escape(key), "key"), key);
    }
  }
}
