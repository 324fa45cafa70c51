package io.te4j.cli;

/**
 * Latencies in nanoseconds in log-linear buckets (16 sub-buckets per power of two, about 6%
 * resolution). Recording does not allocate; one histogram per thread, merged at the end.
 */
final class LatencyHistogram {
  private static final int SUB_BITS = 4;
  private static final int SUB = 1 << SUB_BITS;
  private final long[] counts = new long[64 * SUB];
  private long total;
  private long max;

  void record(long nanos) {
    long v = Math.max(1, nanos);
    counts[index(v)]++;
    total++;
    max = Math.max(max, v);
  }

  void add(LatencyHistogram other) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
    max = Math.max(max, other.max);
  }

  long count() {
    return total;
  }

  long max() {
    return max;
  }

  /** The value below which {@code p} (0..1) of the recorded latencies fall (bucket upper bound). */
  long percentile(double p) {
    if (total == 0) {
      return 0;
    }
    long rank = (long) Math.ceil(p * total);
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(upperBound(i), max);
      }
    }
    return max;
  }

  private static int index(long v) {
    int exp = 63 - Long.numberOfLeadingZeros(v);
    if (exp < SUB_BITS) {
      return (int) v;
    }
    int sub = (int) ((v >>> (exp - SUB_BITS)) & (SUB - 1));
    return (exp - SUB_BITS + 1) * SUB + sub;
  }

  private static long upperBound(int index) {
    int bucket = index / SUB;
    int sub = index % SUB;
    if (bucket == 0) {
      return sub;
    }
    int exp = bucket + SUB_BITS - 1;
    return ((long) (SUB + sub + 1) << (exp - SUB_BITS)) - 1;
  }
}
