package io.te4j.metadata.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.testkit.TestStoreContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provider's discovery, availability contract and configuration errors: no etcd needed. */
class EtcdMetadataStoreProviderTest {
  private static final String KILL = "te4j.metadata.etcd.disabled";

  @Test
  void serviceLoaderFindsTheProviderUnderSchemeEtcd() {
    boolean found = false;
    for (MetadataStoreProvider p : ServiceLoader.load(MetadataStoreProvider.class)) {
      if (p instanceof EtcdMetadataStoreProvider) {
        found = true;
        assertEquals("etcd", p.scheme());
      }
    }
    assertTrue(found, "META-INF/services lists EtcdMetadataStoreProvider");
  }

  @Test
  void killSwitchMakesItUnavailableWithACauseNamingTheProperty() {
    EtcdMetadataStoreProvider p = new EtcdMetadataStoreProvider();
    assertTrue(p.availability().isAvailable());
    assertNull(p.availability().unavailabilityCause());
    System.setProperty(KILL, "true");
    try {
      assertFalse(p.availability().isAvailable());
      assertTrue(p.availability().unavailabilityCause().getMessage().contains(KILL));
      // The engine's own settings switch it off too (its builder, not only system properties).
      assertNotNull(p.availability().unavailabilityCause(name -> KILL.equals(name) ? "1" : null));
    } finally {
      System.clearProperty(KILL);
    }
    assertTrue(p.availability().isAvailable());
  }

  @Test
  void aTlsFileThatIsNotPemIsAClearConfigurationErrorBeforeAnyConnection(@TempDir Path dir)
      throws Exception {
    Path garbage = Files.writeString(dir.resolve("ca.pem"), "this is not a certificate\n");
    long start = System.nanoTime();
    TransferException e = assertThrows(TransferException.class,
        () -> new EtcdMetadataStoreProvider().create("127.0.0.1:1", TestStoreContext.of("tls",
            Duration.ofSeconds(5), EtcdStoreConfig.TLS_CA, garbage.toString())));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode(), e.getMessage());
    assertTrue(e.getMessage().contains(EtcdStoreConfig.TLS_CA)
        && e.getMessage().contains(garbage.toString()), e.getMessage());
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(),
        "refused before trying to connect");

    Path cert = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n"
        + "-----END CERTIFICATE-----\n");
    Path key = Files.writeString(dir.resolve("key.pem"), "not a key");
    e = assertThrows(TransferException.class,
        () -> new EtcdMetadataStoreProvider().create("https://127.0.0.1:1",
            TestStoreContext.of("tls", Duration.ofSeconds(5), EtcdStoreConfig.TLS_CERT,
                cert.toString(), EtcdStoreConfig.TLS_KEY, key.toString())));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode(), e.getMessage());
    assertTrue(e.getMessage().contains(EtcdStoreConfig.TLS_CERT), e.getMessage());
  }

  @Test
  void aMalformedLocationIsAConfigurationError() {
    TransferException e = assertThrows(TransferException.class,
        () -> new EtcdMetadataStoreProvider().create("a:1,,b:2",
            TestStoreContext.of("loc", Duration.ofSeconds(1))));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
  }
}
