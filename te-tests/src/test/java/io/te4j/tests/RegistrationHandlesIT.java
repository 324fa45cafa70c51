package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.memory.MemoryRegistryImpl.RegionSpec;
import io.te4j.nativelib.NativeMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a transport attaches to memory at registration ({@link RecordingTransport}, twice: {@code
 * rec-a,rec-b}) is found again from each slice, published, and rolled back on every transport that
 * took it when another refuses; a batch registration publishes the descriptor once.
 */
class RegistrationHandlesIT {
  private static final long MIB = 1L << 20;
  private static final AtomicInteger NAMES = new AtomicInteger();

  private Engine engine;
  private long memory;
  private RecordingTransport a;
  private RecordingTransport b;

  @BeforeEach
  void start() {
    engine = Engine.builder().localHostname("reg-" + ProcessHandle.current().pid() + "-"
        + NAMES.incrementAndGet()).metadataServer("counting://here").protocol("rec-a,rec-b")
        .start();
    memory = NativeMemory.mapAnonymous(16 * MIB);
    a = RecordingTransport.of(engine.segmentName(), "rec-a");
    b = RecordingTransport.of(engine.segmentName(), "rec-b");
  }

  @AfterEach
  void stop() {
    engine.close();
    NativeMemory.unmap(memory, 16 * MIB);
  }

  private static String hex(long address) {
    return Long.toHexString(address);
  }

  private String descriptorKey() {
    return "mooncake/ram/" + engine.segmentName();
  }

  @Test
  void eachTransportFindsItsHandleFromTheSliceAndPublishesIt() {
    engine.register(memory, MIB);
    assertEquals(List.of("+" + hex(memory)), a.log);
    assertEquals(List.of("+" + hex(memory)), b.log);
    BufferDescriptor published = engine.localDescriptor().bufferContaining(memory, 1);
    RecordingTransport.Handle ha = (RecordingTransport.Handle) engine.memory().find(memory, 1)
        .attachment(0);
    assertEquals(ha.key(), ((Number) published.attributes().get("rec-a_key")).intValue());
    assertEquals("rec-b", ((RecordingTransport.Handle) engine.memory().find(memory, 1)
        .attachment(1)).transport());

    for (String hint : new String[] {"rec-a", "rec-b"}) {
      assertEquals(TransferState.COMPLETED, engine.submitAndWait(engine.segmentName(),
          List.of(TransferRequest.write(memory + 4096, 0, 64)), hint).state(), hint);
    }
    assertEquals("slice " + hex(memory + 4096), a.log.get(1));
    assertEquals("slice " + hex(memory + 4096), b.log.get(1));
    engine.unregister(memory);
    assertEquals("-" + hex(memory), a.log.get(2));
    assertEquals("-" + hex(memory), b.log.get(2));
  }

  @Test
  void aTransportRefusingRollsBackTheOthersThatTookTheRegion() {
    int published = CountingStore.puts(descriptorKey());
    TransferException e = assertThrows(TransferException.class,
        () -> engine.register(memory, MIB, "refuse:rec-b", true));
    assertEquals(ErrorCode.MEMORY, e.errorCode());
    assertEquals(List.of("+" + hex(memory), "-" + hex(memory)), a.log, "rec-a let it go again");
    assertEquals(List.of(), b.log);
    assertNull(engine.memory().find(memory, 1));
    assertNull(engine.localDescriptor().bufferContaining(memory, 1));
    assertEquals(published, CountingStore.puts(descriptorKey()), "nothing published");

    // In a batch, the regions before the refused one are let go by every transport too.
    long second = memory + MIB;
    assertThrows(TransferException.class, () -> engine.registerAll(List.of(
        new RegionSpec(memory, MIB, "cpu:0", true),
        new RegionSpec(second, MIB, "refuse:rec-b", true))));
    assertEquals(List.of("+" + hex(memory), "-" + hex(memory), "+" + hex(memory),
        "+" + hex(second), "-" + hex(second), "-" + hex(memory)), a.log);
    assertEquals(List.of("+" + hex(memory), "-" + hex(memory)), b.log);
    assertEquals(0, engine.memory().regions().stream()
        .filter(r -> r.address() == memory || r.address() == second).count());
    assertEquals(published, CountingStore.puts(descriptorKey()));
  }

  /**
   * A transport changes its own fields of the descriptor after start ({@code
   * TransportContext.republish}, as RDMA does when a GID changes): an edit made during start
   * shows in the first publication, a later one is published at once, once.
   */
  @Test
  void aTransportRepublishesItsFieldsDuringAndAfterStart() {
    assertEquals(1, engine.localDescriptor().attributes().get("rec-a_epoch"));
    assertEquals(1, engine.localDescriptor().attributes().get("rec-b_epoch"));
    int before = CountingStore.puts(descriptorKey());
    a.context.republish(d -> d.attribute("rec-a_epoch", 2));
    assertEquals(before + 1, CountingStore.puts(descriptorKey()));
    assertEquals(2, engine.localDescriptor().attributes().get("rec-a_epoch"));
    assertEquals(1, engine.localDescriptor().attributes().get("rec-b_epoch"), "b's untouched");
  }

  @Test
  void aBatchOfRegionsPublishesTheDescriptorOnce() {
    int before = CountingStore.puts(descriptorKey());
    int buffers = engine.localDescriptor().buffers().size();
    List<RegionSpec> specs = new ArrayList<>();
    List<Long> addresses = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      specs.add(new RegionSpec(memory + i * MIB, MIB, "cpu:0", true));
      addresses.add(memory + i * MIB);
    }
    engine.registerAll(specs);
    assertEquals(before + 1, CountingStore.puts(descriptorKey()), "one publication for ten");
    assertEquals(buffers + 10, engine.localDescriptor().buffers().size());
    engine.unregisterAll(addresses);
    assertEquals(before + 2, CountingStore.puts(descriptorKey()), "and one to withdraw them");
    assertEquals(buffers, engine.localDescriptor().buffers().size());
  }
}
