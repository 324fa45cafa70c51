package io.te4j.transport.rdma.verbs;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the transport reads of {@code struct ibv_port_attr}.
 *
 * @param state {@link VerbsLayout#PORT_ACTIVE} when usable
 * @param activeMtu an {@code enum ibv_mtu}
 * @param lid 0 on RoCE
 * @param linkLayer {@link VerbsLayout#LINK_LAYER_INFINIBAND} or {@link VerbsLayout#LINK_LAYER_ETHERNET}
 */
public record PortAttributes(int state, int activeMtu, int gidTableLength, int lid, int linkLayer) {

  /** Queries {@code port} of {@code context}. */
  public static PortAttributes query(Verbs verbs, long context, int port) {
    ByteBuffer b = ByteBuffer.allocateDirect(PORT_ATTR_BYTES).order(ByteOrder.nativeOrder());
    verbs.queryPort(context, port, io.te4j.nativelib.NativeMemory.addressOf(b));
    return new PortAttributes(b.getInt(PA_STATE), b.getInt(PA_ACTIVE_MTU),
        b.getInt(PA_GID_TBL_LEN), Short.toUnsignedInt(b.getShort(PA_LID)),
        Byte.toUnsignedInt(b.get(PA_LINK_LAYER)));
  }

  public boolean active() {
    return state == PORT_ACTIVE;
  }

  /** Writes these values where {@code ibv_query_port} would (for implementations in Java). */
  public void writeTo(ByteBuffer b) {
    b.putInt(PA_STATE, state).putInt(PA_ACTIVE_MTU, activeMtu).putInt(PA_GID_TBL_LEN, gidTableLength)
        .putShort(PA_LID, (short) lid).put(PA_LINK_LAYER, (byte) linkLayer);
  }
}
