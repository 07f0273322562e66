//! What the CLI tests share: files of the test run, the binary run on one, and the Python
//! verifier of the docs.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A file of this test run with `contents`.
pub fn file(name: &str, contents: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "consent-proof-{}-{}-{name}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, contents).expect("a temporary file");
    path
}

/// Runs `consent-proof SUBCOMMAND FILE [ARGS]`: exit status, stdout, stderr.
pub fn run(subcommand: &str, path: &PathBuf, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_consent-proof"))
        .arg(subcommand)
        .arg(path)
        .args(args)
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

/// The Python verifier printed in docs/proof-format.md, as a reader would copy it.
#[allow(
    dead_code,
    reason = "each test binary includes this module; not all run Python"
)]
pub fn documented_python_verifier() -> PathBuf {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/proof-format.md"
    ))
    .expect("docs/proof-format.md");
    let start = doc
        .find("A minimal verifier")
        .expect("the verifier's heading");
    let code = doc[start..]
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("a python block after the heading");
    file("verify.py", code)
}

/// A Python with the `cryptography` package: `$PROOF_VERIFIER_PYTHON`, else the one beside
/// `$MOTO_SERVER` (moto needs the package too), else the repository's `.venv`.
#[allow(
    dead_code,
    reason = "each test binary includes this module; not all run Python"
)]
pub fn python() -> PathBuf {
    std::env::var_os("PROOF_VERIFIER_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("MOTO_SERVER")
                .map(PathBuf::from)
                .and_then(|moto| moto.parent().map(|bin| bin.join("python")))
        })
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../.venv/bin/python"
            ))
        })
}
