/**
 * NVMe-oF file segments (WIRE.md section 2) for te4j.
 *
 * <ul>
 *   <li>{@link io.te4j.transport.nvmeof.NvmeofSegments} publishes, finds, lists and removes file
 *       segments ({@code mooncake/nvmeof/<name>}) described by {@link
 *       io.te4j.transport.nvmeof.FileSpec}s.
 *   <li>{@link io.te4j.transport.nvmeof.NvmeofTransport} (found as {@code nvmeof} through {@link
 *       io.te4j.transport.nvmeof.NvmeofTransportProvider}) reads and writes their files through
 *       io_uring ({@code libte4jnvmeof.so}, the {@code linux-x86_64} classifier JAR, probed by
 *       {@link io.te4j.transport.nvmeof.NvmeofIoUring}) or, without it, FileChannel I/O.
 *   <li>{@link io.te4j.transport.nvmeof.NvmeofFabric} builds the nvme-cli command lines that attach
 *       a remote NVMe-oF namespace so a host can see the files at all.
 * </ul>
 *
 * <p>Threads per transport: one io_uring ring thread, the only one that submits to and reaps from
 * the ring (or, on the fallback, a pool of {@code te4j.nvmeof.threads} file I/O threads).
 * Application threads hand slices over without blocking.
 */
package io.te4j.transport.nvmeof;
