package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.jna.Memory;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.transfer.Batch;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
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
    CudaRuntime cuda = new JnaCudaRuntime();
    int n = (4 << 20) + 3;
    byte[] data = new byte[n];
    new Random(11).nextBytes(data);
    for (int device = 0; device < 2; device++) {
      long[] p = {0};
      assertEquals(0, cuda.setDevice(device));
      assertEquals(0, cuda.malloc(p, n));
      assertEquals(0, cuda.setDevice(0));
      engine.register(p[0], n, "cuda:" + device, true);
      try {
        Memory host = new Memory(n);
        host.write(0, data, 0, n);
        assertEquals(0, cuda.memcpyAsync(p[0], Memory.nativeValue(host), n,
            CudaLayout.MEMCPY_HOST_TO_DEVICE, 0));
        assertEquals(0, cuda.streamSynchronize(0));
        long at = remote + 8L * (1 << 20) * device + 5;
        Batch w = engine.submitAndWait(pair.segment(), List.of(TransferRequest.write(p[0], at, n)),
            "tcp");
        assertEquals(TransferState.COMPLETED, w.state(), () -> w.errorMessage(0));
        CRC32 crc = new CRC32();
        crc.update(data);
        assertEquals(crc.getValue(), pair.targetCrc(at, n), "the target's GPU memory");
        Memory zeros = new Memory(n);
        zeros.clear();
        assertEquals(0, cuda.memcpyAsync(p[0], Memory.nativeValue(zeros), n,
            CudaLayout.MEMCPY_HOST_TO_DEVICE, 0));
        assertEquals(0, cuda.streamSynchronize(0));
        Batch r = engine.submitAndWait(pair.segment(), List.of(TransferRequest.read(p[0], at, n)),
            "tcp");
        assertEquals(TransferState.COMPLETED, r.state(), () -> r.errorMessage(0));
        byte[] back = new byte[n];
        new CudaTargetMemory().read(p[0], back);
        assertArrayEquals(data, back, "cuda:" + device + " round trip");
      } finally {
        engine.unregister(p[0]);
        assertEquals(0, cuda.free(p[0]));
      }
    }
  }
}
