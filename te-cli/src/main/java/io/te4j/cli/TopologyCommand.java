package io.te4j.cli;

import io.te4j.core.TransferEngine;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code te topology}: the reference's topology JSON, and why a transport is unavailable. */
@Command(name = "topology", mixinStandardHelpOptions = true,
    description = "Prints this machine's topology as the reference's JSON: the devices each "
        + "transport would use, and for an unavailable transport the reason.")
final class TopologyCommand implements Callable<Integer> {
  @Option(names = "--device-name", paramLabel = "NAMES",
      description = "Only these devices, comma-separated (as MC_DEVICE_NAME / "
          + "device_name of the reference), e.g. mlx5_0,mlx5_1.")
  String deviceName;

  private final PrintStream out;

  TopologyCommand(PrintStream out) {
    this.out = out;
  }

  @Override
  public Integer call() {
    out.println(new TransferEngine().getLocalTopology(deviceName));
    return 0;
  }
}
