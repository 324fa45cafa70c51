package io.te4j.transport.nvmeof;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.core.json.JsonCodec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The file segment descriptor, byte for byte as WIRE.md section 2 and the reference have it. */
class NvmeofDescriptorTest {
  /** Compact, keys sorted at every level, no addr, no tcp_data_port, no timestamp. */
  static final String LITERAL = "{\"buffers\":["
      + "{\"file_path\":\"/mnt/nvme0/seg/f1\",\"length\":1073741824,"
      + "\"local_path_map\":{\"node-b\":\"/mnt/remote/seg/f1\",\"node-c\":\"/data/f1\"}},"
      + "{\"file_path\":\"/mnt/nvme0/seg/f2\",\"length\":4096,\"local_path_map\":{}}],"
      + "\"name\":\"nvmeof/seg\",\"protocol\":\"nvmeof\",\"server_name\":\"node-a\"}";

  static List<FileSpec> files() {
    Map<String, String> map = new LinkedHashMap<>();
    map.put("node-c", "/data/f1"); // given out of order: written sorted
    map.put("node-b", "/mnt/remote/seg/f1");
    return List.of(new FileSpec("/mnt/nvme0/seg/f1", 1L << 30, map),
        FileSpec.of("/mnt/nvme0/seg/f2", 4096));
  }

  @Test
  void theDescriptorIsByteCompatibleWithWireMd() {
    SegmentDescriptor d = NvmeofSegments.descriptor("seg", "node-a", files());
    assertEquals(LITERAL, JsonCodec.descriptorToJson(d));
    assertEquals("nvmeof/seg", d.name());
    assertEquals(LITERAL, JsonCodec.descriptorToJson(NvmeofSegments.descriptor("nvmeof/seg", "node-a",
        files())), "a name given with its prefix is the same segment");
  }

  @Test
  void theLiteralReadsBackToTheSameFiles() {
    SegmentDescriptor d = JsonCodec.descriptorFromJson(LITERAL);
    assertTrue(NvmeofSegments.isFileSegment(d));
    assertEquals(files(), NvmeofSegments.files(d));
    assertEquals("node-a", d.attributes().get("server_name"));
    assertEquals(LITERAL, JsonCodec.descriptorToJson(d), "re-published unchanged");
  }

  @Test
  void aReferenceWrittenDescriptorWithExtraFieldsReads() {
    // What the reference's encoder writes for a segment: tcp_data_port, a timestamp, and a
    // local_path_map of null when the map is empty.
    String ref = "{\"buffers\":[{\"file_path\":\"/dev/nvme1n1\",\"length\":2147483648,"
        + "\"local_path_map\":null}],\"name\":\"nvmeof/r\",\"protocol\":\"nvmeof\","
        + "\"tcp_data_port\":0,\"timestamp\":\"2026-11-21 20:55:31.992448\"}";
    SegmentDescriptor d = JsonCodec.descriptorFromJson(ref);
    assertEquals(List.of(FileSpec.of("/dev/nvme1n1", 2L << 30)), NvmeofSegments.files(d));
  }

  @Test
  void memorySegmentsAreNotFileSegments() {
    SegmentDescriptor tcp = JsonCodec.descriptorFromJson("{\"buffers\":[{\"addr\":4096,"
        + "\"length\":8,\"name\":\"cpu:0\"}],\"name\":\"h:1\",\"protocol\":\"nvmeof\"}");
    assertFalse(NvmeofSegments.isFileSegment(tcp), "an nvmeof engine's own memory segment");
    assertFalse(NvmeofSegments.isFileSegment(SegmentDescriptor.builder("x", "nvmeof").build()));
    assertTrue(NvmeofSegments.isFileSegment(SegmentDescriptor.builder("x", "tcp,nvmeof")
        .buffers(NvmeofSegments.descriptor("x", "h", files()).buffers()).build()));
  }

  @Test
  void malformedFileEntriesAreReportedByName() {
    SegmentDescriptor d = JsonCodec.descriptorFromJson("{\"buffers\":[{\"file_path\":\"/a\","
        + "\"length\":1,\"local_path_map\":{\"h\":7}}],\"name\":\"nvmeof/m\","
        + "\"protocol\":\"nvmeof\"}");
    TransferException e = assertThrows(TransferException.class, () -> NvmeofSegments.files(d));
    assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode());
    assertTrue(e.getMessage().contains("nvmeof/m") && e.getMessage().contains("'h'"),
        e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "nvmeof/", "a/", "a//b"})
  void badNamesAreRejected(String name) {
    TransferException e = assertThrows(TransferException.class,
        () -> NvmeofSegments.descriptor(name, "h", files()));
    assertEquals(ErrorCode.INVALID_ARGUMENT, e.errorCode());
  }

  @Test
  void fileSpecsRefuseEmptyPathsAndLengths() {
    assertThrows(TransferException.class, () -> FileSpec.of("", 1));
    assertThrows(TransferException.class, () -> FileSpec.of("/a", 0));
    assertThrows(TransferException.class, () -> new FileSpec("/a", 1, Map.of("h", "")));
    assertThrows(TransferException.class,
        () -> NvmeofSegments.descriptor("s", "h", List.of()));
  }

  @Test
  void commandLineFileArgumentsParse() {
    assertEquals(Map.entry("/data/f1", 1L << 30), FileSpec.parsePathAndLength("/data/f1:1G"));
    assertEquals(Map.entry("/data/f1", 4096L), FileSpec.parsePathAndLength("/data/f1:4096"));
    assertEquals(Map.entry("/data/f1", -1L), FileSpec.parsePathAndLength("/data/f1"));
    assertEquals(Map.entry("/mnt/a:b", -1L), FileSpec.parsePathAndLength("/mnt/a:b"),
        "a suffix that is no size belongs to the path");
    assertEquals(Map.entry("/x:y", 2L << 20), FileSpec.parsePathAndLength("/x:y:2MiB"));
    assertThrows(TransferException.class, () -> FileSpec.parsePathAndLength("/a:0"));
    assertEquals(Map.entry("node-b", "/mnt/r/f1"), FileSpec.parseHostPath("node-b=/mnt/r/f1"));
    assertThrows(TransferException.class, () -> FileSpec.parseHostPath("=/x"));
    assertThrows(TransferException.class, () -> FileSpec.parseHostPath("h="));
    assertThrows(TransferException.class, () -> FileSpec.parseHostPath("no-equals"));
  }
}
