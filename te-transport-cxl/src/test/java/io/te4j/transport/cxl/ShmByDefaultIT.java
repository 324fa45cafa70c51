package io.te4j.transport.cxl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Engines configured for plain TCP on one host move bytes through shared memory without being
 * asked to: shm starts beside the configured protocol and wins for same-host TCP peers, while the
 * descriptor still says tcp. A hint of tcp still pins TCP.
 */
class ShmByDefaultIT {
  @Test
  void sameHostTcpPeersUseShmUnlessPinned() throws Exception {
    try (PeerProcess target = PeerProcess.start(List.of(), "tcp", Long.toString(8L << 20));
        Engine engine = Engine.builder().localHostname("127.0.0.1").protocol("tcp").start();
        ManagedBuffer src = engine.allocate(8L << 20)) {
      assertEquals("tcp", engine.localDescriptor().protocol());
      assertTrue(engine.transportNames().contains("shm"), engine.transportNames().toString());
      byte[] data = new byte[1 << 20];
      new Random(4).nextBytes(data);
      engine.write(src.address(), data, 0, data.length);
      assertEquals(TransferState.COMPLETED, engine.await(engine.submit(target.segment,
          List.of(TransferRequest.write(src.address(), target.peerAddress, data.length)), "")));
      assertEquals(1, engine.metrics().batchesVia("shm"));
      assertEquals(0, engine.metrics().batchesVia("tcp"));

      assertEquals(TransferState.COMPLETED, engine.await(engine.submit(target.segment,
          List.of(TransferRequest.write(src.address(), target.peerAddress, data.length)), "tcp")));
      assertEquals(1, engine.metrics().batchesVia("tcp"), "a tcp hint pins tcp");

      engine.write(src.address(), new byte[data.length], 0, data.length);
      assertEquals(TransferState.COMPLETED, engine.await(engine.submit(target.segment,
          List.of(TransferRequest.read(src.address(), target.peerAddress, data.length)), "")));
      assertArrayEquals(data, engine.read(src.address(), data.length));
      assertEquals(2, engine.metrics().batchesVia("shm"));
    }
  }
}
