# Kestrel's two-command contract: `make demo` and `make test` do all the set-up on a fresh Debian/Ubuntu
# machine (missing apt packages via tools/setup.sh), build in release mode, and run.

SWIFT ?= swift
BUILD_FLAGS ?= -c release

.PHONY: all setup build demo test clean

all: build

setup:
	@tools/setup.sh

build: setup
	$(SWIFT) build $(BUILD_FLAGS) --product kestrel

demo: build
	@tools/demo.sh

test: setup
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	$(SWIFT) test $(BUILD_FLAGS) --skip-build

clean:
	rm -rf .build demo-out
