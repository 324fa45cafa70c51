package io.te4j.transport.cuda;

import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The transport contract over {@code tcp} with the target's memory on {@code cuda:0} (the fake
 * runtime in CI): the target engine stages every byte through a pinned host buffer into and out of
 * GPU memory, and a CPU touch of that memory would crash it (the fake's device memory is mapped
 * with no access).
 */
class TcpGpuMemoryContractIT extends TransportContract {
  @Override
  protected TransportPair openPair() throws Exception {
    return CudaTargetMemory.pair("tcp");
  }

  @Override
  protected boolean transfersNeedTheTarget() {
    return true;
  }

  /**
   * GPU memory on this side too, on each device: staged out for a write and in for a read, in
   * pieces of the staging buffer's size and one shorter (4 MiB + 3 bytes).
   */
  @Test
  @Order(98)
  void localGpuMemoryIsStagedBothWays() throws Exception {
    GpuRoundTrips.bothWaysOnEachGpu(pair, "tcp", 11);
  }
}
