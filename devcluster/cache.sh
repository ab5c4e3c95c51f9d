# Sourced by the build scripts: one cache folder per pin outside the repo, one build at a time.

# cache_open <folder>: sets $bin; if that pin is already built, prints it and exits the script.
# Otherwise takes the folder's lock (a second caller waits, then finds the binaries) and returns.
cache_open() {
  bin="${BERTH_CACHE:-$HOME/.cache/berth}/$1/bin"
  if [ -f "$bin/.complete" ]; then
    echo "$bin"
    exit 0
  fi
  mkdir -p "$bin"
  exec 9>"$bin/.lock"
  flock 9
  if [ -f "$bin/.complete" ]; then
    echo "$bin"
    exit 0
  fi
}

# cache_close: marks the pin as built and prints its folder.
cache_close() {
  touch "$bin/.complete"
  echo "$bin"
}
