package io.te4j.tests;

import io.te4j.core.Engine;
import io.te4j.nativelib.NativeMemory;
import io.te4j.testkit.contract.Rejection;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;
import java.time.Duration;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The transport contract run by a third party's transport (module te-test-plugin, te-api alone):
 * its copies need both engines in one JVM, so the target is an engine of this JVM, and it dies by
 * being closed.
 */
class InprocContractIT extends TransportContract {
  @Override
  protected TransportPair openPair() {
    return new InprocPair();
  }

  /** Two engines of this JVM running the {@code inproc} transport. */
  private static final class InprocPair implements TransportPair {
    private static final long BYTES = 64L << 20;
    private static final long EXTRA = 64 << 10;
    private final Engine target = start(Duration.ofSeconds(30));
    private final Engine initiator = start(Duration.ofSeconds(30));
    private final long remote = target.allocate(BYTES).address();
    private final long local = initiator.allocate(BYTES).address();
    private final long localOnly = NativeMemory.mapAnonymous(EXTRA);
    private final long adjacent = NativeMemory.mapAnonymous(2 * EXTRA);

    InprocPair() {
      target.register(localOnly, EXTRA, "cpu:0", false);
      target.register(adjacent, EXTRA);
      target.register(adjacent + EXTRA, EXTRA);
    }

    private static Engine start(Duration timeout) {
      return Engine.builder().localHostname("127.0.0.1").protocol("inproc")
          .transferTimeout(timeout).start();
    }

    @Override
    public String transport() {
      return "inproc";
    }

    @Override
    public Engine initiator() {
      return initiator;
    }

    @Override
    public String segment() {
      return target.segmentName();
    }

    @Override
    public long remote() {
      return remote;
    }

    @Override
    public long remoteLength() {
      return BYTES;
    }

    @Override
    public long local() {
      return local;
    }

    @Override
    public long localLength() {
      return BYTES;
    }

    @Override
    public long targetCrc(long address, int length) {
      byte[] b = new byte[length];
      NativeMemory.read(address, b, 0, length);
      CRC32 crc = new CRC32();
      crc.update(b);
      return crc.getValue();
    }

    @Override
    public List<Rejection> rejections() {
      return List.of(
          new Rejection("memory registered as not remote-accessible", localOnly, 4096, localOnly),
          new Rejection("a range across two registered buffers", adjacent + EXTRA - 2048, 4096,
              adjacent + EXTRA - 4096));
    }

    @Override
    public Engine startInitiator(Duration transferTimeout) {
      return start(transferTimeout);
    }

    @Override
    public void killTarget() {
      target.close();
    }

    @Override
    public java.util.Optional<String> nextNotify(Duration timeout) throws InterruptedException {
      long end = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < end) {
        for (io.te4j.api.TransferNotify n : target.drainNotifies()) {
          return java.util.Optional.of(n.name() + " " + n.msg());
        }
        Thread.sleep(5);
      }
      return java.util.Optional.empty();
    }

    @Override
    public void close() {
      try {
        initiator.close();
      } finally {
        target.close();
      }
    }
  }
}
