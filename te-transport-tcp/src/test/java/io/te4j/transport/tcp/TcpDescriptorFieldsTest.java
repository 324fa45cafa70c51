package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.SegmentDescriptor;
import java.math.BigDecimal;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** The TCP fields of a descriptor, read strictly: anything odd is unusable, never a guess. */
class TcpDescriptorFieldsTest {
  private static SegmentDescriptor with(Object port, Object version) {
    SegmentDescriptor.Builder b = SegmentDescriptor.builder("s", "tcp");
    if (port != null) {
      b.attribute(TcpDescriptorFields.DATA_PORT, port);
    }
    if (version != null) {
      b.attribute(TcpDescriptorFields.PROTO_VERSION, version);
    }
    return b.build();
  }

  /** Version 2 is published as such; version 1 as the reference's v1 engines do: no field. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
  void publishesPortAndVersion(int version) {
    SegmentDescriptor.Builder b = SegmentDescriptor.builder("s", "tcp");
    TcpDescriptorFields.publish(b, 15001, version);
    SegmentDescriptor d = b.build();
    assertEquals(15001, TcpDescriptorFields.dataPort(d));
    assertEquals(version, TcpDescriptorFields.protoVersion(d));
    assertEquals(version == 2, d.attributes().containsKey(TcpDescriptorFields.PROTO_VERSION));
  }

  @Test
  void portsOutsideTheRangeOrNotIntegersAreUnusable() {
    for (Object bad : new Object[] {0, 70000, -1, "15001", 1.5, new BigDecimal("15001.5"),
        BigInteger.ONE.shiftLeft(70), true}) {
      SegmentDescriptor d = with(bad, 2);
      assertTrue(TcpDescriptorFields.hasDataPort(d));
      assertEquals(-1, TcpDescriptorFields.dataPort(d), String.valueOf(bad));
    }
    assertEquals(16837, TcpDescriptorFields.dataPort(with(16837L, null)));
    assertEquals(16837, TcpDescriptorFields.dataPort(with(new BigDecimal("16837"), null)));
    assertFalse(TcpDescriptorFields.hasDataPort(with(null, 2)));
  }

  @Test
  void versionAbsentOrMalformedIsOne() {
    assertEquals(1, TcpDescriptorFields.protoVersion(with(15001, null)));
    assertEquals(1, TcpDescriptorFields.protoVersion(with(15001, 1.5)));
    assertEquals(1, TcpDescriptorFields.protoVersion(with(15001, "2")));
    assertEquals(2, TcpDescriptorFields.protoVersion(with(15001, 3)));
  }
}
