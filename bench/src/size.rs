//! Artifact sizes: each release binary, stripped, and zipped as Lambda takes it (a `bootstrap`
//! file in a zip made by the `zip` CLI, deflate level 9).

use std::path::Path;
use std::process::Command;

/// One binary's sizes.
#[derive(Debug, Clone)]
pub struct Size {
    /// The binary.
    pub name: String,
    /// As built (the release profile already strips: `strip = true`).
    pub binary: u64,
    /// After `strip --strip-all` (the same when the profile stripped it).
    pub stripped: Option<u64>,
    /// `bootstrap.zip` of the stripped binary.
    pub zipped: Option<u64>,
    /// The arm64 artifact `cargo lambda build --arm64 --output-format zip` left, if any.
    pub arm64_zip: Option<u64>,
}

fn len(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Measures each binary in `bin_dir`; `target_dir` is where cargo lambda puts arm64 zips.
pub fn measure(bin_dir: &Path, target_dir: &Path, work: &Path, names: &[&str]) -> Vec<Size> {
    names
        .iter()
        .filter_map(|&name| {
            let binary = bin_dir.join(name);
            let size = len(&binary)?;
            let dir = work.join(format!("size-{name}"));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).ok()?;
            let bootstrap = dir.join("bootstrap");
            std::fs::copy(&binary, &bootstrap).ok()?;
            let stripped = Command::new("strip")
                .arg("--strip-all")
                .arg(&bootstrap)
                .status()
                .ok()
                .filter(|s| s.success())
                .and_then(|_| len(&bootstrap));
            let zip = dir.join("bootstrap.zip");
            let zipped = Command::new("zip")
                .args(["-q", "-9", "-j"])
                .arg(&zip)
                .arg(&bootstrap)
                .status()
                .ok()
                .filter(|s| s.success())
                .and_then(|_| len(&zip));
            let _ = std::fs::remove_dir_all(&dir);
            Some(Size {
                name: name.to_string(),
                binary: size,
                stripped,
                zipped,
                arm64_zip: len(&target_dir.join("lambda").join(name).join("bootstrap.zip")),
            })
        })
        .collect()
}
