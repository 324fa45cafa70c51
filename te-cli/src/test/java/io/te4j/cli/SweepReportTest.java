package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

class SweepReportTest {
  private static ObjectNode result(long block, double gbps, Double memcpy) {
    ObjectNode j = new ObjectMapper().createObjectNode();
    j.put("protocol", "shm").put("operation", "write").put("block_size", block)
        .put("batch_size", 4).put("threads", 2).put("duration_s", 2.0)
        .put("gbytes_per_sec", gbps).put("transfers_per_sec", 1000).put("errors", 0);
    j.putObject("batch_latency_us").put("p50", 10.0).put("p99", 20.0);
    if (memcpy != null) {
      j.put("baseline_memcpy_gbps", memcpy).put("ratio_to_memcpy", gbps / memcpy);
    }
    return j;
  }

  private static List<ObjectNode> sweep() {
    List<ObjectNode> rows = new ArrayList<>();
    rows.add(result(4096, 3.5, 40.0));
    rows.add(result(65536, 30.0, 60.0));
    rows.add(result(1L << 20, 45.0, null)); // a baseline that could not run for this size
    return rows;
  }

  @Test
  void tableHasARowPerBlockSizeWithItsBaseline() {
    String[] lines = new SweepReport(sweep(), List.of("memcpy")).table().split("\n");
    assertEquals(5, lines.length, String.join("\n", lines));
    assertTrue(lines[1].contains("memcpy GB/s") && lines[1].contains("ratio"), lines[1]);
    assertTrue(lines[2].startsWith("4 KiB") && lines[2].contains("40.000")
        && lines[2].contains("0.09x"), lines[2]);
    assertTrue(lines[4].startsWith("1 MiB") && lines[4].contains(" - "), lines[4]);
  }

  @Test
  void chartIsSvgNamingEveryBlockSizeAndSeries() throws Exception {
    String svg = new SweepReport(sweep(), List.of("memcpy", "fio")).svg();
    Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    assertEquals("svg", doc.getDocumentElement().getTagName());
    List<String> texts = new ArrayList<>();
    NodeList t = doc.getElementsByTagName("text");
    for (int i = 0; i < t.getLength(); i++) {
      texts.add(t.item(i).getTextContent());
    }
    for (String size : List.of("4 KiB", "64 KiB", "1 MiB")) {
      assertTrue(texts.contains(size), size + " in " + texts);
    }
    assertTrue(texts.contains("te4j shm") && texts.contains("C memcpy, same shape"), texts::toString);
    assertTrue(!texts.contains(Baselines.LABELS.get("fio")), "fio measured nothing: not drawn");
    NodeList lines = doc.getElementsByTagName("polyline");
    assertEquals(2, lines.getLength(), "the engine and memcpy");
    String engine = lines.item(0).getAttributes().getNamedItem("points").getNodeValue();
    assertEquals(3, engine.split(" ").length, engine);
    String memcpy = lines.item(1).getAttributes().getNamedItem("points").getNodeValue();
    assertEquals(2, memcpy.split(" ").length, "no point where memcpy has no figure: " + memcpy);
  }

  @Test
  void sizesAndScale() {
    assertEquals("4 KiB", SweepReport.sizeName(4096));
    assertEquals("1 MiB", SweepReport.sizeName(1L << 20));
    assertEquals("1000 B", SweepReport.sizeName(1000));
    assertEquals(50.0, SweepReport.niceCeiling(45.0));
    assertEquals(2.5, SweepReport.niceCeiling(2.1));
    assertEquals(1.0, SweepReport.niceCeiling(0));
  }
}
