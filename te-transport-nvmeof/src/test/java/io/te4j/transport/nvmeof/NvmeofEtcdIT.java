package io.te4j.transport.nvmeof;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
import io.te4j.metadata.etcd.EtcdTestServer;
import io.te4j.transport.nvmeof.Fixtures.Fs;
import io.te4j.transport.nvmeof.Fixtures.Segment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A file segment one engine registers in a real etcd, found and used by another engine: the key
 * and the JSON exactly as WIRE.md has them (read back with etcdctl), and gone when removed or when
 * the registering engine closes (its keys live under its lease).
 */
class NvmeofEtcdIT {
  private static EtcdTestServer etcd;
  private Path dir;
  private final List<Engine> engines = new ArrayList<>();

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdTestServer.start();
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @AfterEach
  void cleanUp() {
    engines.forEach(Engine::close);
    Fixtures.deleteTree(dir);
  }

  private Engine engine(String name) {
    Engine e = Engine.builder().localHostname(name + "-" + ProcessHandle.current().pid())
        .metadataServer(etcd.metadataServer()).protocol("nvmeof").start();
    engines.add(e);
    return e;
  }

  private String etcdGet(String key) {
    String out = etcd.etcdctl("get", "--print-value-only", key).trim();
    return out;
  }

  @Test
  void anEngineFindsAndUsesASegmentAnotherEngineRegistered() throws Exception {
    dir = Fixtures.newDir(Fs.BUILD_DIR);
    Segment seg = new Segment(dir, "unused", NvmeofTransportTest.SIZES, 41);
    Engine owner = engine("nvmeof-owner");
    List<FileSpec> specs = new ArrayList<>();
    for (int i = 0; i < seg.files.size(); i++) {
      specs.add(new FileSpec(seg.files.get(i).toString(), seg.sizes[i],
          java.util.Map.of("some-other-host", "/mnt/elsewhere/f" + i)));
    }
    SegmentDescriptor published = NvmeofSegments.publish(owner, "shared", "storage-node-1",
        specs);
    assertEquals(NvmeofSegments.toJson(published), etcdGet("mooncake/nvmeof/shared"),
        "the value in etcd is the WIRE.md descriptor, byte for byte");

    Engine user = engine("nvmeof-user");
    SegmentDescriptor found = NvmeofSegments.find(user, "shared").orElseThrow();
    assertEquals(published, found);
    assertEquals(List.of("nvmeof/shared"),
        NvmeofSegments.list(user).stream().map(SegmentDescriptor::name).toList());

    int total = (int) seg.total();
    try (ManagedBuffer src = user.allocate(total); ManagedBuffer dst = user.allocate(total)) {
      byte[] data = new byte[total];
      new Random(42).nextBytes(data);
      user.write(src.address(), data, 0, total);
      Batch w = user.submitAndWait("nvmeof/shared",
          List.of(TransferRequest.write(src.address(), 0, total)), "");
      assertEquals(TransferState.COMPLETED, w.state(), w::errorMessage);
      Batch r = user.submitAndWait("nvmeof/shared",
          List.of(TransferRequest.read(dst.address(), 0, total)), "");
      assertEquals(TransferState.COMPLETED, r.state(), r::errorMessage);
      assertArrayEquals(data, user.read(dst.address(), total));
      assertArrayEquals(data, seg.onDisk());
    }

    // The registering engine goes away: its lease takes the segment along.
    owner.close();
    assertEquals("", etcdGet("mooncake/nvmeof/shared"));
    assertTrue(NvmeofSegments.find(engine("nvmeof-late"), "shared").isEmpty());
  }

  @Test
  void anotherEngineCanRemoveASegment() throws Exception {
    dir = Fixtures.newDir(Fs.BUILD_DIR);
    Segment seg = new Segment(dir, "unused", new long[] {4096}, 43);
    Engine owner = engine("nvmeof-owner2");
    NvmeofSegments.publish(owner, "doomed",
        List.of(FileSpec.of(seg.files.get(0).toString(), 4096)));
    Engine admin = engine("nvmeof-admin");
    assertTrue(NvmeofSegments.find(admin, "doomed").isPresent());
    NvmeofSegments.remove(admin, "doomed");
    assertEquals("", etcdGet("mooncake/nvmeof/doomed"));
    assertTrue(NvmeofSegments.find(engine("nvmeof-late2"), "doomed").isEmpty());
  }
}
