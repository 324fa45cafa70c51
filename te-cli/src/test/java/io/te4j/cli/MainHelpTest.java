package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code te <command> --help} prints that command's usage (exit 0); {@code te --version}. */
class MainHelpTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @ValueSource(strings = {"bench", "probe", "topology", "nvmeof", "config", "metadata-server"})
  void eachCommandHasItsOwnHelp(String command) {
    assertEquals(0, run(command, "--help"), err::toString);
    assertTrue(out().startsWith("usage: te " + command), out());
    for (String other : new String[] {"bench", "probe", "topology", "nvmeof", "config",
        "metadata-server"}) {
      if (!other.equals(command)) {
        assertFalse(out().contains("\n  " + other + " "), other + " in: " + out());
      }
    }
  }

  @Test
  void benchHelpExplainsItsOptions() {
    assertEquals(0, run("bench", "--stop-on-error", "-h"));
    assertTrue(out().contains("--stop-on-error") && out().contains("--verify"), out());
  }

  @Test
  void versionIsPrinted() {
    assertEquals(0, run("--version"));
    assertTrue(out().startsWith("te4j "), out());
  }
}
