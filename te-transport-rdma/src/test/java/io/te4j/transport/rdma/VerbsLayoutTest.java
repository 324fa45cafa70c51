package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.transport.rdma.verbs.VerbsLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every size, offset and constant the Java side uses ({@link VerbsLayout}) against a probe
 * compiled here from the installed {@code <infiniband/verbs.h>} (RDMA.md 4.4, fixture 2).
 */
class VerbsLayoutTest {
  @Test
  void everyValueMatchesTheInstalledHeader(@TempDir Path dir) throws Exception {
    Path probe = CCompiler.compile("layout_probe.c", dir.resolve("probe"));
    Map<String, Long> header = new LinkedHashMap<>();
    for (String line : CCompiler.run(List.of(probe.toString())).split("\n")) {
      String[] f = line.trim().split(" ");
      header.put(f[0], Long.parseLong(f[1]));
    }
    assertEquals(VerbsLayout.PORT_ATTR_BYTES, header.remove("PORT_ATTR_FITS"),
        "struct ibv_port_attr fits the bytes reserved for it");
    List<String> mismatches = new ArrayList<>();
    int compared = 0;
    for (Field f : VerbsLayout.class.getFields()) {
      if (!Modifier.isStatic(f.getModifiers()) || f.getType() != int.class
          || f.getName().startsWith("MASK_") || f.getName().equals("PORT_ATTR_BYTES")) {
        continue;
      }
      Long expected = header.get(f.getName());
      if (expected == null) {
        mismatches.add(f.getName() + " is not checked by layout_probe.c");
      } else if (expected != f.getInt(null)) {
        mismatches.add(f.getName() + ": Java " + f.getInt(null) + ", header " + expected);
      }
      compared++;
    }
    assertEquals(List.of(), mismatches);
    assertTrue(compared >= 100, "compared " + compared + " values");
    assertEquals(header.size(), compared, "every probed value has a Java constant");
  }
}
