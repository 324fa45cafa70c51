package io.te4j.core.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.DeviceDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.Topology;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class JsonCodecTest {
  /** The metadata reply body observed from a reference engine (WIRE.md section 3). */
  static final String REFERENCE_TCP_DESCRIPTOR =
      "{\"buffers\":[{\"addr\":140537497649152,\"length\":100663296,\"name\":\"127.0.0.1:16057\"}],"
          + "\"name\":\"127.0.0.1:16057\",\"protocol\":\"tcp\",\"tcp_data_port\":16837,"
          + "\"tcp_proto_version\":2,\"timestamp\":\"2026-11-21 20:55:31.992448\"}";

  private static final String RDMA_DESCRIPTOR =
      "{\"buffers\":[{\"addr\":139637976727552,\"length\":1048576,\"lkey\":[1,2],"
          + "\"name\":\"cpu:0\",\"rkey\":[3,4]}],"
          + "\"devices\":[{\"gid\":\"fe80:0000:0000:0000:0000:0000:0000:0001\",\"lid\":0,\"name\":\"mlx5_0\"},"
          + "{\"gid\":\"fe80:0000:0000:0000:0000:0000:0000:0002\",\"lid\":7,\"name\":\"mlx5_1\"}],"
          + "\"name\":\"node1\",\"priority_matrix\":{\"cpu:0\":[[\"mlx5_0\"],[\"mlx5_1\"]]},\"protocol\":\"rdma\",\"timestamp\":\"2026-01-02"
          + " 03:04:05.000006\"}";

  @Test
  void writesTheReferenceMetadataSampleByteForByte() {
    SegmentDescriptor d =
        SegmentDescriptor.builder("127.0.0.1:16057", "tcp")
            .attribute("tcp_data_port", 16837)
            .attribute("tcp_proto_version", 2)
            .timestamp("2026-11-21 20:55:31.992448")
            .addBuffer(BufferDescriptor.of("127.0.0.1:16057", 140537497649152L, 100663296L))
            .build();
    assertEquals(REFERENCE_TCP_DESCRIPTOR, JsonCodec.descriptorToJson(d));
  }

  @Test
  void readsTheReferenceSampleAndWritesItBackUnchanged() {
    SegmentDescriptor d = JsonCodec.descriptorFromJson(REFERENCE_TCP_DESCRIPTOR);
    assertEquals("127.0.0.1:16057", d.name());
    assertEquals("tcp", d.protocol());
    // TCP's fields are TCP's: kept as they were read, for the TCP transport to interpret.
    assertEquals(16837, ((Number) d.attributes().get("tcp_data_port")).intValue());
    assertEquals(2, ((Number) d.attributes().get("tcp_proto_version")).intValue());
    assertEquals("2026-11-21 20:55:31.992448", d.timestamp());
    assertEquals(
        List.of(BufferDescriptor.of("127.0.0.1:16057", 140537497649152L, 100663296L)), d.buffers());
    assertEquals(2, d.attributes().size());
    assertEquals(REFERENCE_TCP_DESCRIPTOR, JsonCodec.descriptorToJson(d));
  }

  @Test
  void optionalFieldsMayBeAbsent() {
    SegmentDescriptor d =
        JsonCodec.descriptorFromJson(
            "{\"buffers\":[],\"name\":\"a:1\",\"protocol\":\"tcp\",\"tcp_data_port\":15001}");
    assertNull(d.timestamp());
    assertNull(d.priorityMatrix());
  }

  @Test
  void sortsKeysAndCompactsWhateverTheInputOrder() {
    String messy =
        "{ \"timestamp\": \"t\", \"protocol\": \"tcp\",\n"
            + " \"name\": \"n:1\", \"tcp_proto_version\": 2, \"tcp_data_port\": 5, \"buffers\": ["
            + " {\"length\": 10, \"name\": \"n:1\", \"addr\": 4096} ] }";
    assertEquals(
        "{\"buffers\":[{\"addr\":4096,\"length\":10,\"name\":\"n:1\"}],\"name\":\"n:1\","
            + "\"protocol\":\"tcp\",\"tcp_data_port\":5,\"tcp_proto_version\":2,\"timestamp\":\"t\"}",
        JsonCodec.descriptorToJson(JsonCodec.descriptorFromJson(messy)));
  }

  @Test
  void addressesAboveTwoToThe63RoundTripUnsigned() {
    long high = 0x8000_0000_0000_1000L; // negative as a Java long
    long max = -1L; // 2^64 - 1
    SegmentDescriptor d =
        SegmentDescriptor.builder("h:1", "tcp")
            .addBuffer(BufferDescriptor.of("h:1", high, max))
            .build();
    String json = JsonCodec.descriptorToJson(d);
    String highText = new BigInteger(Long.toUnsignedString(high)).toString();
    assertTrue(json.contains("\"addr\":" + highText + ","), json);
    assertTrue(json.contains("\"length\":18446744073709551615"), json);
    SegmentDescriptor back = JsonCodec.descriptorFromJson(json);
    assertEquals(high, back.buffers().get(0).address());
    assertEquals(max, back.buffers().get(0).length());
    assertEquals(d, back);
  }

  @Test
  void randomUnsignedAddressesRoundTrip() {
    Random random = new Random(42);
    for (int i = 0; i < 200; i++) {
      long addr = random.nextLong();
      long len = random.nextLong();
      if (addr == 0 || len == 0) {
        continue;
      }
      SegmentDescriptor d =
          SegmentDescriptor.builder("h:1", "tcp")
              .addBuffer(BufferDescriptor.of("b", addr, len))
              .build();
      String json = JsonCodec.descriptorToJson(d);
      assertTrue(json.contains("\"addr\":" + Long.toUnsignedString(addr)), json);
      assertEquals(d, JsonCodec.descriptorFromJson(json));
    }
  }

  @Test
  void unknownFieldsAreKeptAndWrittenBackUnchanged() {
    String withUnknowns =
        "{\"buffers\":[{\"addr\":4096,\"future_flag\":true,\"length\":8,\"name\":\"cpu:0\","
            + "\"shm_name\":\"0A0B\",\"tier\":{\"b\":[1,2.50,\"x\"],\"a\":null}}],"
            + "\"extra\":{\"z\":1,\"nested\":{\"k\":[{\"y\":1,\"x\":2}],\"big\":18446744073709551615}},"
            + "\"name\":\"n:1\",\"protocol\":\"tcp\",\"rdma_server_name\":\"10.0.0.1:1\","
            + "\"tcp_data_port\":1,\"tcp_proto_version\":2}";
    SegmentDescriptor d = JsonCodec.descriptorFromJson(withUnknowns);
    assertEquals("10.0.0.1:1", d.attributes().get("rdma_server_name"));
    assertTrue(d.attributes().get("extra") instanceof Map);
    Map<String, Object> bufferAttributes = d.buffers().get(0).attributes();
    assertEquals("0A0B", bufferAttributes.get("shm_name"));
    assertEquals(Boolean.TRUE, bufferAttributes.get("future_flag"));

    // jsoncpp writes nested objects with sorted keys too; everything else is as read.
    String expected =
        "{\"buffers\":[{\"addr\":4096,\"future_flag\":true,\"length\":8,\"name\":\"cpu:0\","
            + "\"shm_name\":\"0A0B\",\"tier\":{\"a\":null,\"b\":[1,2.50,\"x\"]}}],"
            + "\"extra\":{\"nested\":{\"big\":18446744073709551615,\"k\":[{\"x\":2,\"y\":1}]},\"z\":1},"
            + "\"name\":\"n:1\",\"protocol\":\"tcp\",\"rdma_server_name\":\"10.0.0.1:1\","
            + "\"tcp_data_port\":1,\"tcp_proto_version\":2}";
    assertEquals(expected, JsonCodec.descriptorToJson(d));
    assertEquals(d, JsonCodec.descriptorFromJson(expected));
  }

  @Test
  void rdmaDescriptorRoundTrips() {
    SegmentDescriptor d = JsonCodec.descriptorFromJson(RDMA_DESCRIPTOR);
    assertEquals(
        List.of(
            new DeviceDescriptor("mlx5_0", 0, "fe80:0000:0000:0000:0000:0000:0000:0001"),
            new DeviceDescriptor("mlx5_1", 7, "fe80:0000:0000:0000:0000:0000:0000:0002")),
        d.devices());
    assertEquals(List.of(3L, 4L), d.buffers().get(0).remoteKeys());
    assertEquals(List.of(1L, 2L), d.buffers().get(0).localKeys());
    assertEquals(List.of("mlx5_0"), d.priorityMatrix().entries().get("cpu:0").preferred());
    assertNull(d.attributes().get("tcp_data_port"));
    // No TCP transport: no tcp fields are invented.
    assertEquals(RDMA_DESCRIPTOR, JsonCodec.descriptorToJson(d));
  }

  @Test
  void omitsEmptyKeysDevicesAndMatrix() {
    SegmentDescriptor d =
        SegmentDescriptor.builder("n", "nvlink")
            .addBuffer(
                new BufferDescriptor(
                    "cuda:0", 4096, 8, List.of(), List.of(), Map.of("shm_name", "AB")))
            .build();
    assertEquals(
        "{\"buffers\":[{\"addr\":4096,\"length\":8,\"name\":\"cuda:0\",\"shm_name\":\"AB\"}],"
            + "\"name\":\"n\",\"protocol\":\"nvlink\"}",
        JsonCodec.descriptorToJson(d));
  }

  @Test
  void cxlBuffersCarryAnOffsetAndNoAddr() {
    String cxl =
        "{\"buffers\":[{\"length\":4096,\"name\":\"cpu:0\",\"offset\":8192}],\"cxl_base_addr\":1048576,"
            + "\"cxl_name\":\"/dev/dax0.0\",\"name\":\"c\",\"protocol\":\"cxl\"}";
    SegmentDescriptor d = JsonCodec.descriptorFromJson(cxl);
    assertEquals(8192, d.buffers().get(0).address());
    assertEquals("/dev/dax0.0", d.attributes().get("cxl_name"));
    assertEquals(cxl, JsonCodec.descriptorToJson(d));
  }

  @Test
  void nvmeofBuffersHaveAFilePathAndMayHaveNoName() {
    String nvmeof =
        "{\"buffers\":[{\"file_path\":\"/dev/nvme0n1\",\"length\":1073741824,"
            + "\"local_path_map\":{\"host-a\":\"/dev/nvme1n1\"}}],\"name\":\"nv\",\"protocol\":\"nvmeof\"}";
    SegmentDescriptor d = JsonCodec.descriptorFromJson(nvmeof);
    assertEquals("", d.buffers().get(0).name());
    assertEquals(1073741824L, d.buffers().get(0).length());
    assertEquals(nvmeof, JsonCodec.descriptorToJson(d));
  }

  @Test
  void multiProtocolDescriptorsListTheirProtocols() {
    String multi =
        "{\"buffers\":[{\"addr\":4096,\"length\":8,\"name\":\"cpu:0\",\"protocol\":\"tcp\"}],"
            + "\"name\":\"m\",\"protocol\":[\"cxl\",\"tcp\"],\"tcp_data_port\":9,\"tcp_proto_version\":2}";
    SegmentDescriptor d = JsonCodec.descriptorFromJson(multi);
    assertEquals("cxl,tcp", d.protocol());
    assertEquals(multi, JsonCodec.descriptorToJson(d));
  }

  @Test
  void escapesNonAsciiAsJsoncppDoes() {
    SegmentDescriptor d = SegmentDescriptor.builder("n\u00e9\"q", "tcp").build();
    String json = JsonCodec.descriptorToJson(d);
    assertTrue(json.contains("\"name\":\"n\\u00e9\\\"q\""), json);
    assertEquals("n\u00e9\"q", JsonCodec.descriptorFromJson(json).name());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "not json",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\"",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\"} trailing",
        "[1,2]",
        "\"a string\"",
        "{\"protocol\":\"tcp\",\"buffers\":[]}",
        "{\"name\":\"seg-x\",\"buffers\":[]}",
        "{\"name\":\"\",\"protocol\":\"tcp\"}",
        "{\"name\":7,\"protocol\":\"tcp\"}",
        "{\"name\":\"seg-x\",\"protocol\":5}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"timestamp\":3}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":{}}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[7]}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[{\"name\":\"\",\"addr\":1,\"length\":1}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[{\"addr\":1,\"length\":1}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[{\"name\":\"b\",\"addr\":0,\"length\":1}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[{\"name\":\"b\",\"addr\":1,\"length\":0}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[{\"name\":\"b\",\"length\":1}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[{\"name\":\"b\",\"addr\":1}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[{\"name\":\"b\",\"addr\":-1,\"length\":1}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[{\"name\":\"b\",\"addr\":18446744073709551616,\"length\":1}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[{\"name\":\"b\",\"addr\":4096.0,\"length\":1}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"tcp\",\"buffers\":[{\"name\":\"b\",\"addr\":\"4096\",\"length\":1}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"rdma\",\"devices\":[{\"name\":\"mlx5_0\",\"lid\":0,\"gid\":\"g\"}],"
            + "\"buffers\":[{\"name\":\"cpu:0\",\"addr\":1,\"length\":1,\"rkey\":[1,2],\"lkey\":[1]}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"rdma\",\"devices\":[{\"lid\":0,\"gid\":\"g\"}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"rdma\",\"devices\":{}}",
        "{\"name\":\"seg-x\",\"protocol\":\"rdma\",\"buffers\":[{\"name\":\"b\",\"addr\":1,\"length\":1,\"rkey\":7}]}",
        "{\"name\":\"seg-x\",\"protocol\":\"rdma\",\"priority_matrix\":{\"cpu:0\":[[\"a\"]]}}",
        "{\"name\":\"seg-x\",\"protocol\":\"cxl\",\"buffers\":[{\"name\":\"b\",\"offset\":1,\"length\":0}]}",
      })
  void rejectsMalformedDescriptors(String json) {
    TransferException e =
        assertThrows(TransferException.class, () -> JsonCodec.descriptorFromJson(json));
    assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode());
    // A document that parses names its segment; one that does not cannot.
    if (json.contains("seg-x") && !e.getMessage().contains("not valid JSON")) {
      assertTrue(e.getMessage().contains("seg-x"), e.getMessage());
    }
  }

  @Test
  void errorsNameTheSegmentTheCallerAskedFor() {
    TransferException e =
        assertThrows(
            TransferException.class, () -> JsonCodec.descriptorFromJson("{oops", "10.0.0.1:15002"));
    assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode());
    assertTrue(e.getMessage().contains("10.0.0.1:15002"), e.getMessage());
  }

  @Test
  void timestampHasTheReferenceFormat() {
    String t = JsonCodec.timestampNow();
    assertTrue(
        t.matches("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{6}"), "bad timestamp " + t);
  }

  @Test
  void topologyRoundTripsWithSortedLocations() {
    Map<String, Topology.Entry> entries = new LinkedHashMap<>();
    entries.put("cuda:0", new Topology.Entry(List.of("mlx5_0"), List.of("mlx5_1")));
    entries.put("cpu:0", new Topology.Entry(List.of("mlx5_0", "mlx5_1"), List.of("mlx5_2")));
    entries.put("cpu:1", new Topology.Entry(List.of(), List.of()));
    Topology t = new Topology(entries);
    String json = JsonCodec.topologyToJson(t);
    assertEquals(
        "{\"cpu:0\":[[\"mlx5_0\",\"mlx5_1\"],[\"mlx5_2\"]],\"cpu:1\":[[],[]],"
            + "\"cuda:0\":[[\"mlx5_0\"],[\"mlx5_1\"]]}",
        json);
    assertEquals(t.entries(), JsonCodec.topologyFromJson(json).entries());
    assertTrue(JsonCodec.topologyFromJson("{}").entries().isEmpty());
    assertEquals("{}", JsonCodec.topologyToJson(Topology.empty()));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "[]| must be a JSON object",
        "{\"cpu:0\":{}}| 'cpu:0' must map to exactly two arrays",
        "{\"cpu:0\":[]}| 'cpu:0' must map to exactly two arrays",
        "{\"cpu:0\":[[\"a\"]]}| 'cpu:0' must map to exactly two arrays",
        "{\"cpu:0\":[[\"a\"],[\"b\"],[\"c\"]]}| 'cpu:0' must map to exactly two arrays",
        "{\"cpu:0\":[[\"a\"],\"b\"]}| available devices must be an array",
        "{\"cpu:0\":[\"a\",[\"b\"]]}| preferred devices must be an array",
        "{\"cpu:0\":[[1],[\"b\"]]}| preferred devices must hold strings only",
        "{\"cpu:0\":[[\"a\"],[null]]}| available devices must hold strings only",
        "{\"cpu:0\":null}| 'cpu:0' must map to exactly two arrays",
        "{\"cpu:0\":[[\"a\"],[\"b\"]]} x| not valid JSON",
      })
  void topologyValidationIsStrict(String json, String expectedMessage) {
    TransferException e =
        assertThrows(TransferException.class, () -> JsonCodec.topologyFromJson(json));
    assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode());
    assertTrue(e.getMessage().contains(expectedMessage.trim()), e.getMessage());
  }

  @Test
  void rpcMetaIsTheReferenceShape() {
    String json = JsonCodec.rpcMetaToJson(new HostPort("10.0.0.1", 15234));
    assertEquals("{\"ip_or_host_name\":\"10.0.0.1\",\"rpc_port\":15234}", json);
    assertEquals(new HostPort("10.0.0.1", 15234), JsonCodec.rpcMetaFromJson(json));
    assertEquals(
        new HostPort("node-3", 1),
        JsonCodec.rpcMetaFromJson("{\"rpc_port\": 1, \"ip_or_host_name\": \"node-3\"}\n"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"ip_or_host_name\":\"h\"}",
        "{\"rpc_port\":1}",
        "{\"ip_or_host_name\":\"\",\"rpc_port\":1}",
        "{\"ip_or_host_name\":\"h\",\"rpc_port\":\"1\"}",
        "{\"ip_or_host_name\":\"h\",\"rpc_port\":70000}",
        "{\"ip_or_host_name\":5,\"rpc_port\":1}",
        "[]",
        "nope",
      })
  void rejectsMalformedRpcMeta(String json) {
    TransferException e =
        assertThrows(TransferException.class, () -> JsonCodec.rpcMetaFromJson(json));
    assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode());
  }

  @Test
  void notifyIsTheReferenceShape() {
    String json = JsonCodec.notifyToJson(new TransferNotify("n1", "hello"));
    assertEquals("{\"name\":\"n1\",\"notify_msg\":\"hello\"}", json);
    assertEquals(new TransferNotify("n1", "hello"), JsonCodec.notifyFromJson(json + "\n"));
    assertEquals(new TransferNotify("", ""), JsonCodec.notifyFromJson("{}"));
    for (String bad : List.of("{\"name\":1}", "[]", "{\"notify_msg\":{}}", "x")) {
      TransferException e =
          assertThrows(TransferException.class, () -> JsonCodec.notifyFromJson(bad));
      assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode());
    }
  }

  @Test
  void canonicalSortsNestedKeys() {
    assertEquals(
        "{\"a\":[{\"b\":1,\"c\":2}],\"z\":0}",
        JsonCodec.canonical("{ \"z\":0, \"a\":[{\"c\":2,\"b\":1}] }"));
    assertFalse(JsonCodec.canonical("{}").contains(" "));
  }

  @Test
  void aReferenceNvmeofDescriptorWithoutANameTakesTheNameLookedUp() {
    String reference = "{\"buffers\":[{\"file_path\":\"/mnt/a\",\"length\":4096,"
        + "\"local_path_map\":{\"h1\":\"/mnt/a\"}}],\"protocol\":\"nvmeof\","
        + "\"server_name\":\"h1\"}";
    SegmentDescriptor d = JsonCodec.descriptorFromJson(reference, "nvmeof/seg");
    assertEquals("nvmeof/seg", d.name());
    assertEquals("nvmeof", d.protocol());
    assertEquals(4096, d.buffers().get(0).length());
    TransferException e =
        assertThrows(TransferException.class, () -> JsonCodec.descriptorFromJson(reference));
    assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode());
  }

  /** Found by the fuzzer: Jackson let these escape as NumberFormatException. */
  @ParameterizedTest
  @ValueSource(strings = {"2810e4995298302", "99999999999999999999999E99999999999999",
      "1E-99999999999999999999"})
  void numbersNoBigDecimalHoldsAreMalformedJson(String number) {
    for (String doc : new String[] {number, "{\"name\":\"s\",\"protocol\":\"tcp\",\"x\":"
        + number + "}", "{\"name\":\"n\",\"notify_msg\":" + number + "}",
        "{\"cpu:0\":[[" + number + "],[]]}"}) {
      for (java.util.function.Consumer<String> parse : List.<java.util.function.Consumer<String>>of(
          d -> JsonCodec.requireWellFormed(d, "doc"), JsonCodec::descriptorFromJson,
          JsonCodec::notifyFromJson, JsonCodec::topologyFromJson)) {
        TransferException e = assertThrows(TransferException.class, () -> parse.accept(doc), doc);
        assertEquals(ErrorCode.MALFORMED_JSON, e.errorCode(), doc);
      }
    }
  }
}
