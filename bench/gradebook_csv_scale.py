"""Time the gradebook CSV of a seeded database in process: first chunk, whole download, CPU and wall time.

Signs in as the demo instructor through the Flask test client (which writes a session row: point it at a copy of
the seeded database, never at the one the final benchmark reads), then reads the CSV fully, several times, and
prints the medians. Run by hand, from the checkout whose code is to be measured:

    createdb -h 127.0.0.1 -U postgres -T lms_scale lms_scale_copy
    .venv/bin/python bench/gradebook_csv_scale.py postgresql+psycopg://postgres@127.0.0.1:5432/lms_scale_copy
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", help="the seeded database (a copy: signing in writes a session row)")
    parser.add_argument("--track", default="social-media-manager")
    parser.add_argument("--query", default="", help="query string, e.g. sort=progress&order=desc")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    os.environ["LMS_DATABASE_URL"] = args.url
    os.environ.setdefault("LMS_INSTANCE_PATH", tempfile.mkdtemp(prefix="csv-bench-"))
    from lms import create_app
    from lms.accounts.demo import DEMO_ACCOUNTS

    app = create_app()
    client = app.test_client()
    email = "instructor@example.org"
    password = next(account[3] for account in DEMO_ACCOUNTS if account[1] == email)
    token = CSRF_INPUT.search(client.get("/login").get_data(as_text=True))
    assert token, "no CSRF token on /login"
    signed_in = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token.group(1)}
    )
    assert signed_in.status_code == 302, signed_in.status_code

    url = f"/gradebook/{args.track}.csv" + (f"?{args.query}" if args.query else "")
    runs = []
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(url, buffered=False)
        assert response.status_code == 200, response.status_code
        first = None
        size = lines = 0
        digest = hashlib.sha256()
        for chunk in response.iter_encoded():
            if first is None:
                first = time.perf_counter() - wall
            size += len(chunk)
            digest.update(chunk)
            lines += chunk.count(b"\n")
        response.close()
        runs.append((time.process_time() - cpu, time.perf_counter() - wall, first or 0.0))
        print(f"cpu {runs[-1][0]:.2f} s  wall {runs[-1][1]:.2f} s  first chunk {runs[-1][2]:.3f} s  "
              f"{lines} lines  {size} bytes  sha256 {digest.hexdigest()[:16]}", flush=True)  # fmt: skip
    print(
        f"median of {len(runs)}: cpu {statistics.median(r[0] for r in runs):.2f} s, "
        f"wall {statistics.median(r[1] for r in runs):.2f} s, "
        f"first chunk {statistics.median(r[2] for r in runs):.3f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
