package io.te4j.transport.rdma;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.TransferException;
import io.te4j.api.spi.FrameHandler;
import io.te4j.api.spi.PeerRpc;
import io.te4j.api.spi.TransportContext;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The type-0 connection handshake, both sides (RDMA.md 2.3): the active side sends its QP numbers
 * and pairs its QPs with the reply's, then confirms with a ready-ACK frame when the peer supports
 * it; the passive side pairs its QPs and replies, and does not post until the ACK arrives. Peers
 * without the ready-ACK (v0.3.11) connect at once. A request naming QPs other than the ones an
 * endpoint is paired with means the peer restarted: that endpoint is retired and a new one answers.
 */
final class Handshakes implements FrameHandler {
  private static final Logger LOG = LoggerFactory.getLogger(Handshakes.class);

  private final TransportContext context;
  private final List<Nic> nics;
  private final int qpCount;

  Handshakes(TransportContext context, List<Nic> nics, int qpCount) {
    this.context = context;
    this.nics = nics;
    this.qpCount = qpCount;
  }

  /**
   * Connects {@code endpoint} to peer device {@code device} of {@code peer} (the poster's thread;
   * the handshake port's deadline bounds it).
   *
   * @throws TransferException REJECT_HANDSHAKE, SOCKET_FAIL or TRANSFER_TIMEOUT
   */
  void connect(Endpoint endpoint, PeerSegment peer, int device) {
    Nic nic = endpoint.nic;
    if (endpoint.canPost()) {
      return;
    }
    HostPort rpc = context.peerRpcAddress(peer.descriptor.name());
    HandshakeMessage request = new HandshakeMessage(nic.nicPath, endpoint.peerNicPath, nic.lid,
        Gids.format(nic.gid), endpoint.qpNums, "", false);
    HandshakeMessage reply = call(rpc, request);
    if (!reply.localNicPath().equals(endpoint.peerNicPath)
        || !reply.peerNicPath().equals(nic.nicPath)) {
      throw rejected("reply from " + reply.localNicPath() + " for " + reply.peerNicPath()
          + " does not answer " + nic.nicPath + " -> " + endpoint.peerNicPath);
    }
    if (reply.qpNums().length != qpCount) {
      throw rejected("QP count mismatch in peer and local endpoints: " + reply.qpNums().length
          + " != " + qpCount);
    }
    byte[] gid = reply.localGid().isEmpty() ? peer.gids[device] : Gids.parse(reply.localGid());
    Endpoint.State then = reply.readyAck() == null ? Endpoint.State.CONNECTED
        : Endpoint.State.WAIT_READY_ACK;
    int rc = endpoint.connect(gid, reply.localLid(), reply.qpNums(), then);
    if (rc != 0) {
      endpoint.retire();
      // The reference re-probes its GID after an RTR failure (MC_AUTO_GID_MAX_RETRIES): a changed
      // GID retires the endpoints and the slice's next attempt handshakes with the new one.
      boolean moved = nic.reprobeGid();
      throw new TransferException(ErrorCode.REJECT_HANDSHAKE, "cannot connect " + endpoint
          + " to QPs " + Arrays.toString(reply.qpNums()) + ": ibv_modify_qp errno " + rc
          + (moved ? "; the local GID changed, now " + Gids.format(nic.gid) : ""));
    }
    if (reply.readyAck() != null) {
      HandshakeMessage ack = call(rpc, request.withReadyAck(true));
      if (!endpoint.confirm(reply.qpNums())) {
        throw rejected(endpoint + " changed while confirming");
      }
      LOG.debug("connected {} (ready-ACK {})", endpoint, ack.replyMessage());
    }
  }

  private HandshakeMessage call(HostPort rpc, HandshakeMessage request) {
    String body = context.rpc().call(rpc.host(), rpc.port(), PeerRpc.CONNECTION, request.encode());
    HandshakeMessage reply;
    try {
      reply = HandshakeMessage.decode(body);
    } catch (IllegalArgumentException e) {
      throw rejected("malformed reply from " + rpc + ": " + e.getMessage());
    }
    if (reply.isRejection()) {
      throw rejected(rpc + " refused " + request.localNicPath() + " -> " + request.peerNicPath()
          + ": " + reply.replyMessage());
    }
    return reply;
  }

  private static TransferException rejected(String why) {
    return new TransferException(ErrorCode.REJECT_HANDSHAKE, "RDMA handshake: " + why);
  }

  /** The passive side: one request, one reply (a rejection says why in {@code reply_msg}). */
  @Override
  public String handle(String body, String peer) {
    try {
      return answer(HandshakeMessage.decode(body)).encode();
    } catch (IllegalArgumentException | TransferException e) {
      LOG.debug("refused a handshake from {}: {}", peer, e.getMessage());
      return HandshakeMessage.rejection(e.getMessage()).encode();
    } catch (RuntimeException e) {
      LOG.warn("handshake from {} failed", peer, e);
      return HandshakeMessage.rejection("handshake failed: " + e).encode();
    }
  }

  private HandshakeMessage answer(HandshakeMessage request) {
    Nic nic = null;
    for (Nic n : nics) {
      if (n.nicPath.equals(request.peerNicPath())) {
        nic = n;
      }
    }
    if (nic == null) {
      throw new IllegalArgumentException("no local NIC " + request.peerNicPath());
    }
    if (request.localNicPath().isEmpty() || request.localNicPath().indexOf('@') < 0) {
      throw new IllegalArgumentException("malformed local_nic_path '" + request.localNicPath() + "'");
    }
    if (request.qpNums().length != qpCount) {
      throw new IllegalArgumentException("QP count mismatch in peer and local endpoints: "
          + request.qpNums().length + " != " + qpCount);
    }
    if (request.localGid().isEmpty()) {
      throw new IllegalArgumentException("no local_gid");
    }
    byte[] gid = Gids.parse(request.localGid());
    Endpoint endpoint = nic.endpoint(request.localNicPath(), qpCount);
    if (Boolean.TRUE.equals(request.readyAck())) {
      if (!endpoint.confirm(request.qpNums())) {
        throw new IllegalArgumentException("stale ready ACK");
      }
      return reply(nic, request, endpoint, false);
    }
    int[] paired = endpoint.peerQpNums();
    if (paired != null && !Arrays.equals(paired, request.qpNums())) {
      LOG.info("{} restarted (QPs {} now {}): retiring {}", request.localNicPath(),
          Arrays.toString(paired), Arrays.toString(request.qpNums()), endpoint);
      endpoint.retire();
      endpoint = nic.endpoint(request.localNicPath(), qpCount);
    }
    Endpoint.State then = request.readyAck() == null ? Endpoint.State.CONNECTED
        : Endpoint.State.WAIT_READY_ACK;
    int rc = endpoint.connect(gid, request.localLid(), request.qpNums(), then);
    if (rc != 0) {
      endpoint.retire();
      throw new IllegalArgumentException("cannot connect to QPs " + Arrays.toString(request.qpNums())
          + ": ibv_modify_qp errno " + rc);
    }
    return reply(nic, request, endpoint, request.readyAck() == null ? null : Boolean.FALSE);
  }

  private static HandshakeMessage reply(Nic nic, HandshakeMessage request, Endpoint endpoint,
      Boolean readyAck) {
    return new HandshakeMessage(nic.nicPath, request.localNicPath(), nic.lid, Gids.format(nic.gid),
        endpoint.qpNums, "", readyAck);
  }
}
