package io.te4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.te4j.cli.doctor.Doctor;
import io.te4j.cli.doctor.Finding;
import io.te4j.cli.doctor.Machine;
import io.te4j.core.config.EngineConfig;
import io.te4j.transport.nvmeof.NvmeofIoUring;
import io.te4j.transport.shm.CopyRoutines;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code te doctor}: what this machine lacks for each transport, and how to fix it. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
    description = "Checks this machine for what each transport needs: memlock and open-file "
        + "limits, /dev/shm, hugepages, io_uring, cross-memory attach, verbs devices (port "
        + "state, GID, MTU), the NVIDIA driver and GPUDirect, the port range, the clock, host "
        + "name resolution, and te4j's native libraries. Each finding comes with its fix; exit "
        + "1 when something a transport needs is missing.")
final class DoctorCommand implements Callable<Integer> {
  @Option(names = "--json", description = "Print the findings as a JSON array.")
  boolean json;

  private final PrintStream out;

  DoctorCommand(PrintStream out) {
    this.out = out;
  }

  @Override
  public Integer call() throws Exception {
    // The port range as an engine would see it (MC_MIN_PRC_PORT, MC_MAX_PRC_PORT, properties).
    EngineConfig config = EngineConfig.builder().localHostname("doctor").build();
    List<Finding> findings = new ArrayList<>(new Doctor(Machine.local(), config.minPort(),
        config.maxPort()).run());
    findings.add(CopyRoutines.isNativeAvailable()
        ? Finding.ok("native copies (shm, cxl)", "libte4jcopy loaded")
        : Finding.warn("native copies (shm, cxl)", String.valueOf(
            CopyRoutines.unavailabilityCause()), "shm and cxl copy with the JDK instead (slower "
            + "for large blocks): use the te JAR, or put te-transport-shm's linux-x86_64 JAR on "
            + "the class path"));
    findings.add(NvmeofIoUring.isAvailable()
        ? Finding.ok("io_uring library (nvmeof)", "libte4jnvmeof loaded")
        : Finding.warn("io_uring library (nvmeof)", String.valueOf(
            NvmeofIoUring.unavailabilityCause()), "nvmeof uses FileChannel I/O instead: put "
            + "te-transport-nvmeof's linux-x86_64 JAR on the class path"));
    if (json) {
      ArrayNode array = new ObjectMapper().createArrayNode();
      for (Finding f : findings) {
        array.addObject().put("level", f.level().name().toLowerCase(Locale.ROOT))
            .put("check", f.check()).put("found", f.found()).put("fix", f.fix());
      }
      out.println(array);
    } else {
      int width = findings.stream().mapToInt(f -> f.check().length()).max().orElse(10);
      for (Finding f : findings) {
        out.printf("%-5s %-" + width + "s  %s%n", f.level().name().toLowerCase(Locale.ROOT),
            f.check(), f.found());
        if (!f.fix().isEmpty()) {
          out.printf("      %" + width + "s  fix: %s%n", "", f.fix());
        }
      }
    }
    return findings.stream().anyMatch(f -> f.level() == Finding.Level.FAIL) ? 1 : 0;
  }
}
