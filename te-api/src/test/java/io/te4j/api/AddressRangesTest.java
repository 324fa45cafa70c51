package io.te4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AddressRangesTest {
  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

  @Test
  void containsEdges() {
    assertTrue(AddressRanges.contains(0x1000, 0x1000, 0x1000, 0x1000));
    assertTrue(AddressRanges.contains(0x1000, 0x1000, 0x1FFF, 1));
    assertFalse(AddressRanges.contains(0x1000, 0x1000, 0x1FFF, 2));
    assertFalse(AddressRanges.contains(0x1000, 0x1000, 0xFFF, 1));
    assertTrue(AddressRanges.contains(0x1000, 0x1000, 0x2000, 0), "empty range at the end");
    assertFalse(AddressRanges.contains(0x1000, 0x1000, 0x2001, 0));
  }

  @Test
  void wrappingRangesAreNeverContained() {
    long top = -4096L; // 2^64 - 4096
    assertTrue(AddressRanges.contains(top, 4096, top, 4096), "ends exactly at 2^64");
    assertFalse(AddressRanges.contains(top, 4096, top + 16, -1L), "length near 2^64");
    assertFalse(AddressRanges.contains(0x1000, 0x1000, 0x1800, Long.MAX_VALUE));
    assertTrue(AddressRanges.fits(top, 4096));
    assertFalse(AddressRanges.fits(top, 4097));
    assertTrue(AddressRanges.fits(0, -1L));
  }

  @Test
  void overlaps() {
    assertTrue(AddressRanges.overlaps(0, 10, 9, 10));
    assertFalse(AddressRanges.overlaps(0, 10, 10, 10), "adjacent");
    assertFalse(AddressRanges.overlaps(0, 0, 0, 10), "empty");
    assertTrue(AddressRanges.overlaps(-100L, 100, -50L, 10), "unsigned high addresses");
  }

  @Test
  void agreesWithBigIntegerArithmetic() {
    Random rnd = new Random(5);
    for (int i = 0; i < 100_000; i++) {
      long base = pick(rnd);
      long size = pick(rnd);
      long start = pick(rnd);
      long len = pick(rnd);
      BigInteger b = unsigned(base);
      BigInteger e = b.add(unsigned(size));
      BigInteger s = unsigned(start);
      BigInteger end = s.add(unsigned(len));
      boolean expected = e.compareTo(TWO_64) <= 0 && s.compareTo(b) >= 0 && end.compareTo(e) <= 0;
      if (e.compareTo(TWO_64) > 0) {
        continue; // a region that wraps is never registered; contains() is unspecified there
      }
      assertEquals(expected, AddressRanges.contains(base, size, start, len),
          base + " " + size + " " + start + " " + len);
      assertEquals(end.compareTo(TWO_64) <= 0, AddressRanges.fits(start, len));
    }
  }

  private static long pick(Random rnd) {
    switch (rnd.nextInt(4)) {
      case 0:
        return rnd.nextInt(1 << 16);
      case 1:
        return -1L - rnd.nextInt(1 << 16);
      case 2:
        return Long.MIN_VALUE + rnd.nextInt(1 << 16) - (1 << 15);
      default:
        return rnd.nextLong();
    }
  }

  private static BigInteger unsigned(long v) {
    return new BigInteger(Long.toUnsignedString(v));
  }
}
