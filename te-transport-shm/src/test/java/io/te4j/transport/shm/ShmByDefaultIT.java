package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.testkit.contract.TargetJvm;
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
    try (TargetJvm target = TargetJvm.start("tcp", 8L << 20, List.of(), List.of());
        Engine engine = Engine.builder().localHostname("127.0.0.1").protocol("tcp").start();
        ManagedBuffer src = engine.allocate(8L << 20)) {
      assertEquals("tcp", engine.localDescriptor().protocol());
      assertTrue(engine.transportNames().contains("shm"), engine.transportNames().toString());
      byte[] data = new byte[1 << 20];
      new Random(4).nextBytes(data);
      engine.write(src.address(), data, 0, data.length);
      assertEquals(TransferState.COMPLETED, engine.await(engine.submit(target.segment(),
          List.of(TransferRequest.write(src.address(), target.remote(), data.length)), "")));
      assertEquals(1, engine.metrics().batchesVia("shm"));
      assertEquals(0, engine.metrics().batchesVia("tcp"));

      assertEquals(TransferState.COMPLETED, engine.await(engine.submit(target.segment(),
          List.of(TransferRequest.write(src.address(), target.remote(), data.length)), "tcp")));
      assertEquals(1, engine.metrics().batchesVia("tcp"), "a tcp hint pins tcp");

      engine.write(src.address(), new byte[data.length], 0, data.length);
      assertEquals(TransferState.COMPLETED, engine.await(engine.submit(target.segment(),
          List.of(TransferRequest.read(src.address(), target.remote(), data.length)), "")));
      assertArrayEquals(data, engine.read(src.address(), data.length));
      assertEquals(2, engine.metrics().batchesVia("shm"));
    }
  }

  /**
   * With cross-memory attach turned off (as when the kernel refuses it), a same-host peer whose
   * memory is a memory file is still reached through shm, and one with anonymous memory over TCP.
   */
  @Test
  void withoutCrossMemoryAttachOnlyMemoryFilesGoThroughShm() throws Exception {
    try (TargetJvm files = TargetJvm.start("tcp", 8L << 20, List.of(), List.of());
        TargetJvm anonymous =
            TargetJvm.start("tcp", 8L << 20, List.of("memory=anon"), List.of());
        Engine engine = Engine.builder().localHostname("127.0.0.1").protocol("tcp")
            .setting(ShmTransport.ATTACH_DISABLED, "true").start();
        ManagedBuffer src = engine.allocate(8L << 20)) {
      byte[] data = new byte[1 << 20];
      new Random(5).nextBytes(data);
      engine.write(src.address(), data, 0, data.length);
      ShmTransport shm = (ShmTransport) engine.transport("shm");
      for (TargetJvm target : List.of(files, anonymous)) {
        engine.write(src.address(), data, 0, data.length);
        assertEquals(TransferState.COMPLETED, engine.await(engine.submit(target.segment(),
            List.of(TransferRequest.write(src.address(), target.remote(), data.length)), "")));
        engine.write(src.address(), new byte[data.length], 0, data.length);
        assertEquals(TransferState.COMPLETED, engine.await(engine.submit(target.segment(),
            List.of(TransferRequest.read(src.address(), target.remote(), data.length)), "")));
        assertArrayEquals(data, engine.read(src.address(), data.length));
      }
      assertEquals(2, engine.metrics().batchesVia("shm"), "the memory-file peer");
      assertEquals(2, engine.metrics().batchesVia("tcp"), "the anonymous-memory peer");
      assertEquals(2L << 20, shm.mappedBytes());
      assertEquals(0, shm.attachBytes());
    }
  }
}
