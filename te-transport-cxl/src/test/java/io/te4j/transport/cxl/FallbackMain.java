package io.te4j.transport.cxl;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.memory.NativeMemory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Child JVM of {@link NativeFallbackIT}: one engine on the cxl device {@code args[0]}, a 4 MiB write
 * and read back (large enough for the non-temporal path), then prints {@code READY <native> <ok>}
 * and {@code CAUSE <why the library is not used>}.
 */
public final class FallbackMain {
  private FallbackMain() {}

  public static void main(String[] args) throws Exception {
    int len = 4 << 20;
    boolean ok;
    long local = NativeMemory.mapAnonymous(2L * len);
    try (Engine e = CxlFiles.engine(Path.of(args[0]), "cxl")) {
      long base = CxlFiles.base(e);
      e.register(base, len);
      e.register(local, 2L * len, "cpu:0", false);
      byte[] data = new byte[len];
      new Random(9).nextBytes(data);
      NativeMemory.write(local, data, 0, len);
      TransferState w = e.await(e.submit(e.segmentName(),
          List.of(TransferRequest.write(local, 0, len)), "cxl"));
      TransferState r = e.await(e.submit(e.segmentName(),
          List.of(TransferRequest.read(local + len, 0, len)), "cxl"));
      byte[] back = new byte[len];
      NativeMemory.read(local + len, back, 0, len);
      ok = w == TransferState.COMPLETED && r == TransferState.COMPLETED && Arrays.equals(data, back);
    } finally {
      NativeMemory.unmap(local, 2L * len);
    }
    System.out.println("READY " + CopyRoutines.isNativeAvailable() + " " + ok);
    Throwable cause = CopyRoutines.unavailabilityCause();
    System.out.println("CAUSE " + (cause == null ? "" : cause.getMessage().replace('\n', ' ')));
    System.out.flush();
    System.exit(0);
  }
}
