#!/bin/sh
# deps.sh — find the system packages quantlab needs, and install them if asked.
#
#   sh src/scripts/deps.sh check build     say what is missing to build; exit 1 if any
#   sh src/scripts/deps.sh install build   install what is missing to build and run
#   sh src/scripts/deps.sh install test    ... and to run the test suite
#
# Installs with apt-get when run as root, with sudo when it is there, and
# otherwise prints the exact command to run. On macOS it prints the brew command.
set -u
mode=${1:-check}
what=${2:-build}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

missing_deb=""
missing_brew=""
add() { missing_deb="$missing_deb $1"; missing_brew="$missing_brew $2"; }

have() { command -v "$1" >/dev/null 2>&1; }
have_pc() { have "$PKG_CONFIG" && "$PKG_CONFIG" --exists "$1" 2>/dev/null; }

have cc || have gcc || have clang || add gcc ""
have make || add make make
have "$PKG_CONFIG" || add pkg-config pkg-config
have_pc ncursesw || add libncurses-dev ncurses
have_pc libpng || add libpng-dev libpng
if [ "$what" = test ]; then
    have_pc cmocka || add libcmocka-dev cmocka
    have_pc vterm || add libvterm-dev libvterm
fi

[ -z "$missing_deb" ] && exit 0

missing_deb=${missing_deb# }
missing_brew=$(echo $missing_brew)
if [ "$(uname -s)" = Darwin ]; then
    echo "quantlab needs:$missing_deb" >&2
    echo "install them with:  brew install $missing_brew" >&2
    echo "(Homebrew's ncurses is keg-only: export PKG_CONFIG_PATH=\"\$(brew --prefix ncurses)/lib/pkgconfig\")" >&2
    exit 1
fi

cmd="apt-get install -y --no-install-recommends $missing_deb"
if [ "$mode" != install ]; then
    echo "quantlab needs these Debian/Ubuntu packages: $missing_deb" >&2
    echo "install them with:  sudo $cmd" >&2
    echo "(or run 'make run' / 'make test', which install them for you)" >&2
    exit 1
fi

if [ "$(id -u)" = 0 ]; then
    run=""
elif have sudo; then
    run="sudo"
else
    echo "quantlab needs these packages: $missing_deb" >&2
    echo "as root, run:  $cmd" >&2
    exit 1
fi
if ! have apt-get; then
    echo "quantlab needs: $missing_deb (Debian/Ubuntu names); this system has no apt-get," >&2
    echo "so install the equivalent packages with its package manager." >&2
    exit 1
fi
echo "installing: $missing_deb" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $run apt-get install -y --no-install-recommends $missing_deb; then
    echo "apt-get install failed; refreshing the package lists and trying once more" >&2
    $run apt-get update && $run apt-get install -y --no-install-recommends $missing_deb || {
        echo "could not install: $missing_deb. Run:  sudo $cmd" >&2
        exit 1
    }
fi
