package io.te4j.metadata.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * The query of an HTTP metadata request, as any bytes a client sends: decoding refuses a malformed
 * escape with IllegalArgumentException (the server answers 400) and nothing else; any key escaped
 * as the reference's client does comes back unchanged. Regression inputs run in CI ({@code
 * KeyQueryFuzzTestInputs/} beside this class); a long run is {@code JAZZER_FUZZ=1}.
 */
class KeyQueryFuzzTest {
  /** A long run ({@code JAZZER_FUZZ=1}) stops at 10 million inputs or after this long. */
  static final String LONG_RUN = "8m";
  static final long LONG_RUN_INPUTS = 10_000_000L;

  @FuzzTest(maxDuration = LONG_RUN, maxExecutions = LONG_RUN_INPUTS)
  void queries(byte[] bytes) {
    String raw = new String(bytes, StandardCharsets.UTF_8);
    try {
      KeyQuery.firstParameter(raw, "key");
    } catch (IllegalArgumentException expected) {
      // a malformed %-escape: 400 Bad Request
    }
    // Unpaired surrogates do not survive UTF-8, so compare the key as UTF-8 can carry it.
    String key = new String(raw.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    assertEquals(key, KeyQuery.firstParameter("prefix=x&key=" + KeyQuery.escape(key), "key"));
  }
}
