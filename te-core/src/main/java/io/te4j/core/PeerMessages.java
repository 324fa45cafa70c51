package io.te4j.core;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.spi.FrameHandler;
import io.te4j.api.spi.PeerRpc;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.rpc.RpcHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What engines say to each other on their handshake ports besides the data: notifications sent and
 * received, probes, descriptor requests, and the frame types transports serve. The {@link
 * RpcHandler} side runs on the RPC server's threads.
 */
final class PeerMessages implements RpcHandler {
  private static final Logger LOG = LoggerFactory.getLogger(PeerMessages.class);

  private final PeerRpc rpc;
  private final ConcurrentLinkedQueue<TransferNotify> received = new ConcurrentLinkedQueue<>();
  // Held until drained: bounded, so peers cannot fill the heap with notifications nobody reads.
  private final int maxQueued;
  private final long maxQueuedBytes;
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();
  private volatile Segments segments;
  private volatile Transports transports;

  PeerMessages(PeerRpc rpc, int maxQueued, long maxQueuedBytes) {
    this.rpc = rpc;
    this.maxQueued = maxQueued;
    this.maxQueuedBytes = maxQueuedBytes;
  }

  void open(Segments segments, Transports transports) {
    this.segments = segments;
    this.transports = transports;
  }

  /** Sends {@code notify} to the engine owning {@code target}; it must acknowledge it. */
  void notify(String target, TransferNotify notify) {
    HostPort hp = segments.rpcAddress(target);
    String reply = rpc.call(hp.host(), hp.port(), PeerRpc.NOTIFY, JsonCodec.notifyToJson(notify));
    if (!"success".equals(JsonCodec.notifyFromJson(reply).msg())) {
      throw new TransferException(ErrorCode.REJECT_HANDSHAKE, "notify to " + target
          + " was not acknowledged: " + reply);
    }
  }

  /** Takes every notification received so far. */
  List<TransferNotify> drain() {
    List<TransferNotify> out = new ArrayList<>();
    for (TransferNotify n; (n = received.poll()) != null; ) {
      out.add(n);
      queued.decrementAndGet();
      queuedBytes.addAndGet(-bytes(n));
    }
    return out;
  }

  /** Notifications refused because the received ones had not been drained. */
  long refusedCount() {
    return refused.get();
  }

  private static long bytes(TransferNotify n) {
    return 2L * (n.name().length() + n.msg().length()); // chars as the heap holds them, at most
  }

  /** True when {@code peer} answered a probe with {@code success} in time. */
  boolean probe(String peer) {
    try {
      probeOrThrow(peer);
      return true;
    } catch (TransferException e) {
      LOG.debug("probe of {} failed: {}", peer, e.getMessage());
      return false;
    }
  }

  /** Probes {@code peer}; throws why it did not answer {@code success} in time. */
  void probeOrThrow(String peer) {
    try {
      HostPort hp = segments.rpcAddress(peer);
      String reply = rpc.call(hp.host(), hp.port(), PeerRpc.PROBE, "{}");
      if (!reply.contains("\"success\"")) {
        throw new TransferException(ErrorCode.REJECT_HANDSHAKE, peer
            + " answered the probe without success: " + reply);
      }
    } catch (TransferException e) {
      segments.invalidate(peer);
      throw e;
    }
  }

  // ---------------------------------------------------------------- RpcHandler

  @Override
  public String localDescriptorJson() {
    Segments s = segments;
    SegmentDescriptor d = s == null ? null : s.localDescriptor();
    return d == null ? "{}" : JsonCodec.descriptorToJson(d);
  }

  @Override
  public boolean onNotify(TransferNotify notify) {
    long size = bytes(notify);
    // Reserve a place and the bytes, then give back what was reserved when over a bound.
    if (queued.incrementAndGet() > maxQueued) {
      queued.decrementAndGet();
      refused.incrementAndGet();
      return false;
    }
    if (queuedBytes.addAndGet(size) > maxQueuedBytes) {
      queuedBytes.addAndGet(-size);
      queued.decrementAndGet();
      refused.incrementAndGet();
      return false;
    }
    received.add(notify);
    return true;
  }

  @Override
  public String onOtherFrame(int type, String body, String peer) {
    Transports t = transports;
    FrameHandler h = t == null ? null : t.frameHandler(type);
    return h == null ? null : h.handle(body, peer);
  }
}
