package io.te4j.metadata.etcd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.common.exception.EtcdExceptionFactory;
import io.grpc.Status;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;

/** Which failures the store tries again and which it reports at once: no etcd needed. */
class EtcdErrorClassificationTest {
  @Test
  void brokenConnectionsAndMissingMembersAreTransient() {
    assertTrue(EtcdMetadataStore.isTransient(Status.UNAVAILABLE.withDescription("io exception")
        .asRuntimeException()));
    assertTrue(EtcdMetadataStore.isTransient(Status.UNKNOWN.withDescription("channel closed")
        .asRuntimeException()));
    assertTrue(EtcdMetadataStore.isTransient(Status.UNKNOWN.withCause(new ClosedChannelException())
        .asRuntimeException()));
    assertTrue(EtcdMetadataStore.isTransient(EtcdExceptionFactory.toEtcdException(
        Status.UNAVAILABLE.withDescription("etcdserver: leader changed"))));
  }

  @Test
  void answersOfTheServerAreNotTriedAgain() {
    assertFalse(EtcdMetadataStore.isTransient(Status.NOT_FOUND
        .withDescription("etcdserver: requested lease not found").asRuntimeException()));
    assertFalse(EtcdMetadataStore.isTransient(Status.INVALID_ARGUMENT
        .withDescription("etcdserver: authentication failed").asRuntimeException()));
    assertFalse(EtcdMetadataStore.isTransient(Status.PERMISSION_DENIED.asRuntimeException()));
    assertFalse(EtcdMetadataStore.isTransient(Status.UNKNOWN.withDescription("something else")
        .asRuntimeException()));
  }

  @Test
  void aLostLeaseIsRecognisedWhereverItIsWrapped() {
    Throwable t = new RuntimeException("wrapped", EtcdExceptionFactory.toEtcdException(
        Status.NOT_FOUND.withDescription("etcdserver: requested lease not found")));
    assertTrue(EtcdMetadataStore.isLeaseNotFound(t));
    assertFalse(EtcdMetadataStore.isLeaseNotFound(new RuntimeException("other")));
  }
}
