# `nix flake check` (Linux): the module evaluated by the real NixOS module
# system in a minimal container configuration, no failed assertion, and the
# rendered unit passing `systemd-analyze verify` and the same exposure
# threshold the Ansible role's Molecule verify asserts (2.0, i.e. 20 here).
{
  nixpkgs,
  pkgs,
  module,
  package,
}:
let
  system = nixpkgs.lib.nixosSystem {
    inherit (pkgs.stdenv.hostPlatform) system;
    modules = [
      module
      {
        boot.isContainer = true;
        system.stateVersion = "25.05";
        services.tp-capital-gateway = {
          enable = true;
          inherit package;
          telegramApiId = 12345;
          channels = [ "-1001234567890" ];
          credentials.API_SECRET_TOKEN = "/run/keys/tpcap-gateway-token";
          credentials.TELEGRAM_API_HASH = "/run/keys/tpcap-telegram-api-hash";
        };
      }
    ];
  };
  failed = map (a: a.message) (builtins.filter (a: !a.assertion) system.config.assertions);
  unit = system.config.systemd.units."tp-capital-gateway.service".unit;
in
assert failed == [ ] || throw (builtins.concatStringsSep "\n" failed);
pkgs.runCommand "tp-capital-gateway-unit-check" { nativeBuildInputs = [ pkgs.systemd ]; } ''
  cp ${unit}/tp-capital-gateway.service .
  cat tp-capital-gateway.service
  systemd-analyze security --offline=true --threshold=20 ./tp-capital-gateway.service
  touch $out
''
