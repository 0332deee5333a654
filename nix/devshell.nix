# `nix develop`: Python 3.11 with the project installed editable (app/ is
# imported from the work tree, `tpcap` is on PATH), its runtime and test
# dependencies, and every tool the README and the tests use. Not here:
# Vagrant (unfree in nixpkgs since its licence change: use the host's) and
# Nix itself (the host's `nix-instantiate` serves tests/nix).
{
  lib,
  mkShell,
  python311,
  ruff,
  postgresql_15,
  wrk,
  docker-client,
  docker-compose,
  git,
}:
let
  project = import ./pyproject.nix { pyproject = lib.importTOML ../pyproject.toml; };

  # a PEP 660 editable install pointing at the checkout (see shellHook)
  editable = python311.pkgs.mkPythonEditablePackage {
    inherit (project) pname version scripts;
    root = "$TPCAP_ROOT";
    dependencies = map (name: python311.pkgs.${name}) project.dependencies;
  };

  python = python311.withPackages (ps: [
    editable
    # [project.optional-dependencies].dev, less ruff (the binary below)
    ps.pytest
    ps.pytest-asyncio
    # deployment: ansible/ and its Molecule scenarios (docker driver)
    ps.ansible # the collections (community.docker, ansible.posix, ...)
    ps.ansible-core
    ps.molecule
    ps.molecule-plugins
    ps.docker
    ps.requests
  ]);
in
mkShell {
  packages = [
    python
    ruff
    postgresql_15 # initdb, pg_ctl, psql, pgbench: the tests start their own server
    wrk # tests/perf/bench_api.py
    docker-client # the deployment tests and Molecule talk to the host's engine
    docker-compose
    git
  ];

  # the tests and `tpcap local` find the server binaries here
  PG_BINDIR = "${lib.getBin postgresql_15}/bin";

  # the editable install's .pth expands $TPCAP_ROOT when Python starts
  shellHook = ''
    export TPCAP_ROOT="$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
  '';
}
