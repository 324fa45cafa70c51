/**
 * CUDA for te4j (issue 11): the runtime and driver bound by explicit soname behind the {@link
 * io.te4j.transport.cuda.CudaRuntime} seam, the probe that lists GPUs or says why there are none,
 * and the {@code nvlink} transport: registered GPU memory published with CUDA IPC handles as the
 * reference does ({@link io.te4j.transport.cuda.NvlinkTransport}), peers' buffers mapped through
 * them ({@link io.te4j.transport.cuda.PeerMappings}), copies on the engine's streams or the
 * caller's, each group ended by its own event ({@link io.te4j.transport.cuda.CopyEngine}).
 */
package io.te4j.transport.cuda;
