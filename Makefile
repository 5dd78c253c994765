# SUMU monorepo entry points. Each target installs what it needs first (uv from PyPI when it is
# missing, the workspace from uv.lock), so on a fresh machine `make up` and `make test` are all
# there is to type.
SHELL := /bin/bash
UV := python3 -m uv
PKG ?=
RANGE ?= origin/main...HEAD

.PHONY: help bootstrap up test pipeline affected fmt

help:
	@echo "make up                 run the whole stack on this machine (sumu up)"
	@echo "make test               lint, typecheck and test every package, then the cross-package tests"
	@echo "make pipeline PKG=dir   one package's pipeline (what its buildspec.yml runs): lint, typecheck, test, build into dist/"
	@echo "make affected RANGE=a..b the packages whose pipelines a git range must run"

bootstrap:
	@tools/bootstrap

up:
	@SUMU_SKIP_BROWSER=1 tools/bootstrap
	$(UV) run --frozen sumu up

test: bootstrap
	@tools/test-all

pipeline: bootstrap
	@test -n "$(PKG)" || { echo "usage: make pipeline PKG=services/pusher"; exit 2; }
	@tools/pipeline "$(PKG)"

affected:
	@$(UV) run --frozen python tools/affected.py "$(RANGE)"

fmt:
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .
