package io.te4j.api;

import java.util.Locale;
import java.util.Objects;

/**
 * What kind of memory a registered region is, from its location string (WIRE.md section 5): host
 * memory ({@code cpu:0}, {@code cpu}, the reference's wildcard {@code *}) or the memory of a
 * device family ({@code cuda:0}, {@code npu:1}). Host memory can be read and written by the CPU
 * through views; device memory cannot, and only transports that say so ({@code
 * Transport#canMove}) move it.
 *
 * @param family {@code cpu} for host memory, else the device family ({@code cuda}, ...)
 * @param index the device (or NUMA node) number, or -1 when the location names none
 */
public record MemoryKind(String family, int index) {
  /** Host memory, as any {@code cpu:N} location is. */
  public static final MemoryKind HOST = new MemoryKind("cpu", -1);

  /** The buffer attribute that publishes the location of memory that is not host memory. */
  public static final String LOCATION_ATTRIBUTE = "location";

  public MemoryKind {
    Objects.requireNonNull(family, "family");
  }

  /**
   * The kind of memory at {@code location}: {@code cpu}, {@code cpu:N}, {@code *} and the empty
   * string are host memory; {@code family:N} and a bare {@code family} are that device family.
   */
  public static MemoryKind of(String location) {
    if (location == null || location.isEmpty() || location.equals("*")
        || (location.startsWith("cpu") && (location.length() == 3 || location.charAt(3) == ':'))) {
      return HOST; // without allocating: asked on data paths
    }
    String l = location.trim().toLowerCase(Locale.ROOT);
    int colon = l.lastIndexOf(':');
    String family = colon < 0 ? l : l.substring(0, colon);
    int index = -1;
    if (colon >= 0) {
      try {
        index = Integer.parseInt(l.substring(colon + 1));
      } catch (NumberFormatException e) {
        index = -1;
      }
    }
    return family.equals("cpu") ? HOST : new MemoryKind(family, index);
  }

  /**
   * The kind of a published buffer: its {@value #LOCATION_ATTRIBUTE} attribute when it has one
   * (te4j publishes it for memory that is not host memory), else host memory.
   */
  public static MemoryKind ofBuffer(BufferDescriptor buffer) {
    Object location = buffer.attributes().get(LOCATION_ATTRIBUTE);
    return location instanceof String ? of((String) location) : HOST;
  }

  /** True for host memory, which the CPU reads and writes through views. */
  public boolean isHost() {
    return this == HOST || family.equals("cpu");
  }

  @Override
  public String toString() {
    return isHost() ? "host memory" : index < 0 ? family : family + ":" + index;
  }
}
