"""The live gateway's OpenAPI document: it validates (openapi-spec-validator),
every path template variable is a declared parameter, transcoded GET routes
declare their query parameters, the certificate PDF is documented as a PDF;
and schemathesis, fuzzing every operation with a bounded number of cases as
a county admin, gets no 5xx answer."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from tests.e2e.conftest import PASSWORD, login

pytestmark = pytest.mark.e2e
# A seeded county the other e2e tests leave alone: the fuzzer's writes (it
# may create organisations, accounts …) stay inside its subtree.
FUZZ_COUNTY = "610602"
MAX_EXAMPLES = 5


@pytest.fixture(scope="module")
def document(platform) -> dict:  # type: ignore[no-untyped-def]
    base, _env, _procs = platform
    got = httpx.get(f"{base}/openapi.json", timeout=30)
    assert got.status_code == 200
    return got.json()


def operations(document: dict):  # type: ignore[no-untyped-def]
    for path, item in document["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_the_document_validates(document) -> None:  # type: ignore[no-untyped-def]
    validate(document)
    assert len(list(operations(document))) >= 100


def test_every_path_template_variable_is_declared(document) -> None:  # type: ignore[no-untyped-def]
    missing = []
    for path, method, op in operations(document):
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        wanted = set(re.findall(r"{(\w+)}", path))
        if declared != wanted:
            missing.append(f"{method.upper()} {path}: {sorted(wanted - declared)}")
        for p in op.get("parameters", []):
            if p["in"] == "path":
                assert p["required"] is True, (method, path, p["name"])
    assert missing == []


def test_transcoded_get_routes_declare_their_query_parameters(document) -> None:  # type: ignore[no-untyped-def]
    def query(path: str) -> set[str]:
        op = document["paths"][path]["get"]
        return {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}

    # ListProjects (division_code, status, page) and ListBins (transcoded).
    assert {"division_code", "status", "page_size", "page_token"} <= query(
        "/api/v1/projects"
    )
    assert {"page_size", "page_token"} <= query("/api/v1/recycling/bins")


def test_the_certificate_pdf_is_documented_as_a_pdf(document) -> None:  # type: ignore[no-untyped-def]
    ok = document["paths"]["/api/v1/certificates/{number}/pdf"]["get"]["responses"]
    assert set(ok["200"]["content"]) == {"application/pdf"}
    assert ok["200"]["content"]["application/pdf"]["schema"] == {
        "type": "string",
        "format": "binary",
    }


def test_schemathesis_finds_no_server_error(platform, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base, _env, _procs = platform
    province = login(base, "sx-admin")
    username = f"fuzz-{FUZZ_COUNTY}"
    created = httpx.post(
        f"{base}/api/v1/accounts",
        headers=province,
        json={
            "username": username,
            "password": PASSWORD,
            "display_name": "schemathesis",
            "scope_code": FUZZ_COUNTY,
            "roles": ["tenant_admin"],
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    token = login(base, username)["authorization"]
    st = Path(sys.executable).parent / "st"
    command = [
        str(st),
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: {token}",
        "--checks",
        "not_a_server_error",
        "--phases",
        "fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261204",
        "--no-shrink",
        "--workers",
        "2",
        "--request-timeout",
        "30",
    ]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    summary = done.stdout[-3000:]
    print(summary)
    assert done.returncode == 0, summary + done.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", done.stdout)
    assert tested and int(tested.group(1)) >= 100, summary
    assert re.search(r"(\d+) generated, \1 passed", done.stdout), summary
