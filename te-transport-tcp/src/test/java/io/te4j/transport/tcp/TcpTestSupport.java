package io.te4j.transport.tcp;

import io.te4j.api.SegmentDescriptor;
import io.te4j.testkit.TestContext;
import java.io.IOException;
import java.util.Random;

/** Small helpers shared by the tests. */
final class TcpTestSupport {
  private TcpTestSupport() {}

  /** A started transport: bound data port, acceptor running. */
  static TcpTransport started(TestContext context) throws IOException {
    TcpTransport t = new TcpTransport(context);
    SegmentDescriptor.Builder b = SegmentDescriptor.builder(context.localSegmentName(), "tcp");
    try {
      t.start(b);
    } catch (IOException | RuntimeException e) {
      t.close();
      throw e;
    }
    return t;
  }

  /** How a peer sees {@code target} (as its published descriptor says, protocol v2). */
  static SegmentDescriptor descriptorOf(TcpTransport target) {
    return RawWire.descriptor(target.dataPort(), 2);
  }

  /**
   * A PKCS12 key store at {@code dir/name.p12} holding one self-signed EC certificate and its key,
   * made by the JDK's keytool; as a trust store it trusts exactly that certificate.
   */
  static java.nio.file.Path keyStore(java.nio.file.Path dir, String name, String password)
      throws Exception {
    java.nio.file.Path file = dir.resolve(name + ".p12");
    Process p = new ProcessBuilder(
        java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=" + name, "-validity", "2", "-storetype", "PKCS12",
        "-keystore", file.toString(), "-storepass", password, "-keypass", password)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(),
        java.nio.charset.StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("keytool failed: " + out);
    }
    return file;
  }

  static byte[] random(Random rnd, int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }
}
