package io.te4j.transport.cxl;

import io.te4j.core.Engine;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Sparse files on /dev/shm standing in for CXL devices, and engines mapping them. */
final class CxlFiles {
  private CxlFiles() {}

  /** A new sparse file of {@code size} bytes (zeros, no memory used until written). */
  static Path device(String tag, long size) throws IOException {
    Path p = Path.of("/dev/shm", "te4j-cxl-" + ProcessHandle.current().pid() + "-" + tag);
    Files.deleteIfExists(p);
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(size);
    }
    return p;
  }

  /** An engine running the cxl transport on {@code device}. */
  static Engine engine(Path device, String protocol) {
    return Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol(protocol).transferTimeout(Duration.ofSeconds(30))
        .setting(CxlTransport.DEV_PATH, device.toString()).start();
  }

  /** The engine's mapping of the device, from its descriptor ({@code cxl_base_addr}). */
  static long base(Engine e) {
    return ((Number) e.localDescriptor().attributes().get("cxl_base_addr")).longValue();
  }
}
