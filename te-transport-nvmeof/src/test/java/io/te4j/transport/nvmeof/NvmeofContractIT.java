package io.te4j.transport.nvmeof;

import io.te4j.core.Engine;
import io.te4j.metadata.etcd.EtcdTestServer;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/**
 * The transport contract over {@code nvmeof}: the target is a file segment of two 32 MiB files,
 * published in etcd (so every engine of the suite resolves it); it dies when its owner removes it
 * and its files are deleted.
 */
class NvmeofContractIT extends TransportContract {
  @Override
  protected TransportPair openPair() throws Exception {
    return new FilePair();
  }

  /** Engines in etcd and one file segment. */
  private static final class FilePair implements TransportPair {
    private static final long FILE = 32L << 20;
    private static final String NAME = "contract";
    private static final AtomicInteger NEXT_HOST = new AtomicInteger();
    private final EtcdTestServer etcd = EtcdTestServer.start();
    private final Path dir;
    private final Path[] files;
    private final Engine initiator;
    private final long local;

    FilePair() throws IOException {
      dir = Fixtures.newDir(Fixtures.Fs.BUILD_DIR);
      files = new Path[] {dir.resolve("f0"), dir.resolve("f1")};
      for (Path f : files) {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
          raf.setLength(FILE);
        }
      }
      initiator = startInitiator(Duration.ofSeconds(30));
      local = initiator.allocate(64L << 20).address();
      Fixtures.publish(initiator, NAME, List.of(FileSpec.of(files[0].toString(), FILE),
          FileSpec.of(files[1].toString(), FILE)));
    }

    @Override
    public String transport() {
      return "nvmeof";
    }

    @Override
    public Engine initiator() {
      return initiator;
    }

    @Override
    public String segment() {
      return "nvmeof/" + NAME;
    }

    @Override
    public long remote() {
      return 0;
    }

    @Override
    public long remoteLength() {
      return 2 * FILE;
    }

    @Override
    public long local() {
      return local;
    }

    @Override
    public long localLength() {
      return 64L << 20;
    }

    @Override
    public long targetCrc(long address, int length) throws IOException {
      byte[] b = new byte[length];
      int done = 0;
      while (done < length) {
        long at = address + done;
        int file = (int) (at / FILE);
        int n = (int) Math.min(length - done, FILE - at % FILE);
        try (RandomAccessFile raf = new RandomAccessFile(files[file].toFile(), "r")) {
          raf.seek(at % FILE);
          raf.readFully(b, done, n);
        }
        done += n;
      }
      CRC32 crc = new CRC32();
      crc.update(b);
      return crc.getValue();
    }

    @Override
    public Engine startInitiator(Duration transferTimeout) {
      return Engine.builder().protocol("nvmeof").metadataServer(etcd.metadataServer())
          .localHostname("127.0.0.1:" + (21_000 + NEXT_HOST.incrementAndGet()))
          .transferTimeout(transferTimeout).start();
    }

    @Override
    public void killTarget() {
      initiator.removeSegment(segment());
      Fixtures.deleteTree(dir);
    }

    @Override
    public boolean targetIsEngine() {
      return false;
    }

    @Override
    public void close() {
      try {
        initiator.close();
      } finally {
        Fixtures.deleteTree(dir);
        etcd.close();
      }
    }
  }
}
