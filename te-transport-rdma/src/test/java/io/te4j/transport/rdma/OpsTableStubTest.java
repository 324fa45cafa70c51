package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.te4j.transport.rdma.verbs.Completions;
import io.te4j.transport.rdma.verbs.NativeVerbs;
import io.te4j.transport.rdma.verbs.VerbsLayout;
import io.te4j.transport.rdma.verbs.WorkRequests;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * libte4jrdma's real data path, driven through {@link NativeVerbs} against a fake context whose
 * ops table is {@code verbs_stub.c} (RDMA.md 4.4, fixture 3): the chain it links, the jump
 * through {@code ops.post_send} and {@code ops.poll_cq}, {@code bad_wr} made an index, and the
 * completions read back from the {@code ibv_wc} array.
 */
class OpsTableStubTest {
  /** The stub's controls. */
  public interface Stub extends Library {
    long stub_reset(int limit);

    long stub_cq();

    int stub_logged_count();

    long stub_logged(int i, int field);

    void stub_queue_wc(long wrId, int status, int opcode, int byteLen);
  }

  @TempDir
  static Path dir;
  private static Stub stub;
  private final NativeVerbs verbs = new NativeVerbs();

  @BeforeAll
  static void build() throws Exception {
    Path lib = CCompiler.compile("verbs_stub.c", dir.resolve("libverbsstub.so"), "-shared",
        "-fPIC");
    stub = Native.load(lib.toString(), Stub.class);
    assertEquals(null, NativeVerbs.linkFailure(), "libte4jrdma is bound");
  }

  @Test
  void aBatchIsPostedAsOneChainWithEveryField() {
    long qp = stub.stub_reset(4096);
    WorkRequests wrs = new WorkRequests(8);
    for (int i = 0; i < 3; i++) {
      wrs.set(i, 0x1000L + i, i == 1 ? VerbsLayout.WR_RDMA_READ : VerbsLayout.WR_RDMA_WRITE,
          0x7f00_0000_0000L + i * 65536L, 65536 - i, 0x11 + i, 0x5500_0000_0000L + i, 0x77 + i);
    }
    assertEquals(3, verbs.postSend(qp, wrs, 3));
    assertEquals(3, stub.stub_logged_count());
    for (int i = 0; i < 3; i++) {
      assertEquals(0x1000L + i, stub.stub_logged(i, 0), "wr_id");
      assertEquals(i == 1 ? 4 : 0, stub.stub_logged(i, 1), "opcode");
      assertEquals(VerbsLayout.SEND_SIGNALED, stub.stub_logged(i, 2), "send_flags");
      assertEquals(0x5500_0000_0000L + i, stub.stub_logged(i, 3), "remote_addr");
      assertEquals(0x77 + i, stub.stub_logged(i, 4), "rkey");
      assertEquals(0x7f00_0000_0000L + i * 65536L, stub.stub_logged(i, 5), "sge addr");
      assertEquals(65536 - i, stub.stub_logged(i, 6), "sge length");
      assertEquals(0x11 + i, stub.stub_logged(i, 7), "lkey");
      assertEquals(1, stub.stub_logged(i, 8), "num_sge");
    }
    assertEquals(0x1234, verbs.qpNum(qp), "qp_num read from struct ibv_qp");
    assertEquals(64, verbs.cqCapacity(stub.stub_cq()), "cqe read from struct ibv_cq");
  }

  @Test
  void aRefusedWorkRequestIsReportedByIndexWithItsErrno() {
    long qp = stub.stub_reset(2);
    WorkRequests wrs = new WorkRequests(4);
    for (int i = 0; i < 4; i++) {
      wrs.set(i, i, VerbsLayout.WR_RDMA_WRITE, 4096, 4096, 1, 8192, 2);
    }
    int rc = verbs.postSend(qp, wrs, 4);
    assertEquals(-(12 << 16 | 2), rc, "ENOMEM at the third work request");
    assertEquals(2, stub.stub_logged_count(), "the first two were posted");
  }

  @Test
  void completionsArePolledIntoTheNativeArray() {
    stub.stub_reset(4096);
    long cq = stub.stub_cq();
    for (int i = 0; i < 70; i++) {
      stub.stub_queue_wc(1000 + i, i == 5 ? VerbsLayout.WC_REM_ACCESS_ERR : VerbsLayout.WC_SUCCESS,
          i % 2 == 0 ? VerbsLayout.WC_RDMA_WRITE : VerbsLayout.WC_RDMA_READ, 4096 + i);
    }
    Completions wc = new Completions(64);
    assertEquals(64, verbs.pollCq(cq, wc, 64), "at most 64 per call");
    for (int i = 0; i < 64; i++) {
      assertEquals(1000 + i, wc.wrId(i));
      assertEquals(i == 5 ? VerbsLayout.WC_REM_ACCESS_ERR : 0, wc.status(i));
      assertEquals(i % 2 == 0 ? VerbsLayout.WC_RDMA_WRITE : VerbsLayout.WC_RDMA_READ, wc.opcode(i));
      assertEquals(4096 + i, wc.byteLength(i));
      assertEquals(0x1234, wc.qpNum(i));
    }
    assertEquals(6, verbs.pollCq(cq, wc, 64));
    assertEquals(1064, wc.wrId(0));
    assertEquals(0, verbs.pollCq(cq, wc, 64));
  }
}
