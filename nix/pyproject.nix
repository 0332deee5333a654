# What the Nix side reads from pyproject.toml, so the package, the editable
# dev install and the tests agree with pip on one list. Builtins only: the
# tests evaluate this file without nixpkgs.
{
  pyproject ? builtins.fromTOML (builtins.readFile ../pyproject.toml),
}:
let
  inherit (builtins) head match replaceStrings;

  lower = replaceStrings
    [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" "_" "." ]
    [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" "-" "-" ];

  # "prometheus-client>=0.20" / "molecule-plugins[docker]==1" -> "prometheus-client":
  # the PEP 503 name, which is also the attribute name in pythonPackages
  attrName = requirement: lower (head (match "[[:space:]]*([A-Za-z0-9._-]+).*" requirement));
in
{
  inherit (pyproject.project) version scripts;
  pname = pyproject.project.name;
  dependencies = map attrName pyproject.project.dependencies;
  devDependencies = map attrName (pyproject.project.optional-dependencies.dev or [ ]);
}
