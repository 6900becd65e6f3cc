# Pathway Hub developer tasks. Run `make help` for the list.
#
# Everything the build needs is installed by `make deps`: ClickHouse from the
# distribution's packages, and pinned Go tools into ./.bin. Tool versions live
# here and nowhere else.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

# ---- pinned tool versions (the only place they are written down) -----------
BUF_VERSION                   := v1.75.0
PROTOC_GEN_GO_VERSION         := v1.36.12
PROTOC_GEN_CONNECT_GO_VERSION := v1.21.1
GOLANGCI_LINT_VERSION         := v2.15.0
# buf/validate/validate.proto, copied out of this Go module's source.
PROTOVALIDATE_MODULE          := github.com/bufbuild/protovalidate
PROTOVALIDATE_VERSION         := v1.2.2
# chDB: the current ClickHouse release built as a library (libchdb.so), from
# the npm registry. The SQL check (`make sql-check`) replays every statement
# the tests send on it. Its package reports ClickHouse 26.7.2.1.
CHDB_NPM_PACKAGE              := @chdb/lib-linux-x64-gnu
CHDB_NPM_VERSION              := 26.7.3-stable.1

BUF_PKG                   := github.com/bufbuild/buf/cmd/buf
PROTOC_GEN_GO_PKG         := google.golang.org/protobuf/cmd/protoc-gen-go
PROTOC_GEN_CONNECT_GO_PKG := connectrpc.com/connect/cmd/protoc-gen-connect-go
GOLANGCI_LINT_PKG         := github.com/golangci/golangci-lint/v2/cmd/golangci-lint

# ---- paths -----------------------------------------------------------------
BIN       := $(CURDIR)/.bin
CACHE     := $(CURDIR)/.cache
GEN_DIR   := schemas/gen
PROTO_DIR := schemas/pathway
PROTOVALIDATE_DIR   := $(CACHE)/protovalidate
PROTOVALIDATE_STAMP := $(CACHE)/.protovalidate-$(PROTOVALIDATE_VERSION)
CHDB_DIR            := $(CACHE)/chdb
CHDB_STAMP          := $(CHDB_DIR)/.chdb-$(CHDB_NPM_VERSION)
# Where the tests log every statement they send to ClickHouse, with its data,
# for the replay on a current release (hub/store/chdb/sqlrecord).
SQL_RECORD_DIR      := $(CURDIR)/var/sqlrecord

# chDB's Go binding loads the library from here.
export CHDB_LIB_PATH := $(CHDB_DIR)/node_modules/$(CHDB_NPM_PACKAGE)/libchdb.so

# Our tools first; /usr/sbin last because clickhouse-server lives there and it
# is not on a non-root user's PATH.
export PATH := $(BIN):$(PATH):/usr/local/go/bin:/usr/sbin:/usr/bin

BUF           := $(BIN)/buf
GOLANGCI_LINT := $(BIN)/golangci-lint

FUZZTIME ?= 20s
# Extra flags of `make bench`, e.g. BENCH_FLAGS='-national 2000000'.
BENCH_FLAGS ?=
# Git revision that `buf breaking` compares the schemas against.
BREAKING_AGAINST ?= main
GO       ?= go

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Stamp per tool and version: changing a version above reinstalls that tool.
TOOL_STAMPS := \
	$(BIN)/.buf-$(BUF_VERSION) \
	$(BIN)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION) \
	$(BIN)/.protoc-gen-connect-go-$(PROTOC_GEN_CONNECT_GO_VERSION) \
	$(BIN)/.golangci-lint-$(GOLANGCI_LINT_VERSION)

.PHONY: help
help: ## Show this list of targets.
	@echo 'Usage: make TARGET'
	@echo
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk -v c="$$([ -t 1 ] && printf '\033[36m')" -v r="$$([ -t 1 ] && printf '\033[0m')" \
			'BEGIN {FS = ":.*## "}; {printf "  %s%-16s%s %s\n", c, $$1, r, $$2}'
	@echo
	@echo 'Variables: FUZZTIME=$(FUZZTIME) (per fuzz target)'

# ---- dependencies ----------------------------------------------------------

.PHONY: deps
deps: clickhouse zookeeper chromium chdb tools ## Install what is missing: ClickHouse, ZooKeeper and Chromium (apt), chDB (npm) in ./.cache, pinned Go tools in ./.bin.

.PHONY: clickhouse
clickhouse:
	@if command -v clickhouse-server >/dev/null 2>&1 && command -v clickhouse-client >/dev/null 2>&1; then \
		echo "clickhouse: $$(command -v clickhouse-server)"; \
	else \
		echo 'clickhouse: installing clickhouse-server and clickhouse-client'; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			clickhouse-server clickhouse-client; \
	fi

# ZooKeeper coordinates the ClickHouse cluster the cluster tests start
# (replication, ON CLUSTER DDL). Debian's package ships the jars under
# /usr/share/zookeeper; the tests run its server with java directly.
.PHONY: zookeeper
zookeeper:
	@if [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null 2>&1; then \
		echo "zookeeper: /usr/share/java/zookeeper.jar"; \
	else \
		echo 'zookeeper: installing zookeeper'; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends zookeeper; \
	fi

# Chromium prints evidence packs to PDF and runs the evidence pages' browser
# tests (headless); Debian's package is `chromium`.
.PHONY: chromium
chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium || command -v chromium-browser)"; \
	else \
		echo 'chromium: installing chromium'; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	fi

# chDB comes from the npm registry (Node.js and npm from Debian when
# missing); the package has no dependencies and its version is pinned above.
.PHONY: chdb
chdb: $(CHDB_STAMP)

$(CHDB_STAMP):
	@if ! command -v npm >/dev/null 2>&1; then \
		echo 'chdb: installing npm'; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; \
	fi
	@echo "chdb: installing $(CHDB_NPM_PACKAGE)@$(CHDB_NPM_VERSION) into .cache/chdb"
	@rm -rf $(CHDB_DIR)
	@mkdir -p $(CHDB_DIR)
	npm install --prefix $(CHDB_DIR) --no-save --no-audit --no-fund --loglevel=error $(CHDB_NPM_PACKAGE)@$(CHDB_NPM_VERSION)
	@test -f $(CHDB_LIB_PATH) || { echo "chdb: $(CHDB_LIB_PATH) is missing after the install" >&2; exit 1; }
	@touch $@

.PHONY: tools
tools: $(TOOL_STAMPS)

# $(call go-install,name,package,version)
define go-install
	@echo "install: $(1) $(3)"
	@rm -f $(BIN)/.$(1)-*
	GOBIN=$(BIN) $(GO) install $(2)@$(3)
	@touch $@
endef

$(BIN)/.buf-$(BUF_VERSION):
	$(call go-install,buf,$(BUF_PKG),$(BUF_VERSION))

$(BIN)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION):
	$(call go-install,protoc-gen-go,$(PROTOC_GEN_GO_PKG),$(PROTOC_GEN_GO_VERSION))

$(BIN)/.protoc-gen-connect-go-$(PROTOC_GEN_CONNECT_GO_VERSION):
	$(call go-install,protoc-gen-connect-go,$(PROTOC_GEN_CONNECT_GO_PKG),$(PROTOC_GEN_CONNECT_GO_VERSION))

$(BIN)/.golangci-lint-$(GOLANGCI_LINT_VERSION):
	$(call go-install,golangci-lint,$(GOLANGCI_LINT_PKG),$(GOLANGCI_LINT_VERSION))

# ---- code generation -------------------------------------------------------

# The protovalidate module (buf/validate/validate.proto) is a second module of
# the buf workspace (buf.yaml). It is copied, read-only in the module cache,
# from the pinned Go module version into a gitignored directory.
$(PROTOVALIDATE_STAMP):
	@rm -rf $(PROTOVALIDATE_DIR) $(CACHE)/.protovalidate-*
	@mkdir -p $(CACHE)
	@dir="$$(cd / && GOFLAGS= $(GO) mod download -json $(PROTOVALIDATE_MODULE)@$(PROTOVALIDATE_VERSION) \
		| sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$$/\1/p')"; \
	test -f "$$dir/proto/protovalidate/buf/validate/validate.proto" \
		|| { echo "protovalidate: no validate.proto under '$$dir'" >&2; exit 1; }; \
	cp -R "$$dir/proto/protovalidate" $(PROTOVALIDATE_DIR); \
	chmod -R u+w $(PROTOVALIDATE_DIR)
	@echo "protovalidate: $(PROTOVALIDATE_VERSION) -> .cache/protovalidate"
	@touch $@

.PHONY: protovalidate
protovalidate: $(PROTOVALIDATE_STAMP)

.PHONY: generate
generate: tools protovalidate ## Generate Go and Connect code from schemas/ into schemas/gen.
	$(BUF) generate

.PHONY: check-generate
check-generate: tools protovalidate ## Regenerate and fail if schemas/gen is not up to date.
	@snap="$$(mktemp -d)"; trap 'rm -rf "$$snap"' EXIT; \
	if [ -d $(GEN_DIR) ]; then cp -R $(GEN_DIR) "$$snap/gen"; else mkdir "$$snap/gen"; fi; \
	$(BUF) generate; \
	mkdir -p $(GEN_DIR); \
	if ! diff -ruN "$$snap/gen" $(GEN_DIR); then \
		echo 'check-generate: schemas/gen was out of date; run `make generate` and commit the result' >&2; \
		exit 1; \
	fi; \
	if [ -n "$${CI:-}" ] && [ -n "$$(git status --porcelain -- $(GEN_DIR))" ]; then \
		git status --porcelain -- $(GEN_DIR); git --no-pager diff -- $(GEN_DIR); \
		echo 'check-generate: schemas/gen differs from the commit; run `make generate` and commit the result' >&2; \
		exit 1; \
	fi; \
	echo 'check-generate: schemas/gen is up to date'

# ---- lint, test, build -----------------------------------------------------

# True only while the module has no Go package at all (a broken build still runs the linters).
NO_GO_PACKAGES := $(GO) list ./... 2>&1 | grep -q 'matched no packages'

GO_FILES_CMD := find . -name '*.go' -not -path './.bin/*' -not -path './.cache/*' -not -path './var/*' -not -path './.git/*'

.PHONY: lint
lint: tools protovalidate ## gofmt, go vet, buf lint/format/breaking, golangci-lint.
	@echo 'lint: gofmt'
	@unformatted="$$($(GO_FILES_CMD) -print0 | xargs -0 -r gofmt -l)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	@echo 'lint: go vet'
	@if $(NO_GO_PACKAGES); then echo 'go vet: no Go packages yet'; else $(GO) vet ./...; fi
	@echo 'lint: buf lint'
	$(BUF) lint
	@echo 'lint: buf format'
	$(BUF) format --diff --exit-code --path $(PROTO_DIR)
	@echo 'lint: buf breaking'
	@# buf cannot read `.git#branch=main` directly: the protovalidate module is
	@# gitignored, so main's tree lacks it. Check out main's tree into a temporary
	@# directory, add the same protovalidate copy, and compare against that.
	@if git rev-parse -q --verify '$(BREAKING_AGAINST):$(PROTO_DIR)' >/dev/null 2>&1; then \
		against="$$(mktemp -d)"; trap 'rm -rf "$$against"' EXIT; \
		git archive $(BREAKING_AGAINST) | tar -x -C "$$against"; \
		mkdir -p "$$against/.cache"; cp -R $(PROTOVALIDATE_DIR) "$$against/.cache/"; \
		echo "buf breaking --against $(BREAKING_AGAINST) ($$(git rev-parse --short $(BREAKING_AGAINST)))"; \
		$(BUF) breaking --against "$$against"; \
	else \
		echo 'buf breaking: $(BREAKING_AGAINST) has no $(PROTO_DIR) yet; nothing to compare against'; \
	fi
	@echo 'lint: golangci-lint'
	@if $(NO_GO_PACKAGES); then echo 'golangci-lint: no Go packages yet'; else $(GOLANGCI_LINT) run ./...; fi

.PHONY: test
test: deps ## Install deps, then lint, check-generate, go test against real ClickHouse 18.16, and the SQL check on chDB 26.x.
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory check-generate
	rm -rf $(SQL_RECORD_DIR)
	PATHWAYHUB_SQL_RECORD=$(SQL_RECORD_DIR) $(GO) test -count=1 ./...
	$(MAKE) --no-print-directory sql-check

.PHONY: sql-check
sql-check: chdb ## Replay every statement the last `make test` sent (var/sqlrecord) on ClickHouse 18.16 and chDB 26.x; fail on any difference.
	$(GO) run ./cmd/sqlreplay -dir $(SQL_RECORD_DIR)

.PHONY: check-dashboards
check-dashboards: ## Fail if the generated dashboards differ from dashboards/testdata/golden, or break Grafana's schemas.
	$(GO) test -count=1 -run 'TestGoldenFiles|TestDashboardsValidateAgainstGrafanaSchemas|TestEachAudienceReadsOnlyItsOwnShare' ./dashboards

.PHONY: build
build: ## Build every package and the commands in ./cmd.
	$(GO) build ./...

.PHONY: demo
demo: deps build ## Run the end-to-end demo (pathwayhub demo).
	$(GO) run ./cmd/pathwayhub demo

.PHONY: demo-cluster
demo-cluster: deps build ## The demo on a local two-replica ClickHouse cluster with two hubs (pathwayhub demo --cluster).
	$(GO) run ./cmd/pathwayhub demo --cluster --data-dir var/cluster-demo

.PHONY: fuzz
fuzz: ## Run each Fuzz target for FUZZTIME (default 20s).
	@found=0; \
	for pkg in $$($(GO) list ./...); do \
		for fz in $$($(GO) test -list '^Fuzz' "$$pkg" | grep '^Fuzz' || true); do \
			found=1; \
			echo "fuzz: $$pkg $$fz ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$fz\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done; \
	if [ "$$found" = 0 ]; then echo 'fuzz: no Fuzz targets found'; fi

.PHONY: bench
bench: ## Full benchmarks (many minutes): writes var/bench/report.md and report.json.
	@mkdir -p var/bench
	$(GO) build -o var/bench/pathwayhub ./cmd/pathwayhub
	$(GO) build -o var/bench/pathwaybench ./cmd/pathwaybench
	var/bench/pathwaybench -dir var/bench -hub var/bench/pathwayhub $(BENCH_FLAGS)
	@echo 'go benchmarks (-benchmem): validation, tokenisation, encoding, store, policy'
	$(GO) test -run '^$$' -bench . -benchmem ./ingest/validate/ ./ingest/pseudo/ ./hub/store/ ./policy/ | tee var/bench/go-bench.txt
	$(GO) test -run '^$$' -bench 'IngestPolicy' -benchmem -benchtime 20x ./hub/integration/ | tee -a var/bench/go-bench.txt

.PHONY: bench-smoke
bench-smoke: ## Seconds-long run of the benchmark harness at tiny scale (what CI runs).
	$(GO) run ./cmd/pathwaybench -dir var/bench-smoke -clients 2 -batch-sizes 10,50 -records-per-client 100 \
		-national 3000 -years 1 -panel-runs 2 -cost-time 20ms \
		-freshness-period 1s -freshness-trickle 3s -idle-window 1s

.PHONY: clean
clean: ## Remove ./var and ./.cache.
	rm -rf $(CURDIR)/var $(CACHE)
