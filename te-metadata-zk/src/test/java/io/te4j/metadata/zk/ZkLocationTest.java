package io.te4j.metadata.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.MetadataKeys;
import io.te4j.api.TransferException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ZkLocationTest {
  @Test
  void hostsWithoutRootUseTheZnodeRoot() {
    ZkLocation loc = ZkLocation.parse("h1:2181, h2:2182");
    assertEquals("h1:2181,h2:2182", loc.connectString());
    assertEquals("/", loc.root());
    assertEquals("/mooncake/ram/10.0.0.1:15001", loc.pathOf("mooncake/ram/10.0.0.1:15001"));
  }

  @Test
  void rootIsPrefixedAndTrailingSlashesDropped() {
    ZkLocation loc = ZkLocation.parse("h1:2181,[::1]:2182/myroot/sub/");
    assertEquals("h1:2181,[::1]:2182", loc.connectString());
    assertEquals("/myroot/sub", loc.root());
    assertEquals("/myroot/sub/mooncake/rpc_meta/n", loc.pathOf("mooncake/rpc_meta/n"));
    assertEquals("h1:2181,[::1]:2182/myroot/sub", loc.toString());
  }

  @Test
  void keysOfPathsInvertPathOf() {
    for (String location : new String[] {"h:1", "h:1/r", "h:1/r/s"}) {
      ZkLocation loc = ZkLocation.parse(location);
      MetadataKeys keys = MetadataKeys.forCluster("c1");
      for (String key : new String[] {keys.segmentKey("10.0.0.1:15001"),
          keys.segmentKey("nvmeof/x"), keys.rpcMetaKey("h:1"), "mooncake"}) {
        assertEquals(key, loc.keyOf(loc.pathOf(key)), location + " " + key);
      }
      assertNull(loc.keyOf(loc.root()));
    }
  }

  @Test
  void pathsOutsideTheRootHaveNoKey() {
    ZkLocation loc = ZkLocation.parse("h:1/r");
    assertNull(loc.keyOf("/rr/mooncake/ram/x"));
    assertNull(loc.keyOf("/mooncake/ram/x"));
    assertNull(loc.keyOf("/r"));
    assertEquals("mooncake/ram/x", loc.keyOf("/r/mooncake/ram/x"));
  }

  @Test
  void nameWithSlashMapsToNestedNodes() {
    ZkLocation loc = ZkLocation.parse("h:1");
    assertEquals("/mooncake/nvmeof/x",
        loc.pathOf(MetadataKeys.forCluster(null).segmentKey("nvmeof/x")));
  }

  @Test
  void prefixCoversItsPath() {
    ZkLocation loc = ZkLocation.parse("h:1/r");
    assertEquals("/r/mooncake", loc.pathOfPrefix("mooncake/"));
    assertEquals("/r/mooncake/c1", loc.pathOfPrefix("mooncake/c1/"));
    assertEquals("/r", loc.pathOfPrefix(""));
    assertEquals("/", ZkLocation.parse("h:1").pathOfPrefix(""));
  }

  @ParameterizedTest
  @ValueSource(strings = {"mooncake/ram/a//b", "mooncake/ram/a/", "mooncake/ram/..",
      "mooncake/ram/.", "/mooncake/ram/x", "", "mooncake/ram/a\u0001b"})
  void keysZooKeeperCannotHoldAreRejected(String key) {
    TransferException e = assertThrows(TransferException.class,
        () -> ZkLocation.parse("h:1").pathOf(key));
    assertEquals(ErrorCode.INVALID_ARGUMENT, e.errorCode());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "h", "h:", ":1", "h:1,", "h:0", "h:x", "h:1//r", "h:1/r/../s"})
  void malformedLocationsAreConfigurationErrors(String location) {
    TransferException e = assertThrows(TransferException.class, () -> ZkLocation.parse(location));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
    assertTrue(e.getMessage().contains("zk location"), e.getMessage());
  }
}
