package io.te4j.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code --name value} and {@code --flag} arguments, checked against the names a command knows. */
final class Options {
  private final Map<String, String> values = new LinkedHashMap<>();
  private final List<String> positional = new ArrayList<>();

  /**
   * Parses {@code args}; {@code flags} take no value.
   *
   * @throws UsageException for an unknown option or a missing value
   */
  static Options parse(String[] args, Set<String> known, Set<String> flags) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        o.positional.add(a);
        continue;
      }
      String name = a.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (!known.contains(name) && !flags.contains(name)) {
        throw new UsageException("unknown option --" + name + "; known: --"
            + String.join(", --", new java.util.TreeSet<>(union(known, flags))));
      }
      if (flags.contains(name)) {
        o.values.put(name, value == null ? "true" : value);
      } else {
        if (value == null) {
          if (i + 1 >= args.length) {
            throw new UsageException("--" + name + " needs a value");
          }
          value = args[++i];
        }
        o.values.put(name, value);
      }
    }
    return o;
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> u = new java.util.HashSet<>(a);
    u.addAll(b);
    return u;
  }

  String get(String name, String dflt) {
    return values.getOrDefault(name, dflt);
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  boolean flag(String name) {
    return Boolean.parseBoolean(values.getOrDefault(name, "false"));
  }

  List<String> positional() {
    return positional;
  }

  int intValue(String name, int dflt) {
    String v = values.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " takes an integer, not '" + v + "'");
    }
  }

  /** A size with an optional K, M or G suffix (powers of 1024). */
  long size(String name, long dflt) {
    String v = values.get(name);
    if (v == null) {
      return dflt;
    }
    String s = v.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
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
      long n = Long.parseLong(s) * unit;
      if (n <= 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " takes a positive size like 4096, 64K, 1M, not '"
          + v + "'");
    }
  }

  /** Bad command line: printed with the usage, exit code 2. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }
}
