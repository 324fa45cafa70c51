package io.te4j.metadata.etcd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/** Engines on etcd for the tests: unique segment names, one checked write. */
final class EtcdEngines {
  private static final AtomicInteger NEXT = new AtomicInteger(
      20000 + ThreadLocalRandom.current().nextInt(20000));

  private EtcdEngines() {}

  /** A segment name no other engine of this run uses: {@code 127.0.0.1:<n>}. */
  static String uniqueName() {
    return "127.0.0.1:" + NEXT.incrementAndGet();
  }

  static Engine.Builder builder(String metadataServer) {
    return Engine.builder().localHostname(uniqueName()).metadataServer(metadataServer)
        .protocol("tcp");
  }

  /**
   * Writes random bytes from {@code from} into {@code target} at {@code targetAddress} with one
   * batch (no retry) and checks they arrived.
   */
  static void writeAndCheck(Engine from, Engine target, long targetAddress, int length, long seed) {
    byte[] data = new byte[length];
    new Random(seed).nextBytes(data);
    try (ManagedBuffer src = from.allocate(length)) {
      from.write(src.address(), data, 0, length);
      Batch b = from.submit(target.segmentName(),
          List.of(TransferRequest.write(src.address(), targetAddress, length)), "");
      TransferState s = from.await(b);
      assertEquals(TransferState.COMPLETED, s, "write to " + target.segmentName() + ": "
          + b.errorMessage());
      from.freeBatch(b.id());
    }
    assertArrayEquals(data, target.read(targetAddress, length), "bytes arrived intact");
  }

  /** Key/value pairs of {@code etcdctl get} output (key line, value line, ...). */
  static Map<String, String> parseEtcdctlGet(String output) {
    Map<String, String> out = new LinkedHashMap<>();
    String[] lines = output.split("\n", -1);
    for (int i = 0; i + 1 < lines.length; i += 2) {
      if (lines[i].isEmpty()) {
        break;
      }
      out.put(lines[i], lines[i + 1]);
    }
    return out;
  }
}
