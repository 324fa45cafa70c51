package io.te4j.cli;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** How the commands read sizes and counts, so every option of a kind says the same thing. */
final class Converters {
  private Converters() {}

  /** A positive size in bytes with an optional K, M or G suffix (powers of 1024). */
  static final class Size implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      String s = value.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
      long unit = 1;
      if (s.endsWith("K")) {
        unit = 1L << 10;
      } else if (s.endsWith("M")) {
        unit = 1L << 20;
      } else if (s.endsWith("G")) {
        unit = 1L << 30;
      }
      if (unit != 1) {
        s = s.substring(0, s.length() - 1);
      }
      try {
        long n = Math.multiplyExact(Long.parseLong(s), unit);
        if (n > 0) {
          return n;
        }
      } catch (NumberFormatException | ArithmeticException e) {
        // reported below
      }
      throw new TypeConversionException("a positive size like 4096, 64K, 1M or 2G, not '"
          + value + "'");
    }
  }

  /** An integer of at least {@code min}. */
  private abstract static class AtLeast implements ITypeConverter<Integer> {
    private final int min;

    AtLeast(int min) {
      this.min = min;
    }

    @Override
    public Integer convert(String value) {
      try {
        int n = Integer.parseInt(value.trim());
        if (n >= min) {
          return n;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new TypeConversionException("a whole number of at least " + min + ", not '" + value
          + "'");
    }
  }

  /** An integer of at least 1. */
  static final class Positive extends AtLeast {
    Positive() {
      super(1);
    }
  }

  /** An integer of at least 0. */
  static final class NonNegative extends AtLeast {
    NonNegative() {
      super(0);
    }
  }
}
