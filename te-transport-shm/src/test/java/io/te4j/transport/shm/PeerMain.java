package io.te4j.transport.shm;

import io.te4j.api.TransferNotify;
import io.te4j.core.Engine;
import io.te4j.nativelib.NativeMemory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.zip.CRC32;

/**
 * A target engine in its own JVM for the same-host pair tests. Arguments: {@code cxl <device>
 * <offset> <bytes>} (registers that range of the device); {@code shm <bytes>} (a managed buffer,
 * protocol {@code shm,tcp}); {@code tcp <bytes>} (the same, protocol {@code tcp}); {@code shm-anon
 * <bytes>} and {@code tcp-anon <bytes>} (anonymous memory, registered); {@code shm-file <path> <bytes>} (a shared mapping of
 * that file, registered). Prints {@code READY <segment> <address peers use> <local address>},
 * then serves; stdin line {@code CRC <offset> <length>} answers {@code CRC <crc32>} of its own
 * memory at that offset of its buffer; notifications print as {@code NOTIFY <name> <msg>}; stdin
 * closing ends it.
 */
public final class PeerMain {
  /** Keeps mapped files mapped for the life of the process. */
  private static final java.util.List<Object> KEEP = new java.util.ArrayList<>();

  private PeerMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    Engine engine;
    long peerAddress;
    long local;
    if (args[0].equals("cxl")) {
      long offset = Long.parseLong(args[2]);
      long bytes = Long.parseLong(args[3]);
      engine = Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
          .protocol("cxl").transferTimeout(Duration.ofSeconds(30))
          .setting("MC_CXL_DEV_PATH", args[1]).start();
      long base = ((Number) engine.localDescriptor().attributes().get("cxl_base_addr")).longValue();
      local = base + offset;
      engine.register(local, bytes);
      peerAddress = offset;
    } else {
      // "shm": shm named explicitly; "tcp": the default configuration, shm starts beside it.
      long bytes = Long.parseLong(args[args.length - 1]);
      engine = Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
          .protocol(args[0].startsWith("tcp") ? "tcp" : "shm,tcp")
          .transferTimeout(Duration.ofSeconds(30)).start();
      if (args[0].endsWith("-anon")) {
        local = NativeMemory.mapAnonymous(bytes);
        engine.register(local, bytes);
      } else if (args[0].equals("shm-file")) {
        try (FileChannel ch = FileChannel.open(Path.of(args[1]), StandardOpenOption.READ,
            StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
          MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
          KEEP.add(mapped);
          local = NativeMemory.addressOf(mapped);
        }
        engine.register(local, bytes);
      } else {
        local = engine.allocate(bytes).address();
      }
      peerAddress = local;
    }
    out.println("READY " + engine.segmentName() + " " + peerAddress + " " + local);
    Thread notifier = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        for (TransferNotify n : engine.drainNotifies()) {
          out.println("NOTIFY " + n.name() + " " + n.msg());
        }
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    notifier.setDaemon(true);
    notifier.start();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String[] f = line.split(" ");
      if (f[0].equals("CRC")) {
        byte[] b = engine.read(local + Long.parseLong(f[1]), Integer.parseInt(f[2]));
        CRC32 crc = new CRC32();
        crc.update(b);
        out.println("CRC " + crc.getValue());
      }
    }
    engine.close();
    System.exit(0);
  }
}
