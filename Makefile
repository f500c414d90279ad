# quantlab — build, run, test, install.
#
#   make            build ./quantlab (says which packages are missing, if any)
#   make run        build (installing missing packages) and open the bundled model
#   make test       build and run every test (installing missing packages)
#   make check      the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make tsan       the worker, pool, session and evaluation tests under ThreadSanitizer
#   make valgrind   generate, quantize and eval under valgrind: no error, no leak
#   make fuzz       every fuzz target under libFuzzer for FUZZ_SECONDS (clang)
#   make fuzz-smoke the same for a few seconds each (CI)
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
# Hot loops start on a 32-byte boundary. Without it their speed depends on where
# the linker happens to put them: the left-to-right F32 dot product (the FP32
# model's hot loop) ran 30-50% slower when an unrelated function added elsewhere
# moved it across a 32-byte boundary (quantlab eval, FP32, 1 thread: 1.4-1.6 s
# vs 2.4-2.8 s). Probed, for compilers without the flag.
QL_CFLAGS += $(shell $(CC) -falign-loops=32 -Werror -E -x c /dev/null >/dev/null 2>&1 && echo -falign-loops=32)

ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
QL_CFLAGS += $(SAN_FLAGS)
QL_LIBS += $(SAN_FLAGS)
endif
# ThreadSanitizer (make tsan): its own build directory, like every sanitizer.
ifeq ($(SANITIZE),thread)
QL_CFLAGS += -fsanitize=thread -fno-omit-frame-pointer
QL_LIBS += -fsanitize=thread
endif
# libFuzzer (make fuzz, with clang): objects get coverage instrumentation,
# the fuzz targets link libFuzzer's main.
ifeq ($(SANITIZE),fuzz)
QL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
QL_LIBS += -fsanitize=address,undefined
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
# tests/lib/png_read.c decodes pictures with libpng: linked into the tests that
# check PNG files only (test_plot and the end-to-end tests).
TESTLIB_SRC := $(sort $(filter-out tests/lib/term% tests/lib/png%,$(wildcard tests/lib/*.c)))
TERMLIB_SRC := $(sort $(wildcard tests/lib/term*.c))
PNGLIB_SRC  := $(sort $(wildcard tests/lib/png*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
PLOT_OBJ := $(PLOT_SRC:%.c=$(BUILD)/%.o)
APP_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o) $(TUI_SRC:%.c=$(BUILD)/%.o) $(PLOT_OBJ)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
E2E_BIN  := $(E2E_SRC:tests/e2e/%.c=$(BUILD)/tests/%)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/%.o)
TERMLIB_OBJ := $(TERMLIB_SRC:%.c=$(BUILD)/%.o)
PNGLIB_OBJ  := $(PNGLIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libquantlab.a
ifeq ($(BUILD),build)
EXE := $(BIN)
else
EXE := $(BUILD)/$(BIN)
endif

.PHONY: all run test check check-aarch64 bench fuzz fuzz-smoke fuzz-build fuzz-seeds tsan valgrind install \
        uninstall clean deps deps-run deps-test tests
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
$(BUILD)/tests/test_plot: $(BUILD)/tests/unit/test_plot.o $(TESTLIB_OBJ) $(PNGLIB_OBJ) $(PLOT_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PNG_LIBS) $(QL_LIBS)

# The TUI's text layouts (tui/layout.c) are tested without curses; they use
# the plot code's Pareto frontier, hence the plot objects and libpng.
$(BUILD)/tests/test_layout: $(BUILD)/tests/unit/test_layout.o $(TESTLIB_OBJ) $(BUILD)/src/tui/layout.o $(PLOT_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PNG_LIBS) $(QL_LIBS)

$(E2E_BIN): $(BUILD)/tests/%: $(BUILD)/tests/e2e/%.o $(TESTLIB_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(VTERM_LIBS) $(PNG_LIBS) -lutil $(QL_LIBS)
# End-to-end tests also link the pty harness and the PNG reader, which
# TESTLIB_OBJ leaves out.
$(E2E_BIN): $(TERMLIB_OBJ) $(PNGLIB_OBJ)

# Fuzz targets (tests/fuzz/fuzz_*.c). With gcc each links standalone.c, a
# main() that replays files: $(BUILD)/tests/test_fuzz_replay runs every target
# over its seed corpus and the crashes kept in tests/fuzz/regress/, in make test
# and make check. With clang and SANITIZE=fuzz they link libFuzzer instead.
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz_%)
FUZZ_SUPPORT := $(BUILD)/tests/fuzz/support.o
FUZZ_REPLAY  := $(BUILD)/tests/test_fuzz_replay

$(FUZZ_BIN): $(BUILD)/tests/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_SUPPORT) \
             $(if $(filter fuzz,$(SANITIZE)),,$(BUILD)/tests/fuzz/standalone.o) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $(if $(filter fuzz,$(SANITIZE)),-fsanitize=fuzzer) -o $@ $^ $(QL_LIBS)

$(FUZZ_REPLAY): tests/fuzz/replay.sh $(FUZZ_BIN)
	@mkdir -p $(@D)
	sed 's|@FUZZ_BIN_DIR@|$(BUILD)/tests|; s|@FUZZ_TARGETS@|$(FUZZ_TARGETS)|' tests/fuzz/replay.sh > $@
	chmod +x $@


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


tests: $(EXE) $(UNIT_BIN) $(E2E_BIN) $(FUZZ_REPLAY)

run: deps-run
	@$(MAKE) --no-print-directory $(EXE)
	./$(EXE)

# The whole suite: unit tests, end-to-end tests on the real binary, lesson check.
test: deps-test
	@$(MAKE) --no-print-directory tests
	@QUANTLAB_DATA=$(CURDIR) ./$(EXE) lessons --check lessons
	@QUANTLAB_BIN=$(EXE) sh tests/run-all.sh $(UNIT_BIN) $(E2E_BIN) $(FUZZ_REPLAY)

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
	@QUANTLAB_DATA=$(CURDIR) ./build/san/$(BIN) lessons --check lessons
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  QUANTLAB_BIN=build/san/$(BIN) sh tests/run-all.sh \
	  $(UNIT_SRC:tests/unit/%.c=build/san/tests/%) $(E2E_SRC:tests/e2e/%.c=build/san/tests/%) \
	  build/san/tests/test_fuzz_replay

# ThreadSanitizer on what runs threads: the pool and the worker, evaluation on
# several threads, the session's jobs racing the interface thread's edits.
# (test_sensitivity runs the same evaluation code for many minutes under TSan:
# add it with make tsan TSAN_TESTS="... test_sensitivity".)
TSAN_TESTS ?= test_pool test_eval test_session_race
tsan: deps-test
	@$(MAKE) --no-print-directory BUILD=build/tsan SANITIZE=thread \
	  $(addprefix build/tsan/tests/,$(filter $(TSAN_TESTS),$(UNIT_SRC:tests/unit/%.c=%)))
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" sh tests/run-all.sh \
	  $(addprefix build/tsan/tests/,$(filter $(TSAN_TESTS),$(UNIT_SRC:tests/unit/%.c=%)))

valgrind: all
	@sh tests/valgrind.sh ./$(EXE)

# libFuzzer. FUZZ_SECONDS per target (default 60); FUZZ_TARGETS to pick some;
# FUZZ_OPTIONS passes more libFuzzer flags. Found crashes are left in
# build/fuzz/crashes/ (see tests/fuzz/README.md: each becomes a file in
# tests/fuzz/regress/<target>/, replayed by make test).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 12
fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@$(MAKE) --no-print-directory BUILD=build/fuzz SANITIZE=fuzz CC=$(FUZZ_CC) CFLAGS="-g -O1" \
	  $(FUZZ_TARGETS:%=build/fuzz/tests/fuzz_%)

fuzz: fuzz-build
	@sh tests/fuzz/run.sh build/fuzz/tests $(FUZZ_SECONDS) "$(FUZZ_TARGETS)" "$(FUZZ_OPTIONS)"

fuzz-smoke: fuzz-build
	@sh tests/fuzz/run.sh build/fuzz/tests $(FUZZ_SMOKE_SECONDS) "$(FUZZ_TARGETS)" "$(FUZZ_OPTIONS)"

# Regenerates tests/fuzz/corpus/ (the seeds are committed; run after a format change).
fuzz-seeds: $(BUILD)/tests/make_seeds
	$(BUILD)/tests/make_seeds tests/fuzz/corpus

$(BUILD)/tests/make_seeds: $(BUILD)/tests/fuzz/make_seeds.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(QL_LIBS)

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
