package io.te4j.transport.nvmeof;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
import io.te4j.metadata.etcd.EtcdTestServer;
import io.te4j.testkit.ChildJvm;
import io.te4j.transport.nvmeof.Fixtures.Fs;
import io.te4j.transport.nvmeof.Fixtures.Segment;
import java.nio.file.Path;
import java.time.Duration;
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
    SegmentDescriptor published = NvmeofSegments.descriptor("shared", "storage-node-1", specs);
    assertTrue(owner.publishNewSegment(published));
    assertEquals(Engine.descriptorJson(published), etcdGet("mooncake/nvmeof/shared"),
        "the value in etcd is the WIRE.md descriptor, byte for byte");

    Engine user = engine("nvmeof-user");
    SegmentDescriptor found = user.findSegment("nvmeof/shared").orElseThrow();
    assertEquals(published, found);
    assertEquals(List.of("nvmeof/shared"),
        List.copyOf(user.segments(NvmeofSegments.PREFIX).keySet()));
    assertFalse(user.publishNewSegment(NvmeofSegments.descriptor("shared", "x", specs)),
        "etcd's transaction refuses a taken name");

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
    assertTrue(engine("nvmeof-late").findSegment("nvmeof/shared").isEmpty());
  }

  /**
   * Two processes register 50 segments each at the same moment, and a third name both want: every
   * segment is listed afterwards (nothing is read, changed and written back), and the shared name
   * went to exactly one of them.
   */
  @Test
  void twoProcessesRegisteringAtOnceLoseNothing() throws Exception {
    dir = Fixtures.newDir(Fs.BUILD_DIR);
    Segment seg = new Segment(dir, "unused", new long[] {4096}, 44);
    String file = seg.files.get(0).toString();
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (String prefix : new String[] {"race-a", "race-b"}) {
        children.add(ChildJvm.start(RegisterMain.class, List.of("-Xmx128m"),
            List.of(etcd.metadataServer(), prefix, "50", file), "READY", Duration.ofSeconds(60)));
      }
      for (ChildJvm c : children) {
        c.send("GO");
      }
      for (ChildJvm c : children) {
        assertEquals("DONE 50", c.nextLine(Duration.ofSeconds(60)));
      }
      Engine reader = engine("nvmeof-reader");
      java.util.Set<String> names = reader.segments(NvmeofSegments.PREFIX).keySet();
      for (String prefix : new String[] {"race-a", "race-b"}) {
        for (int i = 0; i < 50; i++) {
          assertTrue(names.contains("nvmeof/" + prefix + "-" + i), prefix + "-" + i + " lost");
        }
      }
      assertEquals(100, names.size(), names::toString);

      // Both want one more name: the etcd transaction gives it to one.
      Engine a = engine("nvmeof-a");
      Engine b = engine("nvmeof-b");
      java.util.concurrent.CompletableFuture<Boolean> fa = java.util.concurrent.CompletableFuture
          .supplyAsync(() -> a.publishNewSegment(NvmeofSegments.descriptor("wanted", "a",
              List.of(FileSpec.of(file, 4096)))));
      boolean gotB = b.publishNewSegment(NvmeofSegments.descriptor("wanted", "b",
          List.of(FileSpec.of(file, 4096))));
      boolean gotA = fa.get();
      assertTrue(gotA ^ gotB, "exactly one engine gets the name: a " + gotA + ", b " + gotB);
      assertEquals(gotA ? "a" : "b", reader.findSegment("nvmeof/wanted").orElseThrow()
          .attributes().get("server_name"));
    } finally {
      children.forEach(ChildJvm::close);
    }
  }

  @Test
  void anotherEngineCanRemoveASegment() throws Exception {
    dir = Fixtures.newDir(Fs.BUILD_DIR);
    Segment seg = new Segment(dir, "unused", new long[] {4096}, 43);
    Engine owner = engine("nvmeof-owner2");
    Fixtures.publish(owner, "doomed", List.of(FileSpec.of(seg.files.get(0).toString(), 4096)));
    Engine admin = engine("nvmeof-admin");
    assertTrue(admin.findSegment("nvmeof/doomed").isPresent());
    admin.removeSegment("nvmeof/doomed");
    assertEquals("", etcdGet("mooncake/nvmeof/doomed"));
    assertTrue(engine("nvmeof-late2").findSegment("nvmeof/doomed").isEmpty());
  }
}
