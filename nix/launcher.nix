# The gateway's ExecStart: systemd hands each LoadCredential= file to the
# service in $CREDENTIALS_DIRECTORY (readable only by it); this turns them
# into the environment variables tpcap reads, then execs tpcap with the
# arguments given. Builtins only apart from the arguments (tests run it).
{
  writeShellScript, # pkgs.writeShellScript
  name,
  exe, # the tpcap executable
  credentials, # variable names
}:
writeShellScript name ''
  set -eu
  ${builtins.concatStringsSep "" (
    map (variable: ''
      ${variable}="$(cat "$CREDENTIALS_DIRECTORY/${variable}")"
      export ${variable}
    '') credentials
  )}
  exec ${exe} "$@"
''
