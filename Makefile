# The two commands a newcomer needs: `make run` and `make test`. Each installs what it needs.
SHELL := /bin/bash
GO ?= go
ARGS ?=
BIN := bin
GOLANGCI_VERSION := v2.15.0
GOLANGCI := $(BIN)/golangci-lint-$(GOLANGCI_VERSION)
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(BIN)/actionlint-$(ACTIONLINT_VERSION)

.PHONY: run server build web web-deps browsers redis test test-go test-web e2e fuzz bench vet lint-web clean

# What the web client's build is made from: it is rebuilt only when one of these changed.
WEB_SRC := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json
WEB_OUT := web/dist/index.html

## run: build what serving needs (the web client only if its sources changed, then the server)
## and serve on :8080 (in-memory, one node)
run: server
	./$(BIN)/parley $(ARGS)

## server: bin/parley with the web client embedded (Go's build cache makes an unchanged one instant)
server: $(WEB_OUT)
	$(GO) build -o $(BIN)/parley ./cmd/parley

## build: the server binary and the load generator
build: server
	$(GO) build -o $(BIN)/parley-load ./cmd/parley-load

web/node_modules/.package-lock.json: web/package-lock.json web/package.json web/lint/package.json
	npm --prefix web ci --no-audit --no-fund
	@touch $@

web-deps: web/node_modules/.package-lock.json

## web: the browser client, built into web/dist (embedded by go:embed) when its sources changed
web: $(WEB_OUT)

$(WEB_OUT): web/node_modules/.package-lock.json $(WEB_SRC)
	npm --prefix web run build

## browsers: Debian's Chromium and Firefox ESR for the end-to-end tests, and nftables (the
## firewall test blocks UDP with an nft rule), when missing
browsers:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/firefox-esr ] || [ ! -x /usr/sbin/nft ]; then \
		echo "installing chromium, firefox-esr and nftables with apt"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium firefox-esr nftables >/dev/null; \
	fi

## redis: Debian's redis-server for the cluster tests (they start their own on loopback), when missing
redis:
	@if [ ! -x /usr/bin/redis-server ]; then \
		echo "installing redis-server with apt"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	fi

## test: every test: Go (race detector), the web client's unit tests, the browser end-to-end tests.
## Only e2e needs the built client (Go builds embed web/dist/.gitkeep without it), so one
## `make test` builds it once, through e2e's dependency on web.
test: vet test-go test-web e2e

## vet: go vet, golangci-lint (.golangci.yml), go.mod tidy, the web client's lint, and the client
## must not depend on the server: package client and what it imports stay free of meeting,
## signaling and sfu (it speaks package wire); actionlint checks the CI workflow (its expressions,
## action inputs and job graph), composecheck loads the Compose files as `docker compose config`
## does (compose-go, no Docker needed); cmd/parley's Go tests check what the deployments say
vet: lint-web $(GOLANGCI) $(ACTIONLINT)
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(GOLANGCI) run ./...
	$(ACTIONLINT) .github/workflows/*.yml
	cd deployments/composecheck && $(GO) run . ../docker-compose.yml ../docker-compose.cluster.yml
	@bad=$$($(GO) list -deps ./client/... | grep -E '^github.com/parleyhq/parley/(meeting|signaling|sfu|internal/node)(/|$$)'); \
	if [ -n "$$bad" ]; then echo "package client depends on server packages:"; echo "$$bad"; exit 1; fi

test-go: redis
	$(GO) test -race -count=1 -timeout 10m ./...

test-web: web-deps
	npm --prefix web test

e2e: web browsers redis
	node web/e2e/run.mjs

## the Go linter, pinned, built once into bin/
$(GOLANGCI):
	GOBIN=$(CURDIR)/$(BIN)/.golangci $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	mv $(BIN)/.golangci/golangci-lint $@

## actionlint, pinned, built once into bin/ (not a module dependency: only make vet runs it)
$(ACTIONLINT):
	GOBIN=$(CURDIR)/$(BIN)/.actionlint $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	mv $(BIN)/.actionlint/actionlint $@

## lint-web: type-check the web client with every strict flag, then ESLint (web/eslint.config.js)
lint-web: web-deps
	npm --prefix web run lint

## fuzz: fuzz the protocol decoder for a while (the corpus in testdata/ runs in every `go test`)
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./wire

## bench: forwarding-path benchmarks, the control plane's muteAll, and load runs of the shapes of issue 17 with their table (a few minutes)
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./sfu/...
	$(GO) test -run '^$$' -bench MuteAll -benchtime 5x ./signaling/
	PARLEY_BENCH_WINDOW=15s sh cmd/parley-load/scenarios.sh $${PARLEY_BENCH_OUT:-/tmp/parley-bench} issue17

clean:
	rm -rf $(BIN) web/dist/assets web/dist/index.html
