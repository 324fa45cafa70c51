package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.transport.rdma.verbs.NativeVerbs;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The real binding on this machine: libte4jrdma loads anywhere and either lists devices or says
 * which part is missing. The build machines have libibverbs but no InfiniBand in the kernel, so
 * there it must say ENOSYS; on a machine with a NIC it lists it.
 */
class NativeVerbsTest {
  @Test
  void theRealVerbsListDevicesOrSayWhyNot() {
    assertEquals(null, NativeVerbs.linkFailure(), "libte4jrdma loads without a device");
    List<String> devices;
    try {
      devices = new NativeVerbs().devices();
    } catch (RuntimeException e) {
      String why = e.getMessage();
      assertTrue(why.contains("libibverbs.so.1 not found") || why.contains("ibv_get_device_list"),
          why);
      return;
    }
    assertFalse(devices.isEmpty(), "a device list, when libibverbs answers");
  }

  @Test
  void theProviderReportsTheSameCause() {
    Throwable cause = RdmaTransportProvider.probe("native");
    boolean hasDevice;
    try {
      hasDevice = !new NativeVerbs().devices().isEmpty();
    } catch (RuntimeException e) {
      hasDevice = false;
      assertNotNull(cause, "unavailable without devices");
      assertEquals(e.getMessage(), cause.getMessage());
    }
    if (hasDevice) {
      assertEquals(null, cause);
    }
  }
}
