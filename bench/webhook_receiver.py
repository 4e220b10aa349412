"""A supplier's webhook endpoint for the benchmarks, in a process of its own (so the load
generator's threads cannot hold it up): prints its URL, then appends ``<order number>
<arrival time>`` to the file given for every event it receives.

Usage: ``python bench/webhook_receiver.py ARRIVALS_FILE``.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time
from typing import Any, TextIO


def serve(out: TextIO) -> None:
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            arrived = time.time()
            number = json.loads(body)["data"]["object"]["order_number"]
            with lock:
                out.write(f"{number} {arrived}\n")
                out.flush()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"http://127.0.0.1:{server.server_port}/hook", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    with open(sys.argv[1], "a", encoding="utf-8") as arrivals:
        serve(arrivals)
