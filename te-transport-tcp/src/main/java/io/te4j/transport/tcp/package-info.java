/**
 * The TCP data transport (WIRE.md section 4): {@link io.te4j.transport.tcp.TcpTransport}, found
 * through {@link io.te4j.transport.tcp.TcpTransportProvider}, speaking the reference engine's
 * protocol v1 and v2 ({@link io.te4j.transport.tcp.TcpWire}).
 *
 * <p>Threads per transport: one acceptor and {@code te4j.tcp.ioThreads} I/O threads serving
 * every accepted connection (target side; a TLS connection gets a thread of its own), one
 * sender and one receiver per lane (initiator side, {@code te4j.tcp.lanes} lanes per peer), and
 * one watchdog for deadlines. {@link io.te4j.transport.tcp.TcpTransport#unregistered} runs on the
 * engine's thread and returns only once none of these threads touches the region any more.
 */
package io.te4j.transport.tcp;
