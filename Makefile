# layerbox — build, test and everything around it. `make help` lists the targets.
#
# Sources are discovered: a new src/<module>/x.c joins build/liblayerbox.a, a new
# tests/unit/test_<module>.c becomes build/tests/test_<module>, with no edit here.

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
DESTDIR  ?=
CC       ?= cc
BUILD    ?= build
SANITIZE ?=

PKGS     := libarchive libcap jansson libcrypto zlib libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral \
            -Wmissing-prototypes -Wstrict-prototypes -Wvla
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -D_GNU_SOURCE -Isrc -include src/core/banned.h $(PKG_CFLAGS) \
            -DLB_VERSION='"$(VERSION)"' -MMD -MP
# LINK=static (the default) takes these libraries from their .a archives; glibc stays shared.
# Shared, libarchive alone brings libxml2, ICU and libstdc++ along, and loading ~20 libraries
# costs every command ~4 ms: as much as starting a container. Static, the linker takes only the
# members layerbox calls (libarchive's tar reader and decompressors, libcrypto's SHA-256, ...).
# LINK=dynamic links the shared libraries instead (as a distribution package would).
LINK     ?= static
STATIC_LIBS := -larchive -lacl -lnettle -llzma -llz4 -lbz2 -lcap -ljansson -lcrypto -lzstd -lz
ifeq ($(LINK),static)
LDLIBS   += -Wl,-Bstatic $(STATIC_LIBS) -Wl,-Bdynamic -lpthread -ldl
else
LDLIBS   += $(PKG_LIBS)
endif
# The unit tests link the shared libraries: they use libarchive's writer (whose format table
# needs libxml2) to build test archives independently of layerbox's own tar writer.
TEST_LDLIBS := $(PKG_LIBS)
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SANITIZE)
endif
ifneq ($(COVERAGE),)
CFLAGS   += --coverage -O0
LDFLAGS  += --coverage
endif

LIB_SRCS := $(sort $(wildcard src/core/*.c src/image/*.c src/layer/*.c src/container/*.c \
             src/runtime/*.c src/registry/*.c src/build/*.c))
CLI_SRCS := $(sort $(wildcard src/cli/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: FORCE all deps test unit integration tutorials coverage memcheck fixtures demo install \
        uninstall format format-check clean help bench

all: $(BUILD)/layerbox $(BUILD)/liblayerbox.a

help:
	@echo "make            build build/layerbox and build/liblayerbox.a"
	@echo "make deps       install the Debian packages (as root; else prints the apt-get line)"
	@echo "make test       unit + integration + tutorials (what CI runs)"
	@echo "make unit | integration | tutorials | memcheck | coverage | fixtures | demo | bench"
	@echo "make install | uninstall  (PREFIX=$(PREFIX) DESTDIR=)"
	@echo "make format | format-check | clean"
	@echo "make SANITIZE=address,undefined ...   ASan/UBSan build"

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# Only version.o knows the git revision; it is rebuilt when the revision changes (make does not
# track flags, so the revision lives in a file that is rewritten only when it differs).
$(BUILD)/git-rev: FORCE
	@mkdir -p $(BUILD)
	@echo '$(GIT_REV)' | cmp -s - $@ || echo '$(GIT_REV)' > $@
$(BUILD)/src/cli/version.o: CFLAGS += -DLB_GIT_REV='"$(GIT_REV)"'
$(BUILD)/src/cli/version.o: $(BUILD)/git-rev
FORCE:

# Built under a temporary name and renamed, so that a link running at the same time (two makes
# in one tree) reads the old archive or the new one, never a half-written one.
$(BUILD)/liblayerbox.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@.tmp.$$$$ && ar rcs $@.tmp.$$$$ $^ && mv -f $@.tmp.$$$$ $@

# Linked under a temporary name (per make process) and renamed, so a concurrent test never runs a
# half-written binary and two makes in one tree do not write the same temporary file.
$(BUILD)/layerbox: $(CLI_OBJS) $(BUILD)/liblayerbox.a
	$(CC) $(LDFLAGS) -o $@.tmp.$$$$ $(CLI_OBJS) $(BUILD)/liblayerbox.a $(LDLIBS) && \
	    mv -f $@.tmp.$$$$ $@

# Unit tests: one binary per module, linked against the same library as the CLI.
$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/unit.h $(BUILD)/liblayerbox.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/liblayerbox.a $(TEST_LDLIBS) \
	    $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

deps:
	@sh tests/deps.sh

# Some unit tests run programs from the fixtures (test_process unpacks the busybox rootfs).
unit: $(UNIT_BINS) fixtures
	@FIXTURES=$(abspath fixtures/out) bash tests/run-unit.sh $(UNIT_BINS)

fixtures: $(BUILD)/layerbox
	@$(MAKE) --no-print-directory -C fixtures BUILD=$(abspath $(BUILD))

integration: all fixtures
	@LAYERBOX=$(abspath $(BUILD)/layerbox) FIXTURES=$(abspath fixtures/out) \
	    bash tests/run-integration.sh $(BATS_FLAGS) tests/integration

tutorials: all fixtures
	@LAYERBOX=$(abspath $(BUILD)/layerbox) FIXTURES=$(abspath fixtures/out) \
	    bash tests/run-tutorials.sh tutorials/[0-9]*.md

# The README's test command: it installs what is missing first (a fresh Debian machine as root),
# then runs the suites in a new make, so pkg-config sees the libraries it just installed.
test:
	@sh tests/deps.sh --quiet-if-ok
	@$(MAKE) --no-print-directory unit integration tutorials

memcheck: $(UNIT_BINS) fixtures
	@FIXTURES=$(abspath fixtures/out) bash tests/run-unit.sh --valgrind $(UNIT_BINS)

coverage:
	@rm -rf $(BUILD)/cov
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/cov COVERAGE=1 unit integration >/dev/null
	@lcov -q --capture --directory $(BUILD)/cov --output-file $(BUILD)/cov/lcov.info \
	    --rc lcov_branch_coverage=0 2>/dev/null
	@lcov -q --remove $(BUILD)/cov/lcov.info '/usr/*' --output-file $(BUILD)/cov/lcov.info 2>/dev/null
	@genhtml -q $(BUILD)/cov/lcov.info --output-directory coverage >/dev/null 2>&1
	@lcov --summary $(BUILD)/cov/lcov.info 2>&1 | awk '/lines/ {print "coverage: " $$0}' | sed 's/ \+/ /g'

demo:
	@sh tests/deps.sh --quiet-if-ok
	@$(MAKE) --no-print-directory all fixtures
	@sh tutorials/demo.sh $(abspath $(BUILD)/layerbox) $(abspath fixtures/out)

bench: all fixtures $(BUILD)/bench/floor
	@sh bench/run.sh

# The physical floor for `run` (bench/floor.c, used by bench/run-container.sh): static when the
# C library allows it, with its own flags (it is not part of layerbox).
$(BUILD)/bench/floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -static -o $@ $< 2>/dev/null || $(CC) -O2 -Wall -Wextra -Werror -o $@ $<

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/layerbox $(DESTDIR)$(BINDIR)/layerbox

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/layerbox

FORMAT_FILES = $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h fixtures/src/*.c)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD) fixtures/out
	find coverage -mindepth 1 ! -name README.md -delete 2>/dev/null || true

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
