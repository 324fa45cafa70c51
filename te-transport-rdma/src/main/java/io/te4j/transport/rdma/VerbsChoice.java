package io.te4j.transport.rdma;

import io.te4j.transport.rdma.verbs.NativeVerbs;
import io.te4j.transport.rdma.verbs.Verbs;

/** Makes the {@link Verbs} named by {@code te4j.rdma.verbs}: {@code native} or a class name. */
final class VerbsChoice {
  private VerbsChoice() {}

  static Verbs create(String name) {
    if (name == null || name.isBlank() || name.equals("native")) {
      return new NativeVerbs();
    }
    try {
      Class<?> type = Class.forName(name, true, VerbsChoice.class.getClassLoader());
      return (Verbs) type.getConstructor().newInstance();
    } catch (ReflectiveOperationException | ClassCastException e) {
      throw new IllegalArgumentException("te4j.rdma.verbs: " + name
          + " is not a class implementing Verbs with a public no-argument constructor", e);
    }
  }
}
