package io.te4j.cli;

import io.te4j.api.SegmentDescriptor;
import io.te4j.core.Engine;
import io.te4j.transport.nvmeof.FileSpec;
import io.te4j.transport.nvmeof.NvmeofSegments;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code te nvmeof register|list|remove}: NVMe-oF file segments in the metadata store.
 *
 * <p>A segment lives as long as the metadata store keeps the key of the engine that wrote it. te4j's
 * stores tie keys to their engine (etcd lease, ZooKeeper ephemeral node, the HTTP store deleting
 * its keys on close, P2P keeping them in memory), so {@code register} keeps its engine running
 * until it is stopped (Ctrl-C); with {@code --no-hold} it publishes and exits, which keeps the
 * segment only in a store that outlives its writers. With P2P metadata no other engine can see
 * the segment at all. {@code remove} deletes the key in etcd from any process; with the HTTP store
 * only the registering process can (stop it).
 */
@Command(name = "nvmeof", mixinStandardHelpOptions = true,
    description = "NVMe-oF file segments in the metadata store: register, list, remove.",
    subcommands = {NvmeofCommand.Register.class, NvmeofCommand.ListSegments.class,
        NvmeofCommand.Remove.class})
final class NvmeofCommand implements Callable<Integer> {
  /** The segment {@code te bench --segment-file} publishes and drives. */
  static final String BENCH_SEGMENT = "nvmeof/te-bench-" + ProcessHandle.current().pid();

  final PrintStream out;
  final PrintStream err;

  NvmeofCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /** No subcommand. */
  @Override
  public Integer call() {
    throw new UsageException("nvmeof needs a subcommand: register, list or remove");
  }

  /**
   * A short-lived engine to reach the store. Its server name is unique (host, command, pid): a
   * store refuses a second engine under a name another engine on this host already holds.
   */
  private static Engine engine(EngineOptions options) {
    String own = defaultHostName() + "-te-nvmeof-" + ProcessHandle.current().pid();
    return Engine.builder()
        .localHostname(options.localServerName == null ? own : options.localServerName)
        .metadataServer(options.metadataServer).protocol("nvmeof").start();
  }

  private static String defaultHostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "127.0.0.1";
    }
  }

  /** One {@code --file} and the {@code --host-path} options that follow it. */
  static final class FileOption {
    @Option(names = "--file", required = true, paramLabel = "PATH[:LENGTH]",
        description = "A file or block device of the segment; LENGTH (bytes) when this host "
            + "cannot see it. Repeat for more files.")
    String file;

    @Option(names = "--host-path", paramLabel = "HOST=PATH",
        description = "Where HOST sees the --file before it (repeatable).")
    List<String> hostPaths = new ArrayList<>();
  }

  @Command(name = "register", mixinStandardHelpOptions = true,
      description = "Publishes mooncake/nvmeof/NAME and keeps it published until stopped "
          + "(te4j's stores remove an engine's keys when it exits).")
  static final class Register implements Callable<Integer> {
    @ParentCommand
    NvmeofCommand parent;

    @Option(names = "--name", required = true, paramLabel = "NAME",
        description = "The segment's name, without the nvmeof/ prefix.")
    String name;

    @ArgGroup(exclusive = false, multiplicity = "1..*")
    List<FileOption> files;

    @Option(names = "--server-name", paramLabel = "HOST",
        description = "The host that serves the files (default: this host's name).")
    String serverName;

    @Option(names = "--no-hold", description = "Publish and exit: the segment stays only in a "
        + "store that keeps keys after their writer exits.")
    boolean noHold;

    @Option(names = "--replace", description = "Replace a segment of that name (else refused).")
    boolean replace;

    @Mixin
    EngineOptions engineOptions;

    @Override
    public Integer call() throws Exception {
      List<FileSpec> specs = new ArrayList<>();
      for (FileOption f : files) {
        Map.Entry<String, Long> pl = FileSpec.parsePathAndLength(f.file);
        long length = pl.getValue() > 0 ? pl.getValue() : sizeOf(pl.getKey());
        FileSpec spec = FileSpec.of(pl.getKey(), length);
        for (String hostPath : f.hostPaths) {
          Map.Entry<String, String> hp = FileSpec.parseHostPath(hostPath);
          spec = spec.withHostPath(hp.getKey(), hp.getValue());
        }
        specs.add(spec);
      }
      String server = serverName == null ? defaultHostName() : serverName;
      SegmentDescriptor d = NvmeofSegments.descriptor(name, server, specs);
      boolean hold = !noHold;
      Engine engine = engine(engineOptions);
      try {
        if (replace) {
          engine.publishSegment(d);
        } else if (!engine.publishNewSegment(d)) {
          parent.err.println("te nvmeof register: " + d.name() + " is already published; "
              + "remove it first, or pass --replace");
          hold = false;
          return 1;
        }
        parent.out.println(Engine.descriptorJson(d));
        parent.out.flush();
        if (engine.config().isP2p()) {
          parent.err.println("te: P2P metadata: only this engine sees " + d.name()
              + "; use --metadata-server to share it");
        }
        if (!hold) {
          parent.err.println("te: --no-hold: " + d.name() + " stays only in a store that keeps "
              + "keys after their writer exits (te4j's stores remove them)");
          return 0;
        }
        parent.err.println("te: " + d.name()
            + " published; keeping it until this command is stopped");
        CountDownLatch forever = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(engine::close, "te-nvmeof-unregister"));
        forever.await();
        return 0;
      } finally {
        if (!hold) {
          engine.close();
        }
      }
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Lists file segments: all of them, or those named.")
  static final class ListSegments implements Callable<Integer> {
    @ParentCommand
    NvmeofCommand parent;

    @Option(names = "--name", paramLabel = "NAME", description = "Only this segment "
        + "(repeatable); exit 1 when one is missing.")
    List<String> names = new ArrayList<>();

    @Option(names = "--json", description = "Print each descriptor as the reference's JSON.")
    boolean json;

    @Mixin
    EngineOptions engineOptions;

    @Override
    public Integer call() {
      PrintStream out = parent.out;
      try (Engine engine = engine(engineOptions)) {
        List<SegmentDescriptor> found = new ArrayList<>();
        if (names.isEmpty()) {
          // Every store of te4j lists keys; the reference's HTTP server cannot (NOT_IMPLEMENTED).
          for (SegmentDescriptor d : engine.segments(NvmeofSegments.PREFIX).values()) {
            if (NvmeofSegments.isFileSegment(d)) {
              found.add(d);
            }
          }
        } else {
          for (String n : names) {
            String segment = NvmeofSegments.segmentName(n);
            var d = engine.findSegment(segment).filter(NvmeofSegments::isFileSegment);
            if (d.isEmpty()) {
              parent.err.println("te nvmeof list: " + segment + " not found");
            }
            d.ifPresent(found::add);
          }
        }
        for (SegmentDescriptor d : found) {
          if (json) {
            out.println(Engine.descriptorJson(d));
            continue;
          }
          out.println(d.name() + "  server " + d.attributes().get("server_name"));
          for (FileSpec f : NvmeofSegments.files(d)) {
            out.println("  " + f.filePath() + "  " + f.length() + " bytes"
                + (f.localPathMap().isEmpty() ? "" : "  " + f.localPathMap()));
          }
        }
        return names.isEmpty() || found.size() == names.size() ? 0 : 1;
      }
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true,
      description = "Deletes a file segment's key (with the HTTP store only the registering "
          + "process can: stop it).")
  static final class Remove implements Callable<Integer> {
    @ParentCommand
    NvmeofCommand parent;

    @Option(names = "--name", required = true, paramLabel = "NAME",
        description = "The segment's name, without the nvmeof/ prefix.")
    String name;

    @Mixin
    EngineOptions engineOptions;

    @Override
    public Integer call() {
      String segment = NvmeofSegments.segmentName(name);
      try (Engine engine = engine(engineOptions)) {
        engine.removeSegment(segment);
        if (engine.findSegment(segment).isPresent()) {
          // The HTTP store deletes only keys it wrote itself.
          parent.err.println("te nvmeof remove: " + segment + " is still published: this store"
              + " lets only the engine that registered it remove it; stop that te nvmeof "
              + "register");
          return 1;
        }
        parent.out.println("removed " + segment);
        return 0;
      }
    }
  }

  /** The bytes a file or block device holds (Files.size reports 0 for a block device). */
  static long sizeOf(String path) {
    Path p = Path.of(path);
    try (FileChannel ch = FileChannel.open(p)) {
      long size = Files.isRegularFile(p) ? Files.size(p) : ch.size();
      if (size <= 0) {
        throw new UsageException(path + " is empty; give its length: --file "
            + path + ":LENGTH");
      }
      return size;
    } catch (IOException e) {
      throw new UsageException("cannot open " + path + " (" + e.getMessage()
          + "); give its length to register a file this host cannot see: --file " + path
          + ":LENGTH");
    }
  }

  /**
   * For {@code te bench --segment-file}: publishes {@link #BENCH_SEGMENT} over {@code path} with
   * this (P2P) engine, which answers its own keys, and returns its name.
   */
  static String publishBenchSegment(Engine engine, String path, long footprint) {
    long size = sizeOf(path);
    if (size < footprint) {
      throw new UsageException("--segment-file " + path + " has " + size
          + " bytes; the bench touches " + footprint + " (threads x batch-size x block-size)");
    }
    engine.publishSegment(NvmeofSegments.descriptor(BENCH_SEGMENT, engine.config().localHost(),
        List.of(FileSpec.of(path, size))));
    return BENCH_SEGMENT;
  }
}
