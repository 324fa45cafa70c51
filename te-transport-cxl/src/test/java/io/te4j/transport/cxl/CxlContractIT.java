package io.te4j.transport.cxl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.te4j.core.Engine;
import io.te4j.nativelib.NativeMemory;
import io.te4j.testkit.contract.ChildTargetPair;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The transport contract over {@code cxl}: both processes map one 256 MiB file on /dev/shm; the
 * target registers device offsets from 0, the initiator from 128 MiB.
 */
class CxlContractIT extends TransportContract {
  private static final long MIB = 1 << 20;

  @Override
  protected TransportPair openPair() throws Exception {
    Path device = CxlFiles.device("contract", 256 * MIB);
    return ChildTargetPair.builder("cxl").setting(CxlTransport.DEV_PATH, device.toString())
        .targetMemory(CxlTargetMemory.class.getName())
        .closeAfter(() -> Files.deleteIfExists(device)).open(DevicePair::new);
  }

  /** The device outlives the process that wrote to it; this engine's mapping is unaffected. */
  @Override
  protected void afterTargetDied() {
    byte[] data = new byte[4096];
    new Random(3).nextBytes(data);
    NativeMemory.write(local, data, 0, data.length);
    byte[] mine = new byte[4096];
    NativeMemory.read(local, mine, 0, mine.length);
    assertArrayEquals(data, mine);
  }

  @Override
  protected boolean targetMemoryDiesWithTarget() {
    return false;
  }

  /** Initiator memory in the device too: its main range at 128 MiB, more from 192 MiB. */
  static final class DevicePair extends ChildTargetPair {
    private final AtomicLong next = new AtomicLong(192 * MIB);

    DevicePair(Builder b) throws Exception {
      super(b);
    }

    @Override
    protected long allocateInitiatorMemory(Engine engine, long bytes) {
      long at = CxlFiles.base(engine) + 128 * MIB;
      engine.register(at, bytes);
      return at;
    }

    @Override
    public long registerLocal(Engine engine, long bytes) {
      long at = CxlFiles.base(engine) + next.getAndAdd(bytes);
      engine.register(at, bytes);
      return at;
    }
  }
}
