package io.te4j.transport.rdma;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.te4j.nativelib.NativeMemory;
import io.te4j.transport.rdma.verbs.Completions;
import io.te4j.transport.rdma.verbs.DeviceAttributes;
import io.te4j.transport.rdma.verbs.NativeVerbs;
import io.te4j.transport.rdma.verbs.PortAttributes;
import io.te4j.transport.rdma.verbs.Verbs;
import io.te4j.transport.rdma.verbs.WorkRequests;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A null NIC for measuring te4j's own cost per slice (RDMA.md 4.2 item 11): the data path is the
 * real one, libte4jrdma's post and poll through {@link NativeVerbs}, into the ops table of {@code
 * verbs_stub.c}, where every work request completes at once; the control path is accepted in
 * Java (one device {@code null_0} per instance, keys at random, every QP transition accepted). No
 * byte moves. Test scope; the benchmarks use it as {@code te4j.rdma.verbs}.
 */
public final class NullNicVerbs implements Verbs {
  /** The stub's null-NIC entry points. */
  public interface Stub extends Library {
    long null_cq_create(int entries);

    void null_cq_destroy(long cq);

    long null_qp_create(long cq);

    void null_qp_destroy(long qp);

    /** The C baseline of a posting thread's work: post and poll {@code rounds} chains of {@code batch}. */
    long null_c_post_and_poll(long qp, long cq, int batch, int rounds);
  }

  private static final AtomicInteger INSTANCES = new AtomicInteger();
  private static final AtomicLong HANDLES = new AtomicLong(0x9000);
  private static volatile Stub stub;
  private final NativeVerbs data = new NativeVerbs();
  private final int instance = INSTANCES.incrementAndGet();

  /** The stub library, compiled once per JVM against the installed verbs.h. */
  static Stub stub() {
    Stub s = stub;
    if (s == null) {
      synchronized (NullNicVerbs.class) {
        if (stub == null) {
          try {
            Path dir = Files.createTempDirectory("te4j-nullnic");
            Path lib = CCompiler.compile("verbs_stub.c", dir.resolve("libverbsstub.so"), "-shared",
                "-fPIC");
            stub = Native.load(lib.toString(), Stub.class);
          } catch (Exception e) {
            throw new IllegalStateException("cannot build the null-NIC stub: " + e.getMessage(), e);
          }
        }
        s = stub;
      }
    }
    return s;
  }

  public NullNicVerbs() {
    stub();
  }

  /** The stub, for a benchmark that drives a null-NIC QP directly. */
  public Stub stubLibrary() {
    return stub();
  }

  @Override
  public List<String> devices() {
    return List.of("null_0");
  }

  @Override
  public long open(String device) {
    return HANDLES.incrementAndGet();
  }

  @Override
  public void close(long context) {}

  private static ByteBuffer at(long address, int length) {
    return NativeMemory.view(address, length).order(ByteOrder.nativeOrder());
  }

  @Override
  public void queryDevice(long context, long out) {
    new DeviceAttributes(1L << 40, 1 << 16, 4096, 16, 1 << 16, 16, 1)
        .writeTo(at(out, DEVICE_ATTR_BYTES));
  }

  @Override
  public void queryPort(long context, int port, long out) {
    new PortAttributes(PORT_ACTIVE, MTU_4096, 1, 0, LINK_LAYER_ETHERNET)
        .writeTo(at(out, PORT_ATTR_BYTES));
  }

  @Override
  public void queryGid(long context, int port, int index, long out) {
    ByteBuffer gid = at(out, GID_BYTES);
    gid.putLong(0, 0xfe80L << 48);
    gid.putInt(8, (int) ProcessHandle.current().pid());
    gid.putInt(12, instance);
  }

  @Override
  public long allocPd(long context) {
    return HANDLES.incrementAndGet();
  }

  @Override
  public void deallocPd(long pd) {}

  @Override
  public long regMr(long pd, long address, long length, int access) {
    return HANDLES.incrementAndGet();
  }

  @Override
  public long keys(long mr) {
    return ThreadLocalRandom.current().nextLong();
  }

  @Override
  public void deregMr(long mr) {}

  @Override
  public long createCq(long context, int entries) {
    return stub().null_cq_create(entries);
  }

  @Override
  public int cqCapacity(long cq) {
    return data.cqCapacity(cq);
  }

  @Override
  public void destroyCq(long cq) {
    stub().null_cq_destroy(cq);
  }

  @Override
  public long createQp(long pd, long cq, int maxWr, int maxSge, int maxInline) {
    return stub().null_qp_create(cq);
  }

  @Override
  public int qpNum(long qp) {
    return data.qpNum(qp);
  }

  @Override
  public int modifyQp(long qp, long attributes, int mask) {
    return 0;
  }

  @Override
  public void destroyQp(long qp) {
    stub().null_qp_destroy(qp);
  }

  @Override
  public int postSend(long qp, WorkRequests batch, int count) {
    return data.postSend(qp, batch, count);
  }

  @Override
  public int nextAsyncEvent(long context, long elementOut) {
    return -1;
  }

  @Override
  public int pollCq(long cq, Completions out, int max) {
    return data.pollCq(cq, out, max);
  }
}
