package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code te <command> --help} prints that command's usage (exit 0), explains every option it
 * takes and lists the exit codes; {@code te --version}.
 */
class MainHelpTest {
  private static final String[] COMMANDS = {"bench", "probe", "topology", "doctor", "nvmeof",
      "nvmeof register", "nvmeof list", "nvmeof remove", "config", "metadata-server"};

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
  @ValueSource(strings = {"bench", "probe", "topology", "doctor", "nvmeof", "nvmeof register",
      "nvmeof list", "nvmeof remove", "config", "metadata-server"})
  void eachCommandHasItsOwnHelp(String command) {
    assertEquals(0, run((command + " --help").split(" ")), err::toString);
    assertTrue(out().startsWith("Usage: te " + command + " "), out());
    assertTrue(out().contains("Exit codes:\n  0 ") && out().contains("  2   bad command line"),
        out());
    assertEquals("", err.toString(StandardCharsets.UTF_8));
  }

  /** Every option and parameter of every command has a description a person can act on. */
  @Test
  void everyOptionIsExplained() {
    CommandLine root = Main.commandLine(System.out, System.err);
    for (String command : COMMANDS) {
      CommandLine cl = root;
      for (String part : command.split(" ")) {
        cl = cl.getSubcommands().get(part);
      }
      for (ArgSpec arg : cl.getCommandSpec().args()) {
        if (arg.hidden()) {
          continue;
        }
        String name = arg instanceof OptionSpec o ? o.longestName() : arg.paramLabel();
        String description = String.join(" ", arg.description());
        assertTrue(description.length() >= 15, command + " " + name + ": '" + description + "'");
      }
    }
  }

  @Test
  void helpShowsDefaults() {
    assertEquals(0, run("bench", "--stop-on-error", "-h"));
    assertTrue(out().contains("--stop-on-error") && out().contains("--verify"), out());
    assertTrue(out().matches("(?s).*--block-size=SIZE.*Default: 1M.*"), out());
    assertTrue(out().matches("(?s).*--metadata-server=URL.*Default: P2PHANDSHAKE.*"), out());
  }

  @Test
  void noCommandPrintsTheCommandsAndExitsTwo() {
    assertEquals(2, run());
    String usage = err.toString(StandardCharsets.UTF_8);
    for (String command : new String[] {"bench", "probe", "topology", "doctor", "nvmeof", "config",
        "metadata-server", "help"}) {
      assertTrue(usage.contains("\n  " + command + " "), command + " in: " + usage);
    }
  }

  @Test
  void helpCommandExplainsACommand() {
    assertEquals(0, run("help", "probe"));
    assertTrue(out().startsWith("Usage: te probe "), out());
  }

  @Test
  void versionIsPrinted() {
    assertEquals(0, run("--version"));
    assertTrue(out().startsWith("te4j "), out());
  }
}
