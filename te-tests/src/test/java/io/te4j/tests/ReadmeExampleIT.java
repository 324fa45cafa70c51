package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.te4j.api.TransferRequest;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's Java example, verbatim, so the documented API keeps compiling and working. */
class ReadmeExampleIT {
  @Test
  void twoEnginesExchangeData() {
    byte[] arrived;
    byte[] hello;
    // --- README example starts
    try (Engine target = Engine.builder().localHostname("127.0.0.1").protocol("tcp").start();
         Engine initiator = Engine.builder().localHostname("127.0.0.1").protocol("tcp").start();
         ManagedBuffer dst = target.allocate(1 << 20);
         ManagedBuffer src = initiator.allocate(1 << 20)) {
      hello = "hello, te4j".getBytes(StandardCharsets.UTF_8);
      initiator.write(src.address(), hello, 0, hello.length);
      initiator.transfer(target.segmentName(),                 // "127.0.0.1:<rpc port>"
              List.of(TransferRequest.write(src.address(), dst.address(), hello.length)))
          .join();                                             // completes once the bytes are in place
      arrived = target.read(dst.address(), hello.length);
    }
    // --- README example ends
    assertArrayEquals(hello, arrived);
  }
}
