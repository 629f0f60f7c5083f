"""`zhiyuan rollup recycling` against the running api role: the catalog is
all the CLI needs to export recycling's rollup as CSV."""

from __future__ import annotations

import csv
import io

import pytest

from tests.integration.test_cli import zhiyuan
from tests.integration.test_recycling_flow import Rec

pytestmark = pytest.mark.integration


def test_rollup_export_of_recycling(migrated, apis, stubs, token):
    rec = Rec(stubs("recycling"), token)
    county = token("610113")
    rec.collect(county, [rec.bin(county).code])  # so Yanta has a row
    done = zhiyuan(
        migrated, "rollup", "recycling", "--division", "6101", "--group-by", "county"
    )
    assert done.returncode == 0, done.stderr
    table = list(csv.reader(io.StringIO(done.stdout)))
    assert table[0][:5] == ["division_code", "division_name", "month", "events",
                            "kg_textiles"]  # fmt: skip
    assert "bins_deployed" in table[0] and "bookings_collected" in table[0]
    yanta = {row[0]: row for row in table[1:]}["610113"]
    assert yanta[1] == "雁塔区" and float(yanta[3]) >= 1
    assert table[-1][0] == "6101"  # the total row
