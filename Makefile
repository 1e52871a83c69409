# embsweep: build, test, run the default sweep, draw the plots.
#   make              build ./embsweep (installs missing Debian packages first)
#   make test         check-layers, then the unit and integration tests (Criterion)
#   make SANITIZE=1 test   the same under AddressSanitizer + UBSan
#   make tsan         the worker pool under ThreadSanitizer (a stress program)
#   make check-layers the includes point down the layers (harness/README.md)
#   make test-blas-kernels   the tests once under each OpenBLAS kernel the CPU runs
#   make experiments  run experiments/default.yaml, then draw the plots
#   make plots        redraw plots/ from results/results.db
#   make bench        benchmarks (results stored like any other run)
#   make test-slurm   embsweep on a real one-node Slurm cluster (root; installs Slurm)
#   make deps         install missing Debian packages
#   make fuzz         libFuzzer harnesses, SECONDS each (tests/fuzz/README.md)
# C11, -Wall -Wextra -Werror, -O2 -g; never -Ofast (it implies -ffast-math).

CC      ?= cc
PKGS    := yaml-0.1 sqlite3 zlib openblas
STD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla -Wpointer-arith -Wno-format-nonliteral
OPT     ?= -O2 -g
# GCC's -O2 vectorises only loops that need no runtime checks ("very cheap");
# the dynamic cost model also takes loops with runtime trip counts (TT's core
# contractions: 1.4x its training, 1.8x its evaluation). GCC never reassociates
# float sums without -ffast-math, so the results are the same bits (checked on
# every method). Compilers without the flag go without it.
VECT    := $(shell $(CC) -fvect-cost-model=dynamic -Werror -E -x c /dev/null >/dev/null 2>&1 && echo -fvect-cost-model=dynamic)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Includes across folders name the file from the repository root.
CFLAGS  += $(STD) $(WARN) $(OPT) $(VECT) -I. -MMD -MP $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lm -lpthread

ifeq ($(SANITIZE),1)
  BUILD := build/asan
  CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
  BIN := $(BUILD)/embsweep
else
  BUILD := build/release
  BIN := embsweep
endif

# The optimizers' row steps (optim.o only): sqrtf without errno (its argument
# is never negative there, and IEEE square root and division are exact-rounded
# in any width), so GCC vectorises the element-wise Adam and Adagrad loops with
# the same bits (measured in results/notes/2026-12-06-big-tables.md).
OPTIM_CFLAGS := -fno-math-errno

# Expanded here, before any target-specific additions (db.o, optim.o, provenance.o).
FLAGS_ID := $(CC) $(CFLAGS) $(LDFLAGS) $(OPTIM_CFLAGS)

LIB_SRC  := $(filter-out harness/cli/main.c,$(sort $(shell find harness methods datasets -name '*.c')))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/harness/cli/main.o
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(BUILD)/run_tests
DB       ?= results/results.db
,        := ,

.PHONY: all deps deps-test test test-slurm test-blas-kernels check-layers tsan experiments plots bench clean check-html
all: deps $(BIN)

deps:
	@harness/deps.sh build
deps-test:
	@harness/deps.sh test

$(BIN): $(LIB_OBJ) $(MAIN_OBJ)
	@echo "LD $@"; $(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Objects depend on the flags they were built with: a changed OPT, VECT or
# SANITIZE rebuilds them (the file is rewritten only when the flags differ).
$(BUILD)/cflags: FORCE
	@mkdir -p $(BUILD); echo '$(FLAGS_ID)' | cmp -s - $@ || echo '$(FLAGS_ID)' > $@
FORCE:

$(BUILD)/%.o: %.c $(BUILD)/cflags
	@mkdir -p $(dir $@)
	@echo "CC $<"; $(CC) $(CFLAGS) -c -o $@ $<

# The SQLite schema is compiled into the binary (harness/sweep/db.c includes it).
$(BUILD)/gen/schema_sql.h: harness/sweep/schema.sql
	@mkdir -p $(dir $@)
	awk 'BEGIN { print "static const char k_schema_sql[] =" } { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); print "    \"" $$0 "\\n\"" } END { print ";" }' $< > $@
$(BUILD)/harness/sweep/db.o: $(BUILD)/gen/schema_sql.h
$(BUILD)/harness/sweep/db.o: CFLAGS += -I$(BUILD)/gen
$(BUILD)/harness/core/optim.o: CFLAGS += $(OPTIM_CFLAGS)
# Provenance: the flags this binary was built with (recorded per invocation).
$(BUILD)/harness/sweep/provenance.o: CFLAGS += -DEMBSWEEP_CFLAGS='"$(OPT) $(VECT) $(if $(filter 1,$(SANITIZE)),-fsanitize=address$(,)undefined) (optim.c: $(OPTIM_CFLAGS))"'

$(TEST_BIN): $(LIB_OBJ) $(TEST_OBJ)
	@echo "LD $@"; $(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

# Tests run from the repository root; EMBSWEEP_BIN lets tests run the CLI.
test: deps-test check-layers
	@$(MAKE) --no-print-directory $(BIN) $(TEST_BIN)
	EMBSWEEP_BIN=$(abspath $(BIN)) $(TEST_BIN) $(TEST_ARGS)

check-layers:
	@tests/check_layers.sh

# A real Slurm (slurmctld, slurmd, munge) started by the test and stopped by pid;
# skipped, with the reason, where it cannot start (tests/slurm/cluster.sh).
SLURM_TEST_BIN := $(BUILD)/run_slurm_tests
$(SLURM_TEST_BIN): $(BUILD)/tests/slurm/test_slurm.o
	@echo "LD $@"; $(CC) $(LDFLAGS) -o $@ $^ -lcriterion
test-slurm: deps-test
	@harness/deps.sh slurm
	@$(MAKE) --no-print-directory $(BIN) $(SLURM_TEST_BIN)
	EMBSWEEP_BIN=$(abspath $(BIN)) $(SLURM_TEST_BIN) --verbose $(TEST_ARGS)

# The kernel OpenBLAS picks depends on the CPU; run the suite under each one this
# CPU can execute, so a kernel-dependent result fails on any machine.
test-blas-kernels: deps-test
	@$(MAKE) --no-print-directory $(BIN) $(TEST_BIN)
	EMBSWEEP_BIN=$(abspath $(BIN)) tests/blas_kernels.sh $(TEST_BIN) $(TEST_ARGS)

# Criterion's runner does not work under TSan: a plain stress program of the pool.
tsan: deps
	@mkdir -p build/tsan
	$(CC) $(STD) $(WARN) -O1 -g -fsanitize=thread -I. -o build/tsan/pool_stress \
	    tests/tsan/pool_stress.c harness/core/pool.c harness/core/util.c -lpthread -lm
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 build/tsan/pool_stress

# The plots are drawn even when some run did not end ok (its status is in the
# database and on the page); the target then still fails with run's status.
experiments: all
	@rc=0; ./$(BIN) run experiments/default.yaml --db $(DB) || rc=$$?; \
	if [ $$rc -ne 2 ]; then ./$(BIN) plot --db $(DB) --out plots || exit $$?; fi; exit $$rc

plots: all
	./$(BIN) plot --db $(DB) --out plots

bench: deps-test all
	./$(BIN) bench --db $(DB)

check-html: plots
	@harness/deps.sh html
	tests/check_html.sh plots/index.html

clean:
	rm -rf build embsweep

include tests/fuzz/fuzz.mk

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/tests/slurm/test_slurm.d
