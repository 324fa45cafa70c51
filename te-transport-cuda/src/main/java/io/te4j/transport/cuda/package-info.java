/**
 * CUDA for te4j, first part (issue 11): the runtime bound by explicit soname behind the {@link
 * io.te4j.transport.cuda.CudaRuntime} seam, and the probe that lists GPUs or says why there are
 * none. The nvlink transport, GPU memory and {@code *_on_cuda} build on these.
 */
package io.te4j.transport.cuda;
