# Just enough of nixpkgs' `lib` to evaluate nix/module.nix without nixpkgs
# (not reachable here). Each function mirrors the real one's result for the
# arguments the module uses; option types carry a `check` the harness applies.
let
  inherit (builtins)
    all
    attrNames
    attrValues
    concatStringsSep
    elem
    isAttrs
    isBool
    isInt
    isList
    isString
    match
    replaceStrings
    stringLength
    substring
    ;
  type = name: check: { inherit name check; };
in
rec {
  mkOption = attrs: attrs;
  mkEnableOption = what: {
    default = false;
    type = types.bool;
    description = "Whether to enable ${what}.";
  };
  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  literalExpression = text: {
    _type = "literalExpression";
    inherit text;
  };

  types = {
    str = type "str" isString;
    bool = type "bool" isBool;
    int = type "int" isInt;
    package = type "package" isAttrs;
    port = type "port" (x: isInt x && x >= 0 && x <= 65535);
    ints = {
      positive = type "positive int" (x: isInt x && x > 0);
      between = lo: hi: type "int between" (x: isInt x && x >= lo && x <= hi);
    };
    strMatching = re: type "strMatching" (x: isString x && match re x != null);
    enum = values: type "enum" (x: elem x values);
    nullOr = t: type "nullOr" (x: x == null || t.check x);
    listOf = t: type "listOf" (x: isList x && all t.check x);
    nonEmptyListOf = t: type "nonEmptyListOf" (x: isList x && x != [ ] && all t.check x);
    attrsOf = t: type "attrsOf" (x: isAttrs x && all t.check (attrValues x));
  };

  hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;
  optional = cond: x: if cond then [ x ] else [ ];
  concatMapStrings = f: list: concatStringsSep "" (map f list);
  concatMapStringsSep = sep: f: list: concatStringsSep sep (map f list);
  inherit concatStringsSep;
  mapAttrsToList = f: attrs: map (n: f n attrs.${n}) (attrNames attrs);
  escapeShellArg = arg: "'${replaceStrings [ "'" ] [ "'\\''" ] (toString arg)}'";
  getExe = pkg: "${pkg}/bin/${pkg.meta.mainProgram}";
}
