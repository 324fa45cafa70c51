package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.te4j.core.Engine;
import io.te4j.nativelib.NativeMemory;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The segment descriptor an RDMA engine publishes, field for field as the reference reads it
 * (RDMA.md 2.2 and checklist 2.8 item 5): {@code devices} with name, LID and a GID of 16 hex
 * bytes; every published buffer with one rkey and one lkey per device in device order; a {@code
 * priority_matrix} naming those devices; local-only memory not published at all.
 */
class RdmaDescriptorTest {
  @Test
  void theDescriptorIsTheReferencesRdmaDescriptor() throws Exception {
    try (Engine e = RdmaEngines.start()) {
      long shared = e.allocate(4L << 20).address();
      long localOnly = NativeMemory.mapAnonymous(1 << 20);
      e.register(localOnly, 1 << 20, "cpu:0", false);
      JsonNode d = new ObjectMapper().readTree(Engine.descriptorJson(e.localDescriptor()));
      assertEquals("rdma", d.get("protocol").asText());
      JsonNode devices = d.get("devices");
      assertEquals(2, devices.size());
      Set<String> names = new HashSet<>();
      for (JsonNode dev : devices) {
        names.add(dev.get("name").asText());
        assertTrue(dev.get("lid").isIntegralNumber());
        assertTrue(dev.get("gid").asText().matches("([0-9a-f]{2}:){15}[0-9a-f]{2}"),
            dev.get("gid").asText());
      }
      boolean sawShared = false;
      for (JsonNode b : d.get("buffers")) {
        assertFalse(b.get("addr").asLong() == localOnly, "local-only memory is not published");
        sawShared |= b.get("addr").asLong() == shared;
        assertEquals(devices.size(), b.get("rkey").size(), "one rkey per device");
        assertEquals(devices.size(), b.get("lkey").size(), "one lkey per device");
        assertTrue(b.get("rkey").get(0).asLong() != b.get("rkey").get(1).asLong(),
            "each device's own key");
      }
      assertTrue(sawShared);
      JsonNode matrix = d.get("priority_matrix").get("cpu:0");
      assertEquals(2, matrix.size(), "[preferred, available]");
      for (JsonNode name : matrix.get(0)) {
        assertTrue(names.contains(name.asText()), name + " is a published device");
      }
      assertEquals(RdmaEngines.transport(e).nics().get(0).nicPath,
          e.segmentName() + "@" + devices.get(0).get("name").asText(), "NIC path = server@device");
    }
  }

  @Test
  void memoryBeyondTheDevicesLargestRegionIsRefusedAndNothingRegistered() {
    System.setProperty("softverbs.maxMrSize", String.valueOf(1 << 20));
    try (Engine e = RdmaEngines.start()) {
      long big = NativeMemory.mapAnonymous(2 << 20);
      io.te4j.api.TransferException refused = assertThrows(io.te4j.api.TransferException.class,
          () -> e.register(big, 2 << 20));
      assertTrue(refused.getMessage().contains("largest memory region"), refused.getMessage());
      assertTrue(e.memory().regions().isEmpty(), "nothing registered");
      long fits = NativeMemory.mapAnonymous(1 << 20);
      e.register(fits, 1 << 20);
      assertEquals(1, e.memory().regions().size());
    } finally {
      System.clearProperty("softverbs.maxMrSize");
    }
  }
}
