"""Init of two builds of the functions, paired: each binary exec'd with the bench's Lambda
environment (keys inline, Amazon's roots) until its first `GET .../invocation/next` reaches a
loopback listener, then killed; the two builds alternate run by run (A B, B A, ...) so that
both see the same machine. Prints each function's median init for both builds, each over the
build's own hello-lambda, and the difference.

    python3 bench/init_pair.py BEFORE_DIR AFTER_DIR [RUNS]

BEFORE_DIR and AFTER_DIR hold release binaries (`$CARGO_TARGET_DIR/release`, or a copy of it
made before a change). Nothing here calls AWS: the endpoint is a closed port, and no function
makes a request before its first `/next`.
"""

import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

# hello-lambda, then every function crate (named like its directory, as scripts/bench builds
# them).
FUNCTIONS = ["hello-lambda"] + sorted(
    manifest.parent.name
    for manifest in (Path(__file__).resolve().parent.parent / "functions").glob("*/Cargo.toml")
)

# As bench/src/coldstart.rs passes them with the keys inline.
ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_SESSION_TOKEN": "test",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
    "TABLE_NAME": "consent-bench",
    "CONFIRM_BASE_URL": "https://consent.example",
    "SES_FROM_ADDRESS": "optin@example.com",
    "TOKEN_TTL_DAYS": "14",
    "EVENT_BUS": "default",
    "TRUSTED_ROOTS": "amazon",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
    "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
    "AWS_LAMBDA_LOG_FORMAT": "JSON",
    "TOKEN_KEYS": "bench1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=",
    "PROOF_KEY": "proof1:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
}


def init_ms(listener: socket.socket, env: dict, binary: str) -> float:
    """Milliseconds from exec to the first `/next` request line."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        listener.settimeout(10)
        connection, _ = listener.accept()
        data = b""
        while b"\r\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                break
            data += chunk
        elapsed = (time.perf_counter() - started) * 1000
        connection.close()
        if b"/invocation/next" not in data:
            raise SystemExit(f"{binary}: expected GET .../invocation/next, got {data[:80]!r}")
        return elapsed
    except socket.timeout:
        raise SystemExit(f"{binary}: no /next within 10 s (did its init fail?)")
    finally:
        process.kill()
        process.wait()


def main() -> None:
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    builds = {"before": sys.argv[1], "after": sys.argv[2]}
    runs = int(sys.argv[3]) if len(sys.argv) == 4 else 40
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    env = dict(ENV, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{listener.getsockname()[1]}")
    samples = {f: {b: [] for b in builds} for f in FUNCTIONS}
    for run in range(runs):
        order = list(builds.items()) if run % 2 == 0 else list(reversed(builds.items()))
        for function in FUNCTIONS:
            for build, directory in order:
                samples[function][build].append(init_ms(listener, env, f"{directory}/{function}"))
        if (run + 1) % 10 == 0:
            print(f"{run + 1} of {runs} rounds", file=sys.stderr)
    hello = {b: statistics.median(samples["hello-lambda"][b]) for b in builds}
    print("| function | before (ms) | / hello | after (ms) | / hello | after - before (ms) |")
    print("|---|---:|---:|---:|---:|---:|")
    for function in FUNCTIONS:
        before, after = (statistics.median(samples[function][b]) for b in builds)
        print(
            f"| {function} | {before:.2f} | {before / hello['before']:.2f}x "
            f"| {after:.2f} | {after / hello['after']:.2f}x | {after - before:+.2f} |"
        )


if __name__ == "__main__":
    main()
