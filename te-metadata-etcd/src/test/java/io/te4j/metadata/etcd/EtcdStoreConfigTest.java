package io.te4j.metadata.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.TransferException;
import io.te4j.testkit.TestStoreContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parsing of the etcd location and settings: no etcd needed. */
class EtcdStoreConfigTest {
  private static final Duration T = Duration.ofSeconds(3);

  private static EtcdStoreConfig parse(String location, String... settings) {
    return EtcdStoreConfig.from(location, TestStoreContext.of("cfg", T, settings));
  }

  @Test
  void severalEndpointsKeepTheirOrderAndDefaultsApply() {
    EtcdStoreConfig c = parse("10.0.0.1:2379, node-2:12379,[::1]:3379");
    assertEquals(List.of(new HostPort("10.0.0.1", 2379), new HostPort("node-2", 12379),
        new HostPort("::1", 3379)), c.endpoints());
    assertEquals("10.0.0.1:2379,node-2:12379,[::1]:3379", c.endpointList());
    assertFalse(c.tls());
    assertEquals(EtcdStoreConfig.DEFAULT_LEASE_TTL_SECONDS, c.leaseTtlSeconds());
    assertNull(c.user());
    assertEquals(T.toNanos(), c.operationTimeoutNanos());
  }

  @Test
  void httpsEndpointsTurnTlsOnAndBareHostsGetTheDefaultPort() {
    EtcdStoreConfig c = parse("https://a:1/,https://b");
    assertTrue(c.tls());
    assertEquals(List.of(new HostPort("a", 1), new HostPort("b", 2379)), c.endpoints());
    assertEquals("https://a:1", c.endpointUris()[0]);
    assertEquals("http://a:1", parse("http://a:1").endpointUris()[0]);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "a:1,,b:2", "http://a:1,https://b:2", "ftp://a:1", "a:0",
      "::1:2379", "a:notaport"})
  void malformedLocationsAreConfigurationErrors(String location) {
    TransferException e = assertThrows(TransferException.class, () -> parse(location));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
  }

  @Test
  void leaseTtlIsReadAndChecked() {
    assertEquals(3, parse("a:1", EtcdStoreConfig.LEASE_TTL_SECONDS, "3").leaseTtlSeconds());
    for (String bad : new String[] {"0", "-2", "ten", "3601"}) {
      TransferException e = assertThrows(TransferException.class,
          () -> parse("a:1", EtcdStoreConfig.LEASE_TTL_SECONDS, bad));
      assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
      assertTrue(e.getMessage().contains(EtcdStoreConfig.LEASE_TTL_SECONDS), e.getMessage());
    }
  }

  @Test
  void userAndPasswordComeTogetherAndThePasswordIsNeverPrinted() {
    EtcdStoreConfig c = parse("a:1", EtcdStoreConfig.USER, "root", EtcdStoreConfig.PASSWORD,
        "s3cret");
    assertEquals("root", c.user());
    assertFalse(c.toString().contains("s3cret"), c.toString());
    TransferException e = assertThrows(TransferException.class,
        () -> parse("a:1", EtcdStoreConfig.USER, "root"));
    assertTrue(e.getMessage().contains(EtcdStoreConfig.PASSWORD), e.getMessage());
    e = assertThrows(TransferException.class,
        () -> parse("a:1", EtcdStoreConfig.PASSWORD, "x"));
    assertTrue(e.getMessage().contains(EtcdStoreConfig.USER), e.getMessage());
  }

  @Test
  void tlsFilesMustExistAndComeInPairs(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("nope.pem");
    TransferException e = assertThrows(TransferException.class,
        () -> parse("a:1", EtcdStoreConfig.TLS_CA, missing.toString()));
    assertEquals(ErrorCode.INVALID_CONFIGURATION, e.errorCode());
    assertTrue(e.getMessage().contains(EtcdStoreConfig.TLS_CA)
        && e.getMessage().contains(missing.toString()), e.getMessage());

    Path cert = Files.writeString(dir.resolve("c.pem"), "x");
    e = assertThrows(TransferException.class,
        () -> parse("a:1", EtcdStoreConfig.TLS_CERT, cert.toString()));
    assertTrue(e.getMessage().contains(EtcdStoreConfig.TLS_KEY), e.getMessage());

    EtcdStoreConfig c = parse("a:1", EtcdStoreConfig.TLS_CA, cert.toString());
    assertTrue(c.tls(), "a CA file alone turns TLS on");
    assertEquals("https://a:1", c.endpointUris()[0]);
  }
}
