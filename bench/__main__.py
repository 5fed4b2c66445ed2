"""``python -m bench``: run the benchmarks, print their figures and ratios, write them as JSON.

``--smoke`` runs each for a few seconds to show that it works (CI does this through the test
suite); ``--only`` picks benchmarks by name.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

from bench.harness import BenchmarkFailed, Outcome, write_results
from tests.support.processes import StartupError

BENCHMARKS = ("throughput", "fill_latency", "schedule", "scale", "fanout")
DEFAULT_RESULTS = Path(__file__).parent / "results.json"


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks one after another; 1 if one of them did not work."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a seconds-long run of each")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=BENCHMARKS)
    parser.add_argument("--out", type=Path, default=DEFAULT_RESULTS, help="the JSON results")
    arguments = parser.parse_args(argv)
    outcomes: list[Outcome] = []
    failed = False
    for name in arguments.only:
        module = importlib.import_module(f"bench.{name}")
        with tempfile.TemporaryDirectory(prefix=f"sor-bench-{name}-") as workdir:
            try:
                outcome = module.run(Path(workdir), smoke=arguments.smoke)
            except (BenchmarkFailed, StartupError, AssertionError) as error:
                print(f"== {name}\n  FAILED    {error}", flush=True)
                failed = True
                continue
        print(outcome.render(), flush=True)
        outcomes.append(outcome)
    write_results(arguments.out, outcomes, smoke=arguments.smoke)
    print(f"results written to {arguments.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
