package io.te4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HostPortAndKeysTest {
  @Test
  void parsesHostPortForms() {
    assertEquals(new HostPort("10.0.0.1", 15001), HostPort.parse("10.0.0.1:15001"));
    assertEquals(new HostPort("::1", 15001), HostPort.parse("[::1]:15001"));
    assertEquals("[::1]:15001", HostPort.parse("[::1]:15001").toString());
    assertEquals(new HostPort("unreachable_peer", 9), HostPort.parse("unreachable_peer:9"));
    assertNull(HostPort.tryParse("node-3"));
    assertNull(HostPort.tryParse("::1:80"), "bare IPv6 is ambiguous");
    assertNull(HostPort.tryParse("h:70000"));
    assertNull(HostPort.tryParse(":80"));
    TransferException e = assertThrows(TransferException.class, () -> HostPort.parse("h:"));
    assertEquals(ErrorCode.INVALID_ARGUMENT, e.errorCode());
  }

  @Test
  void metadataKeysAsWireMdSaysThem() {
    MetadataKeys k = MetadataKeys.forCluster(null);
    assertEquals("mooncake/ram/127.0.0.1:16057", k.segmentKey("127.0.0.1:16057"));
    assertEquals("mooncake/nvmeof/x", k.segmentKey("nvmeof/x"));
    assertEquals("mooncake/rpc_meta/node1", k.rpcMetaKey("node1"));
    MetadataKeys c = MetadataKeys.forCluster("c1");
    assertEquals("mooncake/c1/ram/s", c.segmentKey("s"));
    assertEquals("s", c.segmentNameOf("mooncake/c1/ram/s"));
    assertNull(c.segmentNameOf("mooncake/ram/s"));
    assertEquals("n", c.serverNameOf("mooncake/c1/rpc_meta/n"));
    assertThrows(TransferException.class, () -> MetadataKeys.forCluster("a/b"));
  }

  @Test
  void errorCodesKeepTheReferenceValues() {
    assertEquals(-1, ErrorCode.INVALID_ARGUMENT.code());
    assertEquals(-3, ErrorCode.ADDRESS_NOT_REGISTERED.code());
    assertEquals(-7, ErrorCode.ADDRESS_OVERLAPPED.code());
    assertEquals(-101, ErrorCode.SOCKET_FAIL.code());
    assertEquals(ErrorCode.INVALID_BATCH_ID, ErrorCode.of(-402));
    assertEquals(4, TransferState.COMPLETED.code());
    assertEquals(6, TransferState.FAILED.code());
    assertEquals(1, TransferOpcode.WRITE.code());
  }
}
