# luasip: build, demo and test.
#
#   make demo    install what is missing, build into .luarocks, run examples/demo.lua
#   make test    the same set-up, then every suite; ends with "N passed, N failed, N skipped"
#   make asan    C suites and Lua specs under AddressSanitizer + UBSan
#   make fuzz    run the SIP message fuzzer for longer (FUZZ_SECONDS)
#
# `module` and `install-module` are what luarocks calls (see the rockspec).

# Debian 12 packages the build, the tests and the peers need.
DEB_PACKAGES := gcc libc6-dev make pkg-config liblua5.4-dev lua5.4 luarocks lua-busted \
	libuv1-dev libosip2-dev libsndfile1-dev libsamplerate0-dev libcmocka-dev \
	clang libclang-rt-14-dev iproute2 sip-tester kamailio baresip-core python3

TREE      := $(CURDIR)/.luarocks
LUAROCKS  := luarocks --lua-version=5.4 --tree=$(TREE)
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

CC        ?= gcc
LUA_INCDIR ?= /usr/include/lua5.4
CFLAGS    ?= -O2 -g
LIBFLAG   ?= -shared
WARN      := -Wall -Wextra -Wshadow -Wno-unused-parameter -std=gnu11
CORE_INC  := -Iinclude -Icsrc
LIBS      := -luv -losipparser2 -lsndfile -lsamplerate -lm

CORE_SRC  := $(wildcard csrc/util/*.c) $(wildcard csrc/sip/*.c) $(wildcard csrc/media/*.c)
LUA_SRC   := $(wildcard csrc/lua/*.c)
BUILD     := build

.PHONY: all module install-module deps build demo test \
	asan fuzz clean

all: module

# --- the Lua module (called by luarocks) --------------------------------------
module: $(BUILD)/sip/core.so

$(BUILD)/sip/core.so: $(CORE_SRC) $(LUA_SRC) $(wildcard csrc/*/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC $(WARN) $(CORE_INC) -I$(LUA_INCDIR) $(LIBFLAG) \
		-o $@ $(CORE_SRC) $(LUA_SRC) $(LIBS)

install-module: module
	mkdir -p $(INST_LIBDIR)/sip $(INST_LUADIR)/sip
	cp $(BUILD)/sip/core.so $(INST_LIBDIR)/sip/core.so
	cp lua/sip/*.lua $(INST_LUADIR)/sip/

# --- set-up -------------------------------------------------------------------
# Installs only the packages that are missing; a stamp keeps later runs quick.
deps: $(BUILD)/.deps

$(BUILD)/.deps: Makefile
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@mkdir -p $(BUILD) && touch $@

build: deps
	$(LUAROCKS) make luasip-scm-1.rockspec >$(BUILD)/luarocks.log 2>&1 || { cat $(BUILD)/luarocks.log; exit 1; }

demo: build
	. tests/env.sh && lua5.4 examples/demo.lua

# --- tests --------------------------------------------------------------------
test: build
	bash tests/run.sh

asan: build
	bash tests/run.sh --asan

fuzz: build
	bash fuzz/run.sh $${FUZZ_SECONDS:-300}

# --- benchmarks: print numbers and ratios against SIPp, never fail on a timing
.PHONY: bench
bench: build
	bash bench/calls_per_second.sh
	bash bench/memory_per_call.sh

# media: playback at rising stream counts (~5 min), then drift (BENCH_DRIFT_SECONDS, 10 min)
.PHONY: bench-media
bench-media: build
	bash bench/playback.sh
	bash bench/drift.sh

# bridged calls against a minimal C relay (~3 min; docs/performance-bridge.md)
.PHONY: bench-bridge
bench-bridge: build
	bash bench/bridge.sh

clean:
	rm -rf $(BUILD)
