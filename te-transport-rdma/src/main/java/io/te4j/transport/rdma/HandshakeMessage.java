package io.te4j.transport.rdma;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Objects;

/**
 * The body of a type-0 "Connection" frame (RDMA.md 2.3), request and reply alike: whose NIC is
 * talking to which, its port's LID and GID, and its QP numbers in QP-index order. A non-empty
 * {@code reply_msg} in a reply is a rejection. {@code ready_ack}, when present, says the sender
 * supports the ready-ACK; {@code true} marks the confirming second frame. Unknown keys ({@code
 * payload} of newer peers, other builds' fields) are ignored.
 *
 * @param readyAck null when absent (a peer older than v0.3.12)
 */
public record HandshakeMessage(String localNicPath, String peerNicPath, int localLid,
    String localGid, int[] qpNums, String replyMessage, Boolean readyAck) {

  /** The most QP numbers a frame may carry (the reference's per-endpoint QPs are a handful). */
  static final int MAX_QPS = 64;
  private static final ObjectMapper JSON = new ObjectMapper();

  public HandshakeMessage {
    Objects.requireNonNull(localNicPath, "localNicPath");
    Objects.requireNonNull(peerNicPath, "peerNicPath");
    Objects.requireNonNull(localGid, "localGid");
    qpNums = qpNums.clone();
    replyMessage = replyMessage == null ? "" : replyMessage;
  }

  /** A rejection reply carrying {@code why}. */
  static HandshakeMessage rejection(String why) {
    return new HandshakeMessage("", "", 0, "", new int[0], why, null);
  }

  boolean isRejection() {
    return !replyMessage.isEmpty();
  }

  /** The same message with {@code ready_ack} set to {@code value}. */
  HandshakeMessage withReadyAck(Boolean value) {
    return new HandshakeMessage(localNicPath, peerNicPath, localLid, localGid, qpNums, replyMessage,
        value);
  }

  @Override
  public int[] qpNums() {
    return qpNums.clone();
  }

  /** Keys in sorted order, as the reference's jsoncpp writes them. */
  public String encode() {
    ObjectNode o = JSON.createObjectNode();
    o.put("local_gid", localGid);
    o.put("local_lid", localLid);
    o.put("local_nic_path", localNicPath);
    o.put("peer_nic_path", peerNicPath);
    ArrayNode qps = o.putArray("qp_num");
    for (int q : qpNums) {
      qps.add(Integer.toUnsignedLong(q));
    }
    if (readyAck != null) {
      o.put("ready_ack", readyAck);
    }
    o.put("reply_msg", replyMessage);
    try {
      return JSON.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads a frame body.
   *
   * @throws IllegalArgumentException naming what is wrong: not an object, a key of the wrong type,
   *     a QP number outside 24 bits, too many QP numbers, a GID that is not 16 bytes
   */
  public static HandshakeMessage decode(String body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("handshake is not JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("handshake is not a JSON object");
    }
    String reply = text(root, "reply_msg");
    String local = text(root, "local_nic_path");
    String peer = text(root, "peer_nic_path");
    String gid = text(root, "local_gid");
    JsonNode lidNode = root.get("local_lid");
    int lid = lidNode != null && lidNode.canConvertToInt() && lidNode.asInt() >= 0
        && lidNode.asInt() <= 0xffff ? lidNode.asInt() : 0;
    JsonNode qpNode = root.get("qp_num");
    int[] qps = new int[0];
    if (qpNode != null && !qpNode.isNull()) {
      if (!qpNode.isArray()) {
        throw new IllegalArgumentException("handshake qp_num is not an array");
      }
      if (qpNode.size() > MAX_QPS) {
        throw new IllegalArgumentException("handshake carries " + qpNode.size()
            + " QP numbers, more than " + MAX_QPS);
      }
      qps = new int[qpNode.size()];
      for (int i = 0; i < qps.length; i++) {
        JsonNode q = qpNode.get(i);
        if (!q.isIntegralNumber() || q.asLong() < 0 || q.asLong() > 0xffffff) {
          throw new IllegalArgumentException("handshake qp_num[" + i + "] is not a QP number: " + q);
        }
        qps[i] = q.asInt();
      }
    }
    if (!gid.isEmpty()) {
      Gids.parse(gid); // throws on a malformed GID
    }
    JsonNode ack = root.get("ready_ack");
    Boolean readyAck = ack == null || ack.isNull() ? null : ack.asBoolean();
    return new HandshakeMessage(local, peer, lid, gid, qps, reply, readyAck);
  }

  private static String text(JsonNode root, String key) {
    JsonNode n = root.get(key);
    if (n == null || n.isNull()) {
      return "";
    }
    if (!n.isTextual()) {
      throw new IllegalArgumentException("handshake " + key + " is not a string");
    }
    return n.asText();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HandshakeMessage && encode().equals(((HandshakeMessage) o).encode());
  }

  @Override
  public int hashCode() {
    return encode().hashCode();
  }

  @Override
  public String toString() {
    return "HandshakeMessage" + encode() + Arrays.toString(qpNums);
  }
}
