package io.te4j.metadata.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.MetadataKeys;
import io.te4j.api.TransferException;
import io.te4j.core.Engine;
import io.te4j.core.json.JsonCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A real etcd serving mutual TLS, with certificates made by openssl for the test. */
class EtcdTlsIT {
  private static Path dir;
  private static EtcdTestServer etcd;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("te4j-etcd-tls-");
    makeCertificates(dir);
    etcd = EtcdTestServer.start(new EtcdTestServer.TlsFiles(dir.resolve("ca.pem"),
        dir.resolve("server.pem"), dir.resolve("server.key"), true));
  }

  @AfterAll
  static void stop() throws IOException {
    if (etcd != null) {
      etcd.close();
    }
    if (dir != null) {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  private static String[] clientTls() {
    return new String[] {EtcdStoreConfig.TLS_CA, dir.resolve("ca.pem").toString(),
        EtcdStoreConfig.TLS_CERT, dir.resolve("client.pem").toString(),
        EtcdStoreConfig.TLS_KEY, dir.resolve("client.key").toString()};
  }

  @Test
  void aStoreWithTheCaAndAClientCertificateWorksOverTls() {
    try (EtcdMetadataStore store = EtcdMetadataStoreIT.open("https://" + etcd.endpoint(),
        clientTls())) {
      assertTrue(store.config().tls());
      store.put("mooncake/tls/ram/a", "{\"x\":1}");
      assertEquals(Optional.of("{\"x\":1}"), store.get("mooncake/tls/ram/a"));
    }
  }

  @Test
  void anEnginePublishesThroughTls() {
    String[] tls = clientTls();
    Engine.Builder b = EtcdEngines.builder(etcd.metadataServer());
    for (int i = 0; i < tls.length; i += 2) {
      b.setting(tls[i], tls[i + 1]);
    }
    try (Engine e = b.start();
        EtcdMetadataStore store = EtcdMetadataStoreIT.open("https://" + etcd.endpoint(), tls)) {
      assertEquals(JsonCodec.descriptorToJson(e.localDescriptor()),
          store.get(MetadataKeys.forCluster(null).segmentKey(e.segmentName())).orElseThrow());
    }
  }

  @Test
  void withoutAClientCertificateTheServerRefusesAndTheErrorNamesTheEndpoint() {
    assertRefused(EtcdStoreConfig.TLS_CA, dir.resolve("ca.pem").toString());
  }

  @Test
  void plainTextToATlsPortIsRefusedWithinTheBound() {
    long start = System.nanoTime();
    TransferException e = assertThrows(TransferException.class,
        () -> EtcdMetadataStoreIT.open(etcd.endpoint()));
    assertEquals(ErrorCode.METADATA, e.errorCode(), e.getMessage());
    assertTrue(e.getMessage().contains(etcd.endpoint()), e.getMessage());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(6));
  }

  private static void assertRefused(String... settings) {
    long start = System.nanoTime();
    TransferException e = assertThrows(TransferException.class,
        () -> EtcdMetadataStoreIT.open("https://" + etcd.endpoint(), settings));
    assertEquals(ErrorCode.METADATA, e.errorCode(), e.getMessage());
    assertTrue(e.getMessage().contains(etcd.endpoint()), e.getMessage());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(6));
  }

  /** A CA, a server certificate for 127.0.0.1 and a client certificate, PEM, PKCS#8 keys. */
  static void makeCertificates(Path dir) throws Exception {
    Path openssl = Path.of("/usr/bin/openssl");
    EtcdTestServer.requireBinary(openssl, "openssl");
    run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=te4j test CA");
    for (String who : List.of("server", "client")) {
      Files.writeString(dir.resolve(who + ".ext"), who.equals("server")
          ? "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
          : "extendedKeyUsage=clientAuth\n");
      run(dir, "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-keyout", who + ".key", "-out", who + ".csr", "-subj", "/CN=te4j " + who);
      run(dir, "openssl", "x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey",
          "ca.key", "-CAcreateserial", "-out", who + ".pem", "-days", "2", "-extfile",
          who + ".ext");
    }
  }

  private static void run(Path dir, String... cmd) throws Exception {
    Path log = Files.createTempFile(dir, "openssl-", ".log");
    Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", cmd) + " failed: "
          + Files.readString(log));
    }
    Files.delete(log);
  }
}
