#!/usr/bin/env bash
# Deployment checks over terraform/, run by tests/run.sh (and by hand: `bash infra/deploy-checks.sh`):
#
#   1. terraform fmt -check -recursive      when a terraform binary is on PATH
#   2. terraform init + validate per root   every module and example; the AWS provider (>= 5.100,
#                                           < 7.0) from a local plugin directory when one is found
#                                           (DELTAONE_TF_PLUGIN_DIR, or the usual plugin roots: see
#                                           infra/terraform-env.sh), else from the registry. An init
#                                           that cannot get the provider FAILS: a provider constraint
#                                           nothing can meet is a broken change, not a reason to skip.
#   3. checkov over terraform/              always; installed from infra/deploy-requirements.txt
#                                           into its own cached virtualenv; any failed check fails
#
# Only a machine without a terraform binary prints SKIP (for steps 1 and 2), and says why. Exit
# status: 0 when every step that ran passed, 1 otherwise.
#
# Environment: DELTAONE_CACHE (default ~/.cache/deltaone) holds the virtualenv; PYTHON (python3);
# DELTAONE_TF_PLUGIN_DIR: a provider directory for offline `terraform init -plugin-dir`;
# DELTAONE_TF_INIT_TIMEOUT: seconds `terraform init` may take (default 120).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
req="$root/infra/deploy-requirements.txt"
failed=0
say() { printf '%s\n' "deploy-checks: $*"; }

# 1 + 2: terraform
source infra/terraform-env.sh
if ! command -v terraform >/dev/null 2>&1; then
  say "SKIP terraform fmt and validate: no terraform binary on PATH (install Terraform >= 1.6 to run them)"
else
  if terraform fmt -check -recursive -diff terraform; then
    say "terraform fmt: ok"
  else
    say "FAIL terraform fmt: run 'terraform fmt -recursive terraform'"
    failed=1
  fi
  # init writes .terraform/ and a lock file: work on a copy so that the tree stays clean.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -R terraform "$work/"
  if ! plugins=$(tf_plugin_dir); then
    failed=1
  fi
  say "terraform init: the AWS provider from ${plugins:-the registry (no local plugin directory found; set DELTAONE_TF_PLUGIN_DIR to use one)}"
  for dir in "$work"/terraform/modules/* "$work"/terraform/examples/*; do
    name=${dir#"$work/"}
    if ! out=$(tf_init "$dir" 2>&1); then
      printf '%s\n' "$out" | grep -E -A3 'Error' | sed 's/^[│ ]*//' >&2 || true
      say "FAIL terraform validate $name: 'terraform init' could not install an AWS provider meeting the constraints from ${plugins:-the registry}"
      failed=1
      continue
    fi
    if (cd "$dir" && terraform validate -no-color); then
      say "terraform validate $name: ok"
    else
      say "FAIL terraform validate $name"
      failed=1
    fi
  done
fi

# 3: checkov, from its own cached virtualenv (not the local stack's: it pins other versions).
venv=$(bash infra/localstack/ensure-venv.sh "$req" venv-deploy)
say "checkov $("$venv/bin/checkov" --version) over terraform/ (waivers: '#checkov:skip=' next to each resource)"
if "$venv/bin/checkov" --directory terraform --framework terraform --quiet --compact --skip-download \
  --output cli; then
  say "checkov: 0 failed checks"
else
  say "FAIL checkov: the failed checks are listed above; fix them, or waive one next to its resource with '#checkov:skip=CKV_...:<the reason>'"
  failed=1
fi

exit "$failed"
