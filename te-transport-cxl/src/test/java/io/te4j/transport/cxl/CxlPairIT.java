package io.te4j.transport.cxl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.te4j.nativelib.NativeMemory;
import io.te4j.transport.shm.PeerProcess;
import io.te4j.transport.shm.SameHostPairSuite;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * The same-host pair suite over {@code cxl}: both processes map one 256 MiB file on /dev/shm; the
 * target registers device offsets [0, 64 MiB), the initiator [128 MiB, 192 MiB).
 */
class CxlPairIT extends SameHostPairSuite {
  private Path device;

  @Override
  protected String transport() {
    return "cxl";
  }

  @Override
  protected void startPair() throws Exception {
    device = CxlFiles.device("pair", 256L << 20);
    target = PeerProcess.start(java.util.List.of(), "cxl", device.toString(), "0",
        Long.toString(BUFFER));
    engine = CxlFiles.engine(device, "cxl");
    local = CxlFiles.base(engine) + (128L << 20);
    engine.register(local, BUFFER);
  }

  @Override
  protected void afterTargetDied() {
    // The device outlives the process that wrote to it: what it held is still there to read,
    // and this engine's mapping is unaffected.
    byte[] data = new byte[4096];
    new Random(3).nextBytes(data);
    NativeMemory.write(local, data, 0, data.length);
    byte[] mine = new byte[4096];
    NativeMemory.read(local, mine, 0, mine.length);
    assertArrayEquals(data, mine);
  }

  @Override
  protected void cleanUp() throws Exception {
    if (device != null) {
      Files.deleteIfExists(device);
    }
  }
}
