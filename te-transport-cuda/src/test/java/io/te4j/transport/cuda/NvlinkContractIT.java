package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The transport contract over {@code nvlink}: two engines in two JVMs on the CUDA runtime of
 * {@code te4j.cuda.cudart} (the fake in CI; the GPU check runs it on the real one). The target's
 * memory is device memory on {@code cuda:0}, published with IPC handles and mapped here; this
 * side's memory is host memory, pinned at registration.
 */
class NvlinkContractIT extends TransportContract {
  @Override
  protected TransportPair openPair() throws Exception {
    return CudaTargetMemory.pair();
  }

  /**
   * The fake keeps a dead exporter's memory alive while it is mapped here (a memory file), so a
   * write after the target died may complete; real CUDA's behaviour is recorded by the GPU check.
   */
  @Override
  protected boolean targetMemoryDiesWithTarget() {
    return false;
  }

  /** Every copy went through CUDA: the target's buffers were mapped here, nothing through TCP. */
  @Test
  @Order(99)
  void copiesWentThroughIpcMappings() {
    NvlinkTransport nvlink = (NvlinkTransport) engine.transport("nvlink");
    assertTrue(nvlink.mappedBuffers() > 0, "the target's buffers are mapped here");
    if (FakeCuda.active()) {
      assertEquals(0, FakeCuda.controls().tefake_violations(), "no CUDA call from a host function");
    }
  }
}
