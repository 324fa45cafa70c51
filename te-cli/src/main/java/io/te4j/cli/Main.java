package io.te4j.cli;

import io.te4j.api.TransferException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code te} command and its subcommands, on picocli. Every error is one line naming the
 * command and what was wrong ({@code --verbose} adds the stack trace); the exit codes are in
 * {@link #EXIT_CODES}.
 */
@Command(name = "te", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "te4j moves bytes between the memory of processes: over tcp, shm, cxl and "
        + "nvmeof, like the Mooncake Transfer Engine, and with its peers.",
    commandListHeading = "%nCommands:%n",
    footer = "%n'te <command> --help' explains a command and each of its options.")
public final class Main implements Callable<Integer> {
  /** Exit codes of every command. */
  static final Map<String, String> EXIT_CODES = exitCodes();

  private static final String GUICE_BYTECODE = "guice_bytecode_gen_option";
  /** Libraries whose retry chatter simplelogger.properties silences unless --verbose. */
  private static final List<String> CHATTY = List.of("org.apache.zookeeper", "org.apache.curator",
      "io.etcd.jetcd", "io.grpc", "io.netty");
  /** Held, so java.util.logging keeps the level (it holds its loggers weakly). */
  private static final java.util.logging.Logger GRPC_JUL = java.util.logging.Logger.getLogger(
      "io.grpc");

  @Option(names = "--verbose", scope = ScopeType.INHERIT,
      description = "On an error, print its stack trace too.")
  boolean verbose;

  @Spec
  CommandSpec spec;

  private final PrintStream err;

  private Main(PrintStream err) {
    this.err = err;
  }

  public static void main(String[] args) {
    // The CLI uses no Guice interception: without bytecode generation Guice never touches
    // sun.misc.Unsafe, which JDK 24+ warns about. An application sets it itself (README).
    if (System.getProperty(GUICE_BYTECODE) == null) {
      System.setProperty(GUICE_BYTECODE, "DISABLED");
    }
    System.exit(run(args, System.out, System.err));
  }

  /** No command: the usage on stderr, and the exit code of a bad command line. */
  @Override
  public Integer call() {
    spec.commandLine().usage(err);
    return 2;
  }

  /** Runs a command line; returns the exit code. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    boolean verbose = Arrays.asList(args).contains("--verbose");
    if (verbose) {
      for (String library : CHATTY) { // system properties win over simplelogger.properties
        System.setProperty("org.slf4j.simpleLogger.log." + library, "warn");
      }
    } else {
      GRPC_JUL.setLevel(java.util.logging.Level.WARNING); // gRPC logs to JUL at INFO
    }
    CommandLine cl = commandLine(out, err);
    cl.setParameterExceptionHandler((e, a) -> {
      err.println(oneLine(e));
      return 2;
    });
    cl.setExecutionExceptionHandler((e, command, parsed) -> {
      String name = command.getCommandSpec().qualifiedName();
      if (verbose) {
        e.printStackTrace(err);
      }
      if (e instanceof UsageException) {
        err.println(name + ": " + e.getMessage());
        return 2;
      }
      err.println(name + ": " + (e instanceof TransferException ? e.getMessage() : e.toString()));
      return 1;
    });
    return cl.execute(args);
  }

  /** The command tree, writing to {@code out} and {@code err}. */
  static CommandLine commandLine(PrintStream out, PrintStream err) {
    CommandLine cl = new CommandLine(new Main(err))
        .addSubcommand(new BenchCommand(out, err))
        .addSubcommand(new ProbeCommand(out))
        .addSubcommand(new TopologyCommand(out))
        .addSubcommand(new DoctorCommand(out))
        .addSubcommand(new NvmeofCommand(out, err))
        .addSubcommand(new ConfigCommand(out, err))
        .addSubcommand(new MetadataServerCommand(out, err))
        .addSubcommand(new CommandLine.HelpCommand());
    cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    cl.setUsageHelpWidth(100);
    describe(cl);
    return cl;
  }

  /** Defaults shown and exit codes listed in the help of every command. */
  private static void describe(CommandLine cl) {
    cl.getCommandSpec().usageMessage().showDefaultValues(true).optionListHeading("%nOptions:%n")
        .exitCodeListHeading("%nExit codes:%n").exitCodeList(EXIT_CODES);
    for (CommandLine sub : cl.getSubcommands().values()) {
      describe(sub);
    }
  }

  private static Map<String, String> exitCodes() {
    Map<String, String> codes = new LinkedHashMap<>();
    codes.put("0", "done, every transfer and check succeeded");
    codes.put("1", "something failed: a transfer, a peer, a check (one line on stderr says what)");
    codes.put("2", "bad command line: nothing was started (one line on stderr says what)");
    return codes;
  }

  /** A parse error in one line: the command, the problem, and where the options are listed. */
  static String oneLine(ParameterException e) {
    CommandLine command = e.getCommandLine();
    String name = command.getCommandSpec().qualifiedName();
    // picocli's wording, less its "Error: " prefix and a doubled word in its map message
    String message = e.getMessage().replace("Error: ", "").replace("option option", "option");
    if (e instanceof UnmatchedArgumentException u) {
      List<String> unmatched = u.getUnmatched();
      if (command.getParent() == null && !unmatched.isEmpty()
          && !unmatched.get(0).startsWith("-")) {
        message = "unknown command '" + unmatched.get(0) + "'; the commands are "
            + String.join(", ", command.getSubcommands().keySet());
      }
      List<String> near = u.getSuggestions();
      if (!near.isEmpty()) {
        message += "; did you mean " + String.join(" or ", near.subList(0,
            Math.min(3, near.size()))) + "?";
      }
    }
    return name + ": " + message + " ('" + name + " --help' lists the options)";
  }

  /** {@code te --version}: the version in the te JAR's manifest. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {"te4j " + (version == null
          ? "(version unknown: not run from the te JAR)" : version)};
    }
  }
}
