# Fuzz harnesses for every parser, built with libFuzzer, ASan and UBSan.
#
#   make -f fuzz/fuzz.mk FUZZ_SECONDS=600 run   fuzz each harness in turn, fail on a crash
#   make -f fuzz/fuzz.mk smoke                  each harness over its seeds, then 10 seconds
#   make -f fuzz/fuzz.mk run-tsv                one harness (also seeds-tsv)
#   make -f fuzz/fuzz.mk FUZZ_FORK=1 FUZZ_SECONDS=600 run-mbox   go on past crashes
#   make -f fuzz/fuzz.mk regress                replay tests/fixtures/hostile/crashes/<harness>/*
#
# A harness is built only when the common/*.c files it needs exist, so the file can be used
# while parts of the library are still being written.  Work files (seed copies, the growing
# corpus, logs and any crash reproducers) go to fuzz/work/<harness>/.
FUZZ_SECONDS ?= 60
SMOKE_SECONDS ?= 10
FUZZ_CC    ?= clang
PKG_CONFIG ?= pkg-config
NICE       ?= nice -n 19
WORK       := fuzz/work
BIN        := fuzz/bin
# The shared corpus of real bounces seeds the archive harness when it is present.
CORPUS     ?= $(or $(REBOUNCE_CORPUS),$(CURDIR)/../shared/corpus)

PCRE2_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpcre2-8 2>/dev/null)
PCRE2_LIBS   := $(shell $(PKG_CONFIG) --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
ZLIB_CFLAGS  := $(shell $(PKG_CONFIG) --cflags zlib 2>/dev/null)
ZLIB_LIBS    := $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)

# UBSan findings are fatal (halt_on_error) except the known ones listed in fuzz/ubsan.supp.
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer
export UBSAN_OPTIONS := halt_on_error=1:print_stacktrace=1:suppressions=$(CURDIR)/fuzz/ubsan.supp
export ASAN_OPTIONS := detect_leaks=1
STD       := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-DRB_VERSION='"fuzz"' -DRB_SHAREDIR='"$(CURDIR)/share"' -Icommon $(PCRE2_CFLAGS) $(ZLIB_CFLAGS)
FUZZ_CFLAGS := -g -O1 -Wall -Wextra $(STD) $(SAN)
LIBS      := $(PCRE2_LIBS) $(ZLIB_LIBS) -lcsv

# Per harness: the library sources it needs, the largest input worth trying, the fixture
# files that seed it (globs under tests/fixtures and examples), and its own seeds under fuzz/seeds.
NEEDS_tsv   := common/tsv.c common/util.c
MAXLEN_tsv  := 65536
SEEDS_tsv   := tests/fixtures/*/*.tsv tests/fixtures/*/*/*.tsv examples/*.tsv

NEEDS_mbox  := common/mbox.c common/mime.c common/dsn.c common/bounce.c
MAXLEN_mbox := 262144
SEEDS_mbox  := tests/fixtures/*/*.mbox tests/fixtures/*/*.eml tests/fixtures/*/*/*.eml \
	tests/fixtures/*/*/*.mbox examples/*.mbox \
	$(CORPUS)/dos/*.eml $(CORPUS)/mac/*.eml $(CORPUS)/not/*.eml $(CORPUS)/mbox/*

# The same analysis without the reader, one message per input: many more runs a second.
NEEDS_msg   := common/mime.c common/dsn.c common/bounce.c
MAXLEN_msg  := 65536
SEEDS_msg   := $(SEEDS_mbox)

NEEDS_csv   := common/csvin.c
MAXLEN_csv  := 65536
SEEDS_csv   := tests/fixtures/*/*.csv tests/fixtures/*/*/*.csv examples/*.csv

NEEDS_rules := common/rules.c common/rx.c
MAXLEN_rules := 8192
SEEDS_rules := tests/fixtures/*/*.rules tests/fixtures/*/*/*.rules share/*.rules share/rules*

# The string sets against a plain search, on every search the processor has.
NEEDS_scan  := common/scan.c
MAXLEN_scan := 8192
SEEDS_scan  := fuzz/seeds/scan/*

NEEDS_tmpl  := common/tmpl.c common/mailfmt.c
MAXLEN_tmpl := 16384
SEEDS_tmpl  := tests/fixtures/*/*.eml tests/fixtures/*/*/*.eml examples/templates/*.eml \
	share/templates/*.eml

ALL_HARNESSES := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
have = $(if $(strip $(foreach f,$(NEEDS_$(1)),$(if $(wildcard $(f)),,missing))),,$(1))
HARNESSES := $(strip $(foreach h,$(ALL_HARNESSES),$(call have,$(h))))
WAITING   := $(filter-out $(HARNESSES),$(ALL_HARNESSES))

LIB_SRC := $(sort $(wildcard common/*.c))
LIB_OBJ := $(patsubst common/%.c,$(BIN)/obj/%.o,$(LIB_SRC))
LIB     := $(BIN)/librebounce-fuzz.a

.PHONY: all run smoke regress list clean-work clean
all: $(patsubst %,$(BIN)/fuzz_%,$(HARNESSES))

list:
	@echo "harnesses: $(HARNESSES)"
	@$(if $(WAITING),echo "waiting for their sources: $(WAITING)",:)

$(BIN)/obj/%.o: common/%.c $(wildcard common/*.h)
	@mkdir -p $(BIN)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BIN)/fuzz_%: fuzz/fuzz_%.c $(LIB) $(wildcard common/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LIBS)

# Seeds are copied at run time from the fixtures, never committed twice.
seeds-%:
	@mkdir -p $(WORK)/$*/seeds $(WORK)/$*/corpus
	@for f in $(wildcard $(SEEDS_$*)) $(wildcard fuzz/seeds/$*/*); do \
		[ -f "$$f" ] || continue; \
		n=$$(printf '%s' "$$f" | tr '/' '_'); \
		head -c $(MAXLEN_$*) "$$f" > "$(WORK)/$*/seeds/$$n"; \
		case $*:$$f in mbox:*.eml) gzip -c "$$f" | head -c $(MAXLEN_$*) > "$(WORK)/$*/seeds/$$n.gz";; esac; \
	done

# One harness for FUZZ_SECONDS.  New inputs go to corpus/, crash reproducers (crash-*,
# leak-*, timeout-*, oom-*) next to it; the summary line gives time, executions and the
# reproducers this run wrote.  FUZZ_FORK=1 (long runs) goes on past a crash in a child
# process, so one finding does not end the run.
FORK_FLAGS := $(if $(filter 1,$(FUZZ_FORK)),-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
run-%: $(BIN)/fuzz_% seeds-%
	@echo "fuzz: $* for $(FUZZ_SECONDS) s (max_len $(MAXLEN_$*))"
	@cd $(WORK)/$* && rc=0 && touch .start && \
	$(NICE) ../../bin/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -max_len=$(MAXLEN_$*) \
		-rss_limit_mb=2048 -timeout=30 -close_fd_mask=3 -artifact_prefix=./ $(FORK_FLAGS) \
		$(if $(wildcard fuzz/$*.dict),-dict=../../$*.dict) \
		corpus seeds > log 2>&1 || rc=$$?; \
	if grep -q '^Done [0-9]* runs' log; then \
		execs=$$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' log); \
		secs=$$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' log); \
	else \
		execs=$$(sed -n 's/^#\([0-9]*\): cov:.* time: \([0-9]*\)s.*/\1/p' log | tail -1); \
		secs=$$(sed -n 's/^#\([0-9]*\): cov:.* time: \([0-9]*\)s.*/\2/p' log | tail -1); \
	fi; \
	new=$$(find . -maxdepth 1 -newer .start -type f | grep -cE '^\./(crash|leak|timeout|oom|slow-unit)-' || true); \
	echo "fuzz: $*: $${secs:-?} s, $${execs:-?} execs, corpus $$(ls corpus | wc -l), exit $$rc, reproducers $$new"; \
	if [ $$rc -ne 0 ] || [ $$new -ne 0 ]; then grep -m3 -E '^==.*ERROR|^SUMMARY|runtime error' log; \
		echo "fuzz: $*: see $(WORK)/$*/log and the reproducers there"; exit 1; fi

run: all
	@$(if $(WAITING),echo "fuzz: not built yet (sources missing): $(WAITING)";) \
	fail=""; for h in $(HARNESSES); do \
		$(MAKE) --no-print-directory -f fuzz/fuzz.mk FUZZ_SECONDS=$(FUZZ_SECONDS) run-$$h || fail="$$fail $$h"; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: crashes found in:$$fail"; exit 1; fi

# CI: every seed once, then a few seconds of fuzzing per harness, then the known reproducers.
smoke: all
	@$(MAKE) --no-print-directory -f fuzz/fuzz.mk FUZZ_SECONDS=$(SMOKE_SECONDS) run
	@$(MAKE) --no-print-directory -f fuzz/fuzz.mk regress

# Replay committed reproducers: each must run clean.  Files named open-* are known bugs
# not fixed yet: their state is shown but does not fail the target (rename them when fixed).
regress: all
	@mkdir -p $(WORK); fail=""; for h in $(HARNESSES); do \
		d=tests/fixtures/hostile/crashes/$$h; \
		[ -d $$d ] || continue; \
		for f in $$d/*; do \
			[ -f "$$f" ] || continue; \
			if $(BIN)/fuzz_$$h -rss_limit_mb=2048 -timeout=30 "$$f" >$(WORK)/regress.log 2>&1; then \
				case $${f##*/} in open-*) echo "fuzz: $$f runs clean now: rename it without open-";; esac; \
			else case $${f##*/} in \
				open-*) echo "fuzz: known open bug: $$f ($$h: $$(grep -m1 -E 'ERROR|runtime error' $(WORK)/regress.log))";; \
				*) echo "fuzz: $$f fails again ($$h)"; fail="$$fail $$f";; \
			esac; fi; \
		done; \
	done; \
	[ -z "$$fail" ]

clean-work:
	rm -rf $(WORK)

clean:
	rm -rf $(BIN) $(WORK)
