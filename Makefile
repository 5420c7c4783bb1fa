# The two commands of the README:
#   make run    the processor (embedded NATS, private redis-server) plus the demo story
#   make test   every test, with the race detector, against real NATS and Redis

GO ?= go

.PHONY: run serve test check

run:
	$(GO) run ./cmd/processor -demo

# serve runs the processor until Ctrl-C / SIGTERM.
serve:
	$(GO) run ./cmd/processor

test:
	$(GO) test -race -count=1 ./...

# check is what CI runs before the tests: formatting and vet.
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
