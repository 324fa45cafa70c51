package io.te4j.transport.shm;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.nativelib.NativeMemory;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Child JVM of {@link NativeFallbackIT}: two engines on one host, a 4 MiB write and read back over
 * shm into the target's managed buffer (a memory file, so the copies are plain memory copies, large
 * enough for the non-temporal path), then prints {@code READY <native> <ok>} and {@code CAUSE <why
 * the library is not used>}.
 */
public final class FallbackMain {
  private FallbackMain() {}

  public static void main(String[] args) throws Exception {
    int len = 4 << 20;
    boolean ok;
    long local = NativeMemory.mapAnonymous(2L * len);
    try (Engine target = engine(); Engine initiator = engine();
        ManagedBuffer remote = target.allocate(len)) {
      initiator.register(local, 2L * len, "cpu:0", false);
      byte[] data = new byte[len];
      new Random(9).nextBytes(data);
      NativeMemory.write(local, data, 0, len);
      TransferState w = initiator.await(initiator.submit(target.segmentName(),
          List.of(TransferRequest.write(local, remote.address(), len)), "shm"));
      TransferState r = initiator.await(initiator.submit(target.segmentName(),
          List.of(TransferRequest.read(local + len, remote.address(), len)), "shm"));
      byte[] back = new byte[len];
      NativeMemory.read(local + len, back, 0, len);
      ok = w == TransferState.COMPLETED && r == TransferState.COMPLETED && Arrays.equals(data, back)
          && ((ShmTransport) initiator.transport("shm")).mappedBytes() == 2L * len;
    } finally {
      NativeMemory.unmap(local, 2L * len);
    }
    System.out.println("READY " + CopyRoutines.isNativeAvailable() + " " + ok);
    Throwable cause = CopyRoutines.unavailabilityCause();
    System.out.println("CAUSE " + (cause == null ? "" : cause.getMessage().replace('\n', ' ')));
    System.out.flush();
    System.exit(0);
  }

  private static Engine engine() {
    return Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("shm,tcp").transferTimeout(Duration.ofSeconds(30)).start();
  }
}
