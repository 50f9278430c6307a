# shellcheck shell=bash
# Sourced by the deployment scripts (infra/deploy-checks.sh, infra/deploy-apply.sh): how `terraform
# init` gets the AWS provider. Offline machines cannot reach the registry, but images often ship the
# provider in a plugin directory (`terraform init -plugin-dir DIR`); this finds one.
#
#   tf_plugin_dir     prints the plugin directory to use, or nothing (then init uses the registry):
#                     $DELTAONE_TF_PLUGIN_DIR when set (it must hold the provider), else the first
#                     of the usual plugin roots holding registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/
#   tf_init DIR       terraform init -backend=false in DIR, with -plugin-dir when one was found
#
# A TF_CLI_CONFIG_FILE naming a missing file only makes terraform print a warning on every command;
# it is ignored here.

if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
  unset TF_CLI_CONFIG_FILE
fi

_tf_platform() {
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch=$(uname -m) ;;
  esac
  printf '%s_%s\n' "$(uname -s | tr '[:upper:]' '[:lower:]')" "$arch"
}

# _tf_has_aws DIR: DIR is a plugin directory holding the AWS provider for this platform.
_tf_has_aws() {
  compgen -G "$1/registry.terraform.io/hashicorp/aws/*/$(_tf_platform)/terraform-provider-aws*" >/dev/null
}

tf_plugin_dir() {
  if [ -n "${DELTAONE_TF_PLUGIN_DIR:-}" ]; then
    if ! _tf_has_aws "$DELTAONE_TF_PLUGIN_DIR"; then
      echo "terraform: DELTAONE_TF_PLUGIN_DIR=$DELTAONE_TF_PLUGIN_DIR holds no registry.terraform.io/hashicorp/aws/<version>/$(_tf_platform)/terraform-provider-aws*" >&2
      return 1
    fi
    printf '%s\n' "$DELTAONE_TF_PLUGIN_DIR"
    return 0
  fi
  local data=${XDG_DATA_HOME:-$HOME/.local/share} dir
  # Terraform's own implied local-mirror directories, then where machine images tend to put them.
  for dir in "$HOME/.terraform.d/plugins" "$data/terraform/plugins" /usr/local/share/terraform/plugins \
    /usr/share/terraform/plugins /opt/terraform/plugins /opt/tf-plugins /opt/terraform-plugins; do
    if [ -d "$dir" ] && _tf_has_aws "$dir"; then
      printf '%s\n' "$dir"
      return 0
    fi
  done
}

tf_init() {
  local dir=$1 plugins args=(-backend=false -input=false -no-color)
  plugins=$(tf_plugin_dir) || return 1
  if [ -n "$plugins" ]; then
    args+=("-plugin-dir=$plugins")
  fi
  (cd "$dir" && timeout "${DELTAONE_TF_INIT_TIMEOUT:-120}" terraform init "${args[@]}")
}
