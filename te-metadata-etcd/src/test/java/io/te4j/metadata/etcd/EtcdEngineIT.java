package io.te4j.metadata.etcd;

import static io.te4j.metadata.etcd.EtcdEngines.parseEtcdctlGet;
import static io.te4j.metadata.etcd.EtcdEngines.writeAndCheck;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.transfer.Batch;
import io.te4j.transport.tcp.TcpDescriptorFields;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Engines with etcd metadata: the keys and JSON on the wire, transfers, watches, bad input. */
class EtcdEngineIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static EtcdTestServer etcd;

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdTestServer.start();
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void etcdctlSeesTheWireKeysAndExactlyTheJsonTheEnginePut() throws Exception {
    String name;
    try (Engine e = EtcdEngines.builder(etcd.metadataServer()).start();
        ManagedBuffer buf = e.allocate(1 << 20)) {
      name = e.segmentName();
      Map<String, String> kvs = parseEtcdctlGet(etcd.etcdctl("get", "--prefix", "mooncake/"));
      String descriptor = kvs.get("mooncake/ram/" + name);
      assertEquals(JsonCodec.descriptorToJson(e.localDescriptor()), descriptor,
          "the descriptor the engine published, byte for byte");
      JsonNode d = JSON.readTree(descriptor);
      assertEquals(name, d.get("name").asText());
      assertEquals("tcp", d.get("protocol").asText());
      assertTrue(d.get("tcp_data_port").asInt() > 0);
      boolean listed = false;
      for (JsonNode b : d.get("buffers")) {
        listed |= b.get("addr").asLong() <= buf.address()
            && buf.address() < b.get("addr").asLong() + b.get("length").asLong();
      }
      assertTrue(listed, "the allocated buffer lies in a published buffer: " + descriptor);

      JsonNode rpc = JSON.readTree(kvs.get("mooncake/rpc_meta/" + name));
      assertEquals(Set.of("ip_or_host_name", "rpc_port"), fieldNames(rpc));
      assertEquals("127.0.0.1", rpc.get("ip_or_host_name").asText());
      assertEquals(e.rpcPort(), rpc.get("rpc_port").asInt());

      // Both keys live under one lease, kept alive.
      JsonNode json = JSON.readTree(etcd.etcdctl("get", "--prefix", "mooncake/", "-w", "json"));
      Set<Long> leases = new HashSet<>();
      for (JsonNode kv : json.get("kvs")) {
        String key = new String(Base64.getDecoder().decode(kv.get("key").asText()),
            StandardCharsets.UTF_8);
        if (key.endsWith("/" + name)) {
          leases.add(kv.path("lease").asLong(0));
        }
      }
      assertEquals(1, leases.size(), "one lease for both keys: " + leases);
      assertNotEquals(0L, leases.iterator().next());
    }
    Map<String, String> after = parseEtcdctlGet(etcd.etcdctl("get", "--prefix", "mooncake/"));
    assertFalse(after.containsKey("mooncake/ram/" + name), "gone at once when the engine closes");
    assertFalse(after.containsKey("mooncake/rpc_meta/" + name));
  }

  @Test
  void aClusterIdPutsTheKeysUnderItsOwnPrefix() throws Exception {
    try (Engine e = EtcdEngines.builder(etcd.metadataServer())
        .setting("MC_METADATA_CLUSTER_ID", "c7").start()) {
      String name = e.segmentName();
      Map<String, String> kvs = parseEtcdctlGet(etcd.etcdctl("get", "--prefix", "mooncake/"));
      assertEquals(JsonCodec.descriptorToJson(e.localDescriptor()),
          kvs.get("mooncake/c7/ram/" + name));
      assertEquals(e.rpcPort(),
          JSON.readTree(kvs.get("mooncake/c7/rpc_meta/" + name)).get("rpc_port").asInt());
      assertFalse(kvs.containsKey("mooncake/ram/" + name), "nothing outside the cluster prefix");
      assertFalse(kvs.containsKey("mooncake/rpc_meta/" + name));
    }
  }

  @Test
  void aDescriptorWrittenByAnotherEngineWithEtcdctlIsRead() {
    // As the reference writes it (WIRE.md section 3, observed), with an unknown field.
    String name = EtcdEngines.uniqueName();
    String ref = "{\"buffers\":[{\"addr\":140537497649152,\"length\":100663296,\"name\":\"" + name
        + "\"}],\"name\":\"" + name + "\",\"protocol\":\"tcp\",\"tcp_data_port\":16837,"
        + "\"tcp_proto_version\":2,\"timestamp\":\"2026-11-21 20:55:31.992448\",\"x_future\":1}";
    etcd.etcdctl("put", "mooncake/ram/" + name, ref);
    try (Engine e = EtcdEngines.builder(etcd.metadataServer()).start()) {
      SegmentDescriptor d = e.segment(name);
      assertEquals(16837, TcpDescriptorFields.dataPort(d));
      assertEquals(2, TcpDescriptorFields.protoVersion(d));
      assertEquals(140537497649152L, d.buffers().get(0).address());
    } finally {
      etcd.etcdctl("del", "mooncake/ram/" + name);
    }
  }

  @Test
  void twoEnginesExchangeDataWithEtcdMetadata() throws Exception {
    try (Engine a = EtcdEngines.builder(etcd.metadataServer()).start();
        Engine b = EtcdEngines.builder(etcd.metadataServer()).start();
        ManagedBuffer inA = a.allocate(1 << 20);
        ManagedBuffer inB = b.allocate(1 << 20)) {
      writeAndCheck(b, a, inA.address(), 1 << 20, 1);
      writeAndCheck(a, b, inB.address(), 1 << 20, 2);
      // And a read, the other direction of the wire.
      try (ManagedBuffer dst = b.allocate(4096)) {
        var batch = b.submit(a.segmentName(),
            List.of(TransferRequest.read(dst.address(), inA.address(), 4096)), "");
        assertEquals(io.te4j.api.TransferState.COMPLETED, b.await(batch));
        b.freeBatch(batch.id());
        assertEquals(java.util.Arrays.toString(a.read(inA.address(), 4096)),
            java.util.Arrays.toString(b.read(dst.address(), 4096)));
      }
    }
  }

  @Test
  void malformedJsonUnderASegmentKeyIsMalformedJsonNamingTheSegmentAndNothingBreaks()
      throws Exception {
    String bad = EtcdEngines.uniqueName();
    etcd.etcdctl("put", "mooncake/ram/" + bad, "{\"name\": \"" + bad + "\", \"buffers\": [");
    try (Engine a = EtcdEngines.builder(etcd.metadataServer()).start();
        Engine b = EtcdEngines.builder(etcd.metadataServer()).start();
        ManagedBuffer inA = a.allocate(1 << 16)) {
      TransferException e = assertThrows(TransferException.class, () -> b.segment(bad));
      assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode(), e.getMessage());
      assertTrue(e.getMessage().contains(bad), e.getMessage());
      try (ManagedBuffer src = b.allocate(64)) {
        Batch s = b.submit(bad, List.of(TransferRequest.write(src.address(), 4096, 64)), "");
        assertTrue(s.isRejected());
        assertEquals(ErrorCode.MALFORMED_JSON, s.errorCode());
      }
      writeAndCheck(b, a, inA.address(), 1 << 16, 3);
    } finally {
      etcd.etcdctl("del", "mooncake/ram/" + bad);
    }
  }

  @Test
  void aPeerRestartedOnNewPortsIsReachedAtTheFirstAttemptOnceTheWatchFired() throws Exception {
    String peerName = EtcdEngines.uniqueName();
    String segmentKey = "mooncake/ram/" + peerName;
    String spyUrl = SpyEtcdStoreProvider.SCHEME + "://" + etcd.endpoint();
    try (Engine b = EtcdEngines.builder(spyUrl).start();
        EtcdMetadataStore observer = EtcdMetadataStoreIT.open(etcd.endpoint())) {
      SpyEtcdStoreProvider.Spy spy = SpyEtcdStoreProvider.of(b.segmentName());
      int firstDataPort;
      try (Engine a1 = Engine.builder().localHostname(peerName)
          .metadataServer(etcd.metadataServer()).protocol("tcp")
          .setting("MC_MIN_RPC_PORT", "21000").setting("MC_MAX_RPC_PORT", "21999").start();
          ManagedBuffer in1 = a1.allocate(1 << 16)) {
        firstDataPort = TcpDescriptorFields.dataPort(a1.localDescriptor());
        writeAndCheck(b, a1, in1.address(), 1 << 16, 4);
        assertEquals(1, spy.gets(segmentKey), "looked up once, then cached");
        writeAndCheck(b, a1, in1.address(), 1 << 16, 5);
        assertEquals(1, spy.gets(segmentKey), "the cache serves the second transfer");
      }
      try (Engine a2 = Engine.builder().localHostname(peerName)
          .metadataServer(etcd.metadataServer()).protocol("tcp")
          .setting("MC_MIN_RPC_PORT", "22000").setting("MC_MAX_RPC_PORT", "22999").start();
          ManagedBuffer in2 = a2.allocate(1 << 16)) {
        assertNotEquals(firstDataPort, TcpDescriptorFields.dataPort(a2.localDescriptor()));
        // Barrier: one watch delivers in revision order, so once b's watch callback returned for
        // a key written after a2 published, it has seen a2's descriptor too.
        String barrier = "mooncake/ram/zz-barrier-" + EtcdEngines.uniqueName();
        observer.put(barrier, "{}");
        assertTrue(spy.awaitDelivered(barrier, Duration.ofSeconds(10)),
            "b's watch delivered the changes");

        // No retry: one submit against what b now resolves.
        writeAndCheck(b, a2, in2.address(), 1 << 16, 6);
        assertEquals(2, spy.gets(segmentKey),
            "the watch dropped the cached descriptor, so b fetched a2's exactly once");
      }
    }
  }

  @Test
  void anEngineWhoseStoreIsDownFailsToStartWithAMetadataErrorNamingTheEndpoint() {
    int port = EtcdTestServer.freePort();
    long start = System.nanoTime();
    TransferException e = assertThrows(TransferException.class,
        () -> EtcdEngines.builder("etcd://127.0.0.1:" + port)
            .transferTimeout(Duration.ofSeconds(3)).start());
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertEquals(ErrorCode.METADATA, e.errorCode(), e.getMessage());
    assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
    assertTrue(tookMillis < 5000, "bounded: took " + tookMillis + " ms");
  }

  private static Set<String> fieldNames(JsonNode n) {
    Set<String> out = new HashSet<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }
}
