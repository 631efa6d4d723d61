# rebounce: a plain Makefile.  User CFLAGS are respected; warnings are added on top.
VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR    = $(PREFIX)/bin
SHAREDIR  = $(PREFIX)/share/rebounce
MANDIR    = $(PREFIX)/share/man
CC       ?= cc
CFLAGS   ?= -O3 -g
PKG_CONFIG ?= pkg-config

PCRE2_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpcre2-8 2>/dev/null)
PCRE2_LIBS   := $(shell $(PKG_CONFIG) --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
ZLIB_CFLAGS  := $(shell $(PKG_CONFIG) --cflags zlib 2>/dev/null)
ZLIB_LIBS    := $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)

# Build products go under $(B): bin/ and obj/ at the top for a normal build, and
# build/sanitize/ for SANITIZE=1, so both can sit side by side.
ifeq ($(SANITIZE),1)
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
B ?= build/sanitize
else
B ?= .
endif

override CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-DRB_VERSION='"$(VERSION)"' -DRB_SHAREDIR='"$(SHAREDIR)"' \
	$(PCRE2_CFLAGS) $(ZLIB_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
override LDFLAGS := $(SAN_FLAGS) $(LDFLAGS)
LDLIBS  += $(PCRE2_LIBS) $(ZLIB_LIBS) -lcsv

HEADERS    := $(wildcard common/*.h)
COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_OBJ := $(patsubst common/%.c,$(B)/obj/%.o,$(COMMON_SRC))
LIB        := $(B)/obj/librebounce.a
CMD_SRC    := $(sort $(wildcard cmd/*.c))
PROGS      := $(patsubst cmd/%.c,$(B)/bin/%,$(CMD_SRC))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNITS      := $(patsubst tests/unit/%.c,$(B)/obj/unit/%,$(UNIT_SRC))
SCRIPTS    := $(sort $(wildcard scripts/bounce-*))
MANPAGES   := $(sort $(wildcard man/*.1 man/*.7))

.PHONY: all deps check check-one unit bats demo bench fuzz fuzz-smoke install uninstall clean
all: $(PROGS)

$(B)/obj/%.o: common/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $(COMMON_OBJ)

$(PROGS): $(B)/bin/%: cmd/%.c $(LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Icommon $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(UNITS): $(B)/obj/unit/%: tests/unit/%.c tests/unit/unit.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Icommon -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

deps:
	@sh scripts/deps

unit: $(UNITS)
	@set -e; for t in $(UNITS); do $$t; done

# The Bats suite runs against the programs of this build ($(B)/bin).
bats: all
	REBOUNCE_BIN=$(abspath $(B)/bin) bats -r tests

# The whole suite twice: the optimised build, then under ASan and UBSan; then each fuzz
# harness briefly when clang and libFuzzer are there.
check: deps
	@$(MAKE) --no-print-directory check-one
	@$(MAKE) --no-print-directory check-one SANITIZE=1
	@$(MAKE) --no-print-directory fuzz-smoke

check-one: all unit bats

demo: deps
	@$(MAKE) --no-print-directory all
	@sh examples/run-demo

bench: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/bench

# Fuzzing needs clang and libFuzzer (REBOUNCE_FUZZ=1 makes scripts/deps install them).
FUZZ_SECONDS ?= 60
fuzz:
	@REBOUNCE_FUZZ=1 sh scripts/deps
	@$(MAKE) --no-print-directory -f fuzz/fuzz.mk FUZZ_SECONDS=$(FUZZ_SECONDS) run

fuzz-smoke:
	@if [ -f fuzz/fuzz.mk ]; then REBOUNCE_FUZZ=1 sh scripts/deps && \
		$(MAKE) --no-print-directory -f fuzz/fuzz.mk smoke; fi

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(PROGS) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	cp -R share/. $(DESTDIR)$(SHAREDIR)
	for m in $(MANPAGES); do case $$m in *.1) d=man1;; *) d=man7;; esac; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/$$d; done

uninstall:
	for p in $(PROGS) $(SCRIPTS); do rm -f $(DESTDIR)$(BINDIR)/$${p##*/}; done
	for m in $(MANPAGES); do case $$m in *.1) d=man1;; *) d=man7;; esac; \
		rm -f $(DESTDIR)$(MANDIR)/$$d/$${m##*/}; done
	rm -rf $(DESTDIR)$(SHAREDIR)

clean:
	rm -rf bin obj build
