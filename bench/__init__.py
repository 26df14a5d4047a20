"""The benchmark (``bench/run``; see bench/README.md).

The LiteLLM installer and launcher are the tests' own (``tests/support``), shared rather than copied, so the
package puts ``tests`` on the import path for every ``bench.*`` module.
"""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
