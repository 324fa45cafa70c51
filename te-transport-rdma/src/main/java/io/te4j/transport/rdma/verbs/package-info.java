/**
 * The verbs seam: {@link io.te4j.transport.rdma.verbs.Verbs}, its native implementation over
 * libte4jrdma, and the native-layout arrays both implementations read and write.
 */
package io.te4j.transport.rdma.verbs;
