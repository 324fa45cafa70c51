package io.te4j.metadata.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.testkit.TestStoreContext;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class HttpMetadataStoreProviderTest {
  private static Map<String, MetadataStoreProvider> loaded() {
    Map<String, MetadataStoreProvider> byScheme = new TreeMap<>();
    for (MetadataStoreProvider p : ServiceLoader.load(MetadataStoreProvider.class)) {
      byScheme.put(p.scheme(), p);
    }
    return byScheme;
  }

  @Test
  void serviceLoaderFindsHttpAndHttps() {
    Map<String, MetadataStoreProvider> p = loaded();
    assertTrue(p.get("http") instanceof HttpMetadataStoreProvider, p.toString());
    assertTrue(p.get("https") instanceof HttpsMetadataStoreProvider, p.toString());
    assertTrue(p.get("http").availability().isAvailable());
    assertNull(p.get("http").availability().unavailabilityCause());
  }

  @Test
  void killSwitchMakesBothUnavailable() {
    System.setProperty("te4j.metadata.http.disabled", "true");
    try {
      for (MetadataStoreProvider p
          : new MetadataStoreProvider[] {new HttpMetadataStoreProvider(),
              new HttpsMetadataStoreProvider()}) {
        assertFalse(p.availability().isAvailable());
        assertTrue(p.availability().unavailabilityCause().getMessage()
            .contains("te4j.metadata.http.disabled"),
            p.availability().unavailabilityCause().getMessage());
      }
    } finally {
      System.clearProperty("te4j.metadata.http.disabled");
    }
    System.setProperty("te4j.metadata.https.disabled", "true");
    try {
      assertTrue(new HttpMetadataStoreProvider().availability().isAvailable());
      assertFalse(new HttpsMetadataStoreProvider().availability().isAvailable());
    } finally {
      System.clearProperty("te4j.metadata.https.disabled");
    }
  }

  @Test
  void malformedUrlsAndSettingsAreConfigurationErrors() {
    HttpMetadataStoreProvider http = new HttpMetadataStoreProvider();
    for (String bad : new String[] {"", "http://", "http:///metadata", "ftp://h:1/metadata",
        "http://h:1/metadata?key=x", "http://h:1/metadata#frag", "http://h:1/ bad"}) {
      TransferException e = assertThrows(TransferException.class,
          () -> http.create(bad, new TestStoreContext("a:1")), bad);
      assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode(), bad);
    }
    TransferException wrongScheme = assertThrows(TransferException.class,
        () -> new HttpsMetadataStoreProvider().create("http://h:1/metadata",
            new TestStoreContext("a:1")));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, wrongScheme.errorCode());
    TransferException refresh = assertThrows(TransferException.class,
        () -> http.create("http://127.0.0.1:1/metadata",
            new TestStoreContext("a:1").with(HttpMetadataStore.REFRESH_SECONDS, "ten")));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, refresh.errorCode());
    assertTrue(refresh.getMessage().contains(HttpMetadataStore.REFRESH_SECONDS));
  }
}
