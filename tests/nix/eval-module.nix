# Evaluates nix/module.nix with the stub lib and pkgs: the option defaults,
# then `config` for the given option values. Used by test_nix.py through
#   nix-instantiate --eval --strict --json tests/nix/eval-module.nix --arg values '{...}'
{
  values ? { },
  systemdVersion ? "256.8",
}:
let
  lib = import ./stub-lib.nix;
  fakeStorePath = name: "${builtins.storeDir}/00000000000000000000000000000000-${name}";
  script = name: text: {
    inherit name text;
    outPath = fakeStorePath name;
  };
  pkgs = {
    writeShellScript = script;
    writeShellScriptBin = name: text: script name text;
    python311Packages.callPackage = _: _: throw "the package default was forced";
  };
  package = {
    outPath = fakeStorePath "tp-capital-0.1.0";
    meta.mainProgram = "tpcap";
  };
  systemd = {
    version = systemdVersion;
    outPath = fakeStorePath "systemd-${systemdVersion}";
  };

  module = import ../../nix/module.nix;
  declared =
    (module {
      config = { };
      inherit lib pkgs;
    }).options.services.tp-capital-gateway;

  defaults = builtins.mapAttrs (_: option: option.default) (removeAttrs declared [ "package" ]);
  cfg = defaults // { inherit package; } // values;

  evaluated = module {
    config = {
      services.tp-capital-gateway = cfg;
      systemd.package = systemd;
    };
    inherit lib pkgs;
  };
  content = evaluated.config.content;
in
{
  options = builtins.attrNames declared;
  inherit defaults;
  typeErrors = builtins.filter (name: !(declared.${name}.type.check values.${name})) (
    builtins.attrNames values
  );
  enabled = evaluated.config.condition;
  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) content.assertions);
  service = content.systemd.services.tp-capital-gateway;
  loginText = (builtins.head content.environment.systemPackages).text;
  users = content.users;
  firewallPorts = content.networking.firewall.allowedTCPPorts;
}
