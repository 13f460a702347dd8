"""Small modules: no source file grows into a grab-bag (STYLE R14)."""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_LINES = 400


def test_every_module_stays_under_the_line_budget():
    oversized = {}
    for folder in ("graphc", "passes", "runtime", "tools"):
        for path in (ROOT / folder).rglob("*.py"):
            count = len(path.read_text().splitlines())
            if count > MAX_LINES:
                oversized[str(path.relative_to(ROOT))] = count
    assert not oversized, f"split these modules (limit {MAX_LINES} lines): {oversized}"
