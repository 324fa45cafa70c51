package io.te4j.metadata.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.testkit.TestStoreContext;
import java.time.Duration;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class ZkMetadataStoreProviderTest {
  @Test
  void serviceLoaderFindsTheZkScheme() {
    long found = ServiceLoader.load(MetadataStoreProvider.class).stream()
        .map(ServiceLoader.Provider::get)
        .filter(p -> p.scheme().equals("zk") && p instanceof ZkMetadataStoreProvider)
        .count();
    assertEquals(1, found);
  }

  @Test
  void availableWithItsLibraries() {
    ZkMetadataStoreProvider p = new ZkMetadataStoreProvider();
    assertTrue(p.availability().isAvailable());
    assertNull(p.availability().unavailabilityCause());
  }

  @Test
  void killSwitchMakesItUnavailable() {
    String property = "te4j.metadata.zk.disabled";
    System.setProperty(property, "true");
    try {
      ZkMetadataStoreProvider p = new ZkMetadataStoreProvider();
      assertFalse(p.availability().isAvailable());
      assertTrue(p.availability().unavailabilityCause().getMessage().contains(property));
    } finally {
      System.clearProperty(property);
    }
  }

  @Test
  void malformedLocationFailsBeforeConnecting() {
    TransferException e = assertThrows(TransferException.class, () -> new ZkMetadataStoreProvider()
        .create("no-port-here", new TestStoreContext("n", Duration.ofSeconds(1))));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
  }
}
