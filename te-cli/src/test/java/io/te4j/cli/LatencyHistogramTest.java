package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {
  @Test
  void percentilesWithinBucketResolution() {
    Random rnd = new Random(9);
    long[] values = new long[100_000];
    LatencyHistogram h = new LatencyHistogram();
    for (int i = 0; i < values.length; i++) {
      values[i] = 1000 + (long) (rnd.nextDouble() * rnd.nextDouble() * 5_000_000);
      h.record(values[i]);
    }
    Arrays.sort(values);
    for (double p : new double[] {0.5, 0.9, 0.99, 0.999}) {
      long exact = values[(int) Math.ceil(p * values.length) - 1];
      long got = h.percentile(p);
      assertTrue(got >= exact && got <= exact * 1.07 + 1, p + ": exact " + exact + " got " + got);
    }
    assertEquals(values[values.length - 1], h.max());
    assertEquals(values.length, h.count());
  }

  @Test
  void mergeAddsCounts() {
    LatencyHistogram a = new LatencyHistogram();
    LatencyHistogram b = new LatencyHistogram();
    a.record(10);
    b.record(1_000_000);
    a.add(b);
    assertEquals(2, a.count());
    assertEquals(1_000_000, a.max());
    assertEquals(0, new LatencyHistogram().percentile(0.5));
  }
}
