package io.te4j.api.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SettingTest {
  private static final Setting<Integer> LANES = Setting.integer("te4j.x.lanes", 2, 1, 64, "lanes");
  private static final Setting<Long> SIZE = Setting.bytes("te4j.x.size", 4096, 0, 1L << 40, "size");

  private static SettingSource of(Map<String, String> values) {
    return values::get;
  }

  @Test
  void defaultsWhenUnsetAndValuesWhenSet() {
    assertEquals(2, LANES.valueIn(of(Map.of())));
    assertEquals(7, LANES.valueIn(of(Map.of("te4j.x.lanes", " 7 "))));
    assertEquals("2", LANES.defaultText());
    assertEquals("integer 1..64", LANES.range());
  }

  @Test
  void sizesTakeBinarySuffixes() {
    assertEquals(4L << 20, SIZE.parse("4M"));
    assertEquals(4L << 20, SIZE.parse("4MiB"));
    assertEquals(4L << 20, SIZE.parse("4mb"));
    assertEquals(64L << 10, SIZE.parse("64K"));
    assertEquals(1L << 30, SIZE.parse("1G"));
    assertEquals(12345, SIZE.parse("12345"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "65", "-1", "two", "1.5", "99999999999", ""})
  void malformedValuesAreInvalidConfigurationNamingTheKeyAndTheValue(String value) {
    TransferException e = assertThrows(TransferException.class,
        () -> LANES.valueIn(of(Map.of("te4j.x.lanes", value.isEmpty() ? "x" : value))));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
    assertTrue(e.getMessage().contains("te4j.x.lanes"), e.getMessage());
    assertTrue(e.getMessage().contains("[1, 64]"), e.getMessage());
  }

  @Test
  void flagsAndSecondsAndText() {
    Setting<Boolean> on = Setting.flag("te4j.x.on", false, "on");
    for (String yes : new String[] {"1", "true", "YES", "on"}) {
      assertTrue(on.parse(yes));
    }
    for (String no : new String[] {"0", "false", "No", "off"}) {
      assertFalse(on.parse(no));
    }
    assertThrows(TransferException.class, () -> on.parse("maybe"));
    Setting<Double> s = Setting.seconds("MC_X", 30, "timeout");
    assertEquals(0.5, s.parse("0.5"));
    assertThrows(TransferException.class, () -> s.parse("0"));
    assertThrows(TransferException.class, () -> s.parse("Infinity"));
    assertNull(Setting.text("MC_Y", null, "path", "a path").valueIn(of(Map.of())));
    assertEquals("none", Setting.text("MC_Y", null, "path", "a path").defaultText());
  }

  @Test
  void anAliasIsReadWhenTheNameIsUnset() {
    Setting<String> dev = Setting.text("MC_DEV", null, "path", "device").alias("DEV");
    assertEquals("/old", dev.valueIn(of(Map.of("DEV", "/old"))));
    assertEquals("/new", dev.valueIn(of(Map.of("DEV", "/old", "MC_DEV", "/new"))));
  }

  @Test
  void environmentSpellingOfDottedNames() {
    assertEquals("TE4J_TRANSPORT_SHM_DISABLED",
        SettingSource.environmentName("te4j.transport.shm.disabled"));
    assertEquals("MC_TRANSFER_TIMEOUT", SettingSource.environmentName("MC_TRANSFER_TIMEOUT"));
  }

  @Test
  void theKillSwitchIsReadFromTheSettingsGiven() {
    ProbedAvailability a = ProbedAvailability.of("transport", "x", () -> null);
    assertNull(a.unavailabilityCause(of(Map.of())));
    Throwable off = a.unavailabilityCause(of(Map.of("te4j.transport.x.disabled", "true")));
    assertTrue(off.getMessage().contains("te4j.transport.x.disabled"), off.getMessage());
    ProbedAvailability broken = ProbedAvailability.of("transport", "y", () -> {
      throw new IllegalStateException("no device");
    });
    assertEquals("no device", broken.unavailabilityCause(of(Map.of())).getMessage());
  }
}
