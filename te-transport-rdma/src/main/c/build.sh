#!/bin/sh
# Builds libte4jrdma.so into $1/META-INF/native/linux-x86_64/ (run by Maven, see pom.xml), against
# the installed <infiniband/verbs.h> (Debian: apt-get install libibverbs-dev). The library does not
# link libibverbs: it opens it at run time, so it loads where rdma-core is missing and says so.
# Without the header nothing is built, and the transport reports the library missing.
set -eu
out="$1/META-INF/native/linux-x86_64"
src="$(dirname "$0")/te4jrdma.c"
cc="${CC:-gcc}"
if ! echo '#include <infiniband/verbs.h>' | "$cc" -E -x c - >/dev/null 2>&1; then
  echo "te4jrdma: WARNING: <infiniband/verbs.h> not found (apt-get install libibverbs-dev);" \
    "libte4jrdma.so is not built and the rdma transport will be unavailable" >&2
  exit 0
fi
mkdir -p "$out"
"$cc" -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
  -o "$out/libte4jrdma.so" "$src" -ldl
echo "te4jrdma: built $out/libte4jrdma.so"
