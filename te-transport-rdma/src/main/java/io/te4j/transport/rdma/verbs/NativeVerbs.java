package io.te4j.transport.rdma.verbs;

import io.te4j.nativelib.NativeLibraries;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The verbs of the machine: libibverbs through libte4jrdma (the module's {@code linux-x86_64}
 * classifier JAR, loaded by {@link NativeLibraries}), bound with JNA direct mapping so each call
 * is one JNI crossing with primitive arguments. The data path crosses once per batch: a chain of
 * work requests per {@link #postSend}, up to 64 completions per {@link #pollCq}.
 *
 * <p>Where the library, libibverbs or a device is missing, {@link #devices()} throws saying which;
 * nothing else is called then.
 */
public final class NativeVerbs implements Verbs {
  /** Why the library could not be bound, or null. */
  private static final Throwable LINK_FAILURE = bind();

  private static Throwable bind() {
    try {
      NativeLibraries.register("te4jrdma", NativeVerbs.class, NativeVerbs.class.getClassLoader());
      return null;
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      return e;
    }
  }

  /** Public no-argument constructor, as for every {@link Verbs}. */
  public NativeVerbs() {}

  private static native int te_rdma_init(byte[] err, int len);

  private static native int te_rdma_device_name(int index, byte[] buf, int len);

  private static native int te_rdma_last_errno();

  private static native long te_rdma_open(String name);

  private static native int te_rdma_close(long ctx);

  private static native int te_rdma_query_device(long ctx, long out);

  private static native int te_rdma_query_port(long ctx, int port, long out);

  private static native int te_rdma_query_gid(long ctx, int port, int index, long out);

  private static native long te_rdma_alloc_pd(long ctx);

  private static native int te_rdma_dealloc_pd(long pd);

  private static native long te_rdma_reg_mr(long pd, long addr, long len, int access);

  private static native long te_rdma_mr_keys(long mr);

  private static native int te_rdma_dereg_mr(long mr);

  private static native long te_rdma_create_cq(long ctx, int cqe);

  private static native int te_rdma_cq_capacity(long cq);

  private static native int te_rdma_destroy_cq(long cq);

  private static native long te_rdma_create_qp(long pd, long cq, int maxWr, int maxSge, int maxInline);

  private static native int te_rdma_qp_num(long qp);

  private static native int te_rdma_modify_qp(long qp, long attr, int mask);

  private static native int te_rdma_destroy_qp(long qp);

  private static native int te_rdma_post_send(long qp, long wrs, long sges, int count);

  private static native int te_rdma_poll_cq(long cq, int n, long wcs);

  private static native int te_rdma_next_async_event(long ctx, long elementOut);

  /** Why this machine cannot run verbs, or null when the library is bound (devices aside). */
  public static Throwable linkFailure() {
    return LINK_FAILURE;
  }

  @Override
  public List<String> devices() {
    if (LINK_FAILURE != null) {
      UnsatisfiedLinkError e = new UnsatisfiedLinkError(LINK_FAILURE.getMessage());
      e.initCause(LINK_FAILURE);
      throw e;
    }
    byte[] err = new byte[512];
    int n = te_rdma_init(err, err.length);
    if (n < 0) {
      throw new VerbsException(text(err));
    }
    List<String> names = new ArrayList<>(n);
    byte[] name = new byte[128];
    for (int i = 0; i < n; i++) {
      check("ibv_get_device_name", te_rdma_device_name(i, name, name.length));
      names.add(text(name));
    }
    return names;
  }

  private static String text(byte[] nulTerminated) {
    int end = 0;
    while (end < nulTerminated.length && nulTerminated[end] != 0) {
      end++;
    }
    return new String(nulTerminated, 0, end, StandardCharsets.UTF_8);
  }

  private static void check(String call, int rc) {
    if (rc != 0) {
      throw new VerbsException(call, rc);
    }
  }

  private static long handle(String call, long handle) {
    if (handle == 0) {
      throw new VerbsException(call, te_rdma_last_errno());
    }
    return handle;
  }

  @Override
  public long open(String device) {
    return handle("ibv_open_device(" + device + ")", te_rdma_open(device));
  }

  @Override
  public void close(long context) {
    check("ibv_close_device", te_rdma_close(context));
  }

  @Override
  public void queryDevice(long context, long out) {
    check("ibv_query_device", te_rdma_query_device(context, out));
  }

  @Override
  public void queryPort(long context, int port, long out) {
    check("ibv_query_port", te_rdma_query_port(context, port, out));
  }

  @Override
  public void queryGid(long context, int port, int index, long out) {
    check("ibv_query_gid", te_rdma_query_gid(context, port, index, out));
  }

  @Override
  public long allocPd(long context) {
    return handle("ibv_alloc_pd", te_rdma_alloc_pd(context));
  }

  @Override
  public void deallocPd(long pd) {
    check("ibv_dealloc_pd", te_rdma_dealloc_pd(pd));
  }

  @Override
  public long regMr(long pd, long address, long length, int access) {
    return handle("ibv_reg_mr", te_rdma_reg_mr(pd, address, length, access));
  }

  @Override
  public long keys(long mr) {
    return te_rdma_mr_keys(mr);
  }

  @Override
  public void deregMr(long mr) {
    check("ibv_dereg_mr", te_rdma_dereg_mr(mr));
  }

  @Override
  public long createCq(long context, int entries) {
    return handle("ibv_create_cq", te_rdma_create_cq(context, entries));
  }

  @Override
  public int cqCapacity(long cq) {
    return te_rdma_cq_capacity(cq);
  }

  @Override
  public void destroyCq(long cq) {
    check("ibv_destroy_cq", te_rdma_destroy_cq(cq));
  }

  @Override
  public long createQp(long pd, long cq, int maxWr, int maxSge, int maxInline) {
    return handle("ibv_create_qp", te_rdma_create_qp(pd, cq, maxWr, maxSge, maxInline));
  }

  @Override
  public int qpNum(long qp) {
    return te_rdma_qp_num(qp);
  }

  @Override
  public int modifyQp(long qp, long attributes, int mask) {
    return te_rdma_modify_qp(qp, attributes, mask);
  }

  @Override
  public void destroyQp(long qp) {
    check("ibv_destroy_qp", te_rdma_destroy_qp(qp));
  }

  @Override
  public int postSend(long qp, WorkRequests batch, int count) {
    return te_rdma_post_send(qp, batch.address(), batch.sgeAddress(), count);
  }

  @Override
  public int nextAsyncEvent(long context, long elementOut) {
    return te_rdma_next_async_event(context, elementOut);
  }

  @Override
  public int pollCq(long cq, Completions out, int max) {
    return te_rdma_poll_cq(cq, Math.min(max, out.capacity()), out.address());
  }
}
