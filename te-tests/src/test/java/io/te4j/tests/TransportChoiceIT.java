package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The engine picks a transport per target from the target's descriptor, and a request's transport
 * hint wins when that transport is installed and can reach the target.
 */
class TransportChoiceIT {
  private static Engine auto() {
    return Engine.builder().localHostname("127.0.0.1").protocol("auto").start();
  }

  private static void write(Engine from, Engine to, ManagedBuffer src, ManagedBuffer dst,
      String hint, byte[] data) {
    from.write(src.address(), data, 0, data.length);
    assertEquals(TransferState.COMPLETED, from.await(from.submit(to.segmentName(),
        List.of(TransferRequest.write(src.address(), dst.address(), data.length)), hint)));
    assertArrayEquals(data, to.read(dst.address(), data.length));
  }

  @Test
  void hintPinsTheTransportAndTheDescriptorDecidesOtherwise() {
    try (Engine a = auto(); Engine b = auto(); Engine tcpOnly = Engines.tcp();
        ManagedBuffer src = a.allocate(1 << 20); ManagedBuffer dst = b.allocate(1 << 20);
        ManagedBuffer dst2 = tcpOnly.allocate(1 << 20)) {
      assertEquals(List.of("inproc", "tcp"), List.copyOf(a.transportNames()));
      String primary = b.localDescriptor().protocol();
      write(a, b, src, dst, "", "by descriptor".getBytes());
      assertEquals(1, a.metrics().batchesVia(primary));

      write(a, b, src, dst, "tcp", "pinned to tcp".getBytes());
      assertEquals(primary.equals("tcp") ? 2 : 1, a.metrics().batchesVia("tcp"));
      write(a, b, src, dst, "inproc", "pinned to inproc".getBytes());
      assertEquals(primary.equals("inproc") ? 2 : 1, a.metrics().batchesVia("inproc"));

      // A hint the target cannot be reached with is ignored: tcpOnly runs no inproc transport.
      long viaTcp = a.metrics().batchesVia("tcp");
      write(a, tcpOnly, src, dst2, "inproc", "fell back".getBytes());
      assertEquals(viaTcp + 1, a.metrics().batchesVia("tcp"));
      // An unknown hint is ignored the same way.
      write(a, tcpOnly, src, dst2, "warp", "unknown hint".getBytes());
      assertEquals(viaTcp + 2, a.metrics().batchesVia("tcp"));
    }
  }
}
