# fuzz.mk: the libFuzzer harnesses (included by the Makefile; tests/fuzz/README.md).
#   make fuzz [SECONDS=60] [FUZZ_TARGETS="criteo db"] [FUZZ_ARGS=...]
#                     build with clang (ASan + UBSan + libFuzzer) and run each
#                     target for SECONDS, one after another
#   make fuzz-smoke   every target for 8 s (CI)
#   make fuzz-build   only build build/fuzz/fuzz_<target>
#   make fuzz-coverage   line coverage of the corpora (clang source-based
#                     coverage, no sanitizers): build/fuzzcov/report.txt
# The same targets, compiled without libFuzzer, are linked into run_tests,
# which replays tests/fuzz/regress/ (tests/test_fuzz_regress.c).

FUZZ_CC      ?= clang-14
FUZZ_DIR     := build/fuzz
FUZZ_TARGETS ?= config criteo avazu movielens libfm cache db
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := $(STD) $(WARN) -O1 -g -I. -MMD -MP $(PKG_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_SRC     := $(filter-out tests/fuzz/libfuzzer.c,$(wildcard tests/fuzz/*.c))
FUZZ_OBJ     := $(FUZZ_SRC:%.c=$(FUZZ_DIR)/%.o) $(LIB_SRC:%.c=$(FUZZ_DIR)/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_ID      := $(FUZZ_CC) $(FUZZ_CFLAGS)

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-deps fuzz-coverage
fuzz-deps:
	@harness/deps.sh fuzz

# run_tests replays the regression corpus through the same target functions.
$(TEST_BIN): $(FUZZ_SRC:%.c=$(BUILD)/%.o)

$(FUZZ_DIR)/cflags: FORCE
	@mkdir -p $(FUZZ_DIR); echo '$(FUZZ_ID)' | cmp -s - $@ || echo '$(FUZZ_ID)' > $@

$(FUZZ_DIR)/%.o: %.c $(FUZZ_DIR)/cflags
	@mkdir -p $(dir $@)
	@echo "CC(fuzz) $<"; $(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_DIR)/harness/sweep/db.o: $(BUILD)/gen/schema_sql.h
$(FUZZ_DIR)/harness/sweep/db.o: FUZZ_CFLAGS += -I$(BUILD)/gen

.SECONDARY: $(FUZZ_OBJ) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/libfuzzer_%.o)
$(FUZZ_DIR)/libfuzzer_%.o: tests/fuzz/libfuzzer.c tests/fuzz/fuzz.h $(FUZZ_DIR)/cflags
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_TARGET=fuzz_$* -c -o $@ $<

# Every object, not an archive: the method registry finds methods through weak
# references, which would not pull their objects out of an archive.
$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/libfuzzer_%.o $(FUZZ_OBJ)
	@echo "LD $@"; $(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) -lm -lpthread

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

fuzz: fuzz-build
	@tests/fuzz/seeds.sh $(FUZZ_DIR)/seeds
	@tests/fuzz/run.sh $(FUZZ_DIR) $(or $(SECONDS),60) $(FUZZ_TARGETS)

# The CI smoke is reproducible: a fixed seed and a fixed number of inputs per
# target (from a fresh corpus the same inputs every run), so CI turns red on a
# change, not on the luck of a random walk; `make fuzz` explores.
fuzz-smoke: fuzz-build
	@tests/fuzz/seeds.sh $(FUZZ_DIR)/seeds
	@FUZZ_ARGS="-seed=1 -runs=2000 $(FUZZ_ARGS)" tests/fuzz/run.sh $(FUZZ_DIR) 60 $(FUZZ_TARGETS)

# Source-based coverage: the same targets without sanitizers, run once over
# each target's corpus, seeds and regression inputs (-runs=0).
FUZZCOV_DIR    := build/fuzzcov
FUZZCOV_CFLAGS := $(STD) $(WARN) -O1 -g -I. -MMD -MP $(PKG_CFLAGS) -fprofile-instr-generate \
                  -fcoverage-mapping -fsanitize=fuzzer-no-link
FUZZCOV_OBJ    := $(FUZZ_SRC:%.c=$(FUZZCOV_DIR)/%.o) $(LIB_SRC:%.c=$(FUZZCOV_DIR)/%.o)

$(FUZZCOV_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC(cov) $<"; $(FUZZ_CC) $(FUZZCOV_CFLAGS) -c -o $@ $<
$(FUZZCOV_DIR)/harness/sweep/db.o: $(BUILD)/gen/schema_sql.h
$(FUZZCOV_DIR)/harness/sweep/db.o: FUZZCOV_CFLAGS += -I$(BUILD)/gen
.SECONDARY: $(FUZZCOV_OBJ) $(FUZZ_TARGETS:%=$(FUZZCOV_DIR)/libfuzzer_%.o)
$(FUZZCOV_DIR)/libfuzzer_%.o: tests/fuzz/libfuzzer.c tests/fuzz/fuzz.h
	@mkdir -p $(dir $@); $(FUZZ_CC) $(FUZZCOV_CFLAGS) -DFUZZ_TARGET=fuzz_$* -c -o $@ $<
$(FUZZCOV_DIR)/fuzz_%: $(FUZZCOV_DIR)/libfuzzer_%.o $(FUZZCOV_OBJ)
	@echo "LD $@"; $(FUZZ_CC) -fprofile-instr-generate -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) -lm -lpthread

fuzz-coverage: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZCOV_DIR)/fuzz_%)
	@tests/fuzz/coverage.sh $(FUZZ_DIR) $(FUZZCOV_DIR) $(FUZZ_TARGETS)

-include $(FUZZ_OBJ:.o=.d) $(FUZZCOV_OBJ:.o=.d) $(FUZZ_SRC:%.c=$(BUILD)/%.d)
