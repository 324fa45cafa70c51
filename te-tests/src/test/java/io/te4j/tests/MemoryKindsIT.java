package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.MemoryKind;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
import io.te4j.nativelib.LibC;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Device memory reaches no transport that cannot move it. Memory of a made-up device kind is
 * mapped with no access at all, so any CPU touch would crash the JVM: submitted over tcp and shm,
 * locally and at the target, it fails with MEMORY_KIND_UNSUPPORTED, the other entries of the batch
 * go, and the next transfer is fine.
 */
class MemoryKindsIT {
  private static final long MIB = 1L << 20;

  /** {@code length} bytes of address space nothing may read or write (PROT_NONE). */
  private static long inaccessible(long length) {
    return LibC.mmap(0, length, 0, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE,
        -1, 0);
  }

  @Test
  void deviceMemoryFailsCleanlyOverTcpAndShmAndNothingIsTouched() {
    long fakeLocal = inaccessible(MIB);
    long fakeRemote = inaccessible(MIB);
    try (Engine target = Engines.tcpAndShm(); Engine initiator = Engines.tcpAndShm();
        ManagedBuffer remote = target.allocate(MIB); ManagedBuffer local = initiator.allocate(MIB)) {
      initiator.register(fakeLocal, MIB, "fakegpu:0", false);
      target.register(fakeRemote, MIB, "fakegpu:1", true);
      BufferDescriptor published = initiator.refreshSegment(target.segmentName())
          .bufferContaining(fakeRemote, 1);
      assertEquals("fakegpu:1", published.attributes().get(MemoryKind.LOCATION_ATTRIBUTE),
          "device memory is published with its location");

      for (String transport : new String[] {"tcp", "shm"}) {
        long before = initiator.metrics().batchesVia(transport);
        // Local device memory as the source and as the destination, beside host memory.
        for (TransferRequest device : List.of(
            TransferRequest.write(fakeLocal, remote.address(), 4096),
            TransferRequest.read(fakeLocal, remote.address(), 4096))) {
          Batch b = initiator.submitAndWait(target.segmentName(), List.of(device,
              TransferRequest.write(local.address(), remote.address() + 8192, 4096)), transport);
          assertEquals(TransferState.FAILED, b.state());
          assertEquals(ErrorCode.MEMORY_KIND_UNSUPPORTED, b.errorCode(0), b.errorMessage(0));
          assertTrue(b.errorMessage(0).contains("fakegpu:0"), b.errorMessage(0));
          assertEquals(TransferState.COMPLETED, b.state(1), "the host entry went: "
              + b.errorMessage(1));
        }
        // Device memory at the target.
        Batch b = initiator.submitAndWait(target.segmentName(),
            List.of(TransferRequest.write(local.address(), fakeRemote, 4096)), transport);
        assertEquals(ErrorCode.MEMORY_KIND_UNSUPPORTED, b.errorCode(0), b.errorMessage(0));
        assertTrue(initiator.metrics().batchesVia(transport) > before, "went through "
            + transport);
      }
      // The CPU copies of the engine refuse it too.
      assertEquals(ErrorCode.MEMORY_KIND_UNSUPPORTED, assertThrows(TransferException.class,
          () -> initiator.write(fakeLocal, new byte[8], 0, 8)).errorCode());
      assertEquals(ErrorCode.MEMORY_KIND_UNSUPPORTED, assertThrows(TransferException.class,
          () -> initiator.read(fakeLocal, 8)).errorCode());

      // Alive, and the next transfer is fine.
      byte[] data = new byte[64 << 10];
      new Random(5).nextBytes(data);
      initiator.write(local.address(), data, 0, data.length);
      initiator.transfer(target.segmentName(),
          List.of(TransferRequest.write(local.address(), remote.address(), data.length))).join();
      assertArrayEquals(data, target.read(remote.address(), data.length));
    } finally {
      LibC.munmap(fakeLocal, MIB);
      LibC.munmap(fakeRemote, MIB);
    }
  }

  /**
   * A request on a CUDA stream reaches no transport that cannot order on it: over tcp and shm it
   * fails with INVALID_ARGUMENT before anything moves (the {@code *_on_cuda} operations order such
   * transfers through a host function instead), and the host entry beside it goes.
   */
  @Test
  void aRequestOnAStreamFailsOverTransportsThatCannotOrderOnIt() {
    try (Engine target = Engines.tcpAndShm(); Engine initiator = Engines.tcpAndShm();
        ManagedBuffer remote = target.allocate(MIB); ManagedBuffer local = initiator.allocate(MIB)) {
      byte[] before = target.read(remote.address(), 4096);
      for (String transport : new String[] {"tcp", "shm"}) {
        initiator.write(local.address(), new byte[] {1, 2, 3}, 0, 3);
        Batch b = initiator.submitAndWait(target.segmentName(), List.of(
            TransferRequest.write(local.address(), remote.address(), 4096).onStream(0x7f00),
            TransferRequest.write(local.address(), remote.address() + 8192, 4096)), transport);
        assertEquals(ErrorCode.INVALID_ARGUMENT, b.errorCode(0), b.errorMessage(0));
        assertTrue(b.errorMessage(0).contains("cannot order a transfer on stream 0x7f00"),
            b.errorMessage(0));
        assertEquals(TransferState.COMPLETED, b.state(1), b.errorMessage(1));
      }
      assertArrayEquals(before, target.read(remote.address(), 4096), "nothing moved");
    }
  }
}
