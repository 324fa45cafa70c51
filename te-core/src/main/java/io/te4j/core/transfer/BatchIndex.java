package io.te4j.core.transfer;

import java.util.ArrayList;
import java.util.List;

/**
 * Batches by id, with nothing allocated per batch: a {@code ConcurrentHashMap<Long, Batch>} costs
 * a boxed key and a node for each one (48 bytes, a fifth of a small batch's garbage). Ids are
 * spread over independently locked open-addressing tables of primitive keys: one short lock per
 * batch submitted, looked up or freed, never one per slice. A table keeps the size its busiest
 * moment needed.
 */
final class BatchIndex {
  private static final int STRIPE_BITS = 4;
  private final Stripe[] stripes = new Stripe[1 << STRIPE_BITS];

  BatchIndex() {
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new Stripe();
    }
  }

  /** The batch with this id, or null. */
  Batch get(long id) {
    return id <= 0 ? null : stripe(id).get(id);
  }

  /** Adds a batch under its (positive, unique) id. */
  void put(Batch batch) {
    stripe(batch.id()).put(batch.id(), batch);
  }

  /** Removes the batch with this id, if any. */
  void remove(long id) {
    if (id > 0) {
      stripe(id).remove(id);
    }
  }

  /** How many batches the index holds. */
  int size() {
    int n = 0;
    for (Stripe s : stripes) {
      n += s.size();
    }
    return n;
  }

  /** A copy of every batch held now (for closing: it allocates). */
  List<Batch> snapshot() {
    List<Batch> all = new ArrayList<>();
    for (Stripe s : stripes) {
      s.copyTo(all);
    }
    return all;
  }

  private Stripe stripe(long id) {
    return stripes[(int) id & (stripes.length - 1)];
  }

  /** Linear probing over keys that are positive ids; 0 marks a free cell. */
  private static final class Stripe {
    private long[] keys = new long[16];
    private Batch[] values = new Batch[16];
    private int size;

    private static int home(long id, int mask) {
      return (int) (((id >>> STRIPE_BITS) * 0x9E3779B97F4A7C15L) >>> 40) & mask;
    }

    synchronized Batch get(long id) {
      int i = find(id);
      return i < 0 ? null : values[i];
    }

    synchronized void put(long id, Batch batch) {
      if ((size + 1) * 2 > keys.length) {
        grow();
      }
      int mask = keys.length - 1;
      int i = home(id, mask);
      while (keys[i] != 0 && keys[i] != id) {
        i = (i + 1) & mask;
      }
      if (keys[i] == 0) {
        size++;
      }
      keys[i] = id;
      values[i] = batch;
    }

    synchronized void remove(long id) {
      int i = find(id);
      if (i < 0) {
        return;
      }
      // Backward-shift deletion: pull later cells of the run into the gap, so that no lookup
      // stops early at it and no tombstones accumulate.
      int mask = keys.length - 1;
      int gap = i;
      for (int j = (gap + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
        int h = home(keys[j], mask);
        boolean stays = gap <= j ? gap < h && h <= j : gap < h || h <= j;
        if (!stays) {
          keys[gap] = keys[j];
          values[gap] = values[j];
          gap = j;
        }
      }
      keys[gap] = 0;
      values[gap] = null;
      size--;
    }

    synchronized int size() {
      return size;
    }

    synchronized void copyTo(List<Batch> out) {
      for (Batch b : values) {
        if (b != null) {
          out.add(b);
        }
      }
    }

    private int find(long id) {
      int mask = keys.length - 1;
      for (int i = home(id, mask); keys[i] != 0; i = (i + 1) & mask) {
        if (keys[i] == id) {
          return i;
        }
      }
      return -1;
    }

    private void grow() {
      long[] oldKeys = keys;
      Batch[] oldValues = values;
      keys = new long[oldKeys.length * 2];
      values = new Batch[oldKeys.length * 2];
      size = 0;
      for (int i = 0; i < oldKeys.length; i++) {
        if (oldKeys[i] != 0) {
          put(oldKeys[i], oldValues[i]);
        }
      }
    }
  }
}
