package io.te4j.cli;

import io.te4j.core.TransferEngine;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code te topology}: the reference's topology JSON, and why a transport is unavailable. */
@Command(name = "topology", mixinStandardHelpOptions = true,
    description = "Prints this machine's topology as the reference's JSON: the devices close to "
        + "each memory location; with --devices, the verbs devices and their ports.")
final class TopologyCommand implements Callable<Integer> {
  @Option(names = "--device-name", paramLabel = "NAMES",
      description = "Only these devices, comma-separated (as MC_DEVICE_NAME / "
          + "device_name of the reference), e.g. mlx5_0,mlx5_1.")
  String deviceName;

  @Option(names = "--devices",
      description = "Instead of the JSON, list the verbs devices (each port's state, MTU, LID, "
          + "link layer, GIDs, NUMA node) and the GPUs (PCI address, NUMA node, nearest NICs), "
          + "or why there are none.")
  boolean devices;

  private final PrintStream out;

  TopologyCommand(PrintStream out) {
    this.out = out;
  }

  @Override
  public Integer call() {
    if (devices) {
      io.te4j.transport.rdma.RdmaDevices.describe().forEach(out::println);
      io.te4j.transport.cuda.CudaProbe.describe(io.te4j.transport.cuda.CudaProbe.probe())
          .forEach(out::println);
      return 0;
    }
    out.println(new TransferEngine().getLocalTopology(deviceName));
    return 0;
  }
}
