# Sourced by the scripts: make "$VENV" (default .venv) a virtualenv installed from the current
# pyproject.toml.  scripts/install stamps the venv with a hash of pyproject.toml and the
# constraints it used; a venv without the stamp, or stamped from another pyproject.toml (a
# dependency or an extra added since), is installed again, with the same constraints, so a
# check never runs against a venv that predates the project's own dependencies.
VENV="${VENV:-.venv}"
STAMP="$VENV/.fastapi-boundary-install"

pyproject_hash() {
    cksum pyproject.toml | cut -d ' ' -f 1
}

ensure_venv() {
    local stored_hash="" stored_constraints=""
    if [ -f "$STAMP" ]; then
        { read -r stored_hash; read -r stored_constraints; } <"$STAMP" || true
    fi
    if [ ! -x "$VENV/bin/python" ] || [ "$stored_hash" != "$(pyproject_hash)" ]; then
        echo "scripts: installing $VENV from pyproject.toml" >&2
        VENV="$VENV" CONSTRAINTS="${CONSTRAINTS:-$stored_constraints}" scripts/install >&2
    fi
}
