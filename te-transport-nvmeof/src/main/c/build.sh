#!/bin/sh
# Builds libte4jnvmeof.so into $1/META-INF/native/linux-x86_64/ (run by Maven, see pom.xml).
# Uses liburing, linked statically, when its header is installed (apt-get install liburing-dev);
# otherwise the raw io_uring system calls. Either way the library needs only libc at run time.
# Set TE4J_NVMEOF_RAW=1 to force the raw system-call build.
set -eu
out="$1/META-INF/native/linux-x86_64"
src="$(dirname "$0")/te4jnvmeof.c"
cc="${CC:-gcc}"
mkdir -p "$out"
flags="-std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -shared -fvisibility=default"
if [ "${TE4J_NVMEOF_RAW:-0}" != "1" ] && echo '#include <liburing.h>' | "$cc" -E -x c - >/dev/null 2>&1; then
  echo "te4jnvmeof: building with liburing (static)"
  # shellcheck disable=SC2086
  "$cc" $flags -DTE_USE_LIBURING=1 -o "$out/libte4jnvmeof.so" "$src" \
    -Wl,-Bstatic -luring -Wl,-Bdynamic -lpthread
else
  echo "te4jnvmeof: liburing not found (or TE4J_NVMEOF_RAW=1); building on raw io_uring system calls"
  # shellcheck disable=SC2086
  "$cc" $flags -DTE_USE_LIBURING=0 -o "$out/libte4jnvmeof.so" "$src" -lpthread
fi
