package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A batch far larger than the TCP lanes' queues (2 lanes x 1024 slices by default) flows: the
 * submitting thread waits for room as earlier slices finish instead of the batch failing whole.
 */
class BigBatchIT {
  private static final int REQUESTS = 1_000_000;
  private static final int BLOCK = 16;

  @Test
  @Timeout(300)
  void aMillionRequestsInOneBatchAllComplete() throws Exception {
    long bytes = (long) REQUESTS * BLOCK;
    try (Engine target = Engines.tcp(Duration.ofMinutes(4));
        Engine initiator = Engines.tcp(Duration.ofMinutes(4));
        ManagedBuffer dst = target.allocate(bytes);
        ManagedBuffer src = initiator.allocate(bytes)) {
      byte[] data = new byte[(int) bytes];
      new Random(11).nextBytes(data);
      initiator.write(src.address(), data, 0, data.length);
      List<TransferRequest> requests = new ArrayList<>(REQUESTS);
      for (int i = 0; i < REQUESTS; i++) {
        long off = (long) i * BLOCK;
        requests.add(TransferRequest.write(src.address() + off, dst.address() + off, BLOCK));
      }
      Batch batch = initiator.submit(target.segmentName(), requests, "");
      assertEquals(TransferState.COMPLETED, initiator.await(batch), String.valueOf(batch));
      assertEquals(-1, batch.firstFailedEntry());
      assertArrayEquals(data, target.read(dst.address(), data.length));
    }
  }
}
