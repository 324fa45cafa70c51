package io.te4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.spi.MetadataStore;
import java.util.List;
import java.util.Optional;

/**
 * What every {@link MetadataStore} must do with {@code list} and {@code compareAndSet}, checked
 * the same way for each store (and for a third party's): call it from the store's own test with
 * two live store instances of two engines.
 */
public final class MetadataStoreContract {
  private MetadataStoreContract() {}

  /**
   * Keys {@code a} and {@code b} put under {@code prefix} are listed, sorted, with their values,
   * and nothing outside the prefix is. With {@code shared}, each store lists the other's keys too
   * (a real store); without (P2P), each lists its own.
   */
  public static void listsWhatIsUnderThePrefix(MetadataStore a, MetadataStore b, String prefix,
      boolean shared) {
    a.put(prefix + "nvmeof/one", "{\"n\":1}");
    b.put(prefix + "nvmeof/two", "{\"n\":2}");
    a.put(prefix + "ram/other", "{\"n\":3}");
    b.put(prefix + "nvmeofx", "{\"n\":4}");
    if (shared) {
      assertEquals(List.of(prefix + "nvmeof/one", prefix + "nvmeof/two"),
          List.copyOf(b.list(prefix + "nvmeof/").keySet()));
      assertEquals("{\"n\":1}", b.list(prefix + "nvmeof/").get(prefix + "nvmeof/one"));
      assertEquals(4, a.list(prefix).size(), () -> a.list(prefix).toString());
    } else {
      assertEquals(List.of(prefix + "nvmeof/one"), List.copyOf(a.list(prefix + "nvmeof/").keySet()));
      assertEquals(List.of(prefix + "nvmeof/two"), List.copyOf(b.list(prefix + "nvmeof/").keySet()));
    }
    assertTrue(a.list(prefix + "nothing-here/").isEmpty());
    a.remove(prefix + "nvmeof/one");
    assertFalse((shared ? b : a).list(prefix + "nvmeof/").containsKey(prefix + "nvmeof/one"));
  }

  /**
   * Create-if-absent wins once; replacing needs the current value; a wrong expectation changes
   * nothing. {@code a} and {@code b} may be the same store (P2P).
   */
  public static void comparesAndSetsAtomically(MetadataStore a, MetadataStore b, String key) {
    assertTrue(a.compareAndSet(key, null, "{\"v\":1}"), "create when absent");
    assertFalse(b.compareAndSet(key, null, "{\"v\":2}"), "create when present");
    assertFalse(b.compareAndSet(key, "{\"v\":0}", "{\"v\":2}"), "wrong expectation");
    assertEquals(Optional.of("{\"v\":1}"), b.get(key));
    assertTrue(b.compareAndSet(key, "{\"v\":1}", "{\"v\":2}"), "replace the current value");
    assertEquals(Optional.of("{\"v\":2}"), a.get(key));
    b.remove(key); // its writer removes it
    assertTrue(a.compareAndSet(key, null, "{\"v\":3}"), "create again once removed");
    a.remove(key);
  }
}
