package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferRequest;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.testkit.contract.ChildTargetPair;
import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * GPU memory over {@code shm}, two JVMs: this side's memory on a (fake) GPU, the target's a memory
 * file this engine maps; the CUDA runtime copies straight between the two, both ways, on each GPU.
 * A target buffer in GPU memory is refused by shm (nvlink reaches it), untouched.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShmGpuMemoryIT {
  private ChildTargetPair pair;
  private Engine engine;

  @BeforeAll
  void open() throws Exception {
    pair = CudaTargetMemory.onThisRuntime(ChildTargetPair.builder("shm").protocol("shm,tcp"))
        .open();
    engine = pair.initiator();
  }

  @AfterAll
  void close() throws Exception {
    if (pair != null) {
      pair.close();
    }
  }

  @Test
  void gpuMemoryIsCopiedToAndFromAPeersMemoryFile() throws Exception {
    GpuRoundTrips.bothWaysOnEachGpu(pair, "shm", 21);
    assertEquals(0, engine.metrics().batchesVia("tcp"), "nothing went through tcp");
  }

  @Test
  void aTargetBufferInGpuMemoryIsRefusedByShm() throws Exception {
    try (ChildTargetPair gpuTarget = CudaTargetMemory.pair("shm,tcp")) {
      Batch b = gpuTarget.initiator().submitAndWait(gpuTarget.segment(),
          List.of(TransferRequest.write(gpuTarget.local(), gpuTarget.remote(), 4096)), "shm");
      assertEquals(ErrorCode.MEMORY_KIND_UNSUPPORTED, b.errorCode(0), b.errorMessage(0));
      assertTrue(b.errorMessage(0).contains("cuda:0"), b.errorMessage(0));
      CRC32 zeros = new CRC32();
      zeros.update(new byte[4096]);
      assertEquals(zeros.getValue(), gpuTarget.targetCrc(gpuTarget.remote(), 4096), "untouched");
    }
  }
}
