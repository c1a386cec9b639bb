# The two commands a newcomer needs (README.md):
#   make run     install what is missing, build, start the demo gateway
#   make check   install what the tests need, build, run every test
BUILD  ?= build
ASAN   ?= build-asan
JAGA    = $(BUILD)/src/cli/jaga
RUNDIR  = $(CURDIR)/$(BUILD)/run

.PHONY: all build deps run check unit asan wire lint bench fuzz clean

all: build

deps:
	@scripts/deps.sh build

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	@scripts/deps.sh run
	@scripts/demo.sh $(JAGA) $(RUNDIR)

check:
	@scripts/deps.sh test
	@tests/run_all.sh

bench: build
	@scripts/deps.sh bench
	@bench/run.sh --write
	@bench/limits.sh --write
	@bench/burst.sh --write
	@bench/dkim.sh --write
	@bench/spf.sh --write

fuzz:
	@scripts/fuzz.sh

lint:
	@scripts/checksrc.sh

clean:
	rm -rf $(BUILD) $(ASAN) build-werror build-fuzz
