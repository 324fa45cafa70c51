package io.te4j.transport.cxl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import java.time.Duration;
import java.util.List;

/** The same-host pair suite over {@code shm} (cross-memory attach), target in a child JVM. */
class ShmPairIT extends SameHostPairSuite {
  @Override
  String transport() {
    return "shm";
  }

  @Override
  void startPair() throws Exception {
    target = PeerProcess.start(List.of(), "shm", Long.toString(BUFFER));
    engine = Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("shm,tcp").transferTimeout(Duration.ofSeconds(30)).start();
    local = engine.allocate(BUFFER).address();
  }

  @Override
  void afterTargetDied() {
    // A cached descriptor still names the dead pid: the copy must fail, not write elsewhere;
    // once the engine looked the segment up again, the submit itself fails.
    try {
      Batch b = engine.submit(target.segment,
          List.of(TransferRequest.write(local, remote, 4096)), "shm");
      assertEquals(TransferState.FAILED, engine.await(b));
    } catch (io.te4j.api.TransferException expected) {
      assertEquals(io.te4j.api.ErrorCode.METADATA, expected.errorCode());
    }
  }
}
