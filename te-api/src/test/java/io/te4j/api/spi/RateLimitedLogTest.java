package io.te4j.api.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class RateLimitedLogTest {
  private final List<Object[]> lines = new CopyOnWriteArrayList<>();
  private final List<String> formats = new CopyOnWriteArrayList<>();

  private RateLimitedLog log(int burst) {
    return new RateLimitedLog((format, args) -> {
      formats.add(format);
      lines.add(args);
    }, burst);
  }

  @Test
  @Timeout(30)
  void aFloodCostsAFewLinesAndASummaryCountsTheRest() throws Exception {
    RateLimitedLog log = log(3);
    long start = System.nanoTime();
    for (int i = 0; i < 100_000; i++) {
      log.log("bad frame {}", i);
    }
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) + 1;
    long passed = formats.stream().filter("bad frame {}"::equals).count();
    assertTrue(passed >= 3 && passed <= 3 * (seconds + 1), passed + " lines in " + seconds + " s");
    // The summary comes a second after the first dropped line, from the log's own thread.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (summarized() + passed < 100_000 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(100_000, summarized() + passed, "every line is either logged or counted");
    assertEquals(0, log.suppressed());
  }

  @Test
  void linesWithinTheBurstAllPassAndNothingIsSummarized() {
    RateLimitedLog log = log(5);
    for (int i = 0; i < 5; i++) {
      log.log("line {}", i);
    }
    assertEquals(5, lines.size());
    assertEquals(0, log.suppressed());
    assertEquals(4, lines.get(4)[0]);
  }

  @Test
  void aBurstBelowOneIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> log(0));
  }

  private long summarized() {
    long n = 0;
    for (int i = 0; i < formats.size(); i++) {
      if (formats.get(i).contains("suppressed")) {
        n += (Long) lines.get(i)[0];
      }
    }
    return n;
  }
}
