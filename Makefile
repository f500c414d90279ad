# quantlab — build, run, test, install.
#
#   make            build ./quantlab (says which packages are missing, if any)
#   make run        build (installing missing packages) and open the bundled model
#   make test       build and run every test (installing missing packages)
#   make check      the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make check-aarch64  kernel tests cross-built for AArch64, run under qemu-user
#   make bench      speed figures measured on this machine (ratios from one run)
#   make install    PREFIX=/usr/local DESTDIR= : binary, assets and lessons
#   make uninstall / make clean
#
# Users' CFLAGS/LDFLAGS are kept; the flags quantlab needs are appended.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/quantlab
DESTDIR    ?=
PKG_CONFIG ?= pkg-config
CFLAGS     ?= -O2 -g
LDFLAGS    ?=
BUILD      ?= build
BIN        ?= quantlab

UNAME_S := $(shell uname -s)

# Flags every object gets. Core objects get nothing else: they must build
# without the curses or png headers (see README, "How it is built").
QL_CFLAGS := -std=c11 -Wall -Wextra -Wpedantic -Werror -Isrc -MMD -MP \
             -DQL_DATADIR='"$(DATADIR)"'
CORE_DEFS := -D_XOPEN_SOURCE=700
ifeq ($(UNAME_S),Darwin)
CORE_DEFS += -D_DARWIN_C_SOURCE
endif
QL_LIBS := -lpthread -lm

ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
QL_CFLAGS += $(SAN_FLAGS)
QL_LIBS += $(SAN_FLAGS)
endif

CURSES_CFLAGS := $(shell $(PKG_CONFIG) --cflags ncursesw 2>/dev/null)
CURSES_LIBS   := $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null)
PNG_CFLAGS    := $(shell $(PKG_CONFIG) --cflags libpng 2>/dev/null)
PNG_LIBS      := $(shell $(PKG_CONFIG) --libs libpng 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
VTERM_CFLAGS  := $(shell $(PKG_CONFIG) --cflags vterm 2>/dev/null)
VTERM_LIBS    := $(shell $(PKG_CONFIG) --libs vterm 2>/dev/null)

CORE_SRC := $(sort $(wildcard src/base/*.c src/quant/*.c src/gguf/*.c src/model/*.c src/session/*.c src/lesson/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c)) src/main.c
TUI_SRC  := $(sort $(wildcard src/tui/*.c))
PLOT_SRC := $(sort $(wildcard src/plot/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
E2E_SRC  := $(sort $(wildcard tests/e2e/test_*.c))
# tests/lib/term*.c is the pty + libvterm harness: linked into end-to-end
# tests only, so unit tests need neither libvterm nor -lutil.
TESTLIB_SRC := $(sort $(filter-out tests/lib/term%,$(wildcard tests/lib/*.c)))
TERMLIB_SRC := $(sort $(wildcard tests/lib/term*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
PLOT_OBJ := $(PLOT_SRC:%.c=$(BUILD)/%.o)
APP_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o) $(TUI_SRC:%.c=$(BUILD)/%.o) $(PLOT_OBJ)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
E2E_BIN  := $(E2E_SRC:tests/e2e/%.c=$(BUILD)/tests/%)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/%.o)
TERMLIB_OBJ := $(TERMLIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libquantlab.a
ifeq ($(BUILD),build)
EXE := $(BIN)
else
EXE := $(BUILD)/$(BIN)
endif

.PHONY: all run test check check-aarch64 bench fuzz install uninstall clean deps deps-run deps-test tests
.DEFAULT_GOAL := all
.SECONDARY:

all: deps $(EXE)

deps:
	@sh src/scripts/deps.sh check build

deps-run:
	@sh src/scripts/deps.sh install build

deps-test:
	@sh src/scripts/deps.sh install test

$(LIB): $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(EXE): $(APP_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(APP_OBJ) $(LIB) $(CURSES_LIBS) $(PNG_LIBS) $(QL_LIBS)

$(BUILD)/src/tui/%.o: src/tui/%.c
	@mkdir -p $(@D)
	$(CC) $(QL_CFLAGS) $(CURSES_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/src/plot/%.o: src/plot/%.c
	@mkdir -p $(@D)
	$(CC) $(QL_CFLAGS) $(CORE_DEFS) $(PNG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(QL_CFLAGS) $(CORE_DEFS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(QL_CFLAGS) $(CORE_DEFS) $(CMOCKA_CFLAGS) $(VTERM_CFLAGS) $(PNG_CFLAGS) -Itests $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TESTLIB_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(QL_LIBS)

# The plot tests link the plot objects and libpng on their own line, so that
# libquantlab.a (and every other test) stays free of png.
$(BUILD)/tests/test_plot: $(BUILD)/tests/unit/test_plot.o $(TESTLIB_OBJ) $(PLOT_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PNG_LIBS) $(QL_LIBS)

$(E2E_BIN): $(BUILD)/tests/%: $(BUILD)/tests/e2e/%.o $(TESTLIB_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(VTERM_LIBS) $(PNG_LIBS) -lutil $(QL_LIBS)
# End-to-end tests also link the pty harness, which TESTLIB_OBJ leaves out.
$(E2E_BIN): $(TERMLIB_OBJ)

# The benchmark's synthetic model (stories110M's shape, seed 1), made once and
# again only when the generator changes; and the explorer timing program.
SYNTH_MODEL := $(BUILD)/bench/synth100M.gguf
BENCH_TUI   := $(BUILD)/bench/bench_tui

$(SYNTH_MODEL): src/model/synth.c src/model/synth.h | $(EXE)
	@mkdir -p $(@D)
	./$(EXE) synth -o $@ --seed 1 --force

$(BENCH_TUI): $(BUILD)/tests/bench/bench_tui.o $(TERMLIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(VTERM_LIBS) -lutil $(QL_LIBS)

tests: $(EXE) $(UNIT_BIN) $(E2E_BIN)

run: deps-run
	@$(MAKE) --no-print-directory $(EXE)
	./$(EXE)

# The whole suite: unit tests, end-to-end tests on the real binary, lesson check.
test: deps-test
	@$(MAKE) --no-print-directory tests
	@QUANTLAB_BIN=$(EXE) sh tests/run-all.sh $(UNIT_BIN) $(E2E_BIN)

# Speed figures measured in this run (ratios from one run; never a failing
# status): quantlab bench on the synthetic ~100M model and on the bundled one,
# then the explorer's first-frame and key-to-redraw times. See README, "Benchmarks".
bench: deps-test
	@$(MAKE) --no-print-directory $(EXE) $(BENCH_TUI) $(SYNTH_MODEL)
	@echo "== $$(uptime)"
	./$(EXE) bench -m $(SYNTH_MODEL)
	@echo
	./$(EXE) bench
	@echo
	QUANTLAB_BIN=./$(EXE) $(BENCH_TUI) -m $(SYNTH_MODEL)
	@echo "== $$(uptime)"

check: deps-test
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZE=1 tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  QUANTLAB_BIN=build/san/$(BIN) sh tests/run-all.sh \
	  $(UNIT_SRC:tests/unit/%.c=build/san/tests/%) $(E2E_SRC:tests/e2e/%.c=build/san/tests/%)

# The kernel tests cross-built for AArch64 and run under qemu-user (checks the
# NEON kernels on an x86 machine; skipped when the cross tools are missing).
check-aarch64:
	@BUILD=$(BUILD) sh tests/cross/aarch64.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/assets $(DESTDIR)$(DATADIR)/lessons
	install -m 755 $(EXE) $(DESTDIR)$(BINDIR)/$(BIN)
	install -m 644 assets/* $(DESTDIR)$(DATADIR)/assets/
	if ls lessons/*.md >/dev/null 2>&1; then install -m 644 lessons/*.md $(DESTDIR)$(DATADIR)/lessons/; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/$(BIN)
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
