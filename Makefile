# rebounce: a plain Makefile.  User CFLAGS are respected; warnings are added on top.
VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR    = $(PREFIX)/bin
SHAREDIR  = $(PREFIX)/share/rebounce
MANDIR    = $(PREFIX)/share/man
CC       ?= cc
CFLAGS   ?= -O2 -g
PKG_CONFIG ?= pkg-config

PCRE2_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpcre2-8 2>/dev/null)
PCRE2_LIBS   := $(shell $(PKG_CONFIG) --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
ZLIB_CFLAGS  := $(shell $(PKG_CONFIG) --cflags zlib 2>/dev/null)
ZLIB_LIBS    := $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)

ifeq ($(SANITIZE),1)
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

override CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-DRB_VERSION='"$(VERSION)"' -DRB_SHAREDIR='"$(SHAREDIR)"' \
	$(PCRE2_CFLAGS) $(ZLIB_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
override LDFLAGS := $(SAN_FLAGS) $(LDFLAGS)
LDLIBS  += $(PCRE2_LIBS) $(ZLIB_LIBS) -lcsv

COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_OBJ := $(COMMON_SRC:.c=.o)
CMD_SRC    := $(sort $(wildcard cmd/*.c))
PROGS      := $(patsubst cmd/%.c,bin/%,$(CMD_SRC))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNITS      := $(patsubst tests/unit/%.c,tests/unit/bin/%,$(UNIT_SRC))
SCRIPTS    := $(sort $(wildcard scripts/bounce-*))
MANPAGES   := $(sort $(wildcard man/*.1 man/*.7))

.PHONY: all deps check unit bats demo bench fuzz install uninstall clean
all: $(PROGS)

common/%.o: common/%.c $(wildcard common/*.h)
	$(CC) $(CFLAGS) -c -o $@ $<

common/librebounce.a: $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $(COMMON_OBJ)

$(PROGS): bin/%: cmd/%.c common/librebounce.a $(wildcard common/*.h)
	@mkdir -p bin
	$(CC) $(CFLAGS) -Icommon $(LDFLAGS) -o $@ $< common/librebounce.a $(LDLIBS)

$(UNITS): tests/unit/bin/%: tests/unit/%.c tests/unit/unit.h common/librebounce.a
	@mkdir -p tests/unit/bin
	$(CC) $(CFLAGS) -Icommon -Itests/unit $(LDFLAGS) -o $@ $< common/librebounce.a $(LDLIBS)

deps:
	@sh scripts/deps

unit: $(UNITS)
	@set -e; for t in $(UNITS); do echo "unit: $$t"; $$t; done

bats: all
	bats -r tests

check: deps
	@$(MAKE) --no-print-directory all unit bats

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
	rm -rf bin tests/unit/bin common/*.o common/librebounce.a
