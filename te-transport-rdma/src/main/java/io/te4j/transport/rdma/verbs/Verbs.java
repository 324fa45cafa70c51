package io.te4j.transport.rdma.verbs;

import java.util.List;

/**
 * The verbs the RDMA transport calls, behind one seam: {@link NativeVerbs} calls libibverbs through
 * libte4jrdma; a test implementation emulates devices in Java (the tests' {@code SoftVerbs}).
 * Both read and write the same native-layout arrays ({@link WorkRequests}, {@link Completions},
 * {@link QpAttributes}, device and port attributes), so the layout code runs wherever the
 * transport runs.
 *
 * <p>Handles (contexts, PDs, MRs, CQs, QPs) are opaque {@code long}s: native pointers for the real
 * verbs. Control calls throw {@link VerbsException}; {@link #modifyQp}, {@link #postSend} and
 * {@link #pollCq} return codes as the verbs do, since the transport acts on them. Implementations
 * are thread-safe the way libibverbs is: one QP may be posted from one thread at a time.
 *
 * <p>Chosen by the setting {@code te4j.rdma.verbs}: {@code native} (the default), or the name of a
 * class implementing this interface with a public no-argument constructor.
 */
public interface Verbs {
  /**
   * The devices of this machine, in the order the library lists them.
   *
   * @throws VerbsException or {@link UnsatisfiedLinkError} when verbs cannot run here, saying why
   */
  List<String> devices();

  /** Opens a device: its context handle. */
  long open(String device);

  void close(long context);

  /** Writes {@code struct ibv_device_attr} ({@link VerbsLayout#DEVICE_ATTR_BYTES}) at {@code out}. */
  void queryDevice(long context, long out);

  /** Writes {@code struct ibv_port_attr} ({@link VerbsLayout#PORT_ATTR_BYTES} reserved) at {@code out}. */
  void queryPort(long context, int port, long out);

  /** Writes the 16-byte GID at {@code index} of {@code port} at {@code out}. */
  void queryGid(long context, int port, int index, long out);

  long allocPd(long context);

  void deallocPd(long pd);

  /** Registers memory: the MR handle; its keys from {@link #keys}. */
  long regMr(long pd, long address, long length, int access);

  /** The MR's keys: rkey in the high 32 bits, lkey in the low 32 bits. */
  long keys(long mr);

  void deregMr(long mr);

  long createCq(long context, int entries);

  /** What the CQ really holds (at least what was asked). */
  int cqCapacity(long cq);

  void destroyCq(long cq);

  /** An RC QP whose send and receive queues complete on {@code cq}. */
  long createQp(long pd, long cq, int maxWr, int maxSge, int maxInline);

  int qpNum(long qp);

  /**
   * {@code ibv_modify_qp} with a {@code struct ibv_qp_attr} at {@code attributes}.
   *
   * @return 0, or the errno (nothing changed)
   */
  int modifyQp(long qp, long attributes, int mask);

  void destroyQp(long qp);

  /**
   * Posts work requests {@code [0, count)} of {@code batch} on {@code qp} as one chain.
   *
   * @return {@code count} when all were posted, else {@code -(errno << 16 | index)} where index is
   *     the first request not posted (the ones before it were)
   */
  int postSend(long qp, WorkRequests batch, int count);

  /**
   * The next asynchronous event of {@code context}, without waiting: its type ({@code enum
   * ibv_event_type}: {@link VerbsLayout#EVENT_PORT_ERR}, ...) with its element written as a
   * {@code long} at {@code elementOut} (the QP number of a QP event, the port of a port event);
   * -1 when none is pending. The event is acknowledged.
   */
  int nextAsyncEvent(long context, long elementOut);

  /**
   * Polls up to {@code max} completions into {@code out}, from index 0.
   *
   * @return how many; negative when the CQ failed
   */
  int pollCq(long cq, Completions out, int max);
}
