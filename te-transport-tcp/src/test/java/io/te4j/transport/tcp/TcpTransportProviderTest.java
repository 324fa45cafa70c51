package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportProvider;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Discovery, availability, settings and the descriptor fields the transport publishes. */
@Timeout(30)
class TcpTransportProviderTest {
  private static TcpTransportProvider findTcp() {
    for (TransportProvider p : ServiceLoader.load(TransportProvider.class)) {
      if (p.name().equals("tcp")) {
        return (TcpTransportProvider) p;
      }
    }
    return null;
  }

  @Test
  void serviceLoaderFindsTheProvider() {
    TcpTransportProvider p = findTcp();
    assertNotNull(p, "META-INF/services entry");
    assertTrue(p.availability().isAvailable());
    assertNull(p.availability().unavailabilityCause());
    try (Transport t = p.create(new TestContext(new TestMemory()))) {
      assertEquals("tcp", t.name());
      assertTrue(t instanceof TcpTransport);
    }
  }

  @Test
  void killSwitchMakesItUnavailable() {
    String property = "te4j.transport.tcp.disabled";
    System.setProperty(property, "true");
    try {
      TcpTransportProvider p = new TcpTransportProvider();
      assertFalse(p.availability().isAvailable());
      assertTrue(p.availability().unavailabilityCause().getMessage().contains(property));
      TransferException e =
          assertThrows(TransferException.class, p.availability()::ensureAvailability);
      assertEquals(ErrorCode.TRANSPORT_UNAVAILABLE, e.errorCode());
    } finally {
      System.clearProperty(property);
    }
    assertTrue(new TcpTransportProvider().availability().isAvailable());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "abc", "0", "-1", "2x", "2 lanes", "65", "1.5"})
  void badLanesSettingNamesTheSetting(String value) {
    TestContext c = new TestContext(new TestMemory()).set(TcpTransport.LANES_SETTING, value);
    TransferException e = assertThrows(TransferException.class, () -> new TcpTransport(c));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
    assertTrue(e.getMessage().contains("te4j.tcp.lanes"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1XiB", "0", "-4096", "99999999999999999999"})
  void badSliceBytesSettingNamesTheSetting(String value) {
    TestContext c =
        new TestContext(new TestMemory()).set(TcpTransport.SLICE_BYTES_SETTING, value);
    TransferException e = assertThrows(TransferException.class, () -> new TcpTransport(c));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
    assertTrue(e.getMessage().contains("te4j.tcp.sliceBytes"), e.getMessage());
  }

  @Test
  void sliceBytesDefaultAndSetting() {
    try (TcpTransport t = new TcpTransport(new TestContext(new TestMemory()))) {
      assertEquals(TcpTransport.DEFAULT_SLICE_BYTES, t.maxSliceBytes());
    }
    try (TcpTransport t = new TcpTransport(
        new TestContext(new TestMemory()).set(TcpTransport.SLICE_BYTES_SETTING, "65536"))) {
      assertEquals(65536, t.maxSliceBytes());
    }
  }

  @Test
  void canReachNeedsADataPort() {
    try (TcpTransport t = new TcpTransport(new TestContext(new TestMemory()))) {
      assertTrue(t.canReach(RawWire.descriptor(15001, 1)));
      assertFalse(t.canReach(SegmentDescriptor.builder("h:1", "rdma").build()));
    }
  }

  @Test
  void startBindsInRangeAndPublishesPortAndVersion() throws Exception {
    // Hold two adjacent ports, free the second just before start(): with the first still taken,
    // start must walk to the second whichever one it tries first.
    InetAddress lo = InetAddress.getLoopbackAddress();
    ServerSocket taken = null;
    ServerSocket reserved = null;
    for (int attempt = 0; attempt < 50 && reserved == null; attempt++) {
      ServerSocket first = new ServerSocket(0, 1, lo);
      if (first.getLocalPort() >= 65535) {
        first.close();
        continue;
      }
      try {
        reserved = new ServerSocket(first.getLocalPort() + 1, 1, lo);
        taken = first;
      } catch (java.io.IOException busy) {
        first.close();
      }
    }
    org.junit.jupiter.api.Assertions.assertNotNull(reserved, "no two adjacent free ports found");
    int base = taken.getLocalPort();
    try (ServerSocket hold = taken) {
      TestContext c = new TestContext(new TestMemory()).ports(base, base + 1);
      try (TcpTransport t = new TcpTransport(c)) {
        SegmentDescriptor.Builder b = SegmentDescriptor.builder("127.0.0.1:1", "tcp");
        reserved.close();
        t.start(b);
        SegmentDescriptor d = b.build();
        assertEquals(base + 1, t.dataPort());
        assertEquals(base + 1, TcpDescriptorFields.dataPort(d));
        assertEquals(2, TcpDescriptorFields.protoVersion(d));
        assertThrows(IllegalStateException.class,
            () -> t.start(SegmentDescriptor.builder("x", "tcp")));
      }
    }
  }

  @Test
  void noFreePortIsAnIOException() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      TestContext c = new TestContext(new TestMemory()).ports(port, port);
      try (TcpTransport t = new TcpTransport(c)) {
        java.io.IOException e = assertThrows(java.io.IOException.class,
            () -> t.start(SegmentDescriptor.builder("x", "tcp")));
        assertTrue(e.getMessage().contains(Integer.toString(port)), e.getMessage());
      }
    }
  }

  @Test
  void zeroLengthCompletesLocallyAndBadDescriptorsFail() throws Exception {
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(0x1000_0000L, 4096, true);
    try (TcpTransport t = new TcpTransport(new TestContext(memory))) {
      TestSlice zero = TestSlice.write(local, 0x1000_0000L, RawWire.descriptor(1, 2), 0, 0, 1000);
      t.submit(zero);
      assertTrue(zero.await(0).ok());
      SegmentDescriptor noPort = SegmentDescriptor.builder("127.0.0.1:1", "tcp").build();
      TestSlice s = TestSlice.write(local, 0x1000_0000L, noPort, 0, 16, 1000);
      t.submit(s);
      assertEquals(ErrorCode.INVALID_ARGUMENT, s.await(0).code());
      TestSlice outside = TestSlice.write(local, 0x1000_0F00L, RawWire.descriptor(1, 2), 0, 512,
          1000);
      t.submit(outside);
      assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, outside.await(0).code());
    }
  }
}
