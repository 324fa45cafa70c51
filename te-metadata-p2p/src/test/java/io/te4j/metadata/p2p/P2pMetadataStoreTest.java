package io.te4j.metadata.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.MetadataKeys;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.PeerRpc;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.rpc.FrameCodec;
import io.te4j.core.rpc.RpcClient;
import io.te4j.core.rpc.RpcHandler;
import io.te4j.core.rpc.RpcServer;
import io.te4j.testkit.MetadataStoreContract;
import io.te4j.testkit.TestStoreContext;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class P2pMetadataStoreTest {
  /** One call the store made to a peer. */
  record Call(String host, int port, int type, String body) {}

  /** The real client, with every call remembered. */
  static final class RecordingRpc implements PeerRpc {
    final List<Call> calls = new CopyOnWriteArrayList<>();
    final RpcClient delegate =
        new RpcClient(
            Duration.ofSeconds(2), Duration.ofSeconds(5), FrameCodec.DEFAULT_MAX_FRAME_BYTES);

    @Override
    public String call(String host, int port, int frameType, String jsonBody) {
      calls.add(new Call(host, port, frameType, jsonBody));
      return delegate.call(host, port, frameType, jsonBody);
    }
  }

  /** A peer engine's handshake port serving a known descriptor. */
  static final class Peer implements RpcHandler {
    volatile String descriptor;

    @Override
    public String localDescriptorJson() {
      return descriptor;
    }

    @Override
    public boolean onNotify(TransferNotify notify) {
      return true;
    }
  }

  private final Peer peer = new Peer();
  private final RecordingRpc rpc = new RecordingRpc();
  private RpcServer peerServer;

  @AfterEach
  void stopPeer() {
    if (peerServer != null) {
      peerServer.close();
    }
  }

  /** A store context whose calls to peers go through {@link #rpc}. */
  private TestStoreContext context(String segmentName) {
    return new TestStoreContext(segmentName).rpc(rpc);
  }

  private int startPeer(String descriptor) {
    peer.descriptor = descriptor;
    peerServer =
        RpcServer.start(
            peer,
            PeerAuth.NONE,
            "127.0.0.1",
            0,
            0,
            FrameCodec.DEFAULT_MAX_FRAME_BYTES,
            Duration.ofSeconds(10),
            context("unused").threadFactory("peer"));
    return peerServer.port();
  }

  private static String descriptorOf(String segment) {
    return JsonCodec.descriptorToJson(
        SegmentDescriptor.builder(segment, "tcp")
            .attribute("tcp_data_port", 16837)
            .attribute("tcp_proto_version", 2)
            .timestamp(JsonCodec.timestampNow())
            .addBuffer(BufferDescriptor.of(segment, 0x7f00_0000_0000L, 1 << 20))
            .build());
  }

  @Test
  void serviceLoaderFindsTheProvider() {
    MetadataStoreProvider found = null;
    for (MetadataStoreProvider p : ServiceLoader.load(MetadataStoreProvider.class)) {
      if (p.scheme().equals("p2p")) {
        found = p;
      }
    }
    assertInstanceOf(P2pMetadataStoreProvider.class, found);
    assertTrue(found.availability().isAvailable());
    assertNull(found.availability().unavailabilityCause());
    try (MetadataStore store = found.create("", context("127.0.0.1:1"))) {
      assertInstanceOf(P2pMetadataStore.class, store);
    }
  }

  @Test
  void killSwitchMakesTheProviderUnavailable() {
    P2pMetadataStoreProvider provider = new P2pMetadataStoreProvider();
    System.setProperty("te4j.metadata.p2p.disabled", "true");
    try {
      assertFalse(provider.availability().isAvailable());
      assertTrue(provider.availability().unavailabilityCause().getMessage()
          .contains("te4j.metadata.p2p.disabled"));
    } finally {
      System.clearProperty("te4j.metadata.p2p.disabled");
    }
    assertTrue(provider.availability().isAvailable());
  }

  @Test
  void fetchesTheDescriptorFromThePeerSendingItsOwn() {
    int port = startPeer(null);
    String peerSegment = "127.0.0.1:" + port;
    peer.descriptor = descriptorOf(peerSegment);
    TestStoreContext context = context("127.0.0.1:15999");
    MetadataKeys keys = MetadataKeys.forCluster(null);
    try (MetadataStore store = new P2pMetadataStore(context)) {
      String mine = descriptorOf("127.0.0.1:15999");
      store.put(keys.segmentKey("127.0.0.1:15999"), mine);

      Optional<String> fetched = store.get(keys.segmentKey(peerSegment));

      assertEquals(Optional.of(peer.descriptor), fetched);
      assertEquals(peerSegment, JsonCodec.descriptorFromJson(fetched.get()).name());
      assertEquals(List.of(new Call("127.0.0.1", port, PeerRpc.METADATA, mine)), rpc.calls);
    }
  }

  @Test
  void sendsAnEmptyObjectBeforeItHasPublishedAndReadsAnEmptyReplyAsAbsent() {
    int port = startPeer(null); // the peer has no descriptor yet: it answers {}
    TestStoreContext context = context("127.0.0.1:15999");
    try (MetadataStore store = new P2pMetadataStore(context)) {
      assertEquals(
          Optional.empty(),
          store.get(MetadataKeys.forCluster(null).segmentKey("127.0.0.1:" + port)));
      assertEquals("{}", rpc.calls.get(0).body());
    }
  }

  @Test
  void honoursTheClusterId() {
    int port = startPeer(descriptorOf("x"));
    TestStoreContext context = context("127.0.0.1:15999");
    context.with("MC_METADATA_CLUSTER_ID", "c1");
    try (MetadataStore store = new P2pMetadataStore(context)) {
      assertEquals(Optional.of(peer.descriptor), store.get("mooncake/c1/ram/127.0.0.1:" + port));
      // A key of no cluster of ours is not a segment key here: nothing is asked of anyone.
      assertEquals(Optional.empty(), store.get("mooncake/ram/127.0.0.1:" + port));
      assertEquals(1, rpc.calls.size());
    }
  }

  @Test
  void unreachablePeerIsAMetadataErrorNamingTheSegment() {
    try (MetadataStore store = new P2pMetadataStore(context("127.0.0.1:15999"))) {
      TransferException e =
          assertTimeoutPreemptively(
              Duration.ofSeconds(20),
              () ->
                  assertThrows(
                      TransferException.class,
                      () -> store.get(MetadataKeys.forCluster(null).segmentKey("127.0.0.1:1"))));
      assertEquals(ErrorCode.METADATA, e.errorCode());
      assertTrue(e.getMessage().contains("'127.0.0.1:1'"), e.getMessage());
      assertEquals(ErrorCode.SOCKET_FAIL, ((TransferException) e.getCause()).errorCode());
    }
  }

  @Test
  void segmentNameThatIsNotHostPortIsAMetadataError() {
    TestStoreContext context = context("127.0.0.1:15999");
    try (MetadataStore store = new P2pMetadataStore(context)) {
      TransferException e =
          assertThrows(TransferException.class, () -> store.get("mooncake/ram/just-a-name"));
      assertEquals(ErrorCode.METADATA, e.errorCode());
      assertTrue(e.getMessage().contains("just-a-name"), e.getMessage());
      assertTrue(rpc.calls.isEmpty());
    }
  }

  @Test
  void rpcMetaIsSynthesisedFromTheServerName() {
    MetadataKeys keys = MetadataKeys.forCluster(null);
    try (MetadataStore store = new P2pMetadataStore(context("127.0.0.1:15999"))) {
      assertEquals(
          Optional.of("{\"ip_or_host_name\":\"10.0.0.1\",\"rpc_port\":15234}"),
          store.get(keys.rpcMetaKey("10.0.0.1:15234")));
      assertEquals(
          Optional.of("{\"ip_or_host_name\":\"::1\",\"rpc_port\":15000}"),
          store.get(keys.rpcMetaKey("[::1]:15000")));
      assertEquals(Optional.empty(), store.get(keys.rpcMetaKey("no-port")));
    }
  }

  @Test
  void rpcMetaEscapingMatchesTheCodec() {
    for (String host :
        List.of("plain", "q\"uote", "back\\slash", "tab\there", "caf\u00e9", "\u0001x")) {
      HostPort location = new HostPort(host, 4242);
      String handWritten = P2pMetadataStore.rpcMetaJson(location);
      assertEquals(JsonCodec.rpcMetaToJson(location), handWritten, host);
      assertEquals(location, JsonCodec.rpcMetaFromJson(handWritten));
    }
  }

  @Test
  void ownEntriesStayLocal() {
    TestStoreContext context = context("127.0.0.1:15999");
    MetadataKeys keys = MetadataKeys.forCluster(null);
    P2pMetadataStore store = new P2pMetadataStore(context);
    String ownKey = keys.segmentKey("127.0.0.1:15999");
    store.put(ownKey, "{\"name\":\"127.0.0.1:15999\"}");
    store.put("mooncake/nvmeof/disk", "{\"protocol\":\"nvmeof\"}");
    assertEquals(Optional.of("{\"name\":\"127.0.0.1:15999\"}"), store.get(ownKey));
    assertEquals(Optional.of("{\"protocol\":\"nvmeof\"}"), store.get("mooncake/nvmeof/disk"));
    assertEquals(Optional.empty(), store.get("mooncake/other/thing"));
    store.remove("mooncake/nvmeof/disk");
    store.remove("mooncake/absent");
    assertEquals(Optional.empty(), store.get("mooncake/nvmeof/disk"));
    store.close();
    assertTrue(rpc.calls.isEmpty(), "own entries never go over the wire");
  }

  @Test
  void listsAndComparesAndSetsItsOwnKeys() {
    try (MetadataStore a = new P2pMetadataStore(context("127.0.0.1:1"));
        MetadataStore b = new P2pMetadataStore(context("127.0.0.1:2"))) {
      MetadataStoreContract.listsWhatIsUnderThePrefix(a, b, "mooncake/", false);
      MetadataStoreContract.comparesAndSetsAtomically(a, a, "mooncake/nvmeof/x");
    }
  }
}
