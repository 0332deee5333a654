# NixOS module: the TP Capital Telegram gateway as a hardened systemd service,
# the NixOS twin of the Ansible role ansible/roles/tp_capital_gateway (same
# user, paths, environment, restart policy, limits and sandboxing).
#
#   imports = [ tp-capital.nixosModules.default ];
#   services.tp-capital-gateway = {
#     enable = true;
#     apiEndpoints = [ "http://10.0.0.5:4005" "http://10.0.0.6:4005" ];
#     channels = [ "-1001234567890" ];
#     telegramApiId = 1234567;
#     # secrets: files outside the Nix store, read by systemd at start
#     credentials.API_SECRET_TOKEN = "/run/keys/tpcap-gateway-token";
#     credentials.TELEGRAM_API_HASH = "/run/keys/tpcap-telegram-api-hash";
#   };
#
# First login (writes the Telethon session, 0600, in the state directory):
#   sudo tp-capital-gateway-login
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.tp-capital-gateway;
  inherit (lib) mkEnableOption mkIf mkOption types;

  name = "tp-capital-gateway";
  stateDir = "/var/lib/${name}";

  # Variables that hold secrets: never options (they would be written to the
  # world-readable store); only `environmentFile` or `credentials`.
  secretVariables = [
    "API_SECRET_TOKEN"
    "TELEGRAM_API_HASH"
    "TELEGRAM_SESSION"
    "TELEGRAM_INGESTION_BOT_TOKEN"
    "TELEGRAM_PHONE_NUMBER"
  ];

  inStore = path: lib.hasPrefix "${builtins.storeDir}/" path;
  optionalAttr = cond: attrs: if cond then attrs else { };

  # the non-secret environment: the same variables as the role's gateway.env.j2
  gatewayEnv = {
    GATEWAY_PORT = toString cfg.port;
    API_ENDPOINT = lib.concatStringsSep "," cfg.apiEndpoints;
    SESSION_DIR = "${stateDir}/.session";
    OUTBOX_PATH = "${stateDir}/data/outbox.sqlite3";
    FAILURE_QUEUE_PATH = "${stateDir}/data/failure-queue.jsonl";
    MAX_RETRY_ATTEMPTS = toString cfg.maxRetryAttempts;
    RETRY_DELAY_MS = toString cfg.retryDelayMs;
    LOG_LEVEL = cfg.logLevel;
  }
  // optionalAttr (cfg.telegramApiId != null) { TELEGRAM_API_ID = toString cfg.telegramApiId; }
  // optionalAttr (cfg.channels != [ ]) { TELEGRAM_CHANNELS = lib.concatStringsSep "," cfg.channels; }
  // optionalAttr (cfg.destinationChannel != null) {
    TELEGRAM_DESTINATION_CHANNEL_ID = cfg.destinationChannel;
  }
  // cfg.settings;

  launcher = import ./launcher.nix {
    inherit (pkgs) writeShellScript;
    name = "${name}-launcher";
    exe = lib.getExe cfg.package;
    credentials = builtins.attrNames cfg.credentials;
  };

  hardening = import ./hardening.nix { systemdVersion = config.systemd.package.version; };

  serviceConfig = hardening // {
    Type = "simple";
    User = cfg.user;
    Group = cfg.group;
    ExecStart = "${launcher} gateway";
    WorkingDirectory = stateDir;
    # ProtectSystem=strict leaves these writable; 0700 like the session check wants
    StateDirectory = [
      name
      "${name}/data"
      "${name}/.session"
    ];
    StateDirectoryMode = "0700";
    Restart = "on-failure";
    RestartSec = cfg.restartSec;
    # app/gateway/main.py: 2 bad configuration, 73 outbox held by another
    # gateway, 77 session readable by others, 78 session corrupt: an operator
    # must act, restarting cannot help
    RestartPreventExitStatus = lib.concatMapStringsSep " " toString cfg.restartPreventExitStatus;
    TimeoutStopSec = 30;
    KillSignal = "SIGTERM";
    SyslogIdentifier = name;
    MemoryMax = cfg.memoryMax;
    CPUQuota = cfg.cpuQuota;
    LimitNOFILE = cfg.limitNofile;
    TasksMax = 256;
  }
  // optionalAttr (cfg.environmentFile != null) { EnvironmentFile = cfg.environmentFile; }
  // optionalAttr (cfg.credentials != { }) {
    LoadCredential = lib.mapAttrsToList (variable: path: "${variable}:${path}") cfg.credentials;
  };

  # `tpcap gateway login` with the service's user, environment and credentials
  login = pkgs.writeShellScriptBin "${name}-login" ''
    exec ${config.systemd.package}/bin/systemd-run --pty --wait --collect --quiet \
      --unit=${name}-login \
      ${
        lib.concatMapStringsSep " \\\n  " lib.escapeShellArg (
          [
            "--uid=${cfg.user}"
            "--gid=${cfg.group}"
            "--property=StateDirectory=${lib.concatStringsSep " " serviceConfig.StateDirectory}"
            "--property=StateDirectoryMode=0700"
            "--property=WorkingDirectory=${stateDir}"
            "--property=UMask=0077"
          ]
          ++ lib.optional (cfg.environmentFile != null) "--property=EnvironmentFile=${cfg.environmentFile}"
          ++ lib.mapAttrsToList (v: p: "--property=LoadCredential=${v}:${p}") cfg.credentials
          ++ lib.mapAttrsToList (v: value: "--setenv=${v}=${value}") gatewayEnv
        )
      } \
      ${launcher} gateway login
  '';

  absolutePath = types.strMatching "/.+";
in
{
  options.services.tp-capital-gateway = {
    enable = mkEnableOption "the TP Capital Telegram gateway";

    package = mkOption {
      type = types.package;
      default = pkgs.python311Packages.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.python311Packages.callPackage ./nix/package.nix { }";
      description = "The tp-capital package (provides `tpcap`).";
    };

    user = mkOption {
      type = types.str;
      default = "tpcap-gateway";
      description = "System user the gateway runs as (created by the module).";
    };

    group = mkOption {
      type = types.str;
      default = "tpcap-gateway";
      description = "Group of the gateway's user (created by the module).";
    };

    port = mkOption {
      type = types.port;
      default = 4006;
      description = "Port of the gateway's /health and /metrics (GATEWAY_PORT).";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open `port` in the firewall (for a Prometheus on another host).";
    };

    apiEndpoints = mkOption {
      type = types.nonEmptyListOf (types.strMatching "https?://.+");
      default = [ "http://127.0.0.1:4005" ];
      description = "Signals api base URLs, tried in turn (API_ENDPOINT).";
    };

    telegramApiId = mkOption {
      type = types.nullOr types.ints.positive;
      default = null;
      description = "Telegram application id (TELEGRAM_API_ID); its hash is a secret: see `credentials`.";
    };

    channels = mkOption {
      type = types.listOf (types.strMatching "-?[0-9]+|@?[A-Za-z][A-Za-z0-9_]{3,31}");
      default = [ ];
      example = [ "-1001234567890" "@tp_capital" ];
      description = "Channels to receive, as marked ids or usernames (TELEGRAM_CHANNELS), besides the active source channels of the api's registry (read every CHANNEL_REFRESH_SECONDS); may be empty.";
    };

    destinationChannel = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Channel every message is forwarded to (TELEGRAM_DESTINATION_CHANNEL_ID).";
    };

    maxRetryAttempts = mkOption {
      type = types.ints.between 1 100;
      default = 3;
      description = "Publish attempts before an outbox entry is dead-lettered (MAX_RETRY_ATTEMPTS).";
    };

    retryDelayMs = mkOption {
      type = types.ints.between 1 3600000;
      default = 5000;
      description = "First retry delay in milliseconds, doubled each attempt (RETRY_DELAY_MS).";
    };

    logLevel = mkOption {
      type = types.enum [ "debug" "info" "warning" "error" ];
      default = "info";
      description = "LOG_LEVEL.";
    };

    settings = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        OUTBOX_MAX_BYTES = "209715200";
        CATCHUP_INTERVAL_S = "600";
      };
      description = ''
        Further non-secret environment variables of the gateway. They are
        written into the unit in the world-readable Nix store: secrets
        (${lib.concatStringsSep ", " secretVariables}) are refused here; use
        `environmentFile` or `credentials`.
      '';
    };

    environmentFile = mkOption {
      type = types.nullOr absolutePath;
      default = null;
      example = "/run/secrets/tp-capital-gateway.env";
      description = ''
        A `VAR=value` file outside the Nix store (EnvironmentFile=), read by
        systemd at each start, e.g. from sops-nix or agenix. A string, not a
        Nix path: a path literal would be copied into the store.
      '';
    };

    credentials = mkOption {
      type = types.attrsOf absolutePath;
      default = { };
      example = {
        API_SECRET_TOKEN = "/run/secrets/tpcap-gateway-token";
        TELEGRAM_API_HASH = "/run/secrets/tpcap-telegram-api-hash";
      };
      description = ''
        Environment variable name -> file outside the Nix store holding its
        value. Loaded with systemd's LoadCredential= (the service reads it
        from its private credentials directory, never from the store).
      '';
    };

    restartSec = mkOption {
      type = types.str;
      default = "10s";
      description = "RestartSec=.";
    };

    restartPreventExitStatus = mkOption {
      type = types.listOf types.int;
      default = [ 2 73 77 78 ];
      description = "Exit codes that need an operator, not a restart (see app/gateway/main.py).";
    };

    memoryMax = mkOption {
      type = types.str;
      default = "500M";
      description = "MemoryMax=.";
    };

    cpuQuota = mkOption {
      type = types.str;
      default = "50%";
      description = "CPUQuota=.";
    };

    limitNofile = mkOption {
      type = types.ints.positive;
      default = 65536;
      description = "LimitNOFILE=.";
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.environmentFile != null || cfg.credentials ? API_SECRET_TOKEN;
        message = "services.tp-capital-gateway: API_SECRET_TOKEN must come from `credentials.API_SECRET_TOKEN` or `environmentFile`.";
      }
      {
        assertion = cfg.telegramApiId != null || cfg.environmentFile != null;
        message = "services.tp-capital-gateway: set `telegramApiId` (or TELEGRAM_API_ID in `environmentFile`).";
      }
      {
        assertion =
          cfg.telegramApiId == null || cfg.environmentFile != null || cfg.credentials ? TELEGRAM_API_HASH;
        message = "services.tp-capital-gateway: TELEGRAM_API_HASH must come from `credentials.TELEGRAM_API_HASH` or `environmentFile`.";
      }
      {
        assertion = builtins.all (v: !(cfg.settings ? ${v})) secretVariables;
        message = "services.tp-capital-gateway: ${
          lib.concatStringsSep ", " (builtins.filter (v: cfg.settings ? ${v}) secretVariables)
        } in `settings` would be written to the world-readable Nix store; use `credentials` or `environmentFile`.";
      }
      {
        assertion = builtins.all (path: !(inStore path)) (
          builtins.attrValues cfg.credentials ++ lib.optional (cfg.environmentFile != null) cfg.environmentFile
        );
        message = "services.tp-capital-gateway: secret files must live outside the Nix store (${builtins.storeDir}).";
      }
      {
        assertion = builtins.all (v: builtins.match "[A-Z_][A-Z0-9_]*" v != null) (builtins.attrNames cfg.credentials);
        message = "services.tp-capital-gateway: `credentials` keys are environment variable names ([A-Z_][A-Z0-9_]*).";
      }
      {
        assertion = builtins.all (v: !(builtins.elem v [ "SESSION_DIR" "OUTBOX_PATH" "FAILURE_QUEUE_PATH" ])) (builtins.attrNames cfg.settings);
        message = "services.tp-capital-gateway: SESSION_DIR, OUTBOX_PATH and FAILURE_QUEUE_PATH live in ${stateDir} (StateDirectory=); they cannot be moved through `settings`.";
      }
    ];

    users.users.${cfg.user} = {
      isSystemUser = true;
      group = cfg.group;
      home = stateDir;
      description = "TP Capital Telegram gateway";
    };
    users.groups.${cfg.group} = { };

    systemd.services.${name} = {
      description = "TP Capital Telegram gateway";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      startLimitIntervalSec = 300;
      startLimitBurst = 10;
      environment = gatewayEnv;
      inherit serviceConfig;
    };

    environment.systemPackages = [ login ];

    networking.firewall.allowedTCPPorts = lib.optional cfg.openFirewall cfg.port;
  };
}
