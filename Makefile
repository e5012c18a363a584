# The few verbs a newcomer needs; each is one line in the README.
.PHONY: run demo test lint services stop-services

run:            ## install and run the service on the embedded default (SQLite, no Kafka)
	scripts/bootstrap.sh && .venv/bin/failsafe serve

demo:           ## install and run a live demo: seeded watchlist, simulated traffic, dashboard
	scripts/bootstrap.sh && .venv/bin/failsafe demo

test:           ## install, start PostgreSQL and Kafka, lint, type-check, run every test
	scripts/test.sh

lint:
	.venv/bin/ruff check && .venv/bin/mypy

services:       ## start PostgreSQL and Kafka for development and leave them running
	scripts/postgres.sh start failsafe && scripts/kafka.sh start

stop-services:
	scripts/kafka.sh stop; scripts/postgres.sh stop
