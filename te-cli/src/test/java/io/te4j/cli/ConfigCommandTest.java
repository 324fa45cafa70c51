package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code te config}, and the README's configuration table made from the same declarations. */
class ConfigCommandTest {
  private record Run(int exit, String out, String err) {}

  private static Run te(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static String line(String out, String setting) {
    for (String l : out.split("\n")) {
      if (l.startsWith(setting + " ")) {
        return l;
      }
    }
    throw new AssertionError(setting + " not listed:\n" + out);
  }

  @Test
  void listsEverySettingOfEveryInstalledModuleWithValueAndSource() {
    Run r = te("config", "--set", "te4j.tcp.lanes=3");
    assertEquals(0, r.exit(), r.err());
    assertTrue(line(r.out(), "te4j.tcp.lanes").matches("te4j\\.tcp\\.lanes +3 +builder +.*"),
        line(r.out(), "te4j.tcp.lanes"));
    assertTrue(line(r.out(), "MC_TRANSFER_TIMEOUT").contains("default"));
    for (String s : new String[] {"te4j.nvmeof.queueDepth", "MC_CXL_DEV_PATH",
        "te4j.shm.attach.disabled", "te4j.etcd.leaseTtlSeconds", "te4j.zk.sessionTimeoutMs",
        "te4j.http.refreshSeconds", "te4j.transport.tcp.disabled", "te4j.metadata.p2p.disabled"}) {
      line(r.out(), s);
    }
  }

  @Test
  void aMisspeltNameIsNamedWithTheNearestKnownOneAndAMalformedValueFails() {
    Run typo = te("config", "--set", "te4j.tcp.lane=3");
    assertEquals(0, typo.exit());
    assertTrue(typo.err().contains("unknown setting te4j.tcp.lane")
        && typo.err().contains("did you mean te4j.tcp.lanes?"), typo.err());
    Run bad = te("config", "--set", "te4j.tcp.lanes=many");
    assertEquals(1, bad.exit());
    assertTrue(bad.err().contains("INVALID_CONFIGURATION") && bad.err().contains("te4j.tcp.lanes"),
        bad.err());
  }

  /** The README's table is what {@code te config --markdown} prints: regenerate it with that. */
  @Test
  void theReadmeTableIsGeneratedFromTheDeclarations() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    String begin = "<!-- settings-table:begin (te config --markdown) -->\n";
    String end = "<!-- settings-table:end -->";
    int from = readme.indexOf(begin);
    int to = readme.indexOf(end);
    assertTrue(from >= 0 && to > from, "README.md lacks the settings table markers");
    assertEquals(te("config", "--markdown").out(), readme.substring(from + begin.length(), to),
        "README.md's table differs from the declarations: paste the output of"
            + " ./te config --markdown between the markers");
  }
}
