package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OptionsTest {
  private static Options parse(String... args) {
    return Options.parse(args, BenchCommand.OPTIONS, BenchCommand.FLAGS);
  }

  @Test
  void sizesValuesAndFlags() {
    Options o = parse("--block-size", "64K", "--buffer-size=1G", "--json", "--threads", "3");
    assertEquals(65536, o.size("block-size", 0));
    assertEquals(1L << 30, o.size("buffer-size", 0));
    assertTrue(o.flag("json"));
    assertEquals(3, o.intValue("threads", 1));
    assertEquals(4, o.intValue("batch-size", 4));
  }

  @Test
  void badInputIsAUsageError() {
    Options.UsageException e = assertThrows(Options.UsageException.class, () -> parse("--warp"));
    assertTrue(e.getMessage().contains("--block-size"), e.getMessage());
    assertThrows(Options.UsageException.class, () -> parse("--threads"));
    assertThrows(Options.UsageException.class, () -> parse("--block-size", "lots").size("block-size", 1));
    assertThrows(Options.UsageException.class, () -> parse("--threads", "x").intValue("threads", 1));
  }

  @Test
  void mainReportsUsageErrorsWithExitCodeTwo() {
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    int rc = Main.run(new String[] {"bench", "--mode", "sideways"}, System.out,
        new java.io.PrintStream(err));
    assertEquals(2, rc);
    assertTrue(err.toString().contains("--mode"), err.toString());
    err.reset();
    assertEquals(2, Main.run(new String[] {"bench", "--protocol", "shm", "--cxl-device",
        "/dev/shm/x"}, System.out, new java.io.PrintStream(err)));
    assertTrue(err.toString().contains("--cxl-device goes with --protocol cxl"), err.toString());
    assertEquals(2, Main.run(new String[] {"frobnicate"}, System.out,
        new java.io.PrintStream(new java.io.ByteArrayOutputStream())));
  }
}
