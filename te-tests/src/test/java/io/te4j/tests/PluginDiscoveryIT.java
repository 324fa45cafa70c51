package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.testplugin.InProcessTransport;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A transport written against te-api alone (module te-test-plugin, no te-core on its class path)
 * is found by ServiceLoader, chosen by name, and moves bytes between two engines.
 */
class PluginDiscoveryIT {
  @Test
  void thirdPartyTransportIsDiscoveredAndUsed() {
    assertTrue(Engine.features().contains("inproc"), "features: " + Engine.features());
    try (Engine a = Engine.builder().localHostname("127.0.0.1").protocol("inproc").start();
        Engine b = Engine.builder().localHostname("127.0.0.1").protocol("inproc").start();
        ManagedBuffer src = a.allocate(1 << 20);
        ManagedBuffer dst = b.allocate(1 << 20)) {
      assertEquals("inproc", a.localDescriptor().protocol());
      byte[] data = "through a plugin transport".getBytes();
      a.write(src.address(), data, 0, data.length);
      TransferState s = a.await(a.submit(b.segmentName(),
          List.of(TransferRequest.write(src.address(), dst.address(), data.length)), ""));
      assertEquals(TransferState.COMPLETED, s);
      assertArrayEquals(data, b.read(dst.address(), data.length));
      // Through te-api alone it sent a connection handshake to b's handshake port and b's
      // transport answered it.
      assertEquals(java.util.Set.of(b.segmentName()),
          ((InProcessTransport) a.transport("inproc")).greetedPeers());
    }
  }

  /** Without a transport serving it, a connection handshake is closed unanswered. */
  @Test
  void connectionHandshakesGoToTheTransportServingThem() throws Exception {
    try (Engine plain = Engine.builder().localHostname("127.0.0.1").protocol("tcp").start();
        Engine plugin = Engine.builder().localHostname("127.0.0.1").protocol("inproc").start()) {
      assertEquals("{\"inproc_welcome\":\"" + plugin.segmentName() + "\"}",
          RawHandshake.call(plugin.rpcPort(), 0, "{\"inproc_hello\":\"me\"}"));
      assertEquals("", RawHandshake.call(plain.rpcPort(), 0, "{\"inproc_hello\":\"me\"}"));
      assertEquals("{\"status\":\"success\"}", RawHandshake.call(plain.rpcPort(), 3, "{}"));
    }
  }

  @Test
  void unknownProtocolListsTheKnownOnes() {
    TransferException e = assertThrows(TransferException.class,
        () -> Engine.builder().localHostname("127.0.0.1").protocol("warp").start());
    assertEquals(ErrorCode.TRANSPORT_UNAVAILABLE, e.errorCode());
    assertTrue(e.getMessage().contains("inproc") && e.getMessage().contains("tcp"), e.getMessage());
  }
}
