#!/bin/bash
# Builds the GPU check kit: .gpucheck/ (and .gpucheck.tgz) at the repository root, holding the CUDA
# module's classes and tests, every jar they need, JUnit's console launcher, a jlink'd JRE (the GPU
# machines may have no Java) and the scripts of this directory. Not versioned (.gitignore). Then,
# on the GPU machine: .gpucheck/gpu-check.sh (see the README, "GPU check").
set -eu
JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
KIT="$ROOT/.gpucheck"
cd "$ROOT"
rm -rf "$KIT"
mkdir -p "$KIT/lib"
./mvnw -B -q install -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true \
  -pl te-transport-cuda -am
./mvnw -B -q -pl te-transport-cuda dependency:copy-dependencies -DincludeScope=test \
  -DoutputDirectory="$KIT/lib"
cp te-transport-cuda/target/te-transport-cuda-*[0-9T].jar "$KIT/lib/"
cp -r te-transport-cuda/target/test-classes "$KIT/test-classes"
rm -f "$KIT/test-classes/fakecudart.c"
# JUnit's console launcher bundles the platform and Jupiter: drop the separate copies.
version="$(ls "$KIT"/lib/junit-platform-engine-*.jar | sed 's/.*-\([0-9.]*\)\.jar/\1/')"
rm -f "$KIT"/lib/junit-*.jar "$KIT"/lib/opentest4j-*.jar "$KIT"/lib/apiguardian-*.jar
./mvnw -B -q dependency:copy \
  -Dartifact="org.junit.platform:junit-platform-console-standalone:$version" \
  -DoutputDirectory="$KIT/lib"
modules="$("$JAVA_HOME/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 \
  -cp "$KIT/lib/*" "$KIT"/lib/*.jar 2>/dev/null | grep -E '^[a-z][a-z0-9.,]*$' | tail -1 || true)"
modules="${modules:+$modules,}java.base,java.logging,java.management,java.naming,java.sql,jdk.unsupported,jdk.crypto.ec,java.net.http,jdk.zipfs"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --output "$KIT/jre"
cp te-transport-cuda/src/gpucheck/{gpu-check.sh,cuda_ref.c,ipc_peer.py} "$KIT/"
tar czf "$ROOT/.gpucheck.tgz" -C "$ROOT" .gpucheck
echo "GPU check kit: $KIT ($(du -sh "$KIT" | cut -f1)), $ROOT/.gpucheck.tgz ($(du -sh "$ROOT/.gpucheck.tgz" | cut -f1))"
