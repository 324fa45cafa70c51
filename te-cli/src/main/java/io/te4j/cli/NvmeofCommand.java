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
import java.util.Set;
import java.util.concurrent.CountDownLatch;

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
final class NvmeofCommand {
  static final String USAGE = String.join("\n",
      "  nvmeof register --name N --file PATH[:LENGTH] [--host-path HOST=PATH]... [--file ...]",
      "            [--server-name S] [--metadata-server M] [--local-server-name H] [--no-hold]",
      "            [--replace]",
      "            publishes mooncake/nvmeof/N (refused when N exists, unless --replace); each",
      "            --host-path maps the --file before it; keeps running (the segment lives as",
      "            long as this engine) unless --no-hold",
      "  nvmeof list   [--name N]... [--json] [--metadata-server M]",
      "  nvmeof remove --name N [--metadata-server M]");

  /** The segment {@code te bench --segment-file} publishes and drives. */
  static final String BENCH_SEGMENT = "nvmeof/te-bench-" + ProcessHandle.current().pid();

  private static final Set<String> VALUED = Set.of("name", "file", "host-path", "server-name",
      "metadata-server", "local-server-name");
  private static final Set<String> FLAGS = Set.of("no-hold", "json", "replace");

  private final List<String> args;
  private final PrintStream out;
  private final PrintStream err;

  NvmeofCommand(List<String> args, PrintStream out, PrintStream err) {
    this.args = args;
    this.out = out;
    this.err = err;
  }

  int run() throws Exception {
    if (args.isEmpty()) {
      throw new Options.UsageException("nvmeof needs register, list or remove");
    }
    List<String[]> opts = parse(args.subList(1, args.size()));
    switch (args.get(0)) {
      case "register":
        return register(opts);
      case "list":
        return list(opts);
      case "remove":
        return remove(opts);
      default:
        throw new Options.UsageException("unknown nvmeof command '" + args.get(0) + "'");
    }
  }

  /** Options in order, repeated ones kept: {@code --file} and {@code --host-path} pair up. */
  private static List<String[]> parse(List<String> rest) {
    List<String[]> out = new ArrayList<>();
    for (int i = 0; i < rest.size(); i++) {
      String a = rest.get(i);
      if (!a.startsWith("--")) {
        throw new Options.UsageException("unexpected argument '" + a + "'");
      }
      String name = a.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (FLAGS.contains(name)) {
        out.add(new String[] {name, "true"});
      } else if (VALUED.contains(name)) {
        if (value == null) {
          if (i + 1 >= rest.size()) {
            throw new Options.UsageException("--" + name + " needs a value");
          }
          value = rest.get(++i);
        }
        out.add(new String[] {name, value});
      } else {
        throw new Options.UsageException("unknown option --" + name);
      }
    }
    return out;
  }

  private static String last(List<String[]> opts, String name, String dflt) {
    String v = dflt;
    for (String[] o : opts) {
      if (o[0].equals(name)) {
        v = o[1];
      }
    }
    return v;
  }

  private static List<String> all(List<String[]> opts, String name) {
    List<String> v = new ArrayList<>();
    for (String[] o : opts) {
      if (o[0].equals(name)) {
        v.add(o[1]);
      }
    }
    return v;
  }

  /**
   * A short-lived engine to reach the store. Its server name is unique (host, command, pid): a
   * store refuses a second engine under a name another engine on this host already holds.
   */
  private static Engine engine(List<String[]> opts) {
    String own = defaultHostName() + "-te-nvmeof-" + ProcessHandle.current().pid();
    Engine.Builder b = Engine.builder()
        .localHostname(last(opts, "local-server-name", own)).protocol("nvmeof");
    String metadata = last(opts, "metadata-server", null);
    if (metadata != null) {
      b.metadataServer(metadata);
    }
    return b.start();
  }

  private static String defaultHostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "127.0.0.1";
    }
  }

  private int register(List<String[]> opts) throws Exception {
    String name = last(opts, "name", null);
    if (name == null) {
      throw new Options.UsageException("register needs --name");
    }
    List<FileSpec> files = new ArrayList<>();
    for (String[] o : opts) {
      if (o[0].equals("file")) {
        Map.Entry<String, Long> pl = FileSpec.parsePathAndLength(o[1]);
        long length = pl.getValue() > 0 ? pl.getValue() : sizeOf(pl.getKey());
        files.add(FileSpec.of(pl.getKey(), length));
      } else if (o[0].equals("host-path")) {
        if (files.isEmpty()) {
          throw new Options.UsageException("--host-path " + o[1] + " must follow the --file it maps");
        }
        Map.Entry<String, String> hp = FileSpec.parseHostPath(o[1]);
        int lastIndex = files.size() - 1;
        files.set(lastIndex, files.get(lastIndex).withHostPath(hp.getKey(), hp.getValue()));
      }
    }
    if (files.isEmpty()) {
      throw new Options.UsageException("register needs at least one --file PATH[:LENGTH]");
    }
    boolean hold = !Boolean.parseBoolean(last(opts, "no-hold", "false"));
    boolean replace = Boolean.parseBoolean(last(opts, "replace", "false"));
    String server = last(opts, "server-name", defaultHostName());
    SegmentDescriptor d = NvmeofSegments.descriptor(name, server, files);
    Engine engine = engine(opts);
    try {
      if (replace) {
        engine.publishSegment(d);
      } else if (!engine.publishNewSegment(d)) {
        err.println("te: " + d.name() + " is already published; remove it first, or pass"
            + " --replace");
        hold = false;
        return 1;
      }
      out.println(Engine.descriptorJson(d));
      out.flush();
      if (engine.config().isP2p()) {
        err.println("te: P2P metadata: only this engine sees " + d.name()
            + "; use --metadata-server to share it");
      }
      if (!hold) {
        err.println("te: --no-hold: " + d.name() + " stays only in a store that keeps keys after"
            + " their writer exits (te4j's stores remove them)");
        return 0;
      }
      err.println("te: " + d.name() + " published; keeping it until this command is stopped");
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

  private int list(List<String[]> opts) {
    boolean json = Boolean.parseBoolean(last(opts, "json", "false"));
    List<String> names = all(opts, "name");
    try (Engine engine = engine(opts)) {
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
            err.println("te: " + segment + " not found");
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

  private int remove(List<String[]> opts) {
    String name = last(opts, "name", null);
    if (name == null) {
      throw new Options.UsageException("remove needs --name");
    }
    String segment = NvmeofSegments.segmentName(name);
    try (Engine engine = engine(opts)) {
      engine.removeSegment(segment);
      if (engine.findSegment(segment).isPresent()) {
        // The HTTP store deletes only keys it wrote itself.
        err.println("te: " + NvmeofSegments.segmentName(name) + " is still published: this store"
            + " lets only the engine that registered it remove it; stop that te nvmeof register");
        return 1;
      }
      out.println("removed " + NvmeofSegments.segmentName(name));
      return 0;
    }
  }

  /** The bytes a file or block device holds (Files.size reports 0 for a block device). */
  static long sizeOf(String path) {
    Path p = Path.of(path);
    try (FileChannel ch = FileChannel.open(p)) {
      long size = Files.isRegularFile(p) ? Files.size(p) : ch.size();
      if (size <= 0) {
        throw new Options.UsageException(path + " is empty; give its length: --file "
            + path + ":LENGTH");
      }
      return size;
    } catch (IOException e) {
      throw new Options.UsageException("cannot open " + path + " (" + e.getMessage()
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
      throw new Options.UsageException("--segment-file " + path + " has " + size
          + " bytes; the bench touches " + footprint + " (threads x batch-size x block-size)");
    }
    engine.publishSegment(NvmeofSegments.descriptor(BENCH_SEGMENT, engine.config().localHost(),
        List.of(FileSpec.of(path, size))));
    return BENCH_SEGMENT;
  }
}
