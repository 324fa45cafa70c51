package io.te4j.transport.tcp;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;

/** An initiator written from WIRE.md with a plain blocking socket. */
final class RawClient implements AutoCloseable {
  final Socket socket;
  final DataInputStream in;
  final OutputStream out;

  RawClient(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setTcpNoDelay(true);
    socket.setSoTimeout(10_000); // a broken target fails the test instead of hanging it
    in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
    out = socket.getOutputStream();
  }

  void send(byte[]... parts) throws IOException {
    for (byte[] p : parts) {
      out.write(p);
    }
    out.flush();
  }

  byte[] read(int n) throws IOException {
    return RawWire.readFully(in, n);
  }

  /** True when the target closed the connection (EOF or reset) with no more bytes. */
  boolean closedByPeer() throws IOException {
    try {
      return in.read() < 0;
    } catch (java.net.SocketException e) {
      return true; // reset
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
