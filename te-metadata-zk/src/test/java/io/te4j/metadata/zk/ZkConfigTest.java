package io.te4j.metadata.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ZkConfigTest {
  private static final long TEN_S = TimeUnit.SECONDS.toNanos(10);

  @Test
  void defaults() {
    ZkConfig c = ZkConfig.from(Map.<String, String>of()::get, TEN_S);
    assertEquals(10_000, c.sessionTimeoutMs());
    assertEquals(5_000, c.connectionTimeoutMs());
    assertEquals(5_000, c.startupWaitMillis());
  }

  @Test
  void settingsAreRead() {
    ZkConfig c = ZkConfig.from(Map.of(ZkConfig.SESSION_TIMEOUT_MS, "2000",
        ZkConfig.CONNECTION_TIMEOUT_MS, " 30000 ")::get, TEN_S);
    assertEquals(2_000, c.sessionTimeoutMs());
    assertEquals(30_000, c.connectionTimeoutMs());
    assertEquals(10_000, c.startupWaitMillis(), "start-up never waits past the operation bound");
  }

  @Test
  void shortSessionShortensTheDefaultConnectionTimeout() {
    ZkConfig c = ZkConfig.from(Map.of(ZkConfig.SESSION_TIMEOUT_MS, "2000")::get, TEN_S);
    assertEquals(2_000, c.connectionTimeoutMs());
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-5", "ten", "1.5", "99999999999"})
  void malformedValuesNameTheSetting(String value) {
    TransferException e = assertThrows(TransferException.class,
        () -> ZkConfig.from(Map.of(ZkConfig.SESSION_TIMEOUT_MS, value)::get, TEN_S));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
    assertTrue(e.getMessage().contains("te4j.zk.sessionTimeoutMs"), e.getMessage());
    assertTrue(e.getMessage().contains(value), e.getMessage());
  }
}
