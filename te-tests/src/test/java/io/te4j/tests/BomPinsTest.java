package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * te-bom pins every third-party artifact an application gets from te4j at the version the build
 * tests with: each one the parent POM manages outside test scope is managed by the BOM, and the
 * BOM's version properties equal the parent's.
 */
class BomPinsTest {
  /** Managed by the parent for tests and benchmarks only. */
  private static final Set<String> TEST_ONLY = Set.of("org.slf4j:slf4j-simple",
      "org.apache.curator:curator-test", "org.junit:junit-bom", "org.mockito:mockito-core",
      "com.code-intelligence:jazzer-junit", "org.openjdk.jmh:jmh-core",
      "org.openjdk.jmh:jmh-generator-annprocess");

  @Test
  void theBomPinsWhatTheBuildTestsWith() throws Exception {
    Path root = Path.of("..").toAbsolutePath().normalize();
    Document parent = parse(root.resolve("pom.xml"));
    Document bom = parse(root.resolve("te-bom/pom.xml"));
    Map<String, String> parentProps = properties(parent);
    Map<String, String> bomProps = properties(bom);
    assertFalse(bomProps.isEmpty(), "the BOM declares its versions");
    bomProps.forEach((name, value) ->
        assertEquals(parentProps.get(name), value, "te-bom's " + name + " against the parent's"));

    Map<String, String> bomManaged = managed(bom);
    managed(parent).forEach((artifact, version) -> {
      if (!TEST_ONLY.contains(artifact)) {
        assertTrue(bomManaged.containsKey(artifact), "te-bom does not pin " + artifact);
        assertEquals(version, bomManaged.get(artifact), artifact);
      }
    });
  }

  private static Document parse(Path pom) throws Exception {
    assertTrue(Files.isRegularFile(pom), pom::toString);
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
  }

  /** The project's own properties. */
  private static Map<String, String> properties(Document pom) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Element props : children(pom.getDocumentElement(), "properties")) {
      NodeList all = props.getChildNodes();
      for (int i = 0; i < all.getLength(); i++) {
        if (all.item(i) instanceof Element e) {
          out.put(e.getTagName(), e.getTextContent().trim());
        }
      }
    }
    return out;
  }

  /** groupId:artifactId to version (as written, property references kept) outside io.te4j. */
  private static Map<String, String> managed(Document pom) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Element dm : children(pom.getDocumentElement(), "dependencyManagement")) {
      for (Element deps : children(dm, "dependencies")) {
        for (Element d : children(deps, "dependency")) {
          String group = text(d, "groupId");
          if (!group.equals("io.te4j")) {
            out.put(group + ":" + text(d, "artifactId"), text(d, "version"));
          }
        }
      }
    }
    return out;
  }

  private static java.util.List<Element> children(Element parent, String tag) {
    java.util.List<Element> out = new java.util.ArrayList<>();
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(tag)) {
        out.add(e);
      }
    }
    return out;
  }

  private static String text(Element parent, String tag) {
    java.util.List<Element> found = children(parent, tag);
    return found.isEmpty() ? "" : found.get(0).getTextContent().trim();
  }
}
