package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.core.TransferEngine;
import io.te4j.nativelib.NativeMemory;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The parity face's registration, managed-buffer and buffer-I/O contracts, on a real engine. */
class ParityApiIT {
  private static final long MIB = 1 << 20;
  private TransferEngine engine;
  private long mapping;

  @BeforeEach
  void start() {
    engine = new TransferEngine();
    assertEquals(0, engine.initialize("127.0.0.1", "P2PHANDSHAKE", "tcp", ""));
    mapping = NativeMemory.mapAnonymous(8 * MIB);
  }

  @AfterEach
  void stop() {
    engine.close();
    NativeMemory.unmap(mapping, 8 * MIB);
  }

  @Test
  void registrationChecks() {
    assertEquals(0, engine.registerMemory(mapping, MIB));
    assertEquals(ErrorCode.ADDRESS_OVERLAPPED.code(), engine.registerMemory(mapping + 4096, MIB));
    assertEquals(ErrorCode.INVALID_ARGUMENT.code(), engine.registerMemory(mapping + 2 * MIB, 0));
    assertEquals(0, engine.registerMemory(mapping + MIB, MIB), "adjacent is allowed");
    assertEquals(2, engine.getEngine().localDescriptor().buffers().size());
    assertEquals(0, engine.unregisterMemory(mapping));
    assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED.code(), engine.unregisterMemory(mapping));
    assertEquals(1, engine.getEngine().localDescriptor().buffers().size());
  }

  @Test
  void failingBatchRegistrationRollsBack() {
    assertEquals(0, engine.registerMemory(mapping + 6 * MIB, MIB));
    int rc = engine.batchRegisterMemory(List.of(mapping, mapping + MIB, mapping + 6 * MIB + 4096),
        List.of(MIB, MIB, 4096L));
    assertEquals(ErrorCode.ADDRESS_OVERLAPPED.code(), rc);
    assertEquals(1, engine.getEngine().memory().regions().size(), "rolled back");
    assertEquals(0, engine.batchRegisterMemory(List.of(mapping, mapping + MIB), List.of(MIB, MIB)));
    assertEquals(0, engine.batchUnregisterMemory(List.of(mapping, mapping + MIB)));
    assertEquals(ErrorCode.INVALID_ARGUMENT.code(),
        engine.batchRegisterMemory(List.of(mapping), List.of(MIB, MIB)));
  }

  @Test
  void managedBuffers() {
    long a = engine.allocateManagedBuffer(MIB);
    assertNotEquals(0, a);
    byte[] data = "managed".getBytes();
    assertEquals(0, engine.writeBytesToBuffer(a, data, data.length));
    assertEquals("managed", new String(engine.readBytesFromBuffer(a, data.length)));
    assertTrue(engine.freeManagedBuffer(a, 3 * MIB) < 0, "wrong length");
    assertEquals(0, engine.freeManagedBuffer(a, MIB));
    assertTrue(engine.freeManagedBuffer(a, MIB) < 0, "double free");
    assertEquals(0, engine.allocateManagedBuffer(0));
    assertEquals(0, engine.allocateManagedBuffer(-5));
  }

  @Test
  void bufferIoIsLimitedToRegisteredMemory() {
    assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED.code(),
        engine.writeBytesToBuffer(mapping, new byte[8], 8));
    TransferException e = assertThrows(TransferException.class,
        () -> engine.readBytesFromBuffer(mapping, 8));
    assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, e.errorCode());
    assertEquals(0, engine.registerMemory(mapping, 4096));
    assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED.code(),
        engine.writeBytesToBuffer(mapping + 4090, new byte[8], 8), "runs past the end");
  }

  @Test
  void selfIsASegmentToo() {
    long a = engine.allocateManagedBuffer(MIB);
    String self = engine.getEngine().segmentName();
    assertEquals("127.0.0.1:" + engine.getRpcPort(), self);
    assertEquals(a, engine.getFirstBufferAddress(self));
    assertEquals(0, engine.getFirstBufferAddress("unreachable_peer:9"));
    assertTrue(engine.getLocalTopology().startsWith("{\"cpu:0\":"), engine.getLocalTopology());
  }

  @Test
  void cudaOperationsSayTheTransportIsMissing() {
    TransferException e = assertThrows(TransferException.class, () -> engine.transferWriteOnCuda(
        "127.0.0.1:1", mapping, mapping, 8, 0));
    assertEquals(ErrorCode.TRANSPORT_UNAVAILABLE, e.errorCode());
    assertEquals(false, TransferEngine.supportCuda());
  }

  @Test
  void badConfigurationNamesTheVariable() {
    TransferEngine other = new TransferEngine();
    int rc = other.initialize(io.te4j.core.config.EngineConfig.builder().localHostname("127.0.0.1")
        .setting("MC_TRANSFER_TIMEOUT", "soon"));
    assertEquals(ErrorCode.INVALID_CONFIGURATION.code(), rc);
    TransferException e = assertThrows(TransferException.class, () ->
        io.te4j.core.config.EngineConfig.builder().localHostname("h").setting("MC_MIN_RPC_PORT", "x")
            .build());
    assertTrue(e.getMessage().contains("MC_MIN_RPC_PORT"));
  }
}
