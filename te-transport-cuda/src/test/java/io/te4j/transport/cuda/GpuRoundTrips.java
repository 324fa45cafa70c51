package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.jna.Memory;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.testkit.contract.TransportPair;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * Round trips from this side's GPU memory, on each of two GPUs: written to the pair's target
 * (whose own view of its bytes is checked), zeroed here, read back and compared; 4 MiB + 3 bytes,
 * so staged transports move several full pieces and one short one.
 */
final class GpuRoundTrips {
  private GpuRoundTrips() {}

  static void bothWaysOnEachGpu(TransportPair pair, String transport, long seed)
      throws Exception {
    CudaRuntime cuda = new JnaCudaRuntime();
    Engine engine = pair.initiator();
    int n = (4 << 20) + 3;
    byte[] data = new byte[n];
    new Random(seed).nextBytes(data);
    Memory host = new Memory(n);
    for (int device = 0; device < 2; device++) {
      long[] p = {0};
      assertEquals(0, cuda.setDevice(device));
      assertEquals(0, cuda.malloc(p, n));
      assertEquals(0, cuda.setDevice(0));
      engine.register(p[0], n, "cuda:" + device, true);
      try {
        host.write(0, data, 0, n);
        assertEquals(0, cuda.memcpyAsync(p[0], Memory.nativeValue(host), n,
            CudaLayout.MEMCPY_HOST_TO_DEVICE, 0));
        assertEquals(0, cuda.streamSynchronize(0));
        long at = pair.remote() + (8L << 20) * device + 5;
        Batch w = engine.submitAndWait(pair.segment(), List.of(TransferRequest.write(p[0], at, n)),
            transport);
        assertEquals(TransferState.COMPLETED, w.state(), () -> w.errorMessage(0));
        CRC32 crc = new CRC32();
        crc.update(data);
        assertEquals(crc.getValue(), pair.targetCrc(at, n), "the target's bytes");
        host.clear(n);
        assertEquals(0, cuda.memcpyAsync(p[0], Memory.nativeValue(host), n,
            CudaLayout.MEMCPY_HOST_TO_DEVICE, 0));
        assertEquals(0, cuda.streamSynchronize(0));
        Batch r = engine.submitAndWait(pair.segment(), List.of(TransferRequest.read(p[0], at, n)),
            transport);
        assertEquals(TransferState.COMPLETED, r.state(), () -> r.errorMessage(0));
        byte[] back = new byte[n];
        new CudaTargetMemory().read(p[0], back);
        assertArrayEquals(data, back, "cuda:" + device + " round trip over " + transport);
      } finally {
        engine.unregister(p[0]);
        assertEquals(0, cuda.free(p[0]));
      }
    }
  }
}
