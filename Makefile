# The two commands of the README:
#   make run    the processor under the bundled simulator: one minute of load with every charge and credit
#               checked, a report in the terminal, sim-report.html and sim-report.json
#   make test   every test, with the race detector, against real NATS and Redis

GO ?= go

.PHONY: run demo serve test check soak year scenarios bench fuzz faults cluster test-cluster cluster-sizing clean schemas

run:
	$(GO) run ./cmd/simulator load -rate 1000 -duration 60s -customers 5000 -report sim-report.html

# demo: the processor as make serve runs it (embedded NATS with the shipped users, private Redis, data in
# ./data) and one customer's story played against it by the simulator, every event printed.
demo:
	$(GO) run ./cmd/simulator demo

# serve runs the processor until Ctrl-C / SIGTERM.
serve:
	$(GO) run ./cmd/processor

test:
	$(GO) test -race -count=1 ./...

# fuzz runs each fuzz target for FUZZTIME (go test -fuzz takes one target per
# run). Their seed corpora (testdata/fuzz/) already run in `make test`; a
# crasher is written there, and stays as a seed once fixed.
FUZZTIME ?= 30s
FUZZ_TARGETS = FuzzDecodeStoredCommand:./messages FuzzDecide:./handlers/rules
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t%%:*} ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) "$${t#*:}"; \
	done

# faults: only the fault tests (also in make test), verbose so that each prints its recovery line
# (simulator/faulttest: Redis, NATS and the processor killed under load and restarted).
faults:
	$(GO) test -race -count=1 -v -run 'TestFault_' ./simulator/faulttest/

# check is what CI runs before the tests: formatting and vet.
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# The simulator's long runs (see README, "The simulator").
# soak moves the clock 48 h a step so that its ten minutes span months: renewals,
# billing periods, trial ends and legacy suspensions happen, and every money rule is checked.
soak:
	$(GO) run ./cmd/simulator load -rate 5000 -duration 10m -step-sim 48h -report sim-soak.html -json sim-soak.json

year:
	$(GO) run ./cmd/simulator year -customers 1000 -days 365 -report sim-year.html -json sim-year.json

scenarios:
	$(GO) run ./cmd/simulator scenario simulator/scenarios/*.json

bench:
	$(GO) run ./cmd/simulator bench

# cluster: the whole system on loopback (3 NATS nodes, a Redis Cluster of 3 masters x 2 replicas,
# 3 processor replicas sharing the partitions) under a minute of the simulator's load.
cluster:
	$(GO) run ./cmd/simulator cluster -replicas 3 -rate 300 -duration 60s -report sim-cluster.html

# test-cluster: the tests that run whole local clusters of server processes (build tag "cluster"; not in
# make test, whose parallel packages starve a forming cluster's elections on 2 cores). A 3-node JetStream
# cluster from the shipped config: its stream leader killed and the node taken back; publishers storing
# through a leader kill and through 10158; consumer leaders spread after restarts; the processor losing
# and repeating nothing while the command stream leader is killed. Then the whole system under load: a
# processor replica, the command stream's NATS leader and a Redis master SIGKILLed and restarted, growth
# from 2 to 3 replicas; nothing lost, duplicated or out of order, each fault's recovery in one table.
# About 4 minutes.
CLUSTER_TESTS = TestClusterFromShippedConfig|TestStartup_|TestStore_|TestSpreadConsumerLeaders_|TestG1_G7_NothingLost|TestCluster_
test-cluster:
	$(GO) test -tags cluster -race -count=1 -p 1 -timeout 20m -v -run '$(CLUSTER_TESTS)' ./messages/bus/... ./handlers/ ./simulator/cluster/

# cluster-sizing: commands/s achieved, p99, the replicas' counters and the cores each kind of server used, with 1, 2
# and 3 processor replicas at three offered rates (the last above what this 2-core machine carries). About 7 minutes.
cluster-sizing:
	$(GO) run ./cmd/simulator cluster -sizing 1,2,3 -sizing-rates 150,400,1000 -step-sim 336h -duration 20s

# clean: what the targets above leave in the working copy (reports, the embedded servers' ./data, built
# binaries, profiles). Their scratch clusters live in temporary directories removed at their end.
clean:
	rm -rf ./data ./bin ./tmp ./processor ./cspctl sim-*.html sim-*.json bench-*.html bench.json *.out *.test

# schemas: write messages/schemas/ (JSON Schema of every command and event) anew from the Go types; make test
# fails while they differ.
schemas:
	$(GO) test ./messages -run 'TestSchemasAreCurrent|TestAsyncAPIDocumentIsCurrent' -count=1 -update
