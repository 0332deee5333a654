{
  description = "TP Capital appliance: Telegram signals gateway, signals api and workspace service";

  # The only input; anything added later follows it (inputs.<x>.inputs.nixpkgs.follows = "nixpkgs").
  # No flake.lock is committed: it could not be produced offline; the first
  # `nix flake lock` (or any flake command) pins this branch.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;

      forAllSystems =
        f: lib.genAttrs lib.systems.flakeExposed (system: f system nixpkgs.legacyPackages.${system});

      # Python 3.11, as in pyproject.toml's requires-python and the Debian targets
      tpCapital = pkgs: pkgs.python311Packages.callPackage ./nix/package.nix { };
    in
    {
      packages = forAllSystems (
        _system: pkgs: {
          default = tpCapital pkgs;
          tp-capital = tpCapital pkgs;
        }
      );

      # nix run .#api, .#gateway, .#workspace, .#migrate, .#validate-env,
      # .#recover, .#import-lowdb, .#local, .#parse, .#reparse (and `nix run . -- COMMAND`)
      apps = forAllSystems (
        system: pkgs:
        import ./nix/apps.nix {
          package = self.packages.${system}.default;
          inherit (pkgs) writeShellScript;
        }
      );

      devShells = forAllSystems (
        _system: pkgs: {
          default = pkgs.callPackage ./nix/devshell.nix { };
        }
      );

      checks = forAllSystems (
        system: pkgs: {
          # the pytest suite, with a PostgreSQL 15 started in the build sandbox
          pytest = self.packages.${system}.default.override { runTests = true; };
          devshell = self.devShells.${system}.default;
        }
        // lib.optionalAttrs pkgs.stdenv.hostPlatform.isLinux {
          # the NixOS module through the real module system; the unit's exposure
          nixos-module = import ./nix/module-check.nix {
            inherit nixpkgs pkgs;
            module = self.nixosModules.default;
            package = self.packages.${system}.default;
          };
        }
      );

      overlays.default = final: _prev: {
        tp-capital = tpCapital final;
      };

      nixosModules.default = ./nix/module.nix;

      formatter = forAllSystems (_system: pkgs: pkgs.nixfmt-rfc-style);
    };
}
