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

  static byte[] random(Random rnd, int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }
}
