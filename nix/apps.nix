# `nix run .#<command> -- ARGS` for every `tpcap` sub-command, plus the
# default app (`nix run . -- COMMAND ARGS`). Builtins only apart from the
# arguments, so the tests can evaluate it without nixpkgs.
{
  package, # the tp-capital package
  writeShellScript, # pkgs.writeShellScript
}:
let
  # the `tpcap` sub-commands (app/cli.py COMMANDS); a test keeps the two equal
  commands = [
    "api"
    "gateway"
    "workspace"
    "migrate"
    "validate-env"
    "recover"
    "import-lowdb"
    "local"
    "parse"
    "reparse"
  ];

  app = name: program: {
    type = "app";
    inherit program;
    meta.description = "tpcap ${name}";
  };

  # a tiny launcher per command: the app's program must be one executable path
  launcher = name: writeShellScript "tpcap-${name}" ''
    exec ${package}/bin/tpcap ${name} "$@"
  '';
in
builtins.listToAttrs (
  map (name: {
    inherit name;
    value = app name (toString (launcher name));
  }) commands
)
// {
  default = app "(any command)" "${package}/bin/tpcap";
}
