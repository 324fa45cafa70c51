package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.te4j.testkit.contract.ChildTargetPair;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;
import io.te4j.transport.rdma.verbs.NativeVerbs;
import java.util.List;
import org.junit.jupiter.api.Tag;

/**
 * The transport contract over the machine's verbs NICs (tag {@code rdma-hw}, run by {@code ./mvnw
 * -Prdma-hw -pl te-transport-rdma -am verify}): two engines in two JVMs on the native verbs. On a
 * machine without a device it fails, saying what is missing (libibverbs, kernel support, a NIC).
 */
@Tag("rdma-hw")
class RdmaHardwareContractIT extends TransportContract {
  @Override
  protected TransportPair openPair() throws Exception {
    List<String> devices = new NativeVerbs().devices(); // throws with the missing part named
    assertFalse(devices.isEmpty(), "no verbs device on this machine (ibv_devices lists none)");
    return ChildTargetPair.builder("rdma").protocol("rdma")
        .setting("te4j.rdma.verbs", "native")
        .targetJvmOption("-Dte4j.rdma.verbs=native")
        .open();
  }
}
