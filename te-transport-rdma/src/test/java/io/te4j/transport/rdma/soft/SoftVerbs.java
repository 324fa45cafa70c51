package io.te4j.transport.rdma.soft;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

import io.te4j.nativelib.NativeMemory;
import io.te4j.transport.rdma.soft.SoftObjects.Cq;
import io.te4j.transport.rdma.soft.SoftObjects.Mr;
import io.te4j.transport.rdma.soft.SoftObjects.Qp;
import io.te4j.transport.rdma.soft.SoftObjects.Wc;
import io.te4j.transport.rdma.soft.SoftObjects.Work;
import io.te4j.transport.rdma.verbs.Completions;
import io.te4j.transport.rdma.verbs.DeviceAttributes;
import io.te4j.transport.rdma.verbs.PortAttributes;
import io.te4j.transport.rdma.verbs.QpAttributes;
import io.te4j.transport.rdma.verbs.Verbs;
import io.te4j.transport.rdma.verbs.VerbsException;
import io.te4j.transport.rdma.verbs.WorkRequests;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Verbs emulated in Java for tests (RDMA.md 4.2): devices with ports and GIDs, memory regions
 * whose random keys are checked on every access, RC queue pairs with the state machine and masks
 * of ibv_modify_qp(3), completions in post order per QP, errors and flushes; bytes move between
 * processes over Unix-domain sockets ({@link SoftDevice}). It reads the callers' native-layout
 * work requests and QP attributes and writes native-layout completions, as the NIC would.
 *
 * <p>Configured by system properties: {@code softverbs.devices} (default {@code
 * soft_0,soft_1}), {@code softverbs.dir} (the shared "subnet" directory), {@code
 * softverbs.nullnic} (every work request succeeds at once, no bytes move: the transport's
 * own cost), {@code softverbs.maxMrSize}, {@code softverbs.retryMillis}. Every instance
 * gets GIDs of its own, so several engines of one JVM are several hosts.
 */
public final class SoftVerbs implements Verbs {
  /** errno values the real verbs return. */
  static final int EINVAL = 22;
  static final int ENOMEM = 12;
  private static final AtomicInteger INSTANCES = new AtomicInteger();
  private static final AtomicLong HANDLES = new AtomicLong(0x5000);
  private static final Map<Long, Object> OBJECTS = new ConcurrentHashMap<>();
  /** errno the next RTR transition of any QP fails with (0: none); a fault hook for tests. */
  private static final AtomicInteger FAIL_NEXT_RTR = new AtomicInteger();

  private final int instance = INSTANCES.incrementAndGet();
  private final List<String> names;

  public SoftVerbs() {
    names = List.of(System.getProperty("softverbs.devices", "soft_0,soft_1").split(","));
  }

  /** Makes the next {@code modify_qp} to RTR, in this JVM, fail with {@code errno}. */
  public static void failNextRtr(int errno) {
    FAIL_NEXT_RTR.set(errno);
  }

  /** True while an injected RTR failure waits for its QP. */
  public static boolean rtrFailurePending() {
    return FAIL_NEXT_RTR.get() != 0;
  }

  /** Emulated objects alive in this JVM (devices, PDs, MRs, CQs, QPs): a leak check. */
  public static int liveObjects() {
    return OBJECTS.size();
  }

  /**
   * Brings the port of the device with GID {@code gid} down or up, with the async event a NIC
   * raises (PORT_ERR, PORT_ACTIVE).
   */
  public static void setPort(byte[] gid, boolean active) {
    SoftDevice d = device(gid);
    d.portActive = active;
    d.events.add(new long[] {active ? EVENT_PORT_ACTIVE : EVENT_PORT_ERR, 1});
  }

  /** QP {@code qpNum} of the device with GID {@code gid} fails: ERR, and a QP_FATAL event. */
  public static void failQp(byte[] gid, int qpNum) {
    SoftDevice d = device(gid);
    Qp qp = d.qps.get(qpNum);
    if (qp == null) {
      throw new IllegalArgumentException("no QP " + qpNum + " on " + d.name);
    }
    qp.state = QPS_ERR;
    d.events.add(new long[] {EVENT_QP_FATAL, qpNum});
  }

  /** The device with GID {@code gid} gets GID {@code newGid} (and raises GID_CHANGE). */
  public static void changeGid(byte[] gid, byte[] newGid) {
    try {
      device(gid).changeGid(newGid);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The next {@code count} work requests the device with GID {@code gid} executes fail locally. */
  public static void failLocally(byte[] gid, int count) {
    device(gid).localFaults.set(count);
  }

  /** Requests the device with GID {@code gid} served as a responder. */
  public static long served(byte[] gid) {
    return device(gid).served.get();
  }

  /** Work requests QP {@code qpNum} of the device with GID {@code gid} executed. */
  public static long executed(byte[] gid, int qpNum) {
    Qp qp = device(gid).qps.get(qpNum);
    return qp == null ? -1 : qp.executed;
  }

  private static SoftDevice device(byte[] gid) {
    for (Object o : OBJECTS.values()) {
      if (o instanceof SoftDevice && java.util.Arrays.equals(((SoftDevice) o).gid, gid)) {
        return (SoftDevice) o;
      }
    }
    throw new IllegalArgumentException("no soft device with that GID");
  }

  private static long put(Object o) {
    long h = HANDLES.addAndGet(16);
    OBJECTS.put(h, o);
    return h;
  }

  private static <T> T get(long handle, Class<T> type) {
    Object o = OBJECTS.get(handle);
    if (!type.isInstance(o)) {
      throw new VerbsException("soft verbs: handle " + handle + " is not a live "
          + type.getSimpleName(), EINVAL);
    }
    return type.cast(o);
  }

  @Override
  public List<String> devices() {
    return names;
  }

  @Override
  public long open(String device) {
    int index = names.indexOf(device);
    if (index < 0) {
      throw new VerbsException("ibv_open_device(" + device + ")", 19);
    }
    byte[] gid = new byte[16];
    ByteBuffer.wrap(gid).putShort((short) 0xfe80).position(8)
        .putInt((int) ProcessHandle.current().pid()).putShort((short) instance)
        .putShort((short) index);
    Path dir = Path.of(System.getProperty("softverbs.dir",
        System.getProperty("java.io.tmpdir") + "/te4j-softverbs-" + System.getProperty("user.name")));
    try {
      return put(new SoftDevice(device, gid, dir,
          Boolean.getBoolean("softverbs.nullnic"),
          Long.getLong("softverbs.retryMillis", 20)));
    } catch (IOException e) {
      throw new UncheckedIOException("soft device " + device, e);
    }
  }

  @Override
  public void close(long context) {
    get(context, SoftDevice.class).close();
    OBJECTS.remove(context);
  }

  private static ByteBuffer at(long address, int length) {
    return NativeMemory.view(address, length).order(ByteOrder.nativeOrder());
  }

  @Override
  public void queryDevice(long context, long out) {
    get(context, SoftDevice.class);
    new DeviceAttributes(Long.getLong("softverbs.maxMrSize", 1L << 40), 1 << 16, 4096, 16,
        1 << 16, 16, 1).writeTo(at(out, DEVICE_ATTR_BYTES));
  }

  @Override
  public void queryPort(long context, int port, long out) {
    SoftDevice d = get(context, SoftDevice.class);
    if (port != 1) {
      throw new VerbsException("ibv_query_port(" + port + ")", EINVAL);
    }
    new PortAttributes(d.portActive ? PORT_ACTIVE : 1, MTU_4096, 2, 0, LINK_LAYER_ETHERNET)
        .writeTo(at(out, PORT_ATTR_BYTES));
  }

  @Override
  public void queryGid(long context, int port, int index, long out) {
    SoftDevice d = get(context, SoftDevice.class);
    if (port != 1 || index < 0 || index > 1) {
      throw new VerbsException("ibv_query_gid", EINVAL);
    }
    at(out, GID_BYTES).put(0, index == 0 ? new byte[16] : d.gid); // entry 0 is the null GID
  }

  /** A protection domain: which device it belongs to. */
  private record Pd(SoftDevice device) {}

  @Override
  public long allocPd(long context) {
    return put(new Pd(get(context, SoftDevice.class)));
  }

  @Override
  public void deallocPd(long pd) {
    get(pd, Pd.class);
    OBJECTS.remove(pd);
  }

  @Override
  public long regMr(long pd, long address, long length, int access) {
    SoftDevice d = get(pd, Pd.class).device();
    if (length <= 0 || Long.compareUnsigned(length, Long.getLong("softverbs.maxMrSize",
        1L << 40)) > 0) {
      throw new VerbsException("ibv_reg_mr", EINVAL);
    }
    int lkey;
    int rkey;
    do {
      lkey = ThreadLocalRandom.current().nextInt();
      rkey = ThreadLocalRandom.current().nextInt();
    } while (d.byLkey.containsKey(lkey) || d.byRkey.containsKey(rkey));
    Mr mr = new Mr(pd, address, length, access, lkey, rkey);
    d.byLkey.put(lkey, mr);
    d.byRkey.put(rkey, mr);
    return put(mr);
  }

  @Override
  public long keys(long mr) {
    Mr m = get(mr, Mr.class);
    return ((long) m.rkey << 32) | (m.lkey & 0xffffffffL);
  }

  @Override
  public void deregMr(long mr) {
    Mr m = get(mr, Mr.class);
    SoftDevice d = get(m.pd, Pd.class).device();
    m.lock.writeLock().lock(); // waits for the "NIC" to let go of the memory
    try {
      m.valid = false;
      d.byLkey.remove(m.lkey);
      d.byRkey.remove(m.rkey);
    } finally {
      m.lock.writeLock().unlock();
    }
    OBJECTS.remove(mr);
  }

  @Override
  public long createCq(long context, int entries) {
    get(context, SoftDevice.class);
    return put(new Cq(entries));
  }

  @Override
  public int cqCapacity(long cq) {
    return get(cq, Cq.class).capacity;
  }

  @Override
  public void destroyCq(long cq) {
    get(cq, Cq.class);
    OBJECTS.remove(cq);
  }

  @Override
  public long createQp(long pd, long cq, int maxWr, int maxSge, int maxInline) {
    SoftDevice d = get(pd, Pd.class).device();
    Qp qp = new Qp(d, pd, get(cq, Cq.class), SoftDevice.newQpNum(), maxWr);
    d.qps.put(qp.qpNum, qp);
    return put(qp);
  }

  @Override
  public int qpNum(long qp) {
    return get(qp, Qp.class).qpNum;
  }

  @Override
  public int modifyQp(long handle, long attributes, int mask) {
    Qp qp = get(handle, Qp.class);
    ByteBuffer a = QpAttributes.view(attributes);
    int to = a.getInt(QPA_STATE);
    if ((mask & QP_STATE) == 0) {
      return EINVAL;
    }
    synchronized (qp) {
      int from = qp.state;
      switch (to) {
        case QPS_RESET:
        case QPS_ERR:
          qp.state = to;
          return 0;
        case QPS_INIT:
          if (from != QPS_RESET && from != QPS_INIT || (mask & MASK_INIT) != MASK_INIT
              || a.get(QPA_PORT_NUM) != 1) {
            return EINVAL;
          }
          qp.state = to;
          return 0;
        case QPS_RTR:
          if (from != QPS_INIT || (mask & MASK_RTR) != MASK_RTR || a.get(QPA_AH_IS_GLOBAL) != 1
              || a.getInt(QPA_PATH_MTU) > MTU_4096 || a.getInt(QPA_RQ_PSN) != 0) {
            return EINVAL;
          }
          int injected = FAIL_NEXT_RTR.getAndSet(0);
          if (injected != 0) {
            return injected;
          }
          byte[] gid = new byte[16];
          a.get(QPA_AH_DGID, gid);
          qp.destGid = gid;
          qp.destQpNum = a.getInt(QPA_DEST_QP_NUM);
          qp.pathMtu = a.getInt(QPA_PATH_MTU);
          qp.state = to;
          return 0;
        case QPS_RTS:
          if (from != QPS_RTR || (mask & MASK_RTS) != MASK_RTS || a.getInt(QPA_SQ_PSN) != 0) {
            return EINVAL;
          }
          qp.retryCount = a.get(QPA_RETRY_CNT);
          qp.state = to;
          return 0;
        default:
          return EINVAL;
      }
    }
  }

  @Override
  public void destroyQp(long handle) {
    Qp qp = get(handle, Qp.class);
    qp.state = QPS_ERR;
    qp.device.qps.remove(qp.qpNum);
    OBJECTS.remove(handle);
  }

  @Override
  public int postSend(long handle, WorkRequests batch, int count) {
    Qp qp = get(handle, Qp.class);
    batch.link(count); // as libte4jrdma does
    if (qp.state != QPS_RTS && qp.state != QPS_ERR) {
      return -(EINVAL << 16);
    }
    for (int i = 0; i < count; i++) {
      int opcode = batch.opcode(i);
      if (opcode != WR_RDMA_WRITE && opcode != WR_RDMA_READ || batch.numSge(i) != 1
          || (batch.sendFlags(i) & SEND_SIGNALED) == 0) {
        return -(EINVAL << 16 | i);
      }
      synchronized (qp) {
        if (qp.outstanding >= qp.maxWr) {
          return -(ENOMEM << 16 | i);
        }
        qp.outstanding++;
      }
      qp.device.execute(new Work(qp, batch.wrId(i), opcode, batch.localAddress(i),
          batch.length(i), batch.lkey(i), batch.remoteAddress(i), batch.rkey(i)));
    }
    return count;
  }

  @Override
  public int nextAsyncEvent(long context, long elementOut) {
    long[] e = get(context, SoftDevice.class).events.poll();
    if (e == null) {
      return -1;
    }
    at(elementOut, 8).putLong(0, e[1]);
    return (int) e[0];
  }

  @Override
  public int pollCq(long handle, Completions out, int max) {
    Cq cq = get(handle, Cq.class);
    synchronized (cq) {
      if (cq.overrun) {
        return -1;
      }
      int n = 0;
      while (n < max && n < out.capacity() && !cq.entries.isEmpty()) {
        Wc wc = cq.entries.poll();
        out.put(n++, wc.wrId(), wc.status(), wc.opcode(), wc.byteLength(), wc.qpNum());
      }
      return n;
    }
  }

  /** Names of the live objects, for a leak report. */
  public static List<String> live() {
    List<String> l = new ArrayList<>();
    OBJECTS.values().forEach(o -> l.add(o.getClass().getSimpleName()));
    return l;
  }
}
