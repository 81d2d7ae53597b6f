"""``make bench``: run the benchmarks and print their figures."""

from __future__ import annotations

import argparse

from bench import import_bench


def main() -> None:
    parser = argparse.ArgumentParser(description="billing-bot benchmarks")
    parser.add_argument("--quick", action="store_true", help="small data sizes")
    args = parser.parse_args()
    invoices = 10_000 if args.quick else 100_000
    print("== import ==")
    for key, value in import_bench.run(invoices, None).items():
        print(f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
