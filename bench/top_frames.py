"""The top entries of a py-spy profile in its raw (collapsed stacks) format.

    .venv/bin/python bench/top_frames.py PROFILE [--top 15]

Prints the functions where the samples were (self), and the functions on the stack when
they were (total), each as a share of all samples.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        samples += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            total[frame] += int(count)
    print(f"{samples} samples\n\n| self | function |\n| ---: | --- |")
    for frame, count in own.most_common(args.top):
        print(f"| {count / samples:.1%} | `{frame}` |")
    print("\n| total | function |\n| ---: | --- |")
    for frame, count in total.most_common(args.top):
        print(f"| {count / samples:.1%} | `{frame}` |")


if __name__ == "__main__":
    main()
