package io.te4j.transport.tcp;

import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;

/**
 * One data connection: its socket (closed to end it), and the streams requests and answers travel
 * through: the socket itself, or TLS over it ({@link TlsStream}).
 */
record DataConnection(SocketChannel socket, ReadableByteChannel in, GatheringByteChannel out) {
  /** Bytes straight over the socket. */
  static DataConnection plain(SocketChannel socket) {
    return new DataConnection(socket, socket, socket);
  }
}
