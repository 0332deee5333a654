# The tp-capital package (console command `tpcap`), built from pyproject.toml
# with its setuptools backend. Name, version and runtime dependencies come
# from pyproject.toml (see pyproject.nix), so pip and Nix install the same set.
#
#   python311Packages.callPackage ./package.nix { }              # the package
#   python311Packages.callPackage ./package.nix { runTests = true; }  # + the pytest suite
{
  lib,
  python,
  buildPythonApplication,
  setuptools,
  wheel,
  mypy,
  pytestCheckHook,
  pytest-asyncio,
  postgresql_15,
  runTests ? false,
}:
let
  project = import ./pyproject.nix { pyproject = lib.importTOML ../pyproject.toml; };
  fs = lib.fileset;
in
buildPythonApplication {
  inherit (project) pname version;
  pyproject = true;

  # only what the build and the tests read: editing the flake, the docs or
  # the deployment files does not rebuild the package
  src = fs.toSource {
    root = ../.;
    fileset = fs.unions [
      ../pyproject.toml
      ../setup.py
      ../README.md
      ../app
      ../sql # app/sql is a symlink to it
      ../tests
    ];
  };

  # mypy brings mypyc: setup.py compiles the signal parser to C (docs/parser.md)
  build-system = [
    setuptools
    wheel
    mypy
  ];

  # tornado, telethon, aiopg (brings psycopg2), prometheus-client,
  # marshmallow, tenacity, apispec: pyproject.toml's [project].dependencies
  dependencies = map (name: python.pkgs.${name}) project.dependencies;

  pythonImportsCheck = [
    "app.cli"
    "app.api.main"
    "app.gateway.main"
    "app.workspace.main"
  ];

  # The whole pytest suite against a real PostgreSQL 15 that the test harness
  # starts itself (initdb as the build user, socket and data in $TMPDIR,
  # loopback only). Tests needing Docker, Ansible, Vagrant or Nix skip here.
  doCheck = runTests;
  nativeCheckInputs = lib.optionals runTests [
    pytestCheckHook
    pytest-asyncio
    postgresql_15
  ];
  preCheck = lib.optionalString runTests ''
    export HOME="$TMPDIR"
    export PG_BINDIR=${lib.getBin postgresql_15}/bin
  '';

  passthru = { inherit project; };

  meta = {
    description = "TP Capital appliance: Telegram signals gateway, signals api and workspace service";
    # pyproject.toml says "Proprietary"; no `license` here, since marking it
    # unfree would make every `nix build`/`nix run` need NIXPKGS_ALLOW_UNFREE
    mainProgram = "tpcap";
    platforms = lib.platforms.unix;
  };
}
