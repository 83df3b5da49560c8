# shellcheck shell=bash
# deps: unpacks the Debian packages in .debs/ (scripts/fetch_gpu_debs.sh) into the prefix
# (.gpu-prefix/, once per set of packages) and checks that pkg-config from there runs here
# and finds openblas, libzstd and sentencepiece; falls back to the system's pkg-config on
# the prefix's .pc files. No .debs/: a benign skip, the system's packages are used.
# Writes no result file.

# Run under `timeout` through `bash -c`, so it reads everything from the environment.
unpack_debs() {
  set -e
  rm -rf "$prefix"
  mkdir -p "$prefix/bin" "$prefix/.ar"
  local deb
  for deb in "$repo"/.debs/*.deb; do
    if command -v dpkg-deb > /dev/null; then
      dpkg-deb -x "$deb" "$prefix"
    else  # no dpkg: a .deb is an ar archive holding data.tar.*
      (cd "$prefix/.ar" && rm -f data.tar.* && ar x "$deb" && tar -xf data.tar.* -C "$prefix")
    fi
    echo "unpacked $(basename "$deb")"
  done
  rm -rf "$prefix/.ar"
  # pkg-config and CMake package files name /usr absolutely: point them into the prefix.
  find "$prefix" \( -name '*.pc' -o -name '*.cmake' \) -type f -print0 |
    xargs -0 -r sed -i -E "s#(^|[=\"[:space:];(])/usr#\1$prefix/usr#g"
  # OpenBLAS's pkg-config file and unversioned library link are alternatives links made
  # at install time.
  if [ -f "$multiarch/openblas-pthread/pkgconfig/openblas.pc" ]; then
    mkdir -p "$multiarch/pkgconfig"
    cp "$multiarch/openblas-pthread/pkgconfig/openblas.pc" "$multiarch/pkgconfig/openblas.pc"
  fi
  if [ -f "$multiarch/openblas-pthread/libopenblas.so.0" ] && [ ! -e "$multiarch/openblas-pthread/libopenblas.so" ]; then
    ln -s libopenblas.so.0 "$multiarch/openblas-pthread/libopenblas.so"
  fi
  # pkgconf needs its library (libpkgconf.so.3, from the prefix too): a wrapper that finds
  # it and searches only the prefix's .pc files, so CMake can call it with any environment.
  if [ -x "$prefix/usr/bin/pkgconf" ]; then
    cat > "$pkg_config_wrapper" <<WRAPPER
#!/bin/sh
# pkg-config from .debs/ (Debian 12's pkgconf), unpacked by scripts/gpu_check.sh.
LD_LIBRARY_PATH="$multiarch\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" \\
PKG_CONFIG_LIBDIR="\${PKG_CONFIG_LIBDIR:-$multiarch/pkgconfig:$multiarch/openblas-pthread/pkgconfig:$prefix/usr/lib/pkgconfig:$prefix/usr/share/pkgconfig}" \\
  exec "$prefix/usr/bin/pkgconf" "\$@"
WRAPPER
    chmod +x "$pkg_config_wrapper"
  fi
  echo "$deb_stamp" > "$prefix/.stamp"
}
export repo prefix multiarch pkg_config_wrapper deb_stamp
export -f unpack_debs

stage_deps() {
  if [ ${#debs[@]} -eq 0 ]; then
    record deps ".debs/" SKIPPED - "no .debs/: the system's packages are used" benign
    return 0
  fi
  local unpack="unpack ${#debs[@]} packages"
  if [ -f "$prefix/.stamp" ] && [ "$(cat "$prefix/.stamp")" = "$deb_stamp" ]; then
    record deps "$unpack" ok 0 "already in $prefix"
  else
    out_of_time deps unpack && return 1
    run_step deps "$unpack" "$(cap "$stage_limit")" "$logs/deps_unpack.txt" bash -c unpack_debs
    if [ "$step_timed_out" = 1 ]; then timeout_row deps "$unpack"; return 1; fi
    if [ "$step_rc" -ne 0 ]; then
      record deps "$unpack" FAILED "$step_secs" "$(tail -n 1 "$logs/deps_unpack.txt")"
      return 1
    fi
    record deps "$unpack" ok "$step_secs" "into $prefix"
  fi
  rm -f "$prefix/.system-pkg-config"
  use_prefix
  # The unpacked pkg-config must run here (C library new enough) and find the .pc files.
  out_of_time deps pkg-config && return 1
  local output="$logs/deps_pkgconfig.txt"
  # shellcheck disable=SC2016  # $1 expands in the sh -c
  run_step deps "pkg-config from the prefix" "$(cap 15)" "$output" \
    sh -c '"$1" --version && "$1" --modversion openblas libzstd sentencepiece && "$1" --cflags --libs openblas' sh "$pkg_config_wrapper"
  if [ "$step_rc" -eq 0 ]; then
    record deps "pkg-config from the prefix" ok "$step_secs" \
      "pkgconf $(head -n 1 "$output"); openblas, libzstd, sentencepiece found in $prefix"
    return 0
  fi
  local system_pc="" candidate
  for candidate in /usr/bin/pkg-config /usr/local/bin/pkg-config /bin/pkg-config; do
    [ -x "$candidate" ] && { system_pc=$candidate; break; }
  done
  if [ -n "$system_pc" ] && "$system_pc" --modversion openblas libzstd sentencepiece > /dev/null 2>&1; then
    echo "$system_pc" > "$prefix/.system-pkg-config"
    use_prefix
    record deps "pkg-config from the prefix" ok "$step_secs" \
      "the prefix's pkgconf does not run here ($(tail -n 1 "$output" | cut -c1-80)); using $system_pc on the prefix's .pc files"
    return 0
  fi
  record deps "pkg-config from the prefix" FAILED "$step_secs" "$(tail -n 1 "$output" | cut -c1-160)"
  return 1
}
