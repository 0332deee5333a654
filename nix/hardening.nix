# The gateway unit's sandboxing as NixOS `serviceConfig` attributes, from the
# shared list in gateway-hardening.json (also meant for the Ansible template).
# Builtins only, so the tests can evaluate it without nixpkgs.
#
#   import ./hardening.nix { systemdVersion = config.systemd.package.version; }
#   => { UMask = "0077"; ...; SystemCallFilter = [ "@system-service" "~@privileged @resources" ]; }
{
  systemdVersion,
  file ? ./gateway-hardening.json,
}:
let
  inherit (builtins) compareVersions filter foldl' fromJSON head length mapAttrs readFile;

  directives = (fromJSON (readFile file)).directives;

  supported = d: !(d ? min_systemd) || compareVersions (toString d.min_systemd) systemdVersion <= 0;

  # a repeated name (SystemCallFilter) becomes a list: one line per value in the unit
  grouped = foldl' (acc: d: acc // { ${d.name} = (acc.${d.name} or [ ]) ++ [ d.value ]; }) { } (
    filter supported directives
  );
in
mapAttrs (_: values: if length values == 1 then head values else values) grouped
