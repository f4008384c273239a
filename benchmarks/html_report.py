"""The --html report at scale, and the README's screenshot.

    python benchmarks/html_report.py --clusters 10000          # file size, build and load times
    python benchmarks/html_report.py --screenshot docs/report-screenshot.png

Needs Debian's chromium and chromium-driver and ``pip install -e '.[browser]'``. The corpus
is a JSON Lines file of pairs of copies (an article and an edited copy, every fourth copy
wrapped in 40 lines of navigation), written to a temporary folder; docs/benchmarks.md has
the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dedup import ScanConfig, scan
from dedup.html_report import build_html

ROOT = Path(__file__).resolve().parent.parent
WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "ru", "so", "ta", "vi", "we", "zu") for b in ("n", "r", "s", "t", "x", "la", "mo", "pe", "qi", "do")]  # fmt: skip


def corpus(path: Path, clusters: int, seed: int = 7) -> Path:
    """``clusters`` pairs of copies as JSON Lines (as tests/test_html_report.py makes them)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(clusters):
            words = [rng.choice(WORDS) for _ in range(120 + (i % 7) * 20)]
            lines = [" ".join(words[j : j + 15]) + "." for j in range(0, len(words), 15)]
            copy = list(lines)
            copy[1] = copy[1].replace(words[16], "edited", 1)
            if i % 4 == 0:
                copy = [f"menu home item {k} of site" for k in range(40)] + copy
            f.write(json.dumps({"id": f"a{i}", "text": "\n".join(lines)}) + "\n")
            f.write(json.dumps({"id": f"b{i}", "text": "\n".join(copy)}) + "\n")
    return path


def browser(width: int = 1300, height: int = 1000) -> Any:
    """Headless Debian chromium through /usr/bin/chromedriver (nothing downloaded)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--window-size={width},{height}", f"--user-data-dir={tempfile.mkdtemp(prefix='dedup-chromium-')}"):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def load_seconds(driver: Any, page: Path) -> float:
    """From navigation to the list drawn (``document.body.dataset.ready``)."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    started = time.perf_counter()
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 120, poll_frequency=0.02).until(
        lambda d: d.execute_script("return document.body.dataset.ready") == "1"
    )
    return time.perf_counter() - started


def measure(clusters: int) -> None:
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory() as tmp:
        path = corpus(Path(tmp) / "pairs.jsonl", clusters)
        config = ScanConfig()
        started = time.perf_counter()
        result = scan([path], config)
        scanned = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        page_text = build_html(result, config)
        built, built_cpu = time.perf_counter() - started, time.process_time() - cpu
        page = Path(tmp) / "report.html"
        page.write_text(page_text, "utf-8")
        size = page.stat().st_size
        driver = browser()
        try:
            loads = [load_seconds(driver, page) for _ in range(3)]
            search = driver.find_element(By.ID, "search")
            started = time.perf_counter()
            search.send_keys("pairs.jsonl:b9")
            searched = time.perf_counter() - started
        finally:
            driver.quit()
    print(f"clusters {result.summary.clusters:,}, documents {result.summary.documents:,}")
    embedded = page_text.split('id="data-texts" data-clusters="', 1)[1].split('"', 1)[0]
    print(
        f"scan {scanned:.1f} s, build_html {built:.1f} s ({built_cpu:.1f} s of CPU), file {size / 1e6:.2f} MB, texts of {int(embedded):,} clusters"
    )
    print(f"load to drawn list: median {statistics.median(loads):.2f} s ({', '.join(f'{x:.2f}' for x in loads)})")
    print(f"typing a 14-character search (the list redrawn per key): {searched:.2f} s")


def screenshot(out: Path) -> None:
    """The samples report with the wrapped copy's side-by-side view open."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    config = ScanConfig()
    os.chdir(ROOT)  # the page names the folder as given: "samples", as in the README
    result = scan(["samples"], config)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "samples.html"
        page.write_text(build_html(result, config), "utf-8")
        driver = browser(1280, 1800)
        try:
            load_seconds(driver, page)
            driver.find_element(By.CSS_SELECTOR, "tr.cluster-row").click()
            driver.find_element(By.CSS_SELECTOR, "button.compare").click()
            WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".member-side .text span"))
            driver.execute_script("window.scrollTo(0, 0)")
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument("--screenshot", type=Path, help="write the samples report's screenshot here instead")
    args = parser.parse_args(argv)
    if args.screenshot:
        screenshot(args.screenshot)
    else:
        measure(args.clusters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
