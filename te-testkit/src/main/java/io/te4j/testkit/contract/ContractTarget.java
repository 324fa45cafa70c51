package io.te4j.testkit.contract;

import io.te4j.api.TransferNotify;
import io.te4j.core.Engine;
import io.te4j.nativelib.NativeMemory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The target engine of a {@link TargetJvm}, in its own JVM. Arguments (all optional but the
 * first): {@code <protocol> [metadata=<server>] [hostname=<name>] [bytes=<n>]
 * [memory=memfd|anon|file:<path>|<TargetMemory class>] [<setting>=<value>]...}: memory files
 * (the default), anonymous memory, a shared mapping of that file, or memory a transport's test
 * supplies.
 *
 * <p>It registers, from one contiguous reservation: the main buffer ({@code bytes}, default 64 MiB,
 * remote-accessible), 64 KiB registered as not remote-accessible, and two adjacent 64 KiB buffers.
 * It prints {@code READY <segment> <main> <local-only> <adjacent> <pid>} (peer addresses), then
 * answers stdin lines {@code CRC <peer address> <length>} with {@code CRC <crc32>} of its own memory,
 * prints notifications as {@code NOTIFY <name> <msg>}, and exits when stdin closes.
 */
public final class ContractTarget {
  static final long EXTRA = 64 << 10;
  /** Mapped files stay mapped for the life of the process. */
  private static final List<Object> KEEP = new ArrayList<>();

  private ContractTarget() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    Engine.Builder builder = Engine.builder().protocol(args[0]).localHostname("127.0.0.1")
        .metadataServer("P2PHANDSHAKE").transferTimeout(Duration.ofSeconds(30));
    long bytes = 64L << 20;
    String memoryKind = "memfd";
    for (int i = 1; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      String key = args[i].substring(0, eq);
      String value = args[i].substring(eq + 1);
      switch (key) {
        case "metadata":
          builder.metadataServer(value);
          break;
        case "hostname":
          builder.localHostname(value);
          break;
        case "bytes":
          bytes = Long.parseLong(value);
          break;
        case "memory":
          memoryKind = value;
          break;
        default:
          builder.setting(key, value);
      }
    }
    Engine engine = builder.start();
    TargetMemory memory = memory(memoryKind, bytes + 3 * EXTRA);
    long main = memory.reserve(engine, bytes);
    long localOnly = memory.reserve(engine, EXTRA);
    long adjacent = memory.reserve(engine, 2 * EXTRA);
    String location = memory.location();
    engine.register(main, bytes, location, true);
    engine.register(localOnly, EXTRA, location, false);
    engine.register(adjacent, EXTRA, location, true);
    engine.register(adjacent + EXTRA, EXTRA, location, true);
    long mainPeer = memory.peerAddress(engine, main);
    out.println("READY " + engine.segmentName() + " " + mainPeer + " "
        + memory.peerAddress(engine, localOnly) + " " + memory.peerAddress(engine, adjacent) + " "
        + ProcessHandle.current().pid());
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
        // Every reservation is contiguous, so a peer address maps to a local one by its offset.
        long local = main + (Long.parseLong(f[1]) - mainPeer);
        byte[] b = new byte[Integer.parseInt(f[2])];
        memory.read(local, b);
        CRC32 crc = new CRC32();
        crc.update(b);
        out.println("CRC " + crc.getValue());
      }
    }
    engine.close();
    System.exit(0);
  }

  private static TargetMemory memory(String kind, long total) throws Exception {
    switch (kind) {
      case "memfd":
        return new Mapped(NativeMemory.mapMemoryFile("te4j-contract-target", total)[0]);
      case "anon":
        return new Mapped(NativeMemory.mapAnonymous(total));
      default:
        if (kind.startsWith("file:")) {
          return new Mapped(mapFile(Path.of(kind.substring(5)), total));
        }
        return (TargetMemory) Class.forName(kind).getConstructor().newInstance();
    }
  }

  /** A shared, writable mapping of {@code file} (grown to {@code bytes}), kept for good. */
  private static long mapFile(Path file, long bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ,
        StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
      MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
      KEEP.add(mapped);
      return NativeMemory.addressOf(mapped);
    }
  }

  /** Consecutive pieces of one mapping this process made. */
  private static final class Mapped implements TargetMemory {
    private long next;

    Mapped(long base) {
      this.next = base;
    }

    @Override
    public long reserve(Engine engine, long bytes) {
      long at = next;
      next += bytes;
      return at;
    }
  }
}
