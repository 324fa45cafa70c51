package io.te4j.core.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.te4j.api.TransferException;
import io.te4j.api.spi.PeerAuth;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.rpc.FrameCodec;
import java.nio.charset.StandardCharsets;

/**
 * What a peer or a store hands the engine: any bytes as a handshake frame header and body, the
 * JSON bodies each frame type carries, segment descriptors and topologies, and the cluster
 * secret's exchange. A refused header or a
 * malformed body is an expected, typed refusal; any other exception (or a hang, or running out of
 * memory) is a finding. In CI each target runs its regression inputs ({@code
 * HandshakeFrameFuzzTestInputs/<target>/} beside this class); a long run is {@code JAZZER_FUZZ=1},
 * see the README.
 */
class HandshakeFrameFuzzTest {
  /** A long run ({@code JAZZER_FUZZ=1}) stops at 10 million inputs or after this long. */
  static final String LONG_RUN = "8m";
  static final long LONG_RUN_INPUTS = 10_000_000L;

  @FuzzTest(maxDuration = LONG_RUN, maxExecutions = LONG_RUN_INPUTS)
  void frames(byte[] bytes) {
    if (bytes.length < FrameCodec.HEADER_BYTES) {
      return;
    }
    byte[] header = java.util.Arrays.copyOf(bytes, FrameCodec.HEADER_BYTES);
    if (FrameCodec.rejectReason(header, FrameCodec.DEFAULT_MAX_FRAME_BYTES) != null) {
      return; // refused before a byte more is read
    }
    byte[] payload = java.util.Arrays.copyOfRange(bytes, FrameCodec.HEADER_BYTES, bytes.length);
    if (payload.length == 0) {
      return;
    }
    FrameCodec.Frame frame = FrameCodec.decode(payload);
    String body = frame.body().stripTrailing();
    try {
      JsonCodec.requireWellFormed(body, "fuzzed body");
      switch (frame.type()) {
        case 1 -> JsonCodec.descriptorFromJson(body);
        case 2 -> JsonCodec.notifyFromJson(body);
        default -> JsonCodec.canonical(body);
      }
    } catch (TransferException expected) {
      // a typed refusal: what the server answers by closing the connection
    }
  }

  @FuzzTest(maxDuration = LONG_RUN, maxExecutions = LONG_RUN_INPUTS)
  void descriptors(byte[] json) {
    try {
      JsonCodec.descriptorFromJson(new String(json, StandardCharsets.UTF_8));
    } catch (TransferException expected) {
      // MALFORMED_JSON naming what is wrong
    }
  }

  @FuzzTest(maxDuration = LONG_RUN, maxExecutions = LONG_RUN_INPUTS)
  void topologies(byte[] json) {
    try {
      JsonCodec.topologyFromJson(new String(json, StandardCharsets.UTF_8));
    } catch (TransferException expected) {
      // MALFORMED_JSON naming the offending location
    }
  }

  @FuzzTest(maxDuration = LONG_RUN, maxExecutions = LONG_RUN_INPUTS)
  void notifications(byte[] bytes) {
    try {
      JsonCodec.notifyFromJson(new String(bytes, StandardCharsets.UTF_8));
    } catch (TransferException expected) {
      // a malformed notification is refused
    }
  }

  /** The cluster secret's exchange, as any bytes a client sends first: refused, never passed. */
  private static final PeerAuth AUTH = PeerAuth.withSecret(
      "fuzz-cluster-secret-0123456789".getBytes(StandardCharsets.US_ASCII));

  @FuzzTest(maxDuration = LONG_RUN, maxExecutions = LONG_RUN_INPUTS)
  void authExchanges(byte[] bytes) throws java.io.IOException {
    try {
      AUTH.verify(new java.io.ByteArrayInputStream(bytes), java.io.OutputStream.nullOutputStream(),
          "rpc");
    } catch (PeerAuth.AuthenticationException expected) {
      return; // refused and counted
    }
    throw new AssertionError("bytes without the secret passed the exchange");
  }
}
