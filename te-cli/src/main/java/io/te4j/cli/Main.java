package io.te4j.cli;

import io.te4j.api.TransferException;
import io.te4j.core.Engine;
import io.te4j.core.TransferEngine;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Set;

/**
 * The {@code te} command: {@code te bench}, {@code te probe <peer>}, {@code te topology}, {@code te
 * metadata-server}, {@code te nvmeof}, {@code te config}. Exit codes: 0 success, 1 failure, 2 bad
 * command line.
 */
public final class Main {
  private static final String USAGE = String.join("\n",
      "usage: te <command> [options]",
      "  bench     [--mode target|initiator] [--operation read|write]",
      "            [--protocol tcp|shm|cxl|nvmeof] [--metadata-server P2PHANDSHAKE]",
      "            [--local-server-name 127.0.0.1] [--segment-id host:port] [--block-size 1M]",
      "            [--batch-size 4] [--threads 2] [--duration 10] [--buffer-size 256M]",
      "            [--baseline socket,iperf3|none] [--json] [--verify]",
      "            [--segment-file PATH]: with --protocol nvmeof, drive a file segment of PATH",
      "            [--cxl-device PATH]: with --protocol cxl, the device both sides map (else",
      "              MC_CXL_DEV_PATH); the target serves its first --buffer-size bytes; a",
      "              missing file directly under /dev/shm is created sparse and deleted after",
      "            --verify: end with a write/read-back round trip and compare the bytes",
      "            [--stop-on-error]: end the run at the first failed batch (else failures are",
      "              counted, the peer going away and coming back is said once each, and the",
      "              run goes on); exit 1 when any batch failed, 2 on bad usage",
      "            no --mode: target in a child JVM, initiator here, on loopback",
      "  probe     <peer host:port> [--metadata-server P2PHANDSHAKE]",
      "  topology  [--device-name mlx5_0,mlx5_1]",
      NvmeofCommand.USAGE,
      ConfigCommand.USAGE,
      "  metadata-server [--host 0.0.0.0] [--port 8080] [--path /metadata] [--ttl 0]",
      "            the HTTP metadata service; prints its URL, serves until killed");

  private static final String GUICE_BYTECODE = "guice_bytecode_gen_option";

  private Main() {}

  public static void main(String[] args) {
    // The CLI uses no Guice interception: without bytecode generation Guice never touches
    // sun.misc.Unsafe, which JDK 24+ warns about. An application sets it itself (README).
    if (System.getProperty(GUICE_BYTECODE) == null) {
      System.setProperty(GUICE_BYTECODE, "DISABLED");
    }
    System.exit(run(args, System.out, System.err));
  }

  /**
   * The lines of the usage text that describe {@code command} (from its line to the next
   * command's), or null for an unknown command.
   */
  static String commandUsage(String command) {
    StringBuilder out = new StringBuilder();
    boolean in = false;
    for (String line : USAGE.split("\n")) {
      boolean commandLine = line.startsWith("  ") && !line.startsWith("   ");
      if (commandLine) {
        in = line.startsWith("  " + command + " ") || line.equals("  " + command);
      }
      if (in) {
        out.append(line).append('\n');
      }
    }
    return out.length() == 0 ? null : "usage: te " + out.toString().strip();
  }

  /** Runs a command; returns the exit code. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help")) {
      out.println(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    if (args[0].equals("--version") || args[0].equals("version")) {
      String version = Main.class.getPackage().getImplementationVersion();
      out.println("te4j " + (version == null ? "(version unknown: not run from the te JAR)"
          : version));
      return 0;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
      String help = commandUsage(args[0]);
      if (help != null) {
        out.println(help);
        return 0;
      }
    }
    try {
      switch (args[0]) {
        case "bench":
          return new BenchCommand(Options.parse(rest, BenchCommand.OPTIONS, BenchCommand.FLAGS),
              out, err).run();
        case "probe":
          return probe(Options.parse(rest, Set.of("metadata-server", "local-server-name"),
              Set.of()), out);
        case "metadata-server":
          return new MetadataServerCommand(Options.parse(rest, MetadataServerCommand.OPTIONS,
              Set.of()), out, err).run();
        case "nvmeof":
          return new NvmeofCommand(Arrays.asList(rest), out, err).run();
        case "config":
          return new ConfigCommand(Arrays.asList(rest), out, err).run();
        case "topology":
          Options t = Options.parse(rest, Set.of("device-name"), Set.of());
          out.println(new TransferEngine().getLocalTopology(t.get("device-name", null)));
          return 0;
        default:
          throw new Options.UsageException("unknown command '" + args[0] + "'");
      }
    } catch (Options.UsageException e) {
      err.println("te: " + e.getMessage());
      err.println(USAGE);
      return 2;
    } catch (TransferException e) {
      err.println("te: " + e.getMessage());
      return 1;
    } catch (Exception e) {
      err.println("te: " + e);
      return 1;
    }
  }

  private static int probe(Options o, PrintStream out) {
    if (o.positional().size() != 1) {
      throw new Options.UsageException("probe takes one peer, host:port");
    }
    String peer = o.positional().get(0);
    try (Engine engine = Engine.builder().localHostname(o.get("local-server-name", "127.0.0.1"))
        .metadataServer(o.get("metadata-server", "P2PHANDSHAKE")).protocol("tcp").start()) {
      long t0 = System.nanoTime();
      try {
        engine.probeOrThrow(peer);
      } catch (TransferException e) {
        // One line: what failed (refused, unknown host, timeout, not a handshake port, ...).
        out.println(peer + " unreachable: " + e.getMessage()); // the message names its code
        return 1;
      }
      out.println(peer + " reachable (" + (System.nanoTime() - t0) / 1000 + " us)");
      return 0;
    } catch (TransferException e) {
      out.println("engine failed to start: " + e.getMessage());
      return 1;
    }
  }
}
