package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.nativelib.NativeMemory;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The target refuses every range that is not wholly inside one registered, remote-accessible
 * buffer: the transfer FAILS, target memory is untouched, and the engines keep working.
 */
class RejectionIT {
  private static final long MIB = 1 << 20;
  private Engine target;
  private Engine initiator;
  private long mapping;
  private long bufferA;
  private long bufferB;
  private long localOnly;
  private ManagedBuffer src;

  @BeforeEach
  void start() {
    target = Engines.tcp();
    initiator = Engines.tcp();
    mapping = NativeMemory.mapAnonymous(3 * MIB);
    bufferA = mapping;
    bufferB = mapping + MIB;
    localOnly = mapping + 2 * MIB;
    target.register(bufferA, MIB);
    target.register(bufferB, MIB);
    target.register(localOnly, MIB, "cpu:0", false);
    NativeMemory.fill(mapping, 3 * MIB, (byte) 0x5A);
    src = initiator.allocate(64 * MIB);
    byte[] junk = new byte[(int) MIB];
    new Random(3).nextBytes(junk);
    initiator.write(src.address(), junk, 0, junk.length);
  }

  @AfterEach
  void stop() {
    src.close();
    initiator.close();
    target.close();
    NativeMemory.unmap(mapping, 3 * MIB);
  }

  private TransferState write(long remote, long length) {
    return initiator.await(initiator.submit(target.segmentName(),
        List.of(TransferRequest.write(src.address(), remote, length)), ""));
  }

  private void assertTargetUntouched() {
    byte[] expected = new byte[(int) (3 * MIB)];
    java.util.Arrays.fill(expected, (byte) 0x5A);
    byte[] actual = new byte[expected.length];
    NativeMemory.read(mapping, actual, 0, actual.length);
    assertArrayEquals(expected, actual, "target memory changed");
  }

  private void assertNextValidWriteCompletes() {
    assertEquals(TransferState.COMPLETED, write(bufferA + 100, 4096));
    byte[] sent = initiator.read(src.address(), 4096);
    assertArrayEquals(sent, target.read(bufferA + 100, 4096));
  }

  @Test
  void writeOutsideRegisteredMemory() {
    assertEquals(TransferState.FAILED, write(mapping + 3 * MIB, 4096));
    assertEquals(TransferState.FAILED, write(4096, 4096));
    assertTargetUntouched();
    assertNextValidWriteCompletes();
  }

  @Test
  void writeAcrossTwoAdjacentBuffers() {
    assertEquals(TransferState.FAILED, write(bufferB - 2048, 4096));
    assertTargetUntouched();
    assertNextValidWriteCompletes();
  }

  @Test
  void writeIntoLocalOnlyBuffer() {
    assertEquals(TransferState.FAILED, write(localOnly, 4096));
    assertTargetUntouched();
    assertNextValidWriteCompletes();
  }

  @Test
  void overflowingRangeIsRefused() {
    long nearTop = -4096L; // 0xFFFF_FFFF_FFFF_F000: address + length wraps past 2^64
    io.te4j.core.transfer.Batch b = initiator.submit(target.segmentName(),
        List.of(TransferRequest.write(src.address(), nearTop, 8192)), "");
    assertEquals(TransferState.FAILED, initiator.await(b));
    assertEquals(ErrorCode.INVALID_ARGUMENT, b.errorCode(0), b.errorMessage(0));
    assertTargetUntouched();
    assertNextValidWriteCompletes();
  }

  @Test
  void readOutsideRegisteredMemoryLeavesLocalMemoryAlone() {
    byte[] before = initiator.read(src.address(), 4096);
    TransferState s = initiator.await(initiator.submit(target.segmentName(),
        List.of(TransferRequest.read(src.address(), localOnly, 4096)), ""));
    assertEquals(TransferState.FAILED, s);
    assertArrayEquals(before, initiator.read(src.address(), 4096));
    assertNextValidWriteCompletes();
  }

  @Test
  void largeRejectedWriteFailsFast() {
    long t0 = System.nanoTime();
    assertEquals(TransferState.FAILED, write(mapping + 3 * MIB, 32 * MIB));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms < 3000, "a 32 MiB rejected write took " + ms + " ms");
    assertTargetUntouched();
    assertNextValidWriteCompletes();
  }

  @Test
  void unregisteredLocalBufferIsRefusedBeforeSending() {
    long unregistered = NativeMemory.mapAnonymous(MIB);
    try {
      io.te4j.core.transfer.Batch b = initiator.submit(target.segmentName(),
          List.of(TransferRequest.write(unregistered, bufferA, 4096)), "");
      assertEquals(io.te4j.api.TransferState.FAILED, b.state(), "failed before sending");
      assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, b.errorCode(0));
      assertTargetUntouched();
    } finally {
      NativeMemory.unmap(unregistered, MIB);
    }
  }
}
