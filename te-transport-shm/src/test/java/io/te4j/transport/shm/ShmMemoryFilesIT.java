package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.testkit.contract.TargetJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A target whose registered memory is a shared mapping of a {@code /dev/shm} file: the initiator
 * maps the same file; when the file cannot be opened any more (unlinked), it falls back to
 * cross-memory attach and the transfer still completes.
 */
class ShmMemoryFilesIT {
  private static final long BYTES = 8L << 20;

  @Test
  void devShmFileIsMappedByThePeer() throws Exception {
    Path file = Path.of("/dev/shm", "te4j-shm-" + ProcessHandle.current().pid() + "-mapped");
    try (TargetJvm target = TargetJvm.start("shm,tcp", BYTES, List.of("memory=file:" + file),
        List.of()); Engine engine = engine(); ManagedBuffer src = engine.allocate(BYTES)) {
      BufferDescriptor published = engine.segment(target.segment()).buffers().get(0);
      assertEquals(file.toString(), published.attributes().get(ShmTransport.FILE));
      roundTrip(engine, target, src.address());
      ShmTransport shm = (ShmTransport) engine.transport("shm");
      assertEquals(2L << 20, shm.mappedBytes(), "write and read went through the mapped file");
      assertEquals(0, shm.attachBytes());
      // The bytes are in the file itself, where any process of the host sees them.
      byte[] inFile = new byte[16];
      try (var ch = java.nio.channels.FileChannel.open(file)) {
        ch.read(java.nio.ByteBuffer.wrap(inFile), 4096);
      }
      byte[] sent = new byte[16];
      System.arraycopy(engine.read(src.address(), 16), 0, sent, 0, 16);
      assertArrayEquals(sent, inFile);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Test
  void aFileThatCannotBeOpenedFallsBackToCrossMemoryAttach() throws Exception {
    Path file = Path.of("/dev/shm", "te4j-shm-" + ProcessHandle.current().pid() + "-unlinked");
    try (TargetJvm target = TargetJvm.start("shm,tcp", BYTES, List.of("memory=file:" + file),
        List.of()); Engine engine = engine(); ManagedBuffer src = engine.allocate(BYTES)) {
      engine.segment(target.segment()); // the descriptor still names the file
      Files.delete(file); // the target keeps its mapping; nobody can open the path any more
      roundTrip(engine, target, src.address());
      ShmTransport shm = (ShmTransport) engine.transport("shm");
      assertEquals(0, shm.mappedBytes());
      assertEquals(2L << 20, shm.attachBytes(), "write and read by cross-memory attach");
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static Engine engine() {
    return Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("shm,tcp").transferTimeout(Duration.ofSeconds(30)).start();
  }

  /** 1 MiB written to the target at offset 4096 and read back into another place. */
  private static void roundTrip(Engine engine, TargetJvm target, long src) {
    byte[] data = new byte[1 << 20];
    new Random(11).nextBytes(data);
    engine.write(src, data, 0, data.length);
    assertEquals(TransferState.COMPLETED, engine.submitAndWait(target.segment(),
        List.of(TransferRequest.write(src, target.remote() + 4096, data.length)), "shm")
        .state());
    long back = src + (2L << 20);
    assertEquals(TransferState.COMPLETED, engine.submitAndWait(target.segment(),
        List.of(TransferRequest.read(back, target.remote() + 4096, data.length)), "shm")
        .state());
    assertArrayEquals(data, engine.read(back, data.length));
    assertTrue(engine.metrics().batchesVia("shm") >= 2);
  }
}
