package io.te4j.api;

/**
 * Overflow-safe arithmetic on unsigned 64-bit address ranges. Every bounds check of the engine and
 * its transports goes through here, so there is one place where a wrapping {@code address +
 * length} is caught.
 */
public final class AddressRanges {
  private AddressRanges() {}

  /**
   * True when {@code [start, start + len)} lies inside {@code [base, base + size)}, all values
   * unsigned; a range whose end overflows 2^64 is never contained. An empty range is contained when
   * its start lies in {@code [base, base + size]}.
   */
  public static boolean contains(long base, long size, long start, long len) {
    if (Long.compareUnsigned(start, base) < 0) {
      return false;
    }
    long offset = start - base; // unsigned, fits since start >= base
    if (Long.compareUnsigned(offset, size) > 0) {
      return false;
    }
    return Long.compareUnsigned(len, size - offset) <= 0;
  }

  /** True when two non-empty ranges share at least one byte (unsigned, overflow-safe). */
  public static boolean overlaps(long baseA, long sizeA, long baseB, long sizeB) {
    if (sizeA == 0 || sizeB == 0) {
      return false;
    }
    // A starts before B: overlap iff B's start is within A.
    if (Long.compareUnsigned(baseA, baseB) <= 0) {
      return Long.compareUnsigned(baseB - baseA, sizeA) < 0;
    }
    return Long.compareUnsigned(baseA - baseB, sizeB) < 0;
  }

  /** True when {@code start + len} does not go past 2^64 (a range may end exactly there). */
  public static boolean fits(long start, long len) {
    return start == 0 || Long.compareUnsigned(len, -start) <= 0;
  }
}
