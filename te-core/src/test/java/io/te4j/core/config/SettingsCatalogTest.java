package io.te4j.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.Setting;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine's settings and its providers', concluded in one place. */
class SettingsCatalogTest {
  /** A provider declaring one setting. */
  private static final class Declaring implements TransportProvider {
    @Override
    public String name() {
      return "decl";
    }

    @Override
    public List<Setting<?>> settings() {
      return List.of(Setting.integer("te4j.decl.depth", 8, 1, 64, "how deep"));
    }

    @Override
    public Transport create(TransportContext context) {
      throw new UnsupportedOperationException();
    }
  }

  private static final SettingsCatalog CATALOG = SettingsCatalog.of(List.of(new Declaring()),
      List.of());

  @Test
  void everySettingIsThereWithItsOwnerAndTheKillSwitches() {
    Map<String, String> owners = new java.util.LinkedHashMap<>();
    CATALOG.entries().forEach(e -> owners.put(e.setting().name(), e.owner()));
    assertEquals("engine", owners.get(EngineConfig.MC_TRANSFER_TIMEOUT));
    assertEquals("transport decl", owners.get("te4j.decl.depth"));
    assertEquals("transport decl", owners.get("te4j.transport.decl.disabled"));
  }

  @Test
  void aMalformedValueOfAnyDeclaredSettingStopsTheStart() {
    TransferException e = assertThrows(TransferException.class, () -> CATALOG.check(
        Settings.isolated(Map.of("te4j.decl.depth", "deep"))));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
    assertTrue(e.getMessage().contains("te4j.decl.depth"), e.getMessage());
    assertEquals(ErrorCode.INVALID_CONFIGURATION, assertThrows(TransferException.class,
        () -> CATALOG.check(Settings.isolated(Map.of("te4j.transport.decl.disabled", "perhaps"))))
        .errorCode());
  }

  @Test
  void anUnknownKeyIsReportedWithTheNearestKnownName() {
    List<String> unknown = CATALOG.check(Settings.isolated(Map.of("te4j.decl.dept", "4",
        "te4j.memory.sharable", "false", "te4j.nothing.like.it.at.all", "1",
        "MC_SOMETHING_ELSE", "1")));
    assertEquals(3, unknown.size(), unknown::toString);
    assertTrue(unknown.get(0).contains("te4j.decl.dept") && unknown.get(0)
        .contains("did you mean te4j.decl.depth?"), unknown.get(0));
    assertTrue(unknown.get(1).contains("did you mean te4j.memory.shareable?"), unknown.get(1));
    assertTrue(!unknown.get(2).contains("did you mean"), unknown.get(2));
  }

  @Test
  void rowsSayWhereEachValueComesFrom() {
    Map<String, SettingsCatalog.Row> rows = new java.util.LinkedHashMap<>();
    CATALOG.rows(Settings.isolated(Map.of("te4j.decl.depth", "16")))
        .forEach(r -> rows.put(r.name(), r));
    assertEquals("16", rows.get("te4j.decl.depth").value());
    assertEquals("builder", rows.get("te4j.decl.depth").source());
    assertEquals("30", rows.get(EngineConfig.MC_TRANSFER_TIMEOUT).value());
    assertEquals("default", rows.get(EngineConfig.MC_TRANSFER_TIMEOUT).source());
  }

  /** The reference's spellings: MC_MIN_PRC_PORT for the port range, its connect timeout. */
  @Test
  void theReferencesVariablesAreRead() {
    Map<String, SettingsCatalog.Row> rows = new java.util.LinkedHashMap<>();
    CATALOG.rows(Settings.isolated(Map.of("MC_MIN_PRC_PORT", "16000",
        "MC_HANDSHAKE_CONNECT_TIMEOUT", "2.5"))).forEach(r -> rows.put(r.name(), r));
    assertEquals("16000", rows.get(EngineConfig.MC_MIN_RPC_PORT).value());
    assertEquals("2.5", rows.get("MC_HANDSHAKE_CONNECT_TIMEOUT").value());
    assertEquals(ErrorCode.INVALID_CONFIGURATION, assertThrows(TransferException.class,
        () -> CATALOG.check(Settings.isolated(Map.of("MC_HANDSHAKE_CONNECT_TIMEOUT", "soon"))))
        .errorCode());
  }

  @Test
  void theMarkdownTableHasARowPerSetting() {
    String md = CATALOG.markdown();
    assertEquals(CATALOG.entries().size() + 2, md.strip().split("\n").length);
    assertTrue(md.contains("| `te4j.decl.depth` | 8 | integer 1..64 | transport decl | how deep |"),
        md);
  }
}
