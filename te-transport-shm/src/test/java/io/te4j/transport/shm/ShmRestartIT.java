package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An engine closed in a process that lives on, and one started again there under the same name:
 * the pid is the same, so only the engine's liveness word tells them apart. No byte meant for the
 * new engine goes to the old one's memory (which the initiator still has mapped); the first write
 * after the restart reaches the new engine.
 */
class ShmRestartIT {
  private static Engine target(int rpcPort) {
    return Engine.builder().localHostname("127.0.0.1:" + rpcPort).protocol("tcp")
        .setting("MC_LEGACY_RPC_PORT_BINDING", "1").start();
  }

  @Test
  void aClosedEngineGetsNoBytesAndItsSuccessorGetsThem() {
    int rpcPort = 16_950;
    String segment = "127.0.0.1:" + rpcPort;
    byte[] data = "through shm, after a restart".getBytes();
    try (Engine initiator = Engine.builder().localHostname("127.0.0.1").protocol("tcp").start();
        ManagedBuffer src = initiator.allocate(1 << 20)) {
      initiator.write(src.address(), data, 0, data.length);
      ShmTransport shm = (ShmTransport) initiator.transport("shm");
      long remote;
      try (Engine first = target(rpcPort); ManagedBuffer dst = first.allocate(1 << 20)) {
        remote = dst.address();
        Batch b = initiator.submitAndWait(segment,
            List.of(TransferRequest.write(src.address(), remote, data.length)), "");
        assertEquals(TransferState.COMPLETED, b.state(), b::errorMessage);
        assertArrayEquals(data, first.read(remote, data.length));
      }
      assertTrue(shm.mappedBytes() >= data.length, "went through shm's mapped path");

      // The engine closed; its descriptor is still cached here: the write must fail, not land.
      Batch gone = initiator.submit(segment,
          List.of(TransferRequest.write(src.address(), remote, data.length)), "shm");
      assertEquals(TransferState.FAILED, initiator.await(gone));
      assertEquals(ErrorCode.TRANSFER_FAILED, gone.errorCode(0), gone.errorMessage(0));
      assertTrue(gone.errorMessage(0).contains("gone"), gone.errorMessage(0));

      try (Engine second = target(rpcPort); ManagedBuffer dst = second.allocate(1 << 20)) {
        Batch b = initiator.submitAndWait(segment,
            List.of(TransferRequest.write(src.address(), dst.address(), data.length)), "");
        assertEquals(TransferState.COMPLETED, b.state(), b::errorMessage);
        assertArrayEquals(data, second.read(dst.address(), data.length));
      }
    }
  }
}
