package io.te4j.api.spi;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * One setting, declared once beside its default, its range and a line of documentation: by the
 * engine for its own, by each provider for its transport's or store's ({@link
 * TransportProvider#settings()}). The engine checks every declared setting when it starts (a
 * malformed value is {@link ErrorCode#INVALID_CONFIGURATION} naming the key), reports unknown
 * {@code te4j.*} keys with the nearest known name, and prints them all ({@code te config}); the
 * README's table is generated from the same declarations.
 *
 * <p>Values come from a {@link SettingSource}: the engine's builder, a system property, the
 * environment. Immutable and thread-safe.
 *
 * @param <T> the value's type
 */
public final class Setting<T> {
  private final String name;
  private final List<String> aliases;
  private final T defaultValue;
  private final String defaultText;
  private final String range;
  private final String doc;
  private final Function<String, T> parser;

  private Setting(String name, List<String> aliases, T defaultValue, String defaultText,
      String range, String doc, Function<String, T> parser) {
    this.name = Objects.requireNonNull(name, "name");
    this.aliases = List.copyOf(aliases);
    this.defaultValue = defaultValue;
    this.defaultText = defaultText;
    this.range = range;
    this.doc = Objects.requireNonNull(doc, "doc");
    this.parser = parser;
  }

  /** An integer in {@code [min, max]}. */
  public static Setting<Integer> integer(String name, int defaultValue, int min, int max,
      String doc) {
    return new Setting<>(name, List.of(), defaultValue, String.valueOf(defaultValue),
        max == Integer.MAX_VALUE ? "integer, " + min + " or more" : "integer " + min + ".." + max,
        doc, text -> {
          long v;
          try {
            v = parseLong(text);
          } catch (IllegalArgumentException e) {
            v = Long.MIN_VALUE; // reported as out of range, with the range
          }
          if (v < min || v > max) {
            throw new IllegalArgumentException("must be an integer in [" + min + ", " + max
                + "]");
          }
          return (int) v;
        });
  }

  /**
   * A size in bytes in {@code [min, max]}: a number, or a number with {@code K}, {@code M}, {@code
   * G} or {@code T} (binary multiples; {@code 4M} is 4194304).
   */
  public static Setting<Long> bytes(String name, long defaultValue, long min, long max,
      String doc) {
    return new Setting<>(name, List.of(), defaultValue, size(defaultValue),
        (max == Long.MAX_VALUE ? "bytes, " + size(min) + " or more" : "bytes " + size(min) + ".."
            + size(max)) + " (K, M, G allowed)", doc, text -> {
          long v;
          try {
            v = parseSize(text);
          } catch (IllegalArgumentException e) {
            v = Long.MIN_VALUE;
          }
          if (v < min || v > max) {
            throw new IllegalArgumentException("must be a size in [" + min + ", " + max
                + "] bytes");
          }
          return v;
        });
  }

  /** A positive number of seconds (fractions allowed). */
  public static Setting<Double> seconds(String name, double defaultValue, String doc) {
    return new Setting<>(name, List.of(), defaultValue, plain(defaultValue),
        "seconds, more than 0", doc, text -> {
          double d;
          try {
            d = Double.parseDouble(text);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("must be a positive number of seconds");
          }
          if (!(d > 0) || Double.isInfinite(d)) {
            throw new IllegalArgumentException("must be a positive number of seconds");
          }
          return d;
        });
  }

  /** On or off: {@code 1/true/yes/on} or {@code 0/false/no/off}. */
  public static Setting<Boolean> flag(String name, boolean defaultValue, String doc) {
    return new Setting<>(name, List.of(), defaultValue, defaultValue ? "true" : "false",
        "true or false", doc, text -> {
          switch (text.toLowerCase(Locale.ROOT)) {
            case "1": case "true": case "yes": case "on":
              return true;
            case "0": case "false": case "no": case "off":
              return false;
            default:
              throw new IllegalArgumentException("must be 1/true/yes/on or 0/false/no/off");
          }
        });
  }

  /**
   * Free text; {@code defaultValue} may be null (unset means none).
   *
   * @param what what the text is, for the documentation ({@code "path"}, {@code "host"})
   */
  public static Setting<String> text(String name, String defaultValue, String what, String doc) {
    return new Setting<>(name, List.of(), defaultValue,
        defaultValue == null ? "none" : defaultValue, what, doc, text -> text);
  }

  /** This setting, also read under {@code older} when its own name is unset (a legacy name). */
  public Setting<T> alias(String older) {
    List<String> all = new java.util.ArrayList<>(aliases);
    all.add(older);
    return new Setting<>(name, all, defaultValue, defaultText, range, doc, parser);
  }

  /** This setting with the default described as {@code text} (a default computed at run time). */
  public Setting<T> defaultShownAs(String text) {
    return new Setting<>(name, aliases, defaultValue, text, range, doc, parser);
  }

  public String name() {
    return name;
  }

  /** Older names read when {@link #name()} is unset. */
  public List<String> aliases() {
    return aliases;
  }

  /** The value when nothing sets it (may be null). */
  public T defaultValue() {
    return defaultValue;
  }

  /** The default as the documentation shows it. */
  public String defaultText() {
    return defaultText;
  }

  /** What values are allowed, in words. */
  public String range() {
    return range;
  }

  /** One line of documentation. */
  public String doc() {
    return doc;
  }

  /** The raw text {@code source} gives for this setting (its name, then its aliases), or null. */
  public String rawIn(SettingSource source) {
    String v = source.get(name);
    for (int i = 0; v == null && i < aliases.size(); i++) {
      v = source.get(aliases.get(i));
    }
    return v;
  }

  /**
   * The value {@code source} gives, or the default when it gives none.
   *
   * @throws TransferException INVALID_CONFIGURATION naming the key, the value and what is allowed
   */
  public T valueIn(SettingSource source) {
    String raw = rawIn(source);
    return raw == null ? defaultValue : parse(raw);
  }

  /**
   * {@code raw} as a value of this setting.
   *
   * @throws TransferException INVALID_CONFIGURATION naming the key, the value and what is allowed
   */
  public T parse(String raw) {
    try {
      return parser.apply(raw.trim());
    } catch (IllegalArgumentException e) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
          name + ": " + e.getMessage() + ", was '" + raw + "'");
    }
  }

  @Override
  public String toString() {
    return name + " (" + range + ", default " + defaultText + ")";
  }

  private static long parseLong(String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("must be an integer");
    }
  }

  /**
   * {@code 4096}, {@code 64K}, {@code 4M}, {@code 1G}, {@code 2T}, also written {@code 4MB} or
   * {@code 4MiB} (case-insensitive, binary multiples).
   *
   * @throws IllegalArgumentException when it is not such a size
   */
  public static long parseSize(String text) {
    String t = text.trim().toUpperCase(Locale.ROOT);
    if (t.endsWith("IB")) {
      t = t.substring(0, t.length() - 2);
    } else if (t.endsWith("B")) {
      t = t.substring(0, t.length() - 1);
    }
    int shift = 0;
    if (!t.isEmpty()) {
      switch (t.charAt(t.length() - 1)) {
        case 'K':
          shift = 10;
          break;
        case 'M':
          shift = 20;
          break;
        case 'G':
          shift = 30;
          break;
        case 'T':
          shift = 40;
          break;
        default:
          shift = -1;
      }
      if (shift > 0) {
        t = t.substring(0, t.length() - 1);
      } else {
        shift = 0;
      }
    }
    long v = parseLong(t);
    if (v < 0 || (shift > 0 && v > (Long.MAX_VALUE >> shift))) {
      throw new IllegalArgumentException("must be a non-negative size that fits 64 bits");
    }
    return v << shift;
  }

  /** {@code 4M} for 4194304: the largest binary unit that divides it, else the plain number. */
  private static String size(long bytes) {
    String[] units = {"E", "P", "T", "G", "M", "K"};
    for (int i = 0; i < units.length; i++) {
      int shift = 60 - 10 * i;
      if (bytes != 0 && bytes % (1L << shift) == 0) {
        return (bytes >> shift) + units[i];
      }
    }
    return String.valueOf(bytes);
  }

  private static String plain(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }
}
