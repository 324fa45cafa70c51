#!/bin/sh
# Builds libte4jcopy.so into $1/META-INF/native/linux-x86_64/ (run by Maven, see pom.xml).
# Needs only gcc and libc; CPU features (clwb, clflushopt) are probed at run time, not build time.
set -eu
out="$1/META-INF/native/linux-x86_64"
src="$(dirname "$0")/te4jcopy.c"
cc="${CC:-gcc}"
mkdir -p "$out"
"$cc" -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -shared -fvisibility=default \
  -o "$out/libte4jcopy.so" "$src"
