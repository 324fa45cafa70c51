package io.te4j.transport.nvmeof;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.transfer.Batch;
import io.te4j.transport.nvmeof.Fixtures.Fs;
import io.te4j.transport.nvmeof.Fixtures.Segment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * File segments through the engine's ordinary path: published by an engine in P2P mode (which
 * answers its own keys; two P2P engines cannot share a file segment, having no store), resolved,
 * and read and written with batches the engine cuts into slices.
 */
class NvmeofEngineTest {
  private Path dir;
  private Engine engine;

  @AfterEach
  void cleanUp() {
    if (engine != null) {
      engine.close();
    }
    Fixtures.deleteTree(dir);
  }

  private Engine start(String protocol) {
    return Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol(protocol).start();
  }

  private List<FileSpec> specs(Segment seg) {
    List<FileSpec> out = new ArrayList<>();
    for (int i = 0; i < seg.files.size(); i++) {
      out.add(FileSpec.of(seg.files.get(i).toString(), seg.sizes[i]));
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"nvmeof", "tcp,nvmeof"})
  void publishResolveWriteAndReadBackThroughTheEngine(String protocol) throws Exception {
    dir = Fixtures.newDir(Fs.BUILD_DIR);
    Segment seg = new Segment(dir, "unused", NvmeofTransportTest.SIZES, 31);
    engine = start(protocol);
    assertTrue(engine.transportNames().contains("nvmeof"), engine.transportNames()::toString);
    SegmentDescriptor published = Fixtures.publish(engine, "engine-seg", specs(seg));
    assertEquals("nvmeof/engine-seg", published.name());
    assertEquals("127.0.0.1", published.attributes().get("server_name"));

    SegmentDescriptor resolved = engine.segment("nvmeof/engine-seg");
    assertEquals(JsonCodec.descriptorToJson(published), JsonCodec.descriptorToJson(resolved));
    assertEquals(published, engine.findSegment("nvmeof/engine-seg").orElseThrow());

    int total = (int) seg.total();
    try (ManagedBuffer src = engine.allocate(total); ManagedBuffer dst = engine.allocate(total)) {
      byte[] data = new byte[total];
      new Random(32).nextBytes(data);
      engine.write(src.address(), data, 0, total);
      // One request over the whole segment: the engine cuts it into 1 MiB slices, some of
      // which straddle the files.
      Batch w = engine.submitAndWait("nvmeof/engine-seg",
          List.of(TransferRequest.write(src.address(), 0, total)), "");
      assertEquals(TransferState.COMPLETED, w.state(), w::errorMessage);
      assertArrayEquals(data, seg.onDisk());

      List<TransferRequest> reads = new ArrayList<>();
      for (int off = 0; off < total; off += 100_000) {
        reads.add(TransferRequest.read(dst.address() + off, off, Math.min(100_000, total - off)));
      }
      Batch r = engine.submitAndWait("nvmeof/engine-seg", reads, "");
      assertEquals(TransferState.COMPLETED, r.state(), r::errorMessage);
      assertArrayEquals(data, engine.read(dst.address(), total));

      // The future face as well.
      engine.transfer("nvmeof/engine-seg", List.of(TransferRequest.read(dst.address(),
          seg.starts[1] - 10, 20))).get();
      assertArrayEquals(Arrays.copyOfRange(data, (int) seg.starts[1] - 10,
          (int) seg.starts[1] + 10), engine.read(dst.address(), 20));
    }
  }

  @Test
  void engineLevelErrorsHaveClearCodes() throws Exception {
    dir = Fixtures.newDir(Fs.BUILD_DIR);
    Segment seg = new Segment(dir, "unused", NvmeofTransportTest.SIZES, 33);
    engine = start("nvmeof");
    Fixtures.publish(engine, "errs", specs(seg));
    try (ManagedBuffer local = engine.allocate(1 << 20)) {
      // A local buffer the engine never registered.
      java.nio.ByteBuffer unregistered = java.nio.ByteBuffer.allocateDirect(4096);
      long addr = com.sun.jna.Pointer.nativeValue(
          com.sun.jna.Native.getDirectBufferPointer(unregistered));
      Batch e = engine.submitAndWait(
          "nvmeof/errs", List.of(TransferRequest.read(addr, 0, 4096)), "");
      assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, e.errorCode(0));
      assertEquals(TransferState.FAILED, e.state());

      // Past the end of the segment.
      Batch past = engine.submitAndWait("nvmeof/errs",
          List.of(TransferRequest.read(local.address(), seg.total() - 10, 20)), "");
      assertEquals(TransferState.FAILED, past.state());
      assertEquals(ErrorCode.INVALID_ARGUMENT, past.errorCode(), past::errorMessage);

      // A segment nobody published.
      Batch unknown = engine.submit(
          "nvmeof/nobody", List.of(TransferRequest.read(local.address(), 0, 10)), "");
      assertTrue(unknown.isRejected());
      assertEquals(ErrorCode.METADATA, unknown.errorCode());
    }
    assertArrayEquals(seg.model, seg.onDisk(), "nothing written");
  }

  @Test
  void listAndRemove() throws Exception {
    dir = Fixtures.newDir(Fs.BUILD_DIR);
    Segment seg = new Segment(dir, "unused", new long[] {4096, 8192}, 34);
    engine = start("nvmeof");
    Fixtures.publish(engine, "one", specs(seg));
    Fixtures.publish(engine, "nvmeof/two", specs(seg).subList(0, 1));
    assertEquals(List.of("nvmeof/one", "nvmeof/two"),
        List.copyOf(engine.segments(NvmeofSegments.PREFIX).keySet()));
    assertFalse(engine.publishNewSegment(NvmeofSegments.descriptor("one", "elsewhere",
        specs(seg))), "a taken name is refused");
    assertEquals("127.0.0.1", engine.findSegment("nvmeof/one").orElseThrow().attributes()
        .get("server_name"), "and left as it was");

    engine.removeSegment("nvmeof/one");
    assertTrue(engine.findSegment("nvmeof/one").isEmpty());
    assertEquals(1, engine.segments(NvmeofSegments.PREFIX).size());
    engine.removeSegment("nvmeof/two");
    engine.removeSegment("nvmeof/two"); // absent: no error
    assertTrue(engine.segments(NvmeofSegments.PREFIX).isEmpty());
    assertTrue(engine.publishNewSegment(NvmeofSegments.descriptor("one", "elsewhere",
        specs(seg))), "a free name is taken");
    engine.removeSegment("nvmeof/one");
    try (ManagedBuffer local = engine.allocate(4096)) {
      Batch e = engine.submit("nvmeof/one", List.of(TransferRequest.read(local.address(), 0, 10)),
          "");
      assertTrue(e.isRejected());
      assertEquals(ErrorCode.METADATA, e.errorCode());
    }
  }
}
