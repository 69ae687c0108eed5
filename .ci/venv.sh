# Sourced by .ci/run and .ci/test: makes .venv-ci (if missing) and installs the
# project into it with its test and postgres extras. Sets CI_PYTHON.
# A second sourcing in a child script finds the install done and skips it.

CI_VENV="${CI_VENV:-.venv-ci}"
CI_PYTHON="$CI_VENV/bin/python"

if [[ "${LICENSEBOT_CI_VENV_READY:-}" != 1 ]]; then
    if [[ ! -x "$CI_PYTHON" ]]; then
        echo "ci: creating $CI_VENV"
        python3 -m venv "$CI_VENV"
    fi
    echo "ci: installing the project with its test and postgres extras into $CI_VENV"
    "$CI_PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test,postgres]"
    export LICENSEBOT_CI_VENV_READY=1
fi
