package io.te4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemoryKindTest {
  @ParameterizedTest
  @ValueSource(strings = {"cpu:0", "cpu:3", "cpu", "*", "", "CPU:1"})
  void hostLocations(String location) {
    assertTrue(MemoryKind.of(location).isHost(), location);
  }

  @Test
  void deviceLocationsKeepFamilyAndIndex() {
    assertEquals(new MemoryKind("cuda", 1), MemoryKind.of("cuda:1"));
    assertEquals(new MemoryKind("npu", -1), MemoryKind.of("npu"));
    assertEquals(new MemoryKind("fakegpu", -1), MemoryKind.of("fakegpu:x"));
    assertFalse(MemoryKind.of("cuda:0").isHost());
    assertEquals("cuda:0", MemoryKind.of("cuda:0").toString());
    assertSame(MemoryKind.HOST, MemoryKind.of("cpu:0"));
  }

  @Test
  void aBufferIsHostMemoryUnlessItPublishesAnotherLocation() {
    assertTrue(MemoryKind.ofBuffer(BufferDescriptor.of("node:1", 4096, 4096)).isHost());
    BufferDescriptor gpu = new BufferDescriptor("node:1", 4096, 4096, List.of(), List.of(),
        Map.of(MemoryKind.LOCATION_ATTRIBUTE, "cuda:2"));
    assertEquals(new MemoryKind("cuda", 2), MemoryKind.ofBuffer(gpu));
    assertTrue(SegmentDescriptor.builder("s", "tcp").addBuffer(gpu).build().hasDeviceBuffers());
    assertFalse(SegmentDescriptor.builder("s", "tcp")
        .addBuffer(BufferDescriptor.of("x", 1, 1)).build().hasDeviceBuffers());
  }
}
