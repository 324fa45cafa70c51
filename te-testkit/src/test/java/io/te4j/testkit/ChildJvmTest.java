package io.te4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A real child JVM: started on the test class path, killed, and its failure to start reported. */
class ChildJvmTest {
  /** Prints its property and argument, then serves until its standard input closes. */
  public static final class Echo {
    private Echo() {}

    /** Entry point of the child. */
    public static void main(String[] args) throws Exception {
      if (args[0].equals("fail")) {
        System.err.println("cannot start: " + System.getProperty("why"));
        System.exit(3);
      }
      System.out.println("READY " + args[0] + " " + System.getProperty("why"));
      System.out.flush();
      while (System.in.read() >= 0) {
        // serve until the parent closes our stdin or dies
      }
    }
  }

  @Test
  void aReadyChildRunsUntilKilled() throws Exception {
    Process p = ChildJvm.start(Echo.class, List.of("-Xmx32m", "-Dwhy=test"), List.of("one"),
        "READY one test", Duration.ofSeconds(60));
    try {
      assertTrue(p.isAlive());
    } finally {
      p.destroyForcibly();
      assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void aChildThatNeverGetsReadyIsReportedWithItsStandardError() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ChildJvm.start(Echo.class, List.of("-Xmx32m", "-Dwhy=no disk"), List.of("fail"),
            "READY", Duration.ofSeconds(60)));
    assertTrue(e.getMessage().contains("cannot start: no disk"), e.getMessage());
    assertEquals(-1, e.getMessage().indexOf("READY"), e.getMessage());
  }

  @Test
  void aFirstLineThatOnlyBeginsLikeTheReadyLineIsNotReady() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ChildJvm.start(Echo.class, List.of("-Xmx32m"), List.of("one"), "READY on",
            Duration.ofSeconds(60)));
    assertTrue(e.getMessage().contains("'READY one null'"), e.getMessage());
  }
}
