package io.te4j.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which devices serve which memory location (WIRE.md section 5): for each location ({@code
 * cpu:0}, {@code cuda:0}) the preferred devices, then the other usable ones.
 *
 * @param entries location to its two device lists, in insertion order
 */
public record Topology(Map<String, Entry> entries) {
  /** The two device lists of one location. */
  public record Entry(List<String> preferred, List<String> available) {
    public Entry {
      preferred = List.copyOf(preferred);
      available = List.copyOf(available);
    }
  }

  public Topology {
    entries = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(entries));
  }

  /** A topology with no devices at all (a TCP-only host). */
  public static Topology empty() {
    return new Topology(Map.of());
  }
}
