package io.te4j.transport.tcp;

import io.te4j.api.SegmentDescriptor;

/**
 * The TCP transport's fields of a segment descriptor (WIRE.md section 2): {@code tcp_data_port} and
 * {@code tcp_proto_version}. They live in the descriptor's attributes, so the engine knows nothing
 * of them; only this transport writes and reads them.
 */
public final class TcpDescriptorFields {
  /** The data port peers connect to. */
  public static final String DATA_PORT = "tcp_data_port";
  /** 1 (no status frames) or 2 (acknowledged); a descriptor without it speaks 1. */
  public static final String PROTO_VERSION = "tcp_proto_version";
  /** The reference's first protocol: no status frames. */
  public static final int V1 = 1;
  /** The acknowledged protocol: a status frame per request. */
  public static final int V2 = 2;

  private TcpDescriptorFields() {}

  /**
   * Publishes {@code port} and {@code version} on a local descriptor; version 1 is published by
   * leaving the field out, as the reference's v1 engines do.
   */
  public static void publish(SegmentDescriptor.Builder descriptor, int port, int version) {
    descriptor.attribute(DATA_PORT, port);
    if (version >= V2) {
      descriptor.attribute(PROTO_VERSION, V2);
    }
  }

  /** True when the descriptor names a data port at all (whether or not it is usable). */
  public static boolean hasDataPort(SegmentDescriptor d) {
    return d.attributes().containsKey(DATA_PORT);
  }

  /**
   * The data port, or -1 when the field is absent, not an integer, or outside 1..65535 (0 is the
   * reference's "no TCP transport").
   */
  public static int dataPort(SegmentDescriptor d) {
    long port = integer(d.attributes().get(DATA_PORT));
    return port >= 1 && port <= 65535 ? (int) port : -1;
  }

  /** 2 when the descriptor says 2 or more (acknowledged), else 1 (absent or malformed: v1). */
  public static int protoVersion(SegmentDescriptor d) {
    return integer(d.attributes().get(PROTO_VERSION)) >= V2 ? V2 : V1;
  }

  /** The exact integral value of a JSON number, or -1. */
  private static long integer(Object value) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short
        || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof java.math.BigInteger) {
      java.math.BigInteger b = (java.math.BigInteger) value;
      return b.bitLength() < 63 ? b.longValue() : -1;
    }
    if (value instanceof java.math.BigDecimal) {
      try {
        return ((java.math.BigDecimal) value).longValueExact();
      } catch (ArithmeticException e) {
        return -1;
      }
    }
    return -1;
  }
}
